#pragma once
// Typed values (RFC 8044 data types and FreeRADIUS's byte/short/signed/ether): rendering octets
// as text and parsing text back to octets. A value that does not fit its type is rendered as raw
// octets with a note saying why, never dropped.

#include "radius/dictionary.hpp"
#include "radius/result.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace acctlab::radius {

struct ValueText {
  std::string text; // as it appears after "Name = "
  std::string note; // non-empty when the octets do not fit the type; text is then 0x...
};

/** Renders octets as the attribute's type says (def may be null: raw octets). */
ValueText format_value(const AttributeDef* def, std::span<const std::uint8_t> octets);

/** A tagged attribute's value (RFC 2868 §3) split into its tag and the value proper. */
struct TagSplit {
  std::uint8_t tag = 0; // 0x01-0x1F; 0 when the value carries none (or an integer's is 0x00)
  Octets value;         // what the type reads: an integer keeps 4 octets, its tag octet zeroed
  std::string note;     // non-empty when the tag octet is out of range; value is then as sent
};

/** RFC 2868 §3: an integer's first octet is always its tag (0x00 when unused, 0x01-0x1F);
 * another type starts with a tag only when its first octet is 0x01-0x1F. An attribute without
 * has_tag, or an integer not of 4 octets, is returned as it is. */
TagSplit split_tag(const AttributeDef& def, std::span<const std::uint8_t> octets);

/** Parses text into octets for the attribute's type; "0x..." is accepted for any type. */
Expected<Octets, std::string> parse_value(const AttributeDef* def, std::string_view text);

std::string to_hex(std::span<const std::uint8_t> octets);
std::optional<Octets> from_hex(std::string_view hex); // without the 0x prefix
/** The value of one hexadecimal digit ('0'-'9', 'a'-'f', 'A'-'F'); -1 for any other character. */
int hex_digit(char c) noexcept;
/** The length of the well-formed UTF-8 sequence (RFC 3629: no overlong forms, no surrogates,
 * nothing past U+10FFFF) that starts at octets[i]: 1 for ASCII, 0 when none starts there. */
std::size_t utf8_sequence_length(std::span<const std::uint8_t> octets, std::size_t i);
/** The quoted, escaped form of a text value: "a\"b", non-UTF-8 octets as \xHH. */
std::string quote_text(std::span<const std::uint8_t> octets);

/** Big-endian integer of 1..8 octets; nullopt when the size does not match. */
std::optional<std::uint64_t> read_unsigned(std::span<const std::uint8_t> octets, std::size_t size);

} // namespace acctlab::radius
