#pragma once
// What a capture import stored and what the conformance rules said about it: the part of the
// analysis report that exists only when the traffic went into a database as a run.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace acctlab::capture {

/** What the conformance rules said about an imported run (filled by conformance/). */
struct ConformanceSummary {
  struct RuleCount {
    std::string rule_id;
    std::string severity; // the worst severity it was reported with
    std::size_t count = 0;
  };
  /** Every rule of the profile and whether the run passed it, as `acctlab conform` reports it. */
  struct RuleResult {
    std::string id;
    std::string source;
    std::string severity;
    std::string scope;
    std::string summary;
    bool passed = true;
  };
  struct Example {
    std::string rule_id;
    std::string severity;
    std::string message;
    std::string file;
    std::uint64_t frame = 0; // 0 when the finding has none
  };
  std::string profile;
  /** Each NAS's profile (address, name) when a clients file gave some NAS another one. */
  std::vector<std::pair<std::string, std::string>> nas_profiles;
  std::string verdict; // "pass" (no error finding) or "fail"
  std::size_t rules = 0;
  std::size_t rules_failed = 0;
  std::size_t errors = 0;
  std::size_t warnings = 0;
  std::size_t infos = 0;
  std::size_t findings_stored = 0;
  std::size_t findings_with_frame = 0;
  std::vector<RuleCount> by_rule;  // worst first, then by count
  std::vector<Example> examples;   // the first findings, worst first
  std::vector<RuleResult> results; // one per rule judged
  /** "NAS ADDRESS: why" for each NAS its profile may not describe (conformance/profile_fit). */
  std::vector<std::string> fit_notes = {};
};

struct SessionCounts {
  std::uint64_t opened = 0; // sessions the run's records created
  std::uint64_t open = 0;   // still open when the capture ended
  std::uint64_t closed = 0;
  std::uint64_t stale = 0; // no record for longer than the stale factor × interval
};

/** A packet the database refused to store (storage/commit_failure.hpp): never stored, so the run
 * was judged without it. */
struct RefusedPacket {
  std::string file;
  std::uint64_t frame = 0;
  std::string nas;    // the NAS key its record would have been matched under (or its source)
  std::string source; // "ADDR:PORT"
  std::string acct_session_id;
  std::optional<std::uint32_t> status_type;
  std::string message;  // the database's own (first line)
  std::string sqlstate; // PostgreSQL's code; empty on SQLite
};

/** A session whose stale mark the database refused: it stays open in the database. */
struct RefusedStaleMark {
  std::string nas;
  std::string acct_session_id;
  std::string message; // the database's (first line)
};

struct ImportSummary {
  std::string database;
  std::int64_t run_id = 0;
  std::string run_verdict;
  std::uint64_t packets = 0;
  std::map<std::string, std::uint64_t> packets_by_verdict; // storage verdict names
  std::uint64_t records = 0;
  SessionCounts sessions;
  std::map<std::string, SessionCounts> sessions_by_nas; // by the session's NAS key
  /** Packets the database refused: counted, and the first ones named. Any makes the run
   * "incomplete": a record that could not be stored is not a clean capture. */
  std::uint64_t refused = 0;
  std::vector<RefusedPacket> refused_packets;
  /** Sessions the database refused to mark stale (while importing or at the end), each once. */
  std::vector<RefusedStaleMark> stale_refused;
  double seconds = 0; // wall time of the import, judging included
  std::optional<ConformanceSummary> conformance;
};

} // namespace acctlab::capture
