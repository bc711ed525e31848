#include "radius/dictionary_parser.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>
#include <sstream>
#include <vector>

namespace acctlab::radius {
namespace {

constexpr int max_include_depth = 32;

std::vector<std::string_view> split_words(std::string_view line) {
  std::vector<std::string_view> words;
  std::size_t pos = 0;
  while (pos < line.size()) {
    while (pos < line.size() && (line[pos] == ' ' || line[pos] == '\t' || line[pos] == '\r')) {
      ++pos;
    }
    if (pos >= line.size()) {
      break;
    }
    std::size_t end = pos;
    while (end < line.size() && line[end] != ' ' && line[end] != '\t' && line[end] != '\r') {
      ++end;
    }
    words.push_back(line.substr(pos, end - pos));
    pos = end;
  }
  return words;
}

bool parse_number(std::string_view text, std::uint64_t& out) {
  int base = 10;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    base = 16;
    text.remove_prefix(2);
  }
  if (text.empty()) {
    return false;
  }
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out, base);
  return ec == std::errc{} && end == text.data() + text.size();
}

std::string directory_of(const std::string& path) {
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash + 1);
}

// FreeRADIUS's characters for attribute names: letters, digits, '-', '_', '.', '/'. The text form
// (text_form.hpp) gives ',', '=', ':', '#', '+', quotes and braces their own meaning, so a name
// with any of those would not read back as the attribute it names.
bool valid_attribute_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
           c == '/';
  });
}

// "Attr-44", "Attr-26.9.99": the text form's names for attributes without a definition.
bool numeric_attribute_name(std::string_view name) {
  return name.size() > 5 && (name[0] == 'A' || name[0] == 'a') &&
         (name.substr(1, 4) == "ttr-" || name.substr(1, 4) == "TTR-") &&
         std::isdigit(static_cast<unsigned char>(name[5]));
}

struct PendingValue {
  std::string attribute;
  std::string name;
  std::uint64_t number;
};

class Parser {
public:
  Parser(Dictionary& dict, const DictionaryReader& reader) : dict_(dict), reader_(reader) {}

  std::optional<DictionaryError> load_file(const std::string& path, int depth,
                                           const std::string& from_file, int from_line) {
    if (depth > max_include_depth) {
      return DictionaryError{from_file, from_line, "$INCLUDE nested too deeply"};
    }
    // A file that includes itself (directly or not) would be read until the depth limit, and one
    // that does so twice doubles the work per level: 2^32 reads, a hang.
    if (std::find(include_stack_.begin(), include_stack_.end(), path) != include_stack_.end()) {
      return DictionaryError{from_file, from_line, "$INCLUDE loop: " + path + " includes itself"};
    }
    auto content = reader_(path);
    if (!content) {
      if (from_file.empty()) {
        return DictionaryError{path, 0, "cannot read dictionary file"};
      }
      return DictionaryError{from_file, from_line, "cannot read included file " + path};
    }
    include_stack_.push_back(path);
    std::istringstream stream(*content);
    std::string line;
    int number = 0;
    while (std::getline(stream, line)) {
      ++number;
      if (auto error = parse_line(path, number, line, depth)) {
        return error;
      }
    }
    include_stack_.pop_back();
    if (depth == 0) {
      // VALUEs may precede their ATTRIBUTE; attach them once everything is read.
      for (const auto& pending : pending_values_) {
        if (auto* def = const_cast<AttributeDef*>(dict_.find(pending.attribute))) {
          add_value(*def, pending.name, pending.number);
        }
      }
      if (!vendor_stack_.empty()) {
        return DictionaryError{path, number,
                               "BEGIN-VENDOR " + vendor_stack_.back().name + " has no END-VENDOR"};
      }
    }
    return std::nullopt;
  }

private:
  struct VendorScope {
    std::string name;
    std::uint32_t id;
  };

  static void add_value(AttributeDef& def, const std::string& name, std::uint64_t number) {
    def.values.emplace(number, name); // the first name for a number is the one shown
    def.value_numbers[name] = number;
  }

