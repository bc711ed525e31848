#pragma once
// Renders a packet the way IOS `debug radius` prints it (the feature document's examples):
//   RADIUS: authenticator 38 F5 EB 46 4D BE 4A 6F - 45 EB EF 7D B7 19 FB 3F
//   RADIUS: Acct-Session-Id [44] 10 "00000001"
//   RADIUS: Vendor, Cisco [26] 31
//   RADIUS: Cisco AVpair [1] 25 "isakmp-group-id=cclient"

#include "radius/dictionary.hpp"
#include "radius/packet.hpp"

#include <string>
#include <vector>

namespace acctlab::radius {

/** "38 F5 EB 46 4D BE 4A 6F - 45 EB EF 7D B7 19 FB 3F" */
std::string ios_authenticator(const Authenticator& authenticator);

/** The authenticator line and one line per attribute (a "Vendor, X" line before each VSA),
 * each beginning "RADIUS: ". */
std::vector<std::string> ios_debug_lines(const Packet& packet, const Dictionary& dict);

} // namespace acctlab::radius
