#pragma once
// Runs a scenario: drives the GatewayModel step by step, turns its accounting events into
// Accounting-Requests, delivers them with the RadiusTransport, and writes the `debug radius` /
// `debug crypto isakmp aaa` lines and the JSON-lines event log. Never throws on bad input.

#include "client/ios_config.hpp"
#include "client/radsec_stream.hpp"
#include "client/scenario.hpp"

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace acctlab::gateway {

struct RunOptions {
  /** --server HOST:PORT, in slot order; the configuration's servers are never contacted. */
  std::vector<std::string> servers;
  std::optional<std::string> secret;
  /** Set: every server is reached over RadSec (TLS) with this configuration; the secret is
   * "radsec" (RFC 6614 §2.3) unless --secret gives one. */
  std::optional<RadsecConfig> tls;
  std::optional<Ipv4Address> nas_ip;
  std::optional<Millis> interval;
  bool real_clock = false;
  bool debug_radius = false;
  bool debug_isakmp_aaa = false;
  /** Virtual clock: how long (real time) to wait for answers before letting time jump. */
  Millis answer_wait{2000};
  /** Overrides `radius-server timeout` (seconds in IOS); for real-time demos and tests. */
  std::optional<Millis> timeout;
  /** The unix time the run's time 0 stands for on the NAS's clock (Event-Timestamp, when the
   * configuration sends it). Default: the real clock's start; on the virtual clock, the start
   * less the scenario's `advance` steps, so that its last step lands about now. */
  std::optional<double> nas_clock_at_zero;
};

struct RunResult {
  bool ok = true;
  std::string error; // "scenario line 12: unknown peer 'x'" or a setup problem
  std::uint64_t starts = 0;
  std::uint64_t interims = 0;
  std::uint64_t stops = 0;
  std::uint64_t unaccounted = 0;   // sessions whose records had no accounting list
  std::uint64_t transmissions = 0; // datagrams sent (including retransmissions)
  std::uint64_t retransmissions = 0;
  std::uint64_t lost = 0;    // transmissions swallowed by "server X down"
  std::uint64_t answers = 0; // verified Accounting-Responses
  std::uint64_t bad_answers = 0;
  std::uint64_t failovers = 0;
  std::uint64_t gave_up = 0; // records no server acknowledged
  Millis elapsed{0};         // on the run's clock

  std::vector<std::pair<std::string, std::uint64_t>> counts() const;
};

/**
 * Runs scenario against config. debug receives the IOS-style debug lines selected in options;
 * events (if not null) receives the JSON-lines log.
 */
RunResult run_scenario(const IosConfig& config, const Scenario& scenario, const RunOptions& options,
                       std::ostream& debug, std::ostream* events);

} // namespace acctlab::gateway
