#pragma once
// The tester behind `acctlab conform`: starts an embedded accounting server on loopback (one per
// server slot, each with its own database) or targets a given server, drives the reference
// gateway through a scenario, and asserts (1) every request was answered with a valid Response
// Authenticator, (2) for the embedded server, the stored records and sessions equal what the
// gateway sent, and (3) every packet and session passes the profile's rules.

#include "client/radsec_stream.hpp"
#include "conformance/engine.hpp"
#include "conformance/profile.hpp"
#include "conformance/trace.hpp"
#include "radius/dictionary.hpp"
#include "radius/result.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace acctlab::conformance {

struct TesterOptions {
  /** Target this server for every slot instead of embedded ones ("HOST:PORT"). */
  std::optional<std::string> server;
  /** The unix time the gateway's clock shows at the scenario's start, for the Event-Timestamp
   * its configuration may send (gateway::RunOptions::nas_clock_at_zero; default: ending now). */
  std::optional<double> nas_clock_at_zero;
  std::string secret = "testing123";
  /** The embedded servers' clients file (`conform --secrets`); without one they accept
   * 127.0.0.1 with testing123. */
  std::optional<std::string> clients_file;
  /** Where the embedded servers' databases go (created if missing). */
  std::string work_dir = "acctlab-conform";
  /** A postgresql:// URI every embedded server of a scenario writes instead (`conform --db`),
   * as servers sharing one database do: the scenario is one 'conform' run there, its packets
   * stored under it and its sessions matched in its scope, beside whatever live servers write
   * (docs/conformance.md, "On PostgreSQL"). */
  std::optional<std::string> database;
  /** Real time the gateway waits for answers before its virtual clock jumps. */
  double answer_wait_seconds = 0.3;
  /** RadSec: the gateway sends over TLS. Embedded servers listen on TLS only, with lab
   * certificates made in work_dir/tls; with server, tls_client names the gateway's certificate
   * and the CA of the server's. */
  bool tls = false;
  gateway::RadsecConfig tls_client;
};

struct ScenarioResult {
  std::string name;
  std::string error; // the scenario could not run at all (bad file, server failed to start)
  Trace trace;       // what the gateway put on the wire, from its event log
  Verdict verdict;
  /** Assertions (1) and (2): one line per mismatch. */
  std::vector<std::string> pipeline_failures;
  std::vector<std::string> databases;
  std::optional<std::int64_t> run_id; // with TesterOptions::database: the scenario's run there
  std::vector<std::string> endpoints; // the embedded servers, in slot order
  std::uint64_t records = 0;          // records the gateway decided on
  std::uint64_t transmissions = 0;    // datagrams it sent
  std::uint64_t answers = 0;

  bool passed() const {
    return error.empty() && pipeline_failures.empty() && !verdict.has_errors();
  }
};

/** The scenario library: the .scn files of client/scenarios, from the source tree or beside the
 * binary. */
std::vector<std::string> scenario_library();

/** A scenario path for a name ("one-session") or a path. Empty when not found. */
std::string resolve_scenario(const std::string& name_or_path);

/** Runs one scenario as described above. Never throws; problems land in the result. */
ScenarioResult run_conformance(const std::string& scenario_path, const Profile& profile,
                               const radius::Dictionary& dict, const TesterOptions& options);

/** One line per scenario (PASS/FAIL, counts, pipeline failures), then each failing verdict. */
std::string render_conform_text(const std::vector<ScenarioResult>& results, bool colour);
/** {"verdict", "scenarios": [{name, passed, error, pipeline_failures, databases, report}]} */
std::string render_conform_json(const std::vector<ScenarioResult>& results);
/** Per scenario: a pipeline testcase plus the rules and sessions suites. */
std::string render_conform_junit(const std::vector<ScenarioResult>& results);

/**
 * Assertion (2) for one server: what the database at path stored against what the trace shows
 * reached endpoint and was answered (records, and per session its row, record count, state and
 * final counters). One line per mismatch; empty when they agree.
 */
std::vector<std::string> database_mismatches(const Trace& trace, const Profile& profile,
                                             const radius::Dictionary& dict,
                                             const std::string& endpoint,
                                             const std::string& database);

/** Turns a gateway JSON-lines event log into a Trace (sent, answer, bad and dropped answers). */
Expected<Trace, std::string> trace_from_event_log(const std::string& jsonl);

} // namespace acctlab::conformance
