#include "radius/value.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <charconv>
#include <cstdio>
#include <ctime>

namespace acctlab::radius {
namespace {

constexpr char hex_digits[] = "0123456789abcdef";

std::string ipv4_text(std::span<const std::uint8_t> o) {
  char buffer[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, o.data(), buffer, sizeof buffer);
  return buffer;
}

std::string ipv6_text(std::span<const std::uint8_t> o) {
  std::uint8_t full[16]{};
  std::copy(o.begin(), o.end(), full);
  char buffer[INET6_ADDRSTRLEN];
  inet_ntop(AF_INET6, full, buffer, sizeof buffer);
  return buffer;
}

bool bits_beyond_prefix_zero(std::span<const std::uint8_t> prefix, unsigned length) {
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    const unsigned first_bit = static_cast<unsigned>(i) * 8;
    std::uint8_t allowed = 0xFF;
    if (first_bit >= length) {
      allowed = 0;
    } else if (length - first_bit < 8) {
      allowed = static_cast<std::uint8_t>(0xFF << (8 - (length - first_bit)));
    }
    if (prefix[i] & ~allowed) {
      return false;
    }
  }
  return true;
}

std::string date_text(std::uint32_t seconds) {
  const std::time_t t = seconds;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

std::string joined_hex(std::span<const std::uint8_t> o, std::size_t group, char separator) {
  std::string out;
  for (std::size_t i = 0; i < o.size(); ++i) {
    if (group && i && i % group == 0) {
      out += separator;
    }
    out += hex_digits[o[i] >> 4];
    out += hex_digits[o[i] & 15];
  }
  return out;
}

ValueText invalid(std::span<const std::uint8_t> octets, std::string note) {
  return {"0x" + to_hex(octets), std::move(note)};
}

template <class T> bool parse_decimal(std::string_view text, T& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size() && !text.empty();
}

Octets be_octets(std::uint64_t value, std::size_t size) {
  Octets out(size);
  for (std::size_t i = size; i-- > 0;) {
    out[i] = static_cast<std::uint8_t>(value);
    value >>= 8;
  }
  return out;
}

std::optional<Octets> parse_ipv4(std::string_view text) {
  std::string s(text);
  Octets out(4);
  if (inet_pton(AF_INET, s.c_str(), out.data()) != 1) {
    return std::nullopt;
  }
  return out;
}

std::optional<Octets> parse_ipv6(std::string_view text) {
  std::string s(text);
  Octets out(16);
  if (inet_pton(AF_INET6, s.c_str(), out.data()) != 1) {
    return std::nullopt;
  }
  return out;
}

std::optional<Octets> parse_separated_hex(std::string_view text, char separator, std::size_t size) {
  std::string digits;
  for (char c : text) {
    if (c != separator) {
      digits += c;
    }
  }
  auto out = from_hex(digits);
  if (!out || out->size() != size) {
    return std::nullopt;
  }
  return out;
}

std::optional<std::string> unquote(std::string_view text) {
  if (text.size() < 2 || text.front() != '"' || text.back() != '"') {
    return std::nullopt;
  }
  text = text.substr(1, text.size() - 2);
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\') {
      out += text[i];
      continue;
    }
    if (++i >= text.size()) {
      return std::nullopt;
    }
    switch (text[i]) {
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case '"':
      case '\\':
        out += text[i];
        break;
      case 'x': {
        if (i + 2 >= text.size()) {
          return std::nullopt;
        }
        auto byte = from_hex(text.substr(i + 1, 2));
        if (!byte || byte->size() != 1) {
          return std::nullopt;
        }
        out += static_cast<char>((*byte)[0]);
        i += 2;
        break;
      }
      default:
        return std::nullopt;
    }
  }
  return out;
}

std::optional<std::uint32_t> parse_date(std::string_view text) {
  std::uint32_t seconds = 0;
  if (parse_decimal(text, seconds)) {
    return seconds;
  }
  std::tm tm{};
  std::string s(text);
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') {
    s = s.substr(1, s.size() - 2);
  }
  const char* end = strptime(s.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (!end || *end != '\0') {
    return std::nullopt;
  }
  const auto t = timegm(&tm);
  if (t < 0 || t > 0xFFFFFFFFLL) {
    return std::nullopt;
  }
  return static_cast<std::uint32_t>(t);
}

