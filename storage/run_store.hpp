#pragma once
// Runs (a capture import, a conformance run, a server's lifetime) and what one run stored, asked
// in plain terms by pcap/ and cli/: open and close a run, end the sessions a capture left open,
// count what a run stored, and gather several databases into one (the demo's viewer).

#include "radius/session_matcher.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace acctlab::storage {

/** Creates or migrates the database at path and opens a run of this kind ('pcap', 'conform',
 * 'serve') started at `started` (unix seconds); returns its id. Throws Error. */
std::int64_t open_run(const std::string& path, std::string_view kind, double started);

/** Sets the run's finish time, verdict and JSON report. Throws Error. */
void close_run(const std::string& path, std::int64_t run_id, double finished,
               const std::string& verdict, const std::string& report_json);

/** A session the database refused to mark stale (storage/commit_failure.hpp). */
struct RefusedMark {
  std::string nas_key;
  std::string acct_session_id;
  std::string message; // the database's (first line)
};

/** Judges the sessions of the run still open at end_time with the matcher's staleness rule and
 * stores the stale ones; returns how many. A mark the database refuses leaves that session open,
 * is added to refused (when given), and the others are stored. Throws Error otherwise. */
std::size_t expire_run_sessions(const std::string& path, std::int64_t run_id,
                                const radius::MatcherOptions& matcher, double end_time,
                                std::vector<RefusedMark>* refused = nullptr);

/** What a run's JSON report says it was judged with. */
struct RunProfiles {
  std::string kind; // the run's: 'conform', 'pcap', 'serve'
  /** The profile judging every NAS: a conformance run's (and `check --db`'s) "profile", a
   * capture import's "import.conformance.profile"; none when the report names none. */
  std::optional<std::string> profile;
  /** Each NAS's profile, where the report lists them ("profiles": [{"nas", "profile"}], an
   * import's under "import.conformance"): NAS address and profile name. */
  std::vector<std::pair<std::string, std::string>> nas_profiles;
};

/** The profiles the run was judged with, as its report says; nullopt when the database has no
 * run run_id. A report that is no JSON names none. Throws Error. */
std::optional<RunProfiles> read_run_profiles(const std::string& path, std::int64_t run_id);

struct RunCounts {
  std::map<std::string, std::uint64_t> packets_by_verdict;
  std::uint64_t packets = 0;
  std::uint64_t records = 0;
  struct Sessions {
    std::string nas_key;
    std::string state; // open, closed, stale
    std::uint64_t count = 0;
  };
  std::vector<Sessions> sessions; // by NAS and state
};

/** What the run stored: packets by verdict, records, and its sessions by NAS and state. */
RunCounts count_run(const std::string& path, std::int64_t run_id);

/** A database to gather, and the label put before each of its sessions' unique ids. */
struct LabelledDatabase {
  std::string label;
  std::string path;
};

/**
 * Gathers the databases into a new one at target, so the viewer shows every run side by side:
 * each database's rows are copied with their ids shifted past those already there (references
 * move with them), NAS counters add up, and a session's unique id gets its source's label in
 * front. Missing sources are skipped. Returns the number copied; throws Error.
 */
std::size_t combine_databases(const std::string& target,
                              const std::vector<LabelledDatabase>& sources);

/** How many sessions and records the database holds. */
struct RowCounts {
  std::int64_t sessions = 0;
  std::int64_t records = 0;
};
RowCounts count_rows(const std::string& path);

/** The first session whose unique id starts with unique_id_prefix and whose Acct-Session-Id is
 * acct_session_id (any when empty), if any. */
std::optional<std::int64_t> find_session(const std::string& path,
                                         const std::string& unique_id_prefix,
                                         const std::string& acct_session_id = {});

} // namespace acctlab::storage
