#pragma once
// `--debug radius`: packets printed in the manner of the feature document's IOS `debug radius`
// output ("RADIUS: Received from id 21645/4 10.1.1.4:1646, Accounting-response, len 20").

#include "radius/dictionary.hpp"
#include "radius/packet.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace acctlab::server {

/** "*Nov 27 02:31:05.123: " — the IOS timestamp prefix, for a unix time. */
std::string ios_timestamp(double unix_seconds);

/**
 * The debug lines for one packet: a header ("Received from id 4 127.0.0.1:40000,
 * Accounting-Request, len 220" or "Send Accounting-Response to ..."), the authenticator and one
 * line per attribute. Each line starts with "RADIUS: ".
 */
std::vector<std::string> debug_lines(const radius::Packet& packet, const radius::Dictionary& dict,
                                     bool received, std::string_view peer, std::size_t length);

} // namespace acctlab::server
