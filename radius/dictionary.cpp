#include "radius/dictionary.hpp"

#include "radius/dictionary_parser.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <stdexcept>
#include <unordered_map>

namespace acctlab::radius {
namespace detail {
extern const std::pair<std::string_view, std::string_view> embedded_dictionaries[];
extern const unsigned embedded_dictionary_count;
} // namespace detail

namespace {

struct TypeName {
  DataType type;
  std::string_view name;
};

constexpr std::array type_names{
    TypeName{DataType::text, "string"},
    TypeName{DataType::octets, "octets"},
    TypeName{DataType::integer, "integer"},
    TypeName{DataType::integer64, "integer64"},
    TypeName{DataType::date, "date"},
    TypeName{DataType::ipv4addr, "ipaddr"},
    TypeName{DataType::ipv6addr, "ipv6addr"},
    TypeName{DataType::ipv4prefix, "ipv4prefix"},
    TypeName{DataType::ipv6prefix, "ipv6prefix"},
    TypeName{DataType::ifid, "ifid"},
    TypeName{DataType::uint8, "byte"},
    TypeName{DataType::uint16, "short"},
    TypeName{DataType::int32, "signed"},
    TypeName{DataType::ether, "ether"},
    TypeName{DataType::tlv, "tlv"},
    TypeName{DataType::abinary, "abinary"},
    TypeName{DataType::combo_ip, "combo-ip"},
    TypeName{DataType::vsa, "vsa"},
    TypeName{DataType::extended, "extended"},
    TypeName{DataType::long_extended, "long-extended"},
    TypeName{DataType::evs, "evs"},
};

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::uint64_t pack(AttrKey key) {
  return (std::uint64_t{key.vendor} << 32) | key.type;
}

} // namespace

std::string_view type_name(DataType type) noexcept {
  for (const auto& entry : type_names) {
    if (entry.type == type) {
      return entry.name;
    }
  }
  return "octets";
}

std::optional<DataType> parse_type_name(std::string_view name) noexcept {
  for (const auto& entry : type_names) {
    if (entry.name == name) {
      return entry.type;
    }
  }
  // RFC 8044 spellings are accepted too.
  if (name == "text") {
    return DataType::text;
  }
  if (name == "time") {
    return DataType::date;
  }
  if (name == "ipv4addr") {
    return DataType::ipv4addr;
  }
  return std::nullopt;
}

const std::string* AttributeDef::value_name(std::uint64_t value) const {
  auto it = values.find(value);
  return it == values.end() ? nullptr : &it->second;
}

struct Dictionary::Impl {
  std::vector<std::unique_ptr<AttributeDef>> attributes;
  std::unordered_map<std::string, AttributeDef*> by_name;
  std::unordered_map<std::uint64_t, AttributeDef*> by_key;
  std::vector<std::unique_ptr<VendorDef>> vendors;
  std::unordered_map<std::uint32_t, VendorDef*> vendor_by_id;
  std::unordered_map<std::string, VendorDef*> vendor_by_name;
};

Dictionary::Dictionary() : impl_(std::make_unique<Impl>()) {}
Dictionary::Dictionary(Dictionary&&) noexcept = default;
Dictionary& Dictionary::operator=(Dictionary&&) noexcept = default;
Dictionary::~Dictionary() = default;

const AttributeDef* Dictionary::find(std::string_view name) const {
  auto it = impl_->by_name.find(lower(name));
  return it == impl_->by_name.end() ? nullptr : it->second;
}

const AttributeDef* Dictionary::find(AttrKey key) const {
  auto it = impl_->by_key.find(pack(key));
  return it == impl_->by_key.end() ? nullptr : it->second;
}

const VendorDef* Dictionary::vendor(std::uint32_t id) const {
  auto it = impl_->vendor_by_id.find(id);
  return it == impl_->vendor_by_id.end() ? nullptr : it->second;
}

const VendorDef* Dictionary::vendor(std::string_view name) const {
  auto it = impl_->vendor_by_name.find(lower(name));
  return it == impl_->vendor_by_name.end() ? nullptr : it->second;
}

std::size_t Dictionary::attribute_count() const {
  return impl_->by_name.size();
}
std::size_t Dictionary::vendor_count() const {
  return impl_->vendor_by_id.size();
}
std::size_t Dictionary::value_count() const {
  std::size_t n = 0;
  for (const auto& def : impl_->attributes) {
    n += def->values.size();
  }
  return n;
}

AttributeDef& Dictionary::define(AttributeDef def) {
  auto owned = std::make_unique<AttributeDef>(std::move(def));
  AttributeDef* raw = owned.get();
  impl_->attributes.push_back(std::move(owned));
  auto& named = impl_->by_name[lower(raw->name)];
  if (named && named->oid.empty() && (!raw->oid.empty() || !(named->key() == raw->key()))) {
    // The name now means another attribute: the old number loses it rather than keep a name
    // that would read back as the new one (text_form.hpp renders numbers by name).
    if (auto it = impl_->by_key.find(pack(named->key()));
        it != impl_->by_key.end() && it->second == named) {
      impl_->by_key.erase(it);
    }
  }
  named = raw;
  if (raw->oid.empty()) {
    impl_->by_key[pack(raw->key())] = raw;
  }
  return *raw;
}

VendorDef& Dictionary::define_vendor(VendorDef def) {
  auto owned = std::make_unique<VendorDef>(std::move(def));
  VendorDef* raw = owned.get();
  impl_->vendors.push_back(std::move(owned));
  impl_->vendor_by_id[raw->id] = raw;
  impl_->vendor_by_name[lower(raw->name)] = raw;
  return *raw;
}

std::vector<const AttributeDef*> Dictionary::all() const {
  std::vector<const AttributeDef*> out;
  out.reserve(impl_->attributes.size());
  for (const auto& def : impl_->attributes) {
    if (impl_->by_name.at(lower(def->name)) == def.get()) {
      out.push_back(def.get());
    }
  }
  return out;
}

const Dictionary& Dictionary::builtin() {
  static const Dictionary dictionary = [] {
    auto reader = [](const std::string& path) -> std::optional<std::string> {
      const auto slash = path.find_last_of('/');
      const std::string_view name = slash == std::string::npos
                                        ? std::string_view(path)
                                        : std::string_view(path).substr(slash + 1);
      for (unsigned i = 0; i < detail::embedded_dictionary_count; ++i) {
        if (detail::embedded_dictionaries[i].first == name) {
          return std::string(detail::embedded_dictionaries[i].second);
        }
      }
      return std::nullopt;
    };
    auto loaded = load_dictionary("dictionary", reader);
    if (!loaded) {
      // Our own dictionaries are tested at build time; failing here is a packaging bug.
      throw std::logic_error("built-in dictionary: " + loaded.error().to_string());
    }
    return std::move(loaded).value();
  }();
  return dictionary;
}

} // namespace acctlab::radius
