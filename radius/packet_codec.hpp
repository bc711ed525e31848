#pragma once
// Wire codec for RADIUS packets (RFC 2865 §3 and §5.26). No I/O; bad input yields a
// DecodeFailure, never an exception or a crash.

#include "radius/decode_error.hpp"
#include "radius/dictionary.hpp"
#include "radius/packet.hpp"

#include <cstdint>
#include <span>

namespace acctlab::radius {

/**
 * Decodes one datagram. Octets beyond the Length field are ignored (RFC 2865 §3). Vendor-Specific
 * attributes are split into sub-attributes using the vendor's format from dict (1,1 when the
 * vendor is unknown); one that does not parse stays a raw Vendor-Specific attribute.
 */
DecodeResult<Packet> decode_packet(std::span<const std::uint8_t> datagram, const Dictionary& dict);

/** Checks framing only (header and attribute lengths); the fast path for counting and pairing. */
std::optional<DecodeFailure> check_framing(std::span<const std::uint8_t> datagram);

/** Encodes with the packet's authenticator as it is; see authenticator.hpp to sign. */
Octets encode_packet(const Packet& packet, const Dictionary& dict);

} // namespace acctlab::radius