  std::optional<DictionaryError> parse_line(const std::string& file, int line_number,
                                            std::string_view line, int depth) {
    if (auto hash = line.find('#'); hash != std::string_view::npos) {
      line = line.substr(0, hash);
    }
    const auto words = split_words(line);
    if (words.empty()) {
      return std::nullopt;
    }
    auto error = [&](std::string message) {
      return DictionaryError{file, line_number, std::move(message)};
    };
    const auto keyword = words[0];

    if (keyword == "$INCLUDE" || keyword == "$INCLUDE-") {
      if (words.size() != 2) {
        return error("$INCLUDE takes one file name");
      }
      std::string target(words[1]);
      if (target.front() != '/') {
        target = directory_of(file) + target;
      }
      if (keyword == "$INCLUDE-" && !reader_(target)) {
        return std::nullopt;
      }
      return load_file(target, depth + 1, file, line_number);
    }
    if (keyword == "VENDOR") {
      return parse_vendor(words, error);
    }
    if (keyword == "BEGIN-VENDOR") {
      if (words.size() < 2) {
        return error("BEGIN-VENDOR needs a vendor name");
      }
      const auto* vendor = dict_.vendor(words[1]);
      if (!vendor) {
        return error("BEGIN-VENDOR of unknown vendor " + std::string(words[1]));
      }
      vendor_stack_.push_back({vendor->name, vendor->id});
      return std::nullopt;
    }
    if (keyword == "END-VENDOR") {
      if (words.size() < 2 || vendor_stack_.empty() || dict_.vendor(words[1]) == nullptr ||
          dict_.vendor(words[1])->id != vendor_stack_.back().id) {
        return error("END-VENDOR does not match the open BEGIN-VENDOR");
      }
      vendor_stack_.pop_back();
      return std::nullopt;
    }
    if (keyword == "BEGIN-TLV") {
      if (words.size() < 2) {
        return error("BEGIN-TLV needs an attribute name");
      }
      const auto* parent = dict_.find(words[1]);
      if (!parent || parent->type != DataType::tlv) {
        return error("BEGIN-TLV of unknown or non-tlv attribute " + std::string(words[1]));
      }
      tlv_stack_.push_back(parent->oid.empty() ? std::to_string(parent->number) : parent->oid);
      return std::nullopt;
    }
    if (keyword == "END-TLV") {
      if (tlv_stack_.empty()) {
        return error("END-TLV without BEGIN-TLV");
      }
      tlv_stack_.pop_back();
      return std::nullopt;
    }
    if (keyword == "ATTRIBUTE") {
      return parse_attribute(file, line_number, words, error);
    }
    if (keyword == "VALUE") {
      if (words.size() != 4) {
        return error("VALUE takes an attribute name, a value name and a number");
      }
      std::uint64_t number = 0;
      if (!parse_number(words[3], number)) {
        return error("VALUE number is not a number: " + std::string(words[3]));
      }
      if (auto* def = const_cast<AttributeDef*>(dict_.find(words[1]))) {
        add_value(*def, std::string(words[2]), number);
      } else {
        pending_values_.push_back({std::string(words[1]), std::string(words[2]), number});
      }
      return std::nullopt;
    }
    return error("unknown keyword " + std::string(keyword));
  }

  template <class Error>
  std::optional<DictionaryError> parse_vendor(const std::vector<std::string_view>& words,
                                              Error& error) {
    if (words.size() < 3 || words.size() > 4) {
      return error("VENDOR takes a name, a number and an optional format=");
    }
    std::uint64_t id = 0;
    if (!parse_number(words[2], id) || id == 0 || id > 0xFFFFFF) {
      return error("VENDOR number is not a valid vendor id: " + std::string(words[2]));
    }
    VendorDef vendor{std::string(words[1]), static_cast<std::uint32_t>(id)};
    if (words.size() == 4) {
      auto format = words[3];
      if (!format.starts_with("format=")) {
        return error("unknown VENDOR option " + std::string(format));
      }
      format.remove_prefix(7);
      // format=t,l[,c]: t in {1,2,4}, l in {0,1,2}
      if (format.size() < 3 || format[1] != ',') {
        return error("VENDOR format must be t,l or t,l,c");
      }
      const int t = format[0] - '0';
      const int l = format[2] - '0';
      if ((t != 1 && t != 2 && t != 4) || (l != 0 && l != 1 && l != 2)) {
        return error("VENDOR format has bad sizes: " + std::string(format));
      }
      vendor.type_size = static_cast<std::uint8_t>(t);
      vendor.length_size = static_cast<std::uint8_t>(l);
      if (format.size() > 3) {
        if (format.substr(3) != ",c") {
          return error("VENDOR format has an unknown suffix: " + std::string(format));
        }
        vendor.continuation = true;
      }
    }
    dict_.define_vendor(std::move(vendor));
    return std::nullopt;
  }