// A VALUE name that reads back as itself in the text form (text_form.hpp): no separators,
// quotes, comment or brace, no control characters, and not mistaken for hex.
bool text_form_safe(std::string_view name) {
  if (name.empty() || name.starts_with("0x") || name.starts_with("0X")) {
    return false;
  }
  return std::none_of(name.begin(), name.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u <= 0x20 || u == 0x7F || c == ',' || c == '"' || c == '#' || c == '{' || c == '}';
  });
}

} // namespace

std::size_t utf8_sequence_length(std::span<const std::uint8_t> o, std::size_t i) {
  const std::uint8_t c = o[i];
  if (c < 0x80) {
    return 1;
  }
  std::size_t n = 0;
  std::uint32_t cp = 0;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
    cp = c & 0x1Fu;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    cp = c & 0x0Fu;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    cp = c & 0x07u;
  } else {
    return 0;
  }
  if (i + n > o.size()) {
    return 0; // cut short
  }
  for (std::size_t k = 1; k < n; ++k) {
    if ((o[i + k] & 0xC0) != 0x80) {
      return 0;
    }
    cp = (cp << 6) | (o[i + k] & 0x3Fu);
  }
  // RFC 3629 §3: no overlong forms, no UTF-16 surrogates, nothing past U+10FFFF.
  const std::uint32_t least = n == 2 ? 0x80 : (n == 3 ? 0x800 : 0x10000);
  if (cp < least || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    return 0;
  }
  return n;
}

std::string to_hex(std::span<const std::uint8_t> octets) {
  return joined_hex(octets, 0, ' ');
}

int hex_digit(char c) noexcept {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

std::optional<Octets> from_hex(std::string_view hex) {
  if (hex.size() % 2) {
    return std::nullopt;
  }
  Octets out;
  out.reserve(hex.size() / 2);
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int hi = hex_digit(hex[i]);
    const int lo = hex_digit(hex[i + 1]);
    if (hi < 0 || lo < 0) {
      return std::nullopt;
    }
    out.push_back(static_cast<std::uint8_t>(hi * 16 + lo));
  }
  return out;
}

std::string quote_text(std::span<const std::uint8_t> o) {
  std::string out = "\"";
  for (std::size_t i = 0; i < o.size(); ++i) {
    const std::uint8_t c = o[i];
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c >= 0x20 && c < 0x7F) {
      out += static_cast<char>(c);
    } else if (const auto n = c >= 0x80 ? utf8_sequence_length(o, i) : 0; n > 0) {
      out.append(reinterpret_cast<const char*>(o.data() + i), n);
      i += n - 1;
    } else {
      out += "\\x";
      out += hex_digits[c >> 4];
      out += hex_digits[c & 15];
    }
  }
  out += '"';
  return out;
}

std::optional<std::uint64_t> read_unsigned(std::span<const std::uint8_t> octets, std::size_t size) {
  if (octets.size() != size) {
    return std::nullopt;
  }
  std::uint64_t value = 0;
  for (auto b : octets) {
    value = (value << 8) | b;
  }
  return value;
}

TagSplit split_tag(const AttributeDef& def, std::span<const std::uint8_t> o) {
  TagSplit out{0, Octets(o.begin(), o.end()), {}};
  if (!def.has_tag || o.empty()) {
    return out;
  }
  if (def.type == DataType::integer) {
    if (o.size() != 4) {
      return out; // a length problem; format_value says so
    }
    if (o[0] > 0x1F) {
      out.note = "tag octet " + std::to_string(o[0]) + " is above 31 (RFC 2868 §3: 0 or 1-31)";
      return out;
    }
    out.tag = o[0];
    out.value[0] = 0;
    return out;
  }
  if (o[0] >= 0x01 && o[0] <= 0x1F) {
    out.tag = o[0];
    out.value.erase(out.value.begin());
  }
  return out;
}

