#pragma once
// Judging a stored run in parts (a capture import's judge): the same verdict as check_trace over
// the whole run, with memory that does not grow with the run. A part holds whole sessions (and
// the exchanges, answers and retransmissions of their records); the rules that look across
// sessions (RFC5080-CHANGED-SAME-ID, SES-REKEY-NEW-SESSION, SES-ACCT-ON-OPEN, SES-AFTER-ACCT-ON)
// work from compact summaries. Findings are staged on disk (SQLite temporary tables) and stored
// in the order check_trace gives them. docs/conformance.md has the design.

#include "conformance/profile.hpp"
#include "pcap/import_summary.hpp"
#include "radius/dictionary.hpp"
#include "radius/result.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace acctlab::conformance {

struct RunJudgeStats {
  std::size_t packets = 0;
  std::size_t parts = 0;
  std::size_t largest_part = 0; // packets
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

} // namespace acctlab::conformance
