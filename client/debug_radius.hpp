#pragma once
// IOS-style `debug radius` lines for the packets the gateway sends and receives, in the form of
// the feature document's listings:
//
//   RADIUS(00000002): Send Accounting-Request to 127.0.0.1:1646 id 4, len 220
//   RADIUS: authenticator 38 F5 EB 46 4D BE 4A 6F - 45 EB EF 7D B7 19 FB 3F
//   RADIUS: Acct-Session-Id [44] 10 "00000001"
//   RADIUS: Vendor, Cisco [26] 31
//   RADIUS: Cisco AVpair [1] 25 "isakmp-group-id=cclient"
//
// Rendering works on the encoded datagram, so the lengths printed are the bytes on the wire.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace acctlab::gateway {

/** "38 F5 EB 46 4D BE 4A 6F - 45 EB EF 7D B7 19 FB 3F" */
std::string format_authenticator(std::span<const std::uint8_t> sixteen);
/** "00000002" */
std::string format_aaa_id(std::uint32_t id);

/** The "Send Accounting-Request" line, the authenticator and one line per attribute. */
std::vector<std::string> debug_request_lines(std::uint32_t aaa_id,
                                             std::span<const std::uint8_t> wire,
                                             const std::string& destination);
/** "Received from id PORT/ID HOST:PORT, Accounting-response, len 20" and its authenticator. */
std::vector<std::string> debug_response_lines(std::span<const std::uint8_t> wire,
                                              std::uint16_t local_port, const std::string& from);
/** One line per attribute of an encoded packet (no header lines); never reads past wire. */
std::vector<std::string> debug_attribute_lines(std::span<const std::uint8_t> wire);

} // namespace acctlab::gateway
