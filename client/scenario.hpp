#pragma once
// The scenario format: a line-oriented script of what happens to the gateway's peers and to the
// RADIUS servers it talks to. See docs/gateway.md for the grammar; in short:
//
//   slot A                                   # server slots, mapped to --server options in order
//   peer joe initiator 11.1.2.2 identity group cclient xauth joe@cclient address 10.13.13.1
//   peers u 20 initiator 11.2.0.1 identity group cclient xauth u{n}@cclient pool addressA
//   connect joe [interim 109s]   sa-up joe [PAIR] [lifetime 120s|4608000kb]
//   traffic joe [PAIR] in 4 608 out 4 608    rekey joe ipsec [PAIR]   rekey joe ike
//   sa-down joe [PAIR]   ike-delete joe      dead joe
//   advance 60s          server A down|up|drop-answers    nas-ip 100.1.1.147
//
// Peer arguments name one peer or a numbered range declared by `peers`: u[1-10].

#include "client/clock.hpp"
#include "client/gateway_model.hpp"
#include "radius/result.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace acctlab::gateway {

struct ScenarioStep {
  enum class Op : std::uint8_t {
    connect,
    sa_up,
    traffic,
    rekey_ipsec,
    rekey_ike,
    sa_down,
    ike_delete,
    dead,
    advance,
    server_down,
    server_up,
    server_drop_answers,
    nas_ip,
  };
  Op op = Op::connect;
  int line = 0;
  std::vector<std::string> peers; // expanded from names and ranges
  std::string pair = "1";
  SaLifetime lifetime;
  Counters input;
  Counters output;
  Millis duration{0};
  std::string slot;
  /** connect ... interim D: the session's own interim interval (Acct-Interim-Interval). */
  std::optional<Millis> interim;
  /** nas-ip A.B.C.D: the NAS-IP-Address of the records sent from here on. */
  Ipv4Address address{};
};

struct Scenario {
  std::vector<std::string> slots; // in --server order
  std::vector<PeerSpec> peers;
  std::vector<ScenarioStep> steps;
  std::vector<std::string> comments; // the leading comment block: what the scenario shows
  /** From a "# config: FILE" line of the leading comments: the configuration it is written for,
   * relative to the scenario's folder. */
  std::string config_hint;

  /** The index of a slot name, or -1. */
  int slot_index(std::string_view name) const;
};

struct ScenarioError {
  int line = 0;
  std::string message;
  std::string text;
  std::string to_string() const;
  /** "file:12: message: text", as compilers print, so editors can jump to the line. */
  std::string to_string(std::string_view file) const;
};

/** How much one scenario may declare: keeps a typo from eating the machine. The defaults are the
 *  gateway's; the fuzz target passes smaller ones, since a legal million-peer scenario takes ten
 *  seconds to parse under ASan and says nothing new about the parser. */
struct ScenarioLimits {
  std::uint32_t peers_per_line = 100000; // one `peers PREFIX COUNT` line
  std::size_t peers = 1000000;           // peers declared in all
  std::size_t peer_references = 1000000; // peer names the steps' ranges expand to
};

/** Parses a scenario; the first error stops it (a scenario is a program, not a config). */
Expected<Scenario, ScenarioError> parse_scenario(std::string_view text,
                                                 const ScenarioLimits& limits = {});
Expected<Scenario, ScenarioError> parse_scenario_file(const std::string& path);
/** The configuration file a scenario file names with "# config: FILE", or "" when none. */
std::string scenario_config_path(const std::string& scenario_path, const Scenario& scenario);

/** "90s", "5m", "1h", "250ms", or a bare number of seconds. */
std::optional<Millis> parse_duration(std::string_view text);
/** A count with an optional binary suffix: "608", "4GiB", "512MiB", "3KiB". */
std::optional<std::uint64_t> parse_count(std::string_view text);

} // namespace acctlab::gateway
