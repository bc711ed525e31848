#pragma once
// RADIUS packets for the capture tests, built with the project's encoder and signed with its
// authenticator code; attributes named through the dictionary, never by number.

#include "pcap/capture_reader.hpp"
#include "radius/authenticator.hpp"
#include "radius/dictionary.hpp"
#include "radius/packet_codec.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <string_view>

namespace acctlab::capture::test {

inline const radius::Dictionary& dict() {
  return radius::Dictionary::builtin();
}

inline std::uint8_t attr(const char* name) {
  const auto* def = dict().find(name);
  REQUIRE(def != nullptr);
  return static_cast<std::uint8_t>(def->number);
}

/** A signed Accounting-Request. */
inline radius::Octets accounting_request(std::uint8_t identifier, std::uint32_t status_type,
                                         std::string_view session_id,
                                         std::string_view secret = "testing123") {
  radius::Packet p(radius::Code::accounting_request, identifier);
  p.add(attr("Acct-Session-Id"), session_id);
  p.add_integer(attr("Acct-Status-Type"), status_type);
  p.add(attr("User-Name"), std::string_view("joe@cclient"));
  auto wire = radius::encode_packet(p, dict());
  radius::sign_request(wire, secret);
  return wire;
}

/** An Access-Request (random authenticator, no Message-Authenticator). */
inline radius::Octets access_request(std::uint8_t identifier) {
  radius::Packet p(radius::Code::access_request, identifier);
  p.set_authenticator(radius::random_authenticator());
  p.add(attr("User-Name"), std::string_view("joe"));
  return radius::encode_packet(p, dict());
}

/** A signed response of the given code to an encoded request. */
inline radius::Octets response_to(const radius::Octets& request,
                                  radius::Code code = radius::Code::accounting_response,
                                  std::string_view secret = "testing123") {
  radius::Packet p(code, request[1]);
  auto wire = radius::encode_packet(p, dict());
  radius::Authenticator request_authenticator;
  std::copy_n(request.begin() + 4, request_authenticator.size(), request_authenticator.begin());
  radius::sign_response(wire, request_authenticator, secret);
  return wire;
}

} // namespace acctlab::capture::test
