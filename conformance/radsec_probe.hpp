#pragma once
// The RadSec probe: drives a RADIUS/TLS server (RFC 6614, draft-ietf-radext-radiusdtls-bis) with
// the edge cases its framing and connection handling must survive — a packet split over records,
// two packets in one record, attribute lengths 0 and 1, a Length outside 20..4096, a certificate
// from an unknown CA, the idle timeout, Status-Server with Identifier 0 — and judges each against
// its RADSEC-* rule. The result is an ordinary Verdict, rendered by every report. No Asio here:
// the TLS client is client/radsec_stream (OpenSSL).

#include "client/radsec_stream.hpp"
#include "conformance/engine.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace acctlab::conformance {

struct RadsecProbeOptions {
  std::string host;
  std::uint16_t port = 2083;
  gateway::RadsecConfig tls; // the probe's client certificate and the server's CA
  std::string secret = "radsec";
  /** How long to wait for the server's idle timeout; zero leaves RADSEC-IDLE-TIMEOUT unprobed. */
  std::chrono::seconds idle_wait{0};
  /** Where the throwaway certificates of an unknown CA are made. */
  std::string work_dir = "acctlab-conform";
  std::chrono::milliseconds answer_timeout{5000};
};

/** The RADSEC-* rules, in the order the probe runs them. */
const std::vector<Rule>& radsec_probe_rules();

/** Runs every probe against the server; never throws (failures are findings). */
Verdict probe_radsec(const RadsecProbeOptions& options);

} // namespace acctlab::conformance
