#include "radius/text_form.hpp"

#include "radius/packet_codec.hpp"
#include "radius/value.hpp"

#include <charconv>
#include <optional>

namespace acctlab::radius {
namespace {

std::string attribute_name(const Attribute& attribute, const AttributeDef* def) {
  if (def) {
    return def->name;
  }
  if (attribute.vendor) {
    return "Attr-26." + std::to_string(attribute.vendor) + "." +
           std::to_string(attribute.vendor_type);
  }
  return "Attr-" + std::to_string(attribute.type);
}

bool joins_previous(const Packet& packet, std::size_t index) {
  const auto& attributes = packet.attributes();
  return index > 0 && attributes[index].vendor != 0 &&
         attributes[index - 1].vendor == attributes[index].vendor &&
         attributes[index - 1].vsa_group == attributes[index].vsa_group;
}

template <class T> bool parse_decimal(std::string_view text, T& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size() && !text.empty();
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

// "Attr-44" or "Attr-26.9.99": the names unknown attributes are rendered with.
bool parse_numeric_name(std::string_view name, Attribute& shape) {
  if (!name.starts_with("Attr-")) {
    return false;
  }
  name.remove_prefix(5);
  if (name.starts_with("26.")) {
    name.remove_prefix(3);
    const auto dot = name.find('.');
    std::uint32_t vendor = 0;
    std::uint32_t type = 0;
    if (dot == std::string_view::npos || !parse_decimal(name.substr(0, dot), vendor) ||
        !parse_decimal(name.substr(dot + 1), type) || vendor == 0) {
      return false;
    }
    shape = Attribute{.type = vendor_specific_type, .vendor = vendor, .vendor_type = type};
    return true;
  }
  unsigned type = 0;
  if (!parse_decimal(name, type) || type > 255) {
    return false;
  }
  shape = Attribute{.type = static_cast<std::uint8_t>(type)};
  return true;
}

struct Item {
  std::string_view text;
  std::size_t line;
};

// "Name = value", and the note on a value that does not fit its type (empty when it fits).
struct AttributeText {
  std::string text;
  std::string note;
};

AttributeText attribute_text(const Packet& packet, const Attribute& attribute,
                             const Dictionary& dict) {
  const AttributeDef* def = dict.find(attribute.key());
  auto octets = packet.value(attribute);
  std::string name = attribute_name(attribute, def);
  // RFC 2868 §3: a tagged attribute's tag is written after its name, "Tunnel-Type:1".
  if (def && def->has_tag) {
    auto split = split_tag(*def, octets);
    if (!split.note.empty()) {
      return {name + " = 0x" + to_hex(octets), std::move(split.note)};
    }
    if (split.tag != 0) {
      name += ':';
      name += std::to_string(split.tag);
    }
    auto value = format_value(def, split.value);
    return {name + " = " + value.text, std::move(value.note)};
  }
  auto value = format_value(def, octets);
  return {name + " = " + value.text, std::move(value.note)};
}

} // namespace

std::string render_attribute(const Packet& packet, const Attribute& attribute,
                             const Dictionary& dict) {
  auto [out, note] = attribute_text(packet, attribute, dict);
  if (!note.empty()) {
    out += " # invalid: " + note;
  }
  return out;
}

std::string render_packet(const Packet& packet, const Dictionary& dict, TextOptions options) {
  std::string out = code_name(packet.code()) + " id=" + std::to_string(packet.identifier());
  if (options.show_authenticator) {
    out += " auth=" + to_hex(packet.authenticator());
  }
  out += options.one_line ? " {" : " {\n";
  const auto& attributes = packet.attributes();
  for (std::size_t i = 0; i < attributes.size(); ++i) {
    auto [line, note] = attribute_text(packet, attributes[i], dict);
    if (options.one_line) {
      // A note would swallow the rest of a one-line form; keep it out. (Only the note: a quoted
      // value may itself hold " # invalid: ".)
      out += i ? ", " : " ";
    } else {
      out += "  ";
    }
    if (joins_previous(packet, i)) {
      out += '+';
    }
    out += line;
    if (!options.one_line) {
      if (!note.empty()) {
        out += " # invalid: " + note;
      }
      out += '\n';
    }
  }
  out += options.one_line ? (attributes.empty() ? "}" : " }") : "}\n";
  return out;
}

Expected<Packet, TextError> parse_packet_text(std::string_view text, const Dictionary& dict) {
  std::size_t line = 1;
  auto fail = [&](std::string message) -> Expected<Packet, TextError> {
    return Unexpected{TextError{std::move(message), line}};
  };

  // Header: Code id=N [auth=HEX] {
  const auto brace = text.find('{');
  if (brace == std::string_view::npos) {
    return fail("expected '{' after the packet header");
  }
  std::string_view header = trim(text.substr(0, brace));
  while (!header.empty() && (header.front() == '\n')) {
    header.remove_prefix(1);
    ++line;
  }
  const auto space = header.find_first_of(" \t");
  Code code{};
  if (!parse_code(header.substr(0, space), code)) {
    return fail("unknown packet code \"" + std::string(header.substr(0, space)) + "\"");
  }
  Packet packet(code, 0);
  std::string_view rest = space == std::string_view::npos ? "" : trim(header.substr(space));
  while (!rest.empty()) {
    const auto end = rest.find_first_of(" \t");
    const auto field = rest.substr(0, end);
    rest = end == std::string_view::npos ? "" : trim(rest.substr(end));
    if (field.starts_with("id=")) {
      unsigned id = 0;
      if (!parse_decimal(field.substr(3), id) || id > 255) {
        return fail("bad identifier \"" + std::string(field) + "\"");
      }
      packet.set_identifier(static_cast<std::uint8_t>(id));
    } else if (field.starts_with("auth=")) {
      auto octets = from_hex(field.substr(5));
      if (!octets || octets->size() != 16) {
        return fail("auth= needs 32 hex digits");
      }
      Authenticator a{};
      std::copy(octets->begin(), octets->end(), a.begin());
      packet.set_authenticator(a);
    } else {
      return fail("unknown header field \"" + std::string(field) + "\"");
    }
  }
  for (char c : text.substr(0, brace)) {
    line += c == '\n';
  }

  // Body: items separated by newlines or commas outside quotes, until '}' outside quotes.
  std::vector<Item> items;
  std::size_t start = brace + 1;
  std::size_t item_line = line;
  bool in_quotes = false;
  bool in_comment = false;
  bool closed = false;
  std::size_t pos = brace + 1;
  auto flush = [&](std::size_t end) {
    // Comments were cut by the scanner (a '#' outside quotes); a '#' inside quotes is text.
    auto item = trim(text.substr(start, end - start));
    if (!item.empty()) {
      items.push_back({item, item_line});
    }
  };
  std::size_t comment_start = 0;
  for (; pos < text.size(); ++pos) {
    const char c = text[pos];
    if (in_comment) {
      if (c == '\n') {
        in_comment = false;
        start = pos + 1;
        ++line;
        item_line = line;
      }
      continue;
    }
    if (in_quotes) {
      if (c == '\\') {
        ++pos;
      } else if (c == '"') {
        in_quotes = false;
      } else if (c == '\n') {
        return fail("unterminated string");
      }
      continue;
    }
    if (c == '"') {
      in_quotes = true;
    } else if (c == '#') {
      comment_start = pos;
      flush(comment_start);
      in_comment = true;
    } else if (c == ',' || c == '\n') {
      flush(pos);
      start = pos + 1;
      if (c == '\n') {
        ++line;
      }
      item_line = line;
    } else if (c == '}') {
      flush(pos);
      closed = true;
      break;
    }
  }
  if (!closed) {
    return fail("expected '}' to close the packet");
  }
  if (auto tail = text.substr(pos + 1);
      tail.find_first_not_of(" \t\r\n") != std::string_view::npos) {
    tail = trim(tail.substr(tail.find_first_not_of(" \t\r\n")));
    if (!tail.starts_with('#')) {
      return fail("text after the closing '}'");
    }
  }

  std::uint16_t group = 0;
  for (const auto& item : items) {
    line = item.line;
    std::string_view entry = item.text;
    bool join = false;
    if (entry.starts_with('+')) {
      join = true;
      entry.remove_prefix(1);
    }
    const auto equals = entry.find('=');
    if (equals == std::string_view::npos) {
      return fail("expected \"Name = value\", got \"" + std::string(entry) + "\"");
    }
    auto name = trim(entry.substr(0, equals));
    const auto value_text = trim(entry.substr(equals + 1));
    std::optional<unsigned> tag;
    if (const auto colon = name.find(':'); colon != std::string_view::npos) {
      unsigned number = 0;
      if (!parse_decimal(name.substr(colon + 1), number) || number < 1 || number > 0x1F) {
        return fail("a tag is a number from 1 to 31: \"" + std::string(name) + "\"");
      }
      tag = number;
      name = name.substr(0, colon);
    }
    const AttributeDef* def = dict.find(name);
    if (tag && (!def || !def->has_tag)) {
      return fail(std::string(name) + " takes no tag");
    }
    Attribute shape;
    if (def) {
      if (!def->oid.empty()) {
        return fail(def->name + " is a nested attribute; write it as raw octets of its parent");
      }
      if (def->vendor) {
        shape = Attribute{
            .type = vendor_specific_type, .vendor = def->vendor, .vendor_type = def->number};
      } else if (def->number > 255) {
        // FreeRADIUS's server-internal attributes (Auth-Type 1000, ...): no wire form.
        return fail(def->name + " is attribute " + std::to_string(def->number) +
                    ", internal to a server: it has no place in a packet");
      } else {
        shape = Attribute{.type = static_cast<std::uint8_t>(def->number)};
      }
    } else if (!parse_numeric_name(name, shape)) {
      return fail("unknown attribute \"" + std::string(name) + "\"");
    }
    auto octets = parse_value(def, value_text);
    if (!octets) {
      return fail(octets.error());
    }
    if (tag) {
      if (def->type == DataType::integer) {
        if (octets->size() != 4 || (*octets)[0] != 0) {
          return fail(std::string(name) + ": a tagged integer holds 24 bits");
        }
        (*octets)[0] = static_cast<std::uint8_t>(*tag);
      } else {
        octets->insert(octets->begin(), static_cast<std::uint8_t>(*tag));
      }
    }
    if (shape.vendor && join) {
      const VendorDef* vendor = dict.vendor(shape.vendor);
      if (vendor && vendor->length_size == 0) {
        // The encoder would give it a Vendor-Specific of its own: '+' would not be kept.
        return fail(std::string(name) + ": vendor " + std::to_string(shape.vendor) +
                    " sub-attributes have no length field, one per Vendor-Specific");
      }
    }
    // The encoder's own rule (packet_codec.hpp), checked here to name the line.
    if (auto refused = check_attribute(shape, octets->size(), dict)) {
      return fail(refused->message());
    }
    if (shape.vendor) {
      const auto& attributes = packet.attributes();
      if (join) {
        if (attributes.empty() || attributes.back().vendor != shape.vendor) {
          return fail("'+' continues a Vendor-Specific of the same vendor only");
        }
        shape.vsa_group = attributes.back().vsa_group;
      } else {
        shape.vsa_group = ++group;
      }
    } else if (join) {
      return fail("'+' applies to vendor attributes only");
    }
    packet.add_raw(shape, *octets);
  }
  return packet;
}

} // namespace acctlab::radius
