#include "radius/decode_error.hpp"

#include <array>

namespace acctlab::radius {
namespace {

struct ErrorText {
  DecodeError error;
  std::string_view name;
  std::string_view text;
};

// RFC 2865 §3 is the source of every rule below.
constexpr std::array error_table{
    ErrorText{DecodeError::empty_datagram, "empty_datagram", "the datagram is empty"},
    ErrorText{DecodeError::truncated_header, "truncated_header",
              "fewer than 20 octets: the RADIUS header is incomplete"},
    ErrorText{DecodeError::length_too_small, "length_too_small",
              "the Length field is below the minimum of 20"},
    ErrorText{DecodeError::length_too_large, "length_too_large",
              "the Length field is above the maximum of 4096"},
    ErrorText{DecodeError::length_exceeds_datagram, "length_exceeds_datagram",
              "the Length field is larger than the datagram received"},
    ErrorText{DecodeError::attribute_header_truncated, "attribute_header_truncated",
              "a single octet remains where an attribute header needs two"},
    ErrorText{DecodeError::attribute_length_too_small, "attribute_length_too_small",
              "an attribute's Length is below 2"},
    ErrorText{DecodeError::attribute_overflows_packet, "attribute_overflows_packet",
              "an attribute runs past the end of the packet"},
};

const ErrorText* find(DecodeError error) {
  for (const auto& entry : error_table) {
    if (entry.error == error) {
      return &entry;
    }
  }
  return nullptr;
}

} // namespace

std::string_view to_string(DecodeError error) noexcept {
  const auto* entry = find(error);
  return entry ? entry->name : "unknown_error";
}

std::string_view describe(DecodeError error) noexcept {
  const auto* entry = find(error);
  return entry ? entry->text : "unknown decode error";
}

std::optional<DecodeError> decode_error_from_string(std::string_view name) noexcept {
  for (const auto& entry : error_table) {
    if (entry.name == name) {
      return entry.error;
    }
  }
  return std::nullopt;
}

std::string DecodeFailure::message() const {
  return std::string(to_string(error)) + " at offset " + std::to_string(offset) + ": " +
         std::string(describe(error));
}

} // namespace acctlab::radius