ValueText format_value(const AttributeDef* def, std::span<const std::uint8_t> o) {
  if (!def) {
    return {"0x" + to_hex(o), {}};
  }
  auto need = [&](std::size_t size) -> std::optional<ValueText> {
    if (o.size() != size) {
      return invalid(o, std::string(type_name(def->type)) + " needs " + std::to_string(size) +
                            " octets, got " + std::to_string(o.size()));
    }
    return std::nullopt;
  };
  auto numbered = [&](std::uint64_t value) -> ValueText {
    // A name shown must parse back to the same number (dictionaries may reuse a name).
    // So must a name the text form can carry: Debian's dictionaries have VALUE names with commas,
    // which separate attributes in the one-line form; hex is tried before names.
    if (const auto* name = def->value_name(value); name && text_form_safe(*name)) {
      if (auto it = def->value_numbers.find(*name);
          it != def->value_numbers.end() && it->second == value) {
        return {*name, {}};
      }
    }
    // Names are looked up before numbers: Debian's USR-Speed-Of-Connection names 1 "56", so the
    // number 56 is written in hex there.
    auto decimal = std::to_string(value);
    if (def->value_numbers.contains(decimal)) {
      return {"0x" + to_hex(o), {}};
    }
    return {std::move(decimal), {}};
  };
  switch (def->type) {
    case DataType::text:
      return {quote_text(o), {}};
    case DataType::integer:
    case DataType::date:
    case DataType::int32:
      if (auto bad = need(4)) {
        return *bad;
      }
      if (def->type == DataType::date) {
        return {date_text(static_cast<std::uint32_t>(*read_unsigned(o, 4))), {}};
      }
      if (def->type == DataType::int32) {
        return {std::to_string(static_cast<std::int32_t>(*read_unsigned(o, 4))), {}};
      }
      return numbered(*read_unsigned(o, 4));
    case DataType::integer64:
      if (auto bad = need(8)) {
        return *bad;
      }
      return numbered(*read_unsigned(o, 8));
    case DataType::uint8:
      if (auto bad = need(1)) {
        return *bad;
      }
      return numbered(o[0]);
    case DataType::uint16:
      if (auto bad = need(2)) {
        return *bad;
      }
      return numbered(*read_unsigned(o, 2));
    case DataType::ipv4addr:
      if (auto bad = need(4)) {
        return *bad;
      }
      return {ipv4_text(o), {}};
    case DataType::ipv6addr:
      if (auto bad = need(16)) {
        return *bad;
      }
      return {ipv6_text(o), {}};
    case DataType::combo_ip:
      if (o.size() == 4) {
        return {ipv4_text(o), {}};
      }
      if (o.size() == 16) {
        return {ipv6_text(o), {}};
      }
      return invalid(o, "combo-ip needs 4 or 16 octets, got " + std::to_string(o.size()));
    case DataType::ipv4prefix: {
      // RFC 8044 §3.11: Reserved (0), Prefix-Length (0..32), Prefix (4 octets).
      if (auto bad = need(6)) {
        return *bad;
      }
      if (o[0] != 0) {
        return invalid(o, "ipv4prefix reserved octet is not zero");
      }
      if (o[1] > 32) {
        return invalid(o, "ipv4prefix length " + std::to_string(o[1]) + " is above 32");
      }
      if (!bits_beyond_prefix_zero(o.subspan(2), o[1])) {
        return invalid(o, "ipv4prefix has bits set beyond its prefix length");
      }
      return {ipv4_text(o.subspan(2)) + "/" + std::to_string(o[1]), {}};
    }
    case DataType::ipv6prefix: {
      // RFC 3162 §2.3: Reserved, Prefix-Length (0..128), Prefix (up to 16 octets).
      if (o.size() < 2 || o.size() > 18) {
        return invalid(o, "ipv6prefix needs 2 to 18 octets, got " + std::to_string(o.size()));
      }
      if (o[0] != 0) {
        return invalid(o, "ipv6prefix reserved octet is not zero");
      }
      if (o[1] > 128) {
        return invalid(o, "ipv6prefix length " + std::to_string(o[1]) + " is above 128");
      }
      if ((o[1] + 7u) / 8u > o.size() - 2) {
        return invalid(o, "ipv6prefix is shorter than its prefix length");
      }
      if (!bits_beyond_prefix_zero(o.subspan(2), o[1])) {
        return invalid(o, "ipv6prefix has bits set beyond its prefix length");
      }
      if (o.size() != 18) {
        // Valid, but the text form writes the full 16-octet prefix; keep the exact octets.
        return {"0x" + to_hex(o), {}};
      }
      return {ipv6_text(o.subspan(2)) + "/" + std::to_string(o[1]), {}};
    }
    case DataType::ifid:
      if (auto bad = need(8)) {
        return *bad;
      }
      return {joined_hex(o, 2, ':'), {}};
    case DataType::ether:
      if (auto bad = need(6)) {
        return *bad;
      }
      return {joined_hex(o, 1, ':'), {}};
    case DataType::octets:
    case DataType::tlv:
    case DataType::abinary:
    case DataType::vsa:
    case DataType::extended:
    case DataType::long_extended:
    case DataType::evs:
      return {"0x" + to_hex(o), {}};
  }
  return {"0x" + to_hex(o), {}};
}

