#pragma once
// `acctlab lab strongswan`: a real strongSwan gateway as the NAS under test. Two network
// namespaces of this run's own (gateway and road warrior) joined by a veth pair on 192.0.2.0/24
// (RFC 5737: nothing leaves the machine); charon in each with configurations written here (PSK,
// or certificates made with pki on the spot); the gateway's eap-radius accounting pointed at two
// `acctlab serve` instances this run starts in the gateway namespace (127.0.0.1:1813 preferred,
// 127.0.0.2:1813 for failover); tcpdump records the RADIUS exchange. Each scenario drives the
// lifecycle, then the capture is judged with the strongswan profile and the databases' end state
// is asserted (sessions, counters within what the traffic predicts, Stop causes).

#include "conformance/engine.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace acctlab::lab {

/** One thing that happens to the gateway, its peer or its RADIUS servers. */
struct LabStep {
  enum class Kind {
    connect,            // the road warrior initiates; wait for the Start
    traffic,            // count datagrams of size octets, each echoed through the tunnel
    wait_interim,       // wait for count more Interim-Updates (any server)
    wait,               // seconds
    rekey_child,        // CHILD_SA rekey, at the gateway
    rekey_child_peer,   // CHILD_SA rekey, by the road warrior
    rekey_ike,          // IKE_SA rekey, at the gateway
    reauth,             // reauthentication, by the road warrior (a new IKE_SA)
    peer_gone,          // the road warrior's charon is killed; the gateway's DPD notices
    server_freeze,      // the preferred server stops answering (SIGSTOP) for seconds, then thaws
    server_stop,        // server number `count` (0: preferred) stops answering (SIGSTOP)
    server_resume,      // ... and answers again (SIGCONT)
    disconnect,         // the road warrior deletes its IKE_SA
    disconnect_gateway, // the gateway deletes it
  };
  Kind kind = Kind::wait;
  unsigned count = 0;
  unsigned size = 0;
  double seconds = 0;
};

/** What the scenario's end state must be. */
struct LabExpectation {
  unsigned sessions = 1;        // accounting sessions (one per IKE_SA lineage)
  std::vector<unsigned> causes; // each session's Acct-Terminate-Cause, in order
  bool retransmission = false;  // a request sent more than once, same octets
  bool failover = false;        // the second server got part of the session
};

struct LabScenario {
  std::string name;
  std::string summary;
  std::vector<LabStep> steps;
  LabExpectation expect;
  /** A known deviation of the NAS: the checks whose name contains known_check are expected
   * to fail, for the reason known_defect gives (reported XFAIL; should they pass, the run
   * fails, so the expectation gets updated). */
  std::string known_check;
  std::string known_defect;
  /** The gateway's IKE_SA gets no lifetime (rekey_time = 0); else 1 h (no rekey in a lab run). */
  bool no_ike_lifetime = false;
};

/** The built-in scenarios, in the order --all runs them. */
const std::vector<LabScenario>& lab_scenarios();
const LabScenario* find_lab_scenario(const std::string& name);

struct LabOptions {
  /** Keep the work files (configs, logs, capture, databases) here; empty: a temporary directory
   * removed at the end. */
  std::string keep_dir;
  /** The acctlab binary to start as the servers (`acctlab serve`). */
  std::string acctlab;
  /** psk or cert (an RSA CA, gateway and road-warrior certificates made with pki). */
  std::string auth = "psk";
  /** charon's eap-radius accounting_interval, seconds. */
  unsigned interim_interval = 3;
  /** Progress lines ("lab: connect ...") go here when set. */
  std::ostream* progress = nullptr;
};

struct LabCheck {
  std::string what;
  bool passed = false;
  std::string detail; // the figures seen
};

struct LabResult {
  std::string name;
  std::string summary;
  std::string error; // the scenario could not run (set-up failed, a step timed out)
  std::vector<LabCheck> checks;
  conformance::Verdict verdict;
  bool judged = false;
  std::uint64_t sessions = 0;
  std::uint64_t records = 0;
  std::uint64_t requests_on_wire = 0;
  double seconds = 0;
  std::string work_dir; // empty when not kept
  std::string capture;  // the pcap, when kept
  std::vector<std::string> databases;
  std::vector<std::string> log; // what happened, with times
  std::string known_check;      // from the scenario
  std::string known_defect;
  /** The same scenario file run against the reference IOS model (acctlab conform), when the
   * scenario came from a file: side by side in the reports. */
  struct Model {
    bool ran = false;
    bool passed = false;
    std::string error;
    std::uint64_t sessions = 0;
    std::uint64_t records = 0;
    std::size_t errors = 0;
    std::size_t warnings = 0;
  } model;

  /** A check that failed as the scenario's known defect says. */
  bool known_failure(const LabCheck& check) const;
  /** The known defect showed (and nothing else failed). */
  bool expected_failure() const;
  bool passed() const;
};

/** Why the lab cannot run here (privileges, packages, /dev/net/tun); empty when it can. */
std::string lab_unavailable();

/** Runs one scenario from set-up to tear-down. Throws Interrupted (after tearing everything down)
 * on SIGINT/SIGTERM; other problems land in the result. */
LabResult run_lab_scenario(const LabScenario& scenario, const LabOptions& options);

/** What `acctlab demo`'s strongSwan step did. */
struct LabDemoStep {
  bool ran = false;
  bool passed = false;
  std::string skipped; // why it did not run
};

/**
 * `acctlab demo`'s step: where the lab can run (lab_unavailable() is empty), runs the traffic and
 * reauth scenarios with their files kept under keep_dir and prints a short report to out; where
 * it cannot, says so plainly. Throws Interrupted after tearing down.
 */
LabDemoStep run_lab_demo_step(const std::string& keep_dir, const std::string& acctlab,
                              std::ostream& out);

std::string render_lab_text(const std::vector<LabResult>& results);
std::string render_lab_json(const std::vector<LabResult>& results);
std::string render_lab_junit(const std::vector<LabResult>& results);

} // namespace acctlab::lab
