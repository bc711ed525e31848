#pragma once
// The report queries behind every page. Each returns the page's data as a JSON object: the
// /api/ twin serves it as is and the HTML page renders from it, so the two never disagree.
// Filters arrive as ReportFilters (the viewer fills them from the URL); every value reaches SQL as
// a bound parameter and sort columns are chosen from a fixed list, never spliced from the request.

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

boost::json::object overview_report(ReadOnlyDatabase& db);
/** The small set of counters /events pushes (a cheap subset of the overview). */
boost::json::object live_counters(ReadOnlyDatabase& db, bool count_records = true);

/** The most rows a CSV export holds: it is built in memory (about 1.5 KB per row as JSON). */
inline constexpr std::int64_t max_csv_rows = 100000;

/** Sessions matching the filters: a page, or with all_rows up to max_csv_rows (CSV export). */
boost::json::object sessions_report(ReadOnlyDatabase& db, const ReportFilters& params,
                                    bool all_rows = false);
/** nullopt when there is no such session. */
std::optional<boost::json::object> session_report(ReadOnlyDatabase& db, std::int64_t id);
std::optional<boost::json::object> packet_report(ReadOnlyDatabase& db, std::int64_t id);

boost::json::object conformance_report(ReadOnlyDatabase& db);
boost::json::object rule_report(ReadOnlyDatabase& db, std::string_view rule_id,
                                const ReportFilters& params);

boost::json::object usage_report(ReadOnlyDatabase& db, const ReportFilters& params);
boost::json::object runs_report(ReadOnlyDatabase& db);
/** A run report up to this size is served whole (run.report); a larger one as its top-level
 * members of up to 256 KiB each (run.report), the others named in run.report_omitted (and
 * counted in run.report_omitted_unnamed past 64 KiB of names). The size is run.report_bytes. */
inline constexpr std::int64_t whole_report_limit = 4 * 1024 * 1024;
std::optional<boost::json::object> run_report(ReadOnlyDatabase& db, std::int64_t id);
boost::json::object nas_report(ReadOnlyDatabase& db);

// Reading values back out of the report objects (absent or null -> 0 / "").
std::int64_t get_int(const boost::json::object& o, std::string_view key);
double get_double(const boost::json::object& o, std::string_view key);
std::string get_str(const boost::json::object& o, std::string_view key);
bool is_set(const boost::json::object& o, std::string_view key);

} // namespace acctlab::storage