Expected<Octets, std::string> parse_value(const AttributeDef* def, std::string_view text) {
  if (text.starts_with("0x") || text.starts_with("0X")) {
    auto octets = from_hex(text.substr(2));
    if (!octets) {
      return Unexpected{std::string("bad hex value ") + std::string(text)};
    }
    return *octets;
  }
  if (!def) {
    return Unexpected{std::string("an attribute without a definition takes only 0x... values")};
  }
  auto fail = [&]() -> Expected<Octets, std::string> {
    return Unexpected{"\"" + std::string(text) + "\" is not a valid " +
                      std::string(type_name(def->type)) + " for " + def->name};
  };
  auto number = [&](std::size_t size) -> Expected<Octets, std::string> {
    if (auto it = def->value_numbers.find(text); it != def->value_numbers.end()) {
      return be_octets(it->second, size);
    }
    std::uint64_t value = 0;
    if (!parse_decimal(text, value) || (size < 8 && value >> (8 * size))) {
      return fail();
    }
    return be_octets(value, size);
  };
  switch (def->type) {
    case DataType::text: {
      auto s = unquote(text);
      if (!s) {
        return fail();
      }
      return Octets(s->begin(), s->end());
    }
    case DataType::integer:
      return number(4);
    case DataType::integer64:
      return number(8);
    case DataType::uint8:
      return number(1);
    case DataType::uint16:
      return number(2);
    case DataType::int32: {
      std::int32_t value = 0;
      if (!parse_decimal(text, value)) {
        return fail();
      }
      return be_octets(static_cast<std::uint32_t>(value), 4);
    }
    case DataType::date: {
      auto seconds = parse_date(text);
      if (!seconds) {
        return fail();
      }
      return be_octets(*seconds, 4);
    }
    case DataType::ipv4addr: {
      auto octets = parse_ipv4(text);
      return octets ? Expected<Octets, std::string>(*octets) : fail();
    }
    case DataType::ipv6addr: {
      auto octets = parse_ipv6(text);
      return octets ? Expected<Octets, std::string>(*octets) : fail();
    }
    case DataType::combo_ip: {
      if (auto v4 = parse_ipv4(text)) {
        return *v4;
      }
      auto v6 = parse_ipv6(text);
      return v6 ? Expected<Octets, std::string>(*v6) : fail();
    }
    case DataType::ipv4prefix:
    case DataType::ipv6prefix: {
      const auto slash = text.find('/');
      unsigned length = 0;
      if (slash == std::string_view::npos || !parse_decimal(text.substr(slash + 1), length)) {
        return fail();
      }
      const bool v4 = def->type == DataType::ipv4prefix;
      auto address = v4 ? parse_ipv4(text.substr(0, slash)) : parse_ipv6(text.substr(0, slash));
      if (!address || length > (v4 ? 32u : 128u)) {
        return fail();
      }
      Octets out{0, static_cast<std::uint8_t>(length)};
      out.insert(out.end(), address->begin(), address->end());
      if (!bits_beyond_prefix_zero(std::span(out).subspan(2), length)) {
        return fail();
      }
      return out;
    }
    case DataType::ifid: {
      auto octets = parse_separated_hex(text, ':', 8);
      return octets ? Expected<Octets, std::string>(*octets) : fail();
    }
    case DataType::ether: {
      auto octets = parse_separated_hex(text, ':', 6);
      return octets ? Expected<Octets, std::string>(*octets) : fail();
    }
    default:
      return fail(); // octets-like types take only 0x... (handled above)
  }
}

} // namespace acctlab::radius
