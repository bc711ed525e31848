#pragma once
// The report queries behind every page. Each returns the page's data as a JSON object: the
// /api/ twin serves it as is and the HTML page renders from it, so the two never disagree.
// Filters arrive as ReportFilters (the viewer fills them from the URL); every value reaches SQL as
// a bound parameter and sort columns are chosen from a fixed list, never spliced from the request.
// Each takes a NasScope (storage/report_filters.hpp): an operator's reports read only the rows of
// the NASes of its groups, in SQL, so nothing of another NAS is read into a page or a count.

#include "storage/read_db.hpp"
#include "storage/report_filters.hpp"

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace acctlab::storage {

/** Acct-Status-Type name from the builtin dictionary ("Start", "Interim-Update"), or the number. */
std::string status_type_name(std::int64_t status_type);

boost::json::object overview_report(ReadOnlyDatabase& db, const NasScope& scope = {});
/** The small set of counters /events pushes (a cheap subset of the overview). */
boost::json::object live_counters(ReadOnlyDatabase& db, bool count_records = true,
                                  const NasScope& scope = {});

/** The most rows a CSV export holds: it is built in memory (about 1.5 KB per row as JSON). */
inline constexpr std::int64_t max_csv_rows = 100000;

/** Sessions matching the filters: a page, or with all_rows up to max_csv_rows (CSV export). */
boost::json::object sessions_report(ReadOnlyDatabase& db, const ReportFilters& params,
                                    bool all_rows = false, const NasScope& scope = {});
/** nullopt when there is no such session, or it belongs to a NAS outside the scope. */
std::optional<boost::json::object> session_report(ReadOnlyDatabase& db, std::int64_t id,
                                                  const NasScope& scope = {});
/** nullopt when there is no such packet, or it came from an address outside the scope. */
std::optional<boost::json::object> packet_report(ReadOnlyDatabase& db, std::int64_t id,
                                                 const NasScope& scope = {});

/** Scoped, the per-rule run verdicts (runs_passed, runs_failed) are null: a run's verdict
 * judges every NAS it saw. */
boost::json::object conformance_report(ReadOnlyDatabase& db, const NasScope& scope = {});
boost::json::object rule_report(ReadOnlyDatabase& db, std::string_view rule_id,
                                const ReportFilters& params, const NasScope& scope = {});

boost::json::object usage_report(ReadOnlyDatabase& db, const ReportFilters& params,
                                 const NasScope& scope = {});
/** Scoped: the runs that stored a packet or a finding of the scope, with those counted. */
boost::json::object runs_report(ReadOnlyDatabase& db, const NasScope& scope = {});
/** A run report up to this size is served whole (run.report); a larger one as its top-level
 * members of up to 256 KiB each (run.report), the others named in run.report_omitted (and
 * counted in run.report_omitted_unnamed past 64 KiB of names). The size is run.report_bytes. */
inline constexpr std::int64_t whole_report_limit = 4 * 1024 * 1024;
/** Scoped: nullopt for a run with nothing of the scope; otherwise its counts over the scope and
 * no stored report (run.report null, run.report_withheld true): a report covers every NAS. */
std::optional<boost::json::object> run_report(ReadOnlyDatabase& db, std::int64_t id,
                                              const NasScope& scope = {});
boost::json::object nas_report(ReadOnlyDatabase& db, const NasScope& scope = {});
/** Every NAS of the nas table: {identity, address (the latest source address)}. */
boost::json::array nas_addresses(ReadOnlyDatabase& db);

// Reading values back out of the report objects (absent or null -> 0 / "").
std::int64_t get_int(const boost::json::object& o, std::string_view key);
double get_double(const boost::json::object& o, std::string_view key);
std::string get_str(const boost::json::object& o, std::string_view key);
bool is_set(const boost::json::object& o, std::string_view key);

} // namespace acctlab::storage
