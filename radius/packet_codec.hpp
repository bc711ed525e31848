#pragma once
// Wire codec for RADIUS packets (RFC 2865 §3 and §5.26). No I/O; bad input yields a
// DecodeFailure, never an exception or a crash.

#include "radius/decode_error.hpp"
#include "radius/dictionary.hpp"
#include "radius/packet.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace acctlab::radius {

/**
 * Decodes one datagram. Octets beyond the Length field are ignored (RFC 2865 §3). Vendor-Specific
 * attributes are split into sub-attributes using the vendor's format from dict (1,1 when the
 * vendor is unknown); one that does not parse stays a raw Vendor-Specific attribute.
 */
DecodeResult<Packet> decode_packet(std::span<const std::uint8_t> datagram, const Dictionary& dict);

/** Checks framing only (header and attribute lengths); the fast path for counting and pairing. */
std::optional<DecodeFailure> check_framing(std::span<const std::uint8_t> datagram);

/**
 * Appends every Proxy-State attribute of a packet that passed check_framing to out, whole (type,
 * length, value) and in their order: what a server copies into its answer (RFC 2865 §5.33, which
 * RFC 2866 §5.13 applies to accounting). Returns how many it appended.
 */
std::size_t append_proxy_states(std::span<const std::uint8_t> datagram,
                                std::vector<std::uint8_t>& out);

/** Why the encoder refused a packet: each would otherwise go out as a different packet. */
enum class EncodeError : std::uint8_t {
  value_too_long,       // more octets than one attribute (or one vendor sub-attribute) carries
  vendor_type_too_wide, // a vendor type beyond the vendor's type field (it would wrap)
  packet_too_long,      // more than 4096 octets in all (RFC 2865 §3, RFC 2866 §3)
};

/** An encoder refusal: what, which attribute (by dictionary name, or Attr-N), and the sizes. */
struct EncodeFailure {
  EncodeError error = EncodeError::value_too_long;
  std::string attribute;    // "User-Name", "Attr-26.9.993"; empty for packet_too_long
  std::uint32_t vendor = 0; // for vendor_type_too_wide
  // The attribute's position in Packet::attributes(); for packet_too_long, the first attribute
  // (or Vendor-Specific's first sub-attribute) that ends beyond 4096 octets.
  std::size_t index = 0;
  std::size_t size = 0;  // value octets, vendor type, or packet octets
  std::size_t limit = 0; // the most allowed
  /** One sentence for a person: "User-Name is 254 octets; the most one attribute holds is 253". */
  std::string message() const;
};

using EncodeResult = Expected<Octets, EncodeFailure>;

/**
 * Whether one attribute of this shape with value_size octets has a wire form: a standard value of
 * at most 253 octets (RFC 2865 §5); a vendor sub-attribute whose type fits the vendor's type
 * field and whose value fits one Vendor-Specific of 255 octets (RFC 2865 §5.26) with the vendor's
 * format (1,1 when the dictionary does not know the vendor). index goes into the failure.
 */
std::optional<EncodeFailure> check_attribute(const Attribute& shape, std::size_t value_size,
                                             const Dictionary& dict, std::size_t index = 0);

/**
 * Encodes with the packet's authenticator as it is (see authenticator.hpp to sign), or refuses:
 * never truncates a value, never wraps a type, never exceeds 4096 octets. Vendor sub-attributes
 * of one group share a Vendor-Specific while they fit; the rest continue in another, and a vendor
 * without a length field gets one Vendor-Specific per sub-attribute. Values are not split over
 * several attributes (EAP-Message "concat" included): the caller adds one attribute per part.
 */
EncodeResult try_encode_packet(const Packet& packet, const Dictionary& dict);

/**
 * try_encode_packet for packets the caller built from parts it knows fit; throws
 * std::length_error with the failure's message when they do not. Anything holding values from a
 * user, a file or the network uses try_encode_packet and reports the failure as a value.
 */
Octets encode_packet(const Packet& packet, const Dictionary& dict);

} // namespace acctlab::radius
