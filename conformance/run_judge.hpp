#pragma once
// Judging a stored run in parts (a capture import's judge, and `check --db`'s through
// judge_database): the same verdict as check_trace over
// the whole run, with memory that does not grow with the run. A part holds whole sessions (and
// the exchanges, answers and retransmissions of their records); the rules that look across
// sessions (RFC5080-CHANGED-SAME-ID, SES-REKEY-NEW-SESSION, SES-ACCT-ON-OPEN, SES-AFTER-ACCT-ON)
// work from compact summaries. Findings are staged on disk (SQLite temporary tables) and stored
// in the order check_trace gives them. docs/conformance.md has the design.

#include "conformance/profile.hpp"
#include "conformance/profile_set.hpp"
#include "conformance/report.hpp"
#include "pcap/import_summary.hpp"
#include "radius/dictionary.hpp"
#include "radius/result.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace acctlab::conformance {

struct RunJudgeStats {
  std::size_t packets = 0;
  std::size_t parts = 0;
  std::size_t largest_part = 0; // packets
  /** NASes the profile may not describe, by address, with why (ProfileFit). */
  std::map<std::string, std::string, std::less<>> fit_notes = {};
};

struct RunJudgeOptions {
  /** About how many packets a part holds (a part is whole sessions, so one long session makes
   * its part larger). 0: the whole run in memory at once (check_trace, as before parts). */
  std::size_t part_packets = 8192;
  RunJudgeStats* stats = nullptr; // filled when given
};

/** The secret shared with the client at an address (no port), if known. */
using SecretLookup = std::function<std::optional<std::string>(const std::string& host)>;

/**
 * Judges the packets stored under run_id as check_trace judges them (answers recorded, the
 * secrets the lookup gives, the interim interval when given), stores the findings under that
 * run linked to their packet, record and session rows with the file and frame of the packet each
 * is about, and returns the summary. options.part_packets must be > 0.
 */
Expected<capture::ConformanceSummary, std::string>
judge_stored_run(const std::string& database, std::int64_t run_id, const Profile& profile,
                 const radius::Dictionary& dict, const SecretLookup& secrets,
                 std::optional<double> interim_interval, const RunJudgeOptions& options);

/** The profiles a stored run was judged with, loaded, and their names as a line says them
 * ("rfc2866", or per NAS: "127.0.0.1 strongswan, 100.1.1.147 cisco-ios-ipsec"). */
struct RunProfileSet {
  ProfileSet profiles;
  std::string names;
};

/** The profiles run_id's report says it was judged with (a conformance run, `check --db`, a
 * capture import), loaded by name; nullopt when the report names none (a server's run). Errors
 * (no such run, a profile that does not load here) are one line. */
Expected<std::optional<RunProfileSet>, std::string>
stored_run_profiles(const std::string& database, std::int64_t run_id,
                    const radius::Dictionary& dict);

/** What `acctlab check --db` judges: a server database (requests only) or a capture import's
 * (answers too), all of it or one run. */
struct DbJudgeOptions {
  std::optional<std::int64_t> run_id;     // only the packets of this run
  std::optional<std::string> secret;      // shared secret for every client, when known
  SecretLookup secrets;                   // each client's secret (a clients file), when given
  std::optional<double> interim_interval; // the NAS's update interval, when known
  /** Open the database to write (store_findings) too; otherwise read-only, and nothing is ever
   * written to it (the staging tables live in SQLite's temporary files). */
  bool writable = false;
  RunJudgeOptions parts;
};

/**
 * check_trace's verdict over a database, judged in parts (as judge_stored_run) with its findings
 * and sessions staged on disk: a VerdictSource the reports read in order, and the findings stored
 * as store_findings stores them. Memory does not grow with the findings or the trace. Holds the
 * database open until destroyed.
 */
class StagedVerdict final : public VerdictSource {
public:
  struct State;
  explicit StagedVerdict(std::unique_ptr<State> state);
  ~StagedVerdict() override;
  StagedVerdict(const StagedVerdict&) = delete;
  StagedVerdict& operator=(const StagedVerdict&) = delete;

  const VerdictSummary& summary() const override;
  void findings(const std::string* rule, const FindingVisit& visit) const override;
  std::size_t count_of(const std::string& rule) const override;
  void sessions(const SessionVisit& visit, bool with_findings = true) const override;
  bool has_errors() const { return summary().errors > 0; }
  const RunJudgeStats& stats() const;

  /**
   * As store_findings: a conformance run (runs.kind 'conform', verdict, the JSON report read
   * from the file json_report_path a piece at a time into a BLOB, so memory does not grow with
   * it) and one findings row per finding, in order, linked to packet, record and session. Needs
   * options.writable. Returns the run id.
   */
  Expected<std::int64_t, std::string> store(const std::string& json_report_path);

private:
  std::unique_ptr<State> state_;
};

/** Judges the database as check_trace judges load_trace_from_db's trace (with the secret and
 * interim interval given), in parts. Errors are one line. */
Expected<std::unique_ptr<StagedVerdict>, std::string> judge_database(const std::string& database,
                                                                     const Profile& profile,
                                                                     const radius::Dictionary& dict,
                                                                     const DbJudgeOptions& options);

} // namespace acctlab::conformance
