#pragma once
// The decoder's own error taxonomy: every way a datagram can fail to be a RADIUS packet.

#include "radius/result.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace acctlab::radius {

enum class DecodeError : std::uint8_t {
  empty_datagram,
  truncated_header,           // fewer than 20 octets: no room for the header
  length_too_small,           // Length field < 20
  length_too_large,           // Length field > 4096
  length_exceeds_datagram,    // Length field > octets received
  attribute_header_truncated, // one octet left where an attribute header needs two
  attribute_length_too_small, // attribute Length 0 or 1
  attribute_overflows_packet, // attribute runs past the packet's Length
};

/** The stable name of an error, as used in vectors, logs and the database. */
std::string_view to_string(DecodeError error) noexcept;
/** One sentence that explains the error to a person. */
std::string_view describe(DecodeError error) noexcept;
std::optional<DecodeError> decode_error_from_string(std::string_view name) noexcept;

/** A decode failure: what went wrong and at which byte offset of the datagram. */
struct DecodeFailure {
  DecodeError error;
  std::size_t offset;

  std::string message() const;
  bool operator==(const DecodeFailure&) const = default;
};

template <class T> using DecodeResult = Expected<T, DecodeFailure>;

} // namespace acctlab::radius
