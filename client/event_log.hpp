#pragma once
// The JSON-lines event log: one object per line for every record the model decides on, every
// packet sent and every answer received (with its Response Authenticator and whether it
// verified). The tester and people read it; the format is documented in docs/gateway.md.

#include "client/gateway_model.hpp"
#include "client/radius_transport.hpp"

#include <string>

namespace acctlab::gateway {

/** {"event":"record","kind":"start",...}: the model decided on an accounting record. */
std::string record_json(const AccountingEvent& event, bool accounted,
                        const std::vector<std::string>& slots);
/** {"event":"sent"|"answer"|...}: what the transport did. */
std::string transport_json(const TransportEvent& event, const ServerEndpoint* server);
/** {"event":"error","line":N,...}: a scenario step that could not run. */
std::string error_json(Millis time, int line, const std::string& message);
/** {"event":"summary",...} */
std::string summary_json(Millis time,
                         const std::vector<std::pair<std::string, std::uint64_t>>& counts);

} // namespace acctlab::gateway
