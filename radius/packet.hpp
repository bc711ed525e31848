#pragma once
// The RADIUS packet model: header fields plus an ordered list of attributes (repeats allowed).
// Values live in one buffer owned by the packet, so a decode makes two allocations, not one per
// attribute.

#include <array>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace acctlab::radius {

using Octets = std::vector<std::uint8_t>;
using Authenticator = std::array<std::uint8_t, 16>;

inline constexpr std::size_t header_size = 20;
inline constexpr std::size_t max_packet_size = 4096;
inline constexpr std::size_t max_attribute_value = 253;
inline constexpr std::uint8_t vendor_specific_type = 26; // RFC 2865 §5.26
inline constexpr std::uint8_t proxy_state_type = 33;     // RFC 2865 §5.33

/** Packet codes, RFC 2865 §3, RFC 2866 §3, RFC 5997, RFC 5176. */
enum class Code : std::uint8_t {
  access_request = 1,
  access_accept = 2,
  access_reject = 3,
  accounting_request = 4,
  accounting_response = 5,
  access_challenge = 11,
  status_server = 12,
  status_client = 13,
  disconnect_request = 40,
  disconnect_ack = 41,
  disconnect_nak = 42,
  coa_request = 43,
  coa_ack = 44,
  coa_nak = 45,
};

/** "Accounting-Request" for a known code, "Code-N" otherwise. */
std::string code_name(Code code);
/** Parses "Accounting-Request" or "Code-N"; false when unknown. */
bool parse_code(std::string_view text, Code& code);

/** Identifies an attribute definition: vendor 0 is the standard space. */
struct AttrKey {
  std::uint32_t vendor = 0;
  std::uint32_t type = 0;
  bool operator==(const AttrKey&) const = default;
};

/**
 * One attribute as it sits in the packet. A vendor sub-attribute has type 26 and a non-zero
 * vendor; sub-attributes with the same vsa_group travel in one Vendor-Specific attribute.
 * A Vendor-Specific whose contents could not be parsed stays as type 26 with vendor 0.
 */
struct Attribute {
  std::uint8_t type = 0;
  std::uint32_t vendor = 0;
  std::uint32_t vendor_type = 0;
  std::uint16_t vsa_group = 0;
  // 32 bits, not 16: a value (or a buffer) of 64 KiB or more would wrap to a short, valid-looking
  // value that the encoder would then send as it is.
  std::uint32_t offset = 0; // into Packet's value buffer
  std::uint32_t length = 0;

  AttrKey key() const { return vendor ? AttrKey{vendor, vendor_type} : AttrKey{0, type}; }
  bool is_vendor() const { return vendor != 0; }
};

class Packet {
public:
  Packet() = default;
  Packet(Code code, std::uint8_t identifier) : code_(code), identifier_(identifier) {}

  Code code() const { return code_; }
  void set_code(Code code) { code_ = code; }
  std::uint8_t identifier() const { return identifier_; }
  void set_identifier(std::uint8_t identifier) { identifier_ = identifier; }
  const Authenticator& authenticator() const { return authenticator_; }
  void set_authenticator(const Authenticator& authenticator) { authenticator_ = authenticator; }

  const std::vector<Attribute>& attributes() const { return attributes_; }
  std::span<const std::uint8_t> value(const Attribute& attribute) const {
    return {values_.data() + attribute.offset, attribute.length};
  }

  /** Appends a standard attribute. */
  void add(std::uint8_t type, std::span<const std::uint8_t> value);
  void add(std::uint8_t type, std::string_view text);
  void add_integer(std::uint8_t type, std::uint32_t value);
  /** Appends a vendor sub-attribute in a Vendor-Specific of its own, or in the previous one. */
  void add_vendor(std::uint32_t vendor, std::uint32_t vendor_type,
                  std::span<const std::uint8_t> value, bool join_previous_vsa = false);
  void add_vendor(std::uint32_t vendor, std::uint32_t vendor_type, std::string_view text,
                  bool join_previous_vsa = false);
  /** Appends an attribute exactly as described (used by the decoder and the text parser). */
  void add_raw(const Attribute& shape, std::span<const std::uint8_t> value);

  /** Replaces the value of attribute number index (its position in attributes()). */
  void set_value(std::size_t index, std::span<const std::uint8_t> value);
  void erase(std::size_t index);

  /** The first attribute with this key, or nullptr. */
  const Attribute* find(AttrKey key) const;
  std::size_t count(AttrKey key) const;

  /** Equal codes, identifiers, authenticators, and attribute lists (shape and value). */
  bool operator==(const Packet& other) const;

  void reserve(std::size_t attributes, std::size_t value_octets) {
    attributes_.reserve(attributes);
    values_.reserve(value_octets);
  }

private:
  std::uint16_t next_group();

  Code code_ = Code::accounting_request;
  std::uint8_t identifier_ = 0;
  Authenticator authenticator_{};
  std::vector<Attribute> attributes_;
  Octets values_;
};

} // namespace acctlab::radius