  template <class Error>
  std::optional<DictionaryError> parse_attribute(const std::string& file, int line_number,
                                                 const std::vector<std::string_view>& words,
                                                 Error& error) {
    if (words.size() < 4 || words.size() > 5) {
      return error("ATTRIBUTE takes a name, a number, a type and optional flags");
    }
    if (!valid_attribute_name(words[1])) {
      return error("ATTRIBUTE name " + std::string(words[1]) +
                   " has characters other than letters, digits, '-', '_', '.' and '/'");
    }
    if (numeric_attribute_name(words[1])) {
      return error("ATTRIBUTE name " + std::string(words[1]) +
                   " is reserved: Attr-N names attributes without a definition");
    }
    AttributeDef def;
    def.name = std::string(words[1]);
    def.file = file;
    def.line = line_number;
    if (!vendor_stack_.empty()) {
      def.vendor = vendor_stack_.back().id;
    }

    // Numbers: "44", "0x2c", or an OID such as "241.1" (extended) or "1.2" (TLV child).
    std::string oid(words[2]);
    if (!tlv_stack_.empty()) {
      oid = tlv_stack_.back() + "." + oid;
    }
    const auto dot = oid.find('.');
    std::uint64_t number = 0;
    if (!parse_number(std::string_view(oid).substr(0, dot), number) || number > 0xFFFFFFFF) {
      return error("ATTRIBUTE number is not a number: " + std::string(words[2]));
    }
    if (dot != std::string::npos) {
      std::size_t start = dot + 1;
      while (start <= oid.size()) {
        auto next = oid.find('.', start);
        auto part =
            std::string_view(oid).substr(start, next == std::string::npos ? next : next - start);
        std::uint64_t sub = 0;
        if (!parse_number(part, sub)) {
          return error("ATTRIBUTE number has a bad OID part: " + std::string(words[2]));
        }
        if (next == std::string::npos) {
          break;
        }
        start = next + 1;
      }
      def.oid = oid;
    }
    def.number = static_cast<std::uint32_t>(number);
    // Numbers above 255 outside a vendor are server-internal attributes (FreeRADIUS's
    // dictionary.freeradius.internal); they never appear on the wire, and the codec never looks
    // them up.

    auto type_text = words[3];
    if (auto bracket = type_text.find('['); bracket != std::string_view::npos) {
      type_text = type_text.substr(0, bracket); // "octets[16]": fixed size, not enforced here
    }
    std::string type_lower(type_text);
    for (auto& c : type_lower) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    const auto type = parse_type_name(type_lower); // FreeRADIUS accepts "String" as "string"
    if (!type) {
      return error("unknown data type " + std::string(words[3]));
    }
    def.type = *type;

    if (words.size() == 5) {
      std::string_view flags = words[4];
      std::size_t start = 0;
      while (start <= flags.size()) {
        auto comma = flags.find(',', start);
        auto flag = flags.substr(start, comma == std::string_view::npos ? comma : comma - start);
        if (flag == "has_tag") {
          def.has_tag = true;
        } else if (flag == "array") {
          def.array = true;
        } else if (flag == "concat") {
          def.concat = true;
        } else if (flag.starts_with("encrypt=")) {
          std::uint64_t method = 0;
          if (!parse_number(flag.substr(8), method) || method > 3) {
            return error("bad encrypt= flag: " + std::string(flag));
          }
          def.encrypt = static_cast<std::uint8_t>(method);
        } else if (flag == "virtual" || flag == "internal" || flag == "long" || flag == "secret" ||
                   flag.empty()) {
          // Server-side markers with no effect on the wire form.
        } else if (const auto* vendor = dict_.vendor(flag)) {
          def.vendor = vendor->id; // the old "ATTRIBUTE name number type Vendor" form
        } else {
          return error("unknown ATTRIBUTE flag " + std::string(flag));
        }
        if (comma == std::string_view::npos) {
          break;
        }
        start = comma + 1;
      }
    }
    dict_.define(std::move(def));
    return std::nullopt;
  }

  Dictionary& dict_;
  const DictionaryReader& reader_;
  std::vector<VendorScope> vendor_stack_;
  std::vector<std::string> include_stack_;
  std::vector<std::string> tlv_stack_;
  std::vector<PendingValue> pending_values_;
};

} // namespace

std::string DictionaryError::to_string() const {
  return file + ":" + std::to_string(line) + ": " + message;
}

Expected<Dictionary, DictionaryError> load_dictionary(const std::string& root_path,
                                                      const DictionaryReader& reader) {
  Dictionary dict;
  Parser parser(dict, reader);
  if (auto error = parser.load_file(root_path, 0, "", 0)) {
    return Unexpected{*error};
  }
  return dict;
}

Expected<Dictionary, DictionaryError> load_dictionary(const std::string& root_path) {
  const DictionaryReader reader = [](const std::string& path) -> std::optional<std::string> {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      return std::nullopt;
    }
    std::ostringstream content;
    content << in.rdbuf();
    return content.str();
  };
  return load_dictionary(root_path, reader);
}

} // namespace acctlab::radius
