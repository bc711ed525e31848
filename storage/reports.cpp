#include "storage/reports.hpp"

#include "radius/dictionary.hpp"
#include "radius/ios_debug.hpp"
#include "radius/packet_codec.hpp"
#include "radius/text_form.hpp"
#include "radius/value.hpp"
#include "storage/report_scan.hpp"

#include <algorithm>
#include <array>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <cmath>
#include <map>
#include <vector>

namespace acctlab::storage {

namespace json = boost::json;

std::int64_t get_int(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (!v) {
    return 0;
  }
  if (v->is_int64()) {
    return v->get_int64();
  }
  if (v->is_uint64()) {
    return static_cast<std::int64_t>(v->get_uint64());
  }
  if (v->is_double()) {
    return static_cast<std::int64_t>(v->get_double());
  }
  return 0;
}

double get_double(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (!v) {
    return 0;
  }
  if (v->is_double()) {
    return v->get_double();
  }
  if (v->is_int64()) {
    return static_cast<double>(v->get_int64());
  }
  if (v->is_uint64()) {
    return static_cast<double>(v->get_uint64());
  }
  return 0;
}

std::string get_str(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (!v || v->is_null()) {
    return {};
  }
  if (v->is_string()) {
    return std::string(v->get_string());
  }
  return json::serialize(*v);
}

bool is_set(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && !v->is_null();
}

std::string status_type_name(std::int64_t status_type) {
  static const radius::AttributeDef* def = radius::Dictionary::builtin().find("Acct-Status-Type");
  if (def && status_type >= 0) {
    if (const auto* name = def->value_name(static_cast<std::uint64_t>(status_type))) {
      return *name;
    }
  }
  return std::to_string(status_type);
}

namespace {

/** text with every octet that is not part of well-formed UTF-8 written as \xHH. */
std::string escape_non_utf8(std::string_view text) {
  const std::span<const std::uint8_t> octets(reinterpret_cast<const std::uint8_t*>(text.data()),
                                             text.size());
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    if (const auto n = radius::utf8_sequence_length(octets, i)) {
      out.append(text.substr(i, n));
      i += n;
    } else {
      out += "\\x" + radius::to_hex(octets.subspan(i++, 1));
    }
  }
  return out;
}

double now() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

/** Escapes LIKE wildcards so a search for "50%" finds that text (ESCAPE '\'). */
std::string like_pattern(std::string_view text) {
  std::string out = "%";
  for (char c : text) {
    if (c == '%' || c == '_' || c == '\\') {
      out.push_back('\\');
    }
    out.push_back(c);
  }
  out.push_back('%');
  return out;
}

json::object counts_by(ReadOnlyDatabase& db, std::string_view sql) {
  json::object out;
  auto q = db.prepare(sql);
  while (q.step()) {
    out[q.is_null(0) ? std::string("(none)") : q.text(0)] = q.int64(1);
  }
  return out;
}

void add_status_names(json::array& rows) {
  for (auto& r : rows) {
    auto& o = r.as_object();
    if (is_set(o, "status_type")) {
      o["status"] = status_type_name(get_int(o, "status_type"));
    } else {
      o["status"] = nullptr;
    }
  }
}

/** The SQL spellings that differ between the engines; everything else is written once. */
struct Dialect {
  Engine engine;

  bool sqlite() const { return engine == Engine::sqlite; }
  /** After ORDER BY in a subquery: SQLite's "no limit", which keeps it from flattening the
   * subquery into the outer query (and so keeps the order it was written for); PostgreSQL's
   * planner needs no such hint. */
  std::string_view unlimited() const { return sqlite() ? " LIMIT -1" : ""; }
  /** A join whose loops run in the order written: SQLite's CROSS JOIN. PostgreSQL's CROSS JOIN
   * takes no ON and its planner chooses the order itself. */
  std::string_view ordered_join() const { return sqlite() ? " CROSS JOIN " : " JOIN "; }
  /** A match that ignores ASCII case, as SQLite's LIKE does (PostgreSQL's LIKE does not). */
  std::string_view like() const { return sqlite() ? " LIKE " : " ILIKE "; }
  /** unix seconds as UTC text of the period: "2026-11-20 08:00", "2026-11-20", "2026-11". */
  std::string period_text(std::string_view seconds, std::string_view period) const {
    if (sqlite()) {
      const std::string_view format = period == "hour"    ? "%Y-%m-%d %H:00"
                                      : period == "month" ? "%Y-%m"
                                                          : "%Y-%m-%d";
      return "strftime('" + std::string(format) + "', " + std::string(seconds) + ", 'unixepoch')";
    }
    const std::string_view format = period == "hour"    ? "YYYY-MM-DD HH24:00"
                                    : period == "month" ? "YYYY-MM"
                                                        : "YYYY-MM-DD";
    return "to_char(to_timestamp(" + std::string(seconds) + ") AT TIME ZONE 'UTC', '" +
           std::string(format) + "')";
  }
  /** Where NULLs sort, as SQLite has them (first when ascending, last when descending) on
   * PostgreSQL, which has them the other way round. */
  std::string_view nulls(bool ascending) const {
    return sqlite() ? "" : ascending ? " NULLS FIRST" : " NULLS LAST";
  }
  /** Whether a column holds a value, asked without reading it: SQLite's typeof() looks at the
   * record header only; PostgreSQL's IS NOT NULL reads the null bitmap, never a TOASTed value. */
  std::string has_text(std::string_view column) const {
    return sqlite() ? "typeof(" + std::string(column) + ") IN ('text', 'blob')"
                    : std::string(column) + " IS NOT NULL";
  }
  /** The hour of unix seconds, floor(seconds / 3600), as an integer: SQLite's CAST truncates
   * (the same for the positive times stored), PostgreSQL's would round. */
  std::string hour_of(std::string_view seconds) const {
    return sqlite() ? "CAST(" + std::string(seconds) + " / 3600 AS INTEGER)"
                    : "CAST(floor(" + std::string(seconds) + " / 3600) AS bigint)";
  }
};

constexpr std::string_view session_columns =
    "s.id, s.nas_key, s.acct_session_id, s.state, s.flags, s.user_name, s.peer, s.framed_ip, "
    "s.start_time, s.stop_time, s.last_record_time, s.session_time, s.input_octets, "
    "s.output_octets, s.input_packets, s.output_packets, s.terminate_cause, s.record_count";

/** "column IN (?n, ...)" over values, appended to params; "0 = 1" (no row) when there are none. */
std::string in_list(std::string_view column, const std::vector<std::string>& values,
                    std::vector<Param>& params) {
  if (values.empty()) {
    return "0 = 1";
  }
  std::string out = std::string(column) + " IN (";
  for (std::size_t i = 0; i < values.size(); ++i) {
    params.emplace_back(values[i]);
    out += (i == 0 ? "?" : ", ?") + std::to_string(params.size());
  }
  return out + ")";
}

// A scope's clauses (NasScope): a packet by its source address, a session or NAS row by the
// NAS's identity, a finding by the packet or session it points at.
std::string packet_scope(const NasScope& scope, std::string_view alias,
                         std::vector<Param>& params) {
  return in_list(std::string(alias) + "src_addr", scope.addresses, params);
}
// A per-source tally's rows (migration 9: record_source_tally, record_source_total,
// packet_source_tally, capture_source_tally) by the address their packets came from.
std::string source_scope(const NasScope& scope, std::string_view alias,
                         std::vector<Param>& params) {
  return in_list(std::string(alias) + "src_addr", scope.addresses, params);
}
// finding_source_tally's rows (migration 9): by the source address of the packet a finding points
// at, or the NAS identity of its session.
std::string finding_source_scope(const NasScope& scope, std::vector<Param>& params) {
  const auto sources = in_list("src_addr", scope.addresses, params);
  return "(" + sources + " OR " + in_list("nas_key", scope.nas_keys, params) + ")";
}
std::string finding_scope(const NasScope& scope, std::string_view alias,
                          std::vector<Param>& params) {
  // Looked up by primary key for each finding: `packet_id IN (SELECT id FROM packets WHERE
  // ...)` would read every packet (src_addr has no index), once per outer row in a correlated
  // query (the runs page: 1.3 s at 200,000 packets, 40 ms this way).
  const std::string a(alias);
  const auto packets = in_list("(SELECT src_addr FROM packets WHERE id = " + a + "packet_id)",
                               scope.addresses, params);
  return "(" + packets + " OR " +
         in_list("(SELECT nas_key FROM sessions WHERE id = " + a + "session_id)", scope.nas_keys,
                 params) +
         ")";
}

} // namespace

// The counts come from the tallies the schema's triggers keep (storage/schema.cpp, migration 3):
// a few hundred rows instead of a walk of every record, packet and session.
json::object live_counters(ReadOnlyDatabase& db, bool count_records, const NasScope& scope) {
  json::object out;
  if (!scope.all) {
    // The tallies again per NAS: sessions by NAS identity, packets and records by the source
    // address they came from (migration 9); findings are counted from their rows.
    std::vector<Param> p;
    json::object sessions;
    std::int64_t total = 0;
    auto q = db.prepare("SELECT state, sum(sessions) FROM session_tally WHERE " +
                        in_list("nas_key", scope.nas_keys, p) + " GROUP BY state");
    q.bind_all(p);
    for (const char* state : {"open", "closed", "stale"}) {
      sessions[state] = 0;
    }
    while (q.step()) {
      sessions[q.text(0)] = q.int64(1);
      total += q.int64(1);
    }
    sessions["total"] = total;
    out["sessions"] = std::move(sessions);
    p.clear();
    const auto sources = source_scope(scope, "", p);
    auto records = db.rows("SELECT COALESCE(sum(records), 0) AS records, max(last_event) AS t "
                           "FROM record_source_total WHERE " +
                               sources,
                           p);
    auto& row = records.at(0).as_object();
    if (count_records) {
      out["records"] = get_int(row, "records");
    }
    out["packets"] =
        db.scalar("SELECT COALESCE(sum(packets), 0) FROM packet_source_tally WHERE " + sources, p);
    out["last_event_time"] = row["t"];
    p.clear();
    // Each clause is made before the call that binds its parameters: a call's arguments are
    // evaluated in no set order, and the parameters must be complete when bound.
    const auto findings = finding_source_scope(scope, p);
    out["findings"] = db.scalar(
        "SELECT COALESCE(sum(findings), 0) FROM finding_source_tally WHERE " + findings, p);
    return out;
  }
  auto states = counts_by(db, "SELECT state, sum(sessions) FROM session_tally GROUP BY state");
  json::object sessions;
  std::int64_t total = 0;
  for (const char* state : {"open", "closed", "stale"}) {
    const auto n = states.contains(state) ? states[state].as_int64() : 0;
    sessions[state] = n;
    total += n;
  }
  sessions["total"] = total;
  out["sessions"] = std::move(sessions);
  if (count_records) {
    out["records"] = db.scalar("SELECT sum(records) FROM record_tally");
  }
  out["packets"] = db.scalar("SELECT sum(packets) FROM packet_tally");
  out["findings"] = db.scalar("SELECT sum(findings) FROM finding_tally");
  auto last = db.row("SELECT max(last_event) AS t FROM record_tally WHERE hour = "
                     "(SELECT max(hour) FROM record_tally WHERE records > 0) AND records > 0");
  out["last_event_time"] = last ? (*last)["t"] : json::value(nullptr);
  return out;
}

json::object overview_report(ReadOnlyDatabase& db, const NasScope& scope) {
  json::object out;
  out["generated"] = now();
  out["live"] = live_counters(db, false, scope);
  // A scope reads the per-source tallies (migration 9).
  std::vector<Param> np;
  std::vector<Param> pp;
  std::vector<Param> fp;
  const auto nas_where =
      scope.all ? std::string() : " WHERE " + in_list("identity", scope.nas_keys, np);
  const auto sources = scope.all ? std::string() : source_scope(scope, "", pp);
  const auto findings = scope.all ? std::string() : finding_source_scope(scope, fp);
  out["nas"] = db.rows("SELECT identity, address, first_seen, last_seen, requests, accepted, "
                       "duplicates, bad_authenticator, bad_message_authenticator, malformed, "
                       "unknown_client FROM nas" +
                           nas_where + " ORDER BY identity LIMIT 200",
                       np);
  auto by_status =
      scope.all ? db.rows("SELECT NULLIF(status_type, -1) AS status_type, sum(records) AS count "
                          "FROM record_tally GROUP BY status_type HAVING sum(records) > 0 "
                          "ORDER BY status_type")
                : db.rows("SELECT NULLIF(status_type, -1) AS status_type, sum(records) AS count "
                          "FROM record_source_total WHERE " +
                              sources +
                              " GROUP BY status_type HAVING sum(records) > 0 ORDER BY status_type",
                          pp);
  add_status_names(by_status);
  std::int64_t records = 0;
  for (const auto& v : by_status) {
    records += get_int(v.as_object(), "count");
  }
  out["live"].as_object()["records"] = records;
  out["records_by_status"] = std::move(by_status);
  out["packets_by_verdict"] =
      scope.all
          ? db.rows("SELECT verdict, sum(packets) AS count FROM packet_tally GROUP BY verdict "
                    "HAVING sum(packets) > 0 ORDER BY verdict")
          : db.rows("SELECT verdict, sum(packets) AS count FROM packet_source_tally WHERE " +
                        sources + " GROUP BY verdict HAVING sum(packets) > 0 ORDER BY verdict",
                    pp);
  out["findings_by_severity"] =
      scope.all
          ? db.rows("SELECT severity, sum(findings) AS count FROM finding_tally GROUP BY severity "
                    "HAVING sum(findings) > 0 ORDER BY count DESC")
          : db.rows("SELECT severity, sum(findings) AS count FROM finding_source_tally WHERE " +
                        findings +
                        " GROUP BY severity HAVING sum(findings) > 0 ORDER BY count DESC",
                    fp);

  // Activity: records per hour over the 48 hours up to the newest record.
  constexpr double bucket = 3600;
  constexpr int buckets = 48;
  const auto last = get_double(out["live"].as_object(), "last_event_time");
  json::array points;
  if (is_set(out["live"].as_object(), "last_event_time")) {
    const double end = std::floor(last / bucket) * bucket;
    const double begin = end - bucket * (buckets - 1);
    std::vector<std::array<std::int64_t, 4>> counts(buckets, {0, 0, 0, 0});
    // record_tally.hour is floor(event_time / 3600), the same buckets as begin + 3600 * i.
    std::vector<Param> ap{static_cast<std::int64_t>(begin / bucket)};
    // A scope's: record_source_tally, the same hours per source address.
    auto q = db.prepare(
        "SELECT hour - ?1 AS b, sum(records), "
        "sum(CASE WHEN status_type = 1 THEN records ELSE 0 END), "
        "sum(CASE WHEN status_type = 3 THEN records ELSE 0 END), "
        "sum(CASE WHEN status_type = 2 THEN records ELSE 0 END) FROM " +
        (scope.all ? std::string("record_tally WHERE hour >= ?1")
                   : "record_source_tally WHERE hour >= ?1 AND " + source_scope(scope, "", ap)) +
        " GROUP BY hour");
    q.bind_all(ap);
    while (q.step()) {
      const auto b = q.int64(0);
      if (b >= 0 && b < buckets) {
        counts[static_cast<std::size_t>(b)] = {q.int64(1), q.int64(2), q.int64(3), q.int64(4)};
      }
    }
    for (int i = 0; i < buckets; ++i) {
      const auto& c = counts[static_cast<std::size_t>(i)];
      points.push_back(json::object{{"t", begin + bucket * i},
                                    {"records", c[0]},
                                    {"start", c[1]},
                                    {"interim", c[2]},
                                    {"stop", c[3]}});
    }
  }
  out["activity"] = json::object{{"bucket_seconds", bucket}, {"points", std::move(points)}};
  return out;
}

namespace {

// The sessions list reads two tables: sessions (s) and session_find (f: one narrow row per
// session with its start, user and search text, indexed; storage/schema.cpp, migration 3). A
// query joins f only when a filter or the order needs it, and counts from f alone when it can.
struct SessionFilter {
  std::string where;
  std::vector<Param> params;
  json::object echo;   // the filter as understood, for the JSON twin and the form
  bool uses_s = false; // some clause reads sessions
  bool uses_f = false; // some clause reads session_find
  // Only the scope and the state filter the sessions: session_tally counts them.
  std::string tally_where;
  std::vector<Param> tally_params;
  bool tally_counts = true;
  bool by_user = false; // f.user_name = ?: a few rows of session_find
};

SessionFilter session_filter(const ReportFilters& p, const Dialect& dialect,
                             const NasScope& scope) {
  SessionFilter f;
  std::vector<std::string> clauses;
  std::vector<std::string> tally_clauses;
  if (!scope.all) {
    clauses.push_back(in_list("s.nas_key", scope.nas_keys, f.params));
    tally_clauses.push_back(in_list("nas_key", scope.nas_keys, f.tally_params));
    f.uses_s = true;
  }
  auto add = [&](std::string clause, Param value) {
    f.tally_counts = false;
    f.params.push_back(std::move(value));
    const auto n = std::to_string(f.params.size());
    for (std::size_t pos; (pos = clause.find("?#")) != std::string::npos;) {
      clause.replace(pos, 2, "?" + n);
    }
    (clause.rfind("f.", 0) == 0 ? f.uses_f : f.uses_s) = true;
    clauses.push_back(std::move(clause));
  };
  if (p.has("nas")) {
    add("s.nas_key = ?#", p.get("nas"));
    f.echo["nas"] = p.get("nas");
  }
  if (p.has("user")) {
    f.by_user = true;
    add("f.user_name = ?#", p.get("user"));
    f.echo["user"] = p.get("user");
  }
  if (p.has("peer")) {
    add("s.peer = ?#", p.get("peer"));
    f.echo["peer"] = p.get("peer");
  }
  const auto state = p.get("state");
  if (state == "open" || state == "closed" || state == "stale") {
    const bool tally_counts = f.tally_counts;
    add("s.state = ?#", state);
    f.tally_counts = tally_counts;
    f.tally_params.emplace_back(state);
    tally_clauses.push_back("state = ?" + std::to_string(f.tally_params.size()));
    f.echo["state"] = state;
  }
  // A session is in [from, to] when its span overlaps the range: it started before `to` (an
  // index range of session_find.started) and its last record is after `from`.
  if (const auto from = parse_time(p.get("from"))) {
    add("COALESCE(s.stop_time, s.last_record_time) >= ?#", *from);
    f.echo["from"] = *from;
  }
  if (const auto to = parse_time(p.get("to"))) {
    add("f.started <= ?#", *to);
    f.echo["to"] = *to;
  }
  if (p.has("q")) {
    // A substring of session id, user, peer or framed IP: one scan of the narrow search text
    // (about 25 ms per 200,000 sessions), not of the sessions.
    add("f.text" + std::string(dialect.like()) + "?# ESCAPE '\\'", like_pattern(p.get("q")));
    f.echo["q"] = p.get("q");
  }
  for (std::size_t i = 0; i < clauses.size(); ++i) {
    f.where += (i == 0 ? " WHERE " : " AND ") + clauses[i];
  }
  for (std::size_t i = 0; i < tally_clauses.size(); ++i) {
    f.tally_where += (i == 0 ? " WHERE " : " AND ") + tally_clauses[i];
  }
  return f;
}

struct SortColumn {
  std::string_view key;
  std::string_view expression;
};
// "start" (the default: newest first, as radacct viewers list by acctstarttime) is indexed
// (session_find.started); the others sort what the filter selects.
constexpr std::array<SortColumn, 10> sort_columns{{
    {"start", "f.started"},
    {"last", "s.last_record_time"},
    {"stop", "s.stop_time"},
    {"user", "f.user_name"},
    {"nas", "s.nas_key"},
    {"state", "s.state"},
    {"time", "s.session_time"},
    {"in", "s.input_octets"},
    {"out", "s.output_octets"},
    {"id", "s.id"},
}};

} // namespace

json::object sessions_report(ReadOnlyDatabase& db, const ReportFilters& p, bool all_rows,
                             const NasScope& scope) {
  const Dialect dialect{db.engine()};
  auto f = session_filter(p, dialect, scope);
  std::string_view sort_key = "start";
  std::string_view sort_expr = "f.started";
  const auto wanted = p.get("sort");
  for (const auto& c : sort_columns) {
    if (c.key == wanted) {
      sort_key = c.key;
      sort_expr = c.expression;
    }
  }
  const bool ascending = p.get("order") == "asc";
  const auto per = all_rows ? max_csv_rows : p.get_int("per", 50, 1, 500);
  // The user filter reads session_find first: one scan of its narrow rows, then the few
  // sessions it selects (SQLite took an operator's NAS list first: every session of its NASes).
  const std::string user_first = " FROM session_find AS f" + std::string(dialect.ordered_join()) +
                                 "sessions AS s ON s.id = f.id";
  const std::string count_from = f.uses_s ? (f.uses_f ? (f.by_user ? user_first
                                                                   : " FROM sessions AS s JOIN "
                                                                     "session_find AS f ON f.id = "
                                                                     "s.id")
                                                      : " FROM sessions AS s")
                                          : " FROM session_find AS f";
  // A scope or a state alone is counted from session_tally (an operator's list counted every
  // session of its NASes: 50 ms at 200,000 sessions); no filter at all from session_find.
  const auto total =
      f.tally_counts && !f.tally_where.empty()
          ? db.scalar("SELECT COALESCE(sum(sessions), 0) FROM session_tally" + f.tally_where,
                      f.tally_params)
          : db.scalar("SELECT count(*)" + count_from + f.where, f.params);
  const auto pages = std::max<std::int64_t>(1, (total + per - 1) / per);
  const auto page_no = all_rows ? 1 : p.get_int("page", 1, 1, pages);

  const std::string dir = ascending ? " ASC" : " DESC";
  const std::string nulls(dialect.nulls(ascending));
  // Under the user filter, SQLite's unary + keeps the start order from walking the index (it
  // would read every search row in index order to find the few of the user): the few rows are
  // sorted instead.
  const std::string order_expr =
      f.by_user && sort_key == "start" && dialect.sqlite() ? "+f.started" : std::string(sort_expr);
  const std::string order = " ORDER BY " + order_expr + dir + nulls + ", s.id" + dir;
  const std::string limit =
      " LIMIT " + std::to_string(per) + " OFFSET " + std::to_string((page_no - 1) * per);
  const bool indexed = sort_key == "start" || sort_key == "id";
  // In start order, and under the user filter, the loops run as written, session_find first: the
  // walk of its index stops after the page. Left to itself, SQLite took an operator's NAS list to
  // sessions_key, joined every session of those NASes and sorted them (250 ms for 50 rows at
  // 200,000 sessions).
  const std::string from =
      f.uses_f || sort_expr.rfind("f.", 0) == 0
          ? (sort_key == "start" || f.by_user ? user_first
                                              : " FROM session_find AS f JOIN sessions AS s ON "
                                                "s.id = f.id")
          : " FROM sessions AS s";
  std::string sql = "SELECT " + std::string(session_columns);
  if (indexed) {
    // The order is an index's: SQLite walks it and stops after the page.
    sql += from + f.where + order + limit;
  } else {
    // Any other order is a sort of everything the filter selects. Sorted as (id, key) pairs
    // rather than whole rows, and fed in id order in the direction asked: sessions are stored
    // as they start, so the times then arrive nearly sorted and SQLite's top-N sort drops most
    // rows at once (20-30 ms on 200,000 sessions, where sorting whole rows in the other
    // direction took 100-250 ms).
    sql += from + " WHERE s.id IN (SELECT id FROM (SELECT s.id AS id, " + std::string(sort_expr) +
           " AS k" + from + f.where + " ORDER BY s.id" + dir + std::string(dialect.unlimited()) +
           ") AS picked ORDER BY k" + dir + nulls + ", id" + dir + limit + ")" + order;
  }
  json::object out;
  out["filter"] = std::move(f.echo);
  out["sort"] = sort_key;
  out["order"] = ascending ? "asc" : "desc";
  out["total"] = total;
  out["page"] = page_no;
  out["per_page"] = per;
  out["pages"] = pages;
  out["sessions"] = db.rows(sql, f.params);
  return out;
}

namespace {

/** The canonical text form (radius/text_form.hpp) split into {name, value} pairs. */
// Every attribute of a stored packet, rendered from its raw octets with the builtin dictionary
// (the database keeps the packet, not a second copy of it as text).
std::string attributes_text(std::string_view raw_hex) {
  auto bytes = radius::from_hex(raw_hex);
  if (!bytes) {
    return {};
  }
  const auto& dict = radius::Dictionary::builtin();
  auto decoded = radius::decode_packet(*bytes, dict);
  if (!decoded) {
    return "(not decodable: " + decoded.error().message() + ")";
  }
  return radius::render_packet(*decoded, dict);
}

json::array attribute_list(std::string_view text) {
  json::array out;
  std::size_t line_no = 0;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    auto line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++line_no;
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) {
      line.remove_prefix(1);
    }
    while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) {
      line.remove_suffix(1);
    }
    // The header "Accounting-Request id=4 ... {" and the closing brace are not attributes.
    if (line.empty() || line == "}" || (line_no == 1 && line.back() == '{')) {
      continue;
    }
    bool same_vsa = false;
    if (line.front() == '+') {
      same_vsa = true;
      line.remove_prefix(1);
    }
    const auto eq = line.find(" = ");
    if (eq == std::string_view::npos) {
      out.push_back(json::object{{"name", ""}, {"value", line}, {"same_vsa", same_vsa}});
    } else {
      out.push_back(json::object{
          {"name", line.substr(0, eq)}, {"value", line.substr(eq + 3)}, {"same_vsa", same_vsa}});
    }
  }
  return out;
}

} // namespace

namespace {

/** Per rule, from the reports of the newest judged runs: tester and check runs (conformance/
 * writes each run's JSON report, whose "rules" list says for every rule of the profile whether
 * it passed) and capture imports (the same list as /import/conformance/rule_results). Live or
 * captured, one verdict per rule. */
struct RuleSummary {
  json::object fields; // id, source, severity, scope, summary
  std::int64_t runs_passed = 0;
  std::int64_t runs_failed = 0;
};

std::map<std::string, RuleSummary> rule_catalog(ReadOnlyDatabase& db, int runs) {
  std::map<std::string, RuleSummary> catalog;
  // typeof() leaves the report unread (report IS NOT NULL would read it whole); the report is
  // then read from disk only up to its rules list, which a conformance report holds near its
  // start, before its findings (report_scan.hpp). A TEXT report of an older database reads
  // the same.
  auto q = db.prepare("SELECT id FROM runs WHERE kind IN ('conform', 'pcap') AND " +
                      Dialect{db.engine()}.has_text("report") + " ORDER BY id DESC LIMIT ?1");
  q.bind(1, std::int64_t{runs});
  std::vector<std::int64_t> ids;
  while (q.step()) {
    ids.push_back(q.int64(0));
  }
  for (const auto run_id : ids) {
    auto cell = db.open_cell("runs", "report", run_id);
    if (!cell) {
      continue;
    }
    json::value listed; // "rules", else /import/conformance/rule_results
    ReportScanOptions options;
    options.wanted = [](std::string_view key) { return key == "rules" || key == "import"; };
    options.member_limit = options.total_limit = 16 * 1024 * 1024;
    scan_report(
        *cell,
        [&](std::string_view key, json::value&& value) {
          if (key == "rules" && value.is_array()) {
            listed = std::move(value);
            return false; // it is what counts: the rest is not needed
          }
          if (key == "import" && listed.is_null()) {
            boost::system::error_code missing;
            if (const auto* found = value.find_pointer("/conformance/rule_results", missing);
                found && found->is_array()) {
              listed = *found;
            }
          }
          return true;
        },
        options);
    const auto* rules = &listed;
    if (!rules->is_array()) {
      continue; // a report from elsewhere, or damaged: not ours to judge
    }
    for (const auto& r : rules->get_array()) {
      if (!r.is_object()) {
        continue;
      }
      const auto& rule = r.get_object();
      const auto id = get_str(rule, "id");
      if (id.empty()) {
        continue;
      }
      auto& entry = catalog[id];
      if (entry.fields.empty()) {
        for (const char* key : {"id", "source", "severity", "scope", "summary"}) {
          if (const auto* v = rule.if_contains(key); v && v->is_string()) {
            entry.fields[key] = *v;
          }
        }
      }
      const auto* passed = rule.if_contains("passed");
      if (passed && passed->is_bool()) {
        (passed->get_bool() ? entry.runs_passed : entry.runs_failed) += 1;
      }
    }
  }
  return catalog;
}

} // namespace

std::optional<json::object> session_report(ReadOnlyDatabase& db, std::int64_t id,
                                           const NasScope& scope) {
  std::vector<Param> sp{id};
  const auto in_scope =
      scope.all ? std::string() : " AND " + in_list("nas_key", scope.nas_keys, sp);
  auto found = db.rows("SELECT * FROM sessions WHERE id = ?1" + in_scope, sp);
  auto session = found.empty() ? std::nullopt : std::optional<json::object>(found[0].as_object());
  if (!session) {
    return std::nullopt;
  }
  json::object out;
  out["session"] = std::move(*session);
  auto records = db.rows(
      "SELECT r.id, r.packet_id, r.status_type, r.acct_session_id, r.nas_identity, r.user_name, "
      "r.event_time, r.receive_time, r.delay, r.session_time, r.input_octets, r.output_octets, "
      "r.input_packets, r.output_packets, r.terminate_cause, r.framed_ip, "
      "p.verdict, p.src_addr, p.src_port, p.raw "
      "FROM records AS r LEFT JOIN packets AS p ON p.id = r.packet_id "
      "WHERE r.session_row = ?1 ORDER BY r.event_time, r.id LIMIT 2000",
      {id});
  add_status_names(records);
  double previous = NAN;
  for (auto& r : records) {
    auto& o = r.as_object();
    o["attribute_list"] = attribute_list(attributes_text(get_str(o, "raw")));
    // Which clock event_time is (storage: RFC 2869 §5.3 Event-Timestamp when the record has
    // one, else RFC 2866 §5.2 receive time less Acct-Delay-Time): the NAS's or the server's.
    bool stamped = false;
    for (const auto& a : o["attribute_list"].as_array()) {
      stamped = stamped || get_str(a.as_object(), "name") == "Event-Timestamp";
    }
    o["event_time_source"] = stamped ? "Event-Timestamp" : "receive time - Acct-Delay-Time";
    const double t = get_double(o, "event_time");
    o["since_previous"] = std::isnan(previous) ? json::value(nullptr) : json::value(t - previous);
    o["receive_lag"] = get_double(o, "receive_time") - t;
    previous = t;
  }
  out["records"] = std::move(records);
  out["findings"] = db.rows(
      "SELECT f.id, f.run_id, f.rule_id, f.severity, f.scope, f.message, f.packet_id, f.record_id, "
      "f.file, f.frame FROM findings AS f WHERE f.session_id = ?1 OR f.record_id IN "
      "(SELECT id FROM records WHERE session_row = ?1) OR f.packet_id IN "
      "(SELECT packet_id FROM records WHERE session_row = ?1) ORDER BY f.id LIMIT 1000",
      {id});
  const auto catalog = rule_catalog(db, 20);
  for (auto& v : out["findings"].as_array()) {
    auto& f = v.as_object();
    const auto it = catalog.find(get_str(f, "rule_id"));
    f["source"] = it != catalog.end() && it->second.fields.contains("source")
                      ? it->second.fields.at("source")
                      : json::value(nullptr);
    f["summary"] = it != catalog.end() && it->second.fields.contains("summary")
                       ? it->second.fields.at("summary")
                       : json::value(nullptr);
  }
  return out;
}

std::optional<json::object> packet_report(ReadOnlyDatabase& db, std::int64_t id,
                                          const NasScope& scope) {
  // The packet's own columns; a valid request's record columns (same row since schema
  // migration 6) are shown as its record below.
  std::vector<Param> pp{id};
  const auto in_scope = scope.all ? std::string() : " AND " + packet_scope(scope, "", pp);
  auto q = db.prepare("SELECT id, run_id, receive_time, src_addr, src_port, dst_addr, dst_port, "
                      "code, identifier, verdict, reason, file, frame, raw FROM packets "
                      "WHERE id = ?1" +
                      in_scope);
  q.bind_all(pp);
  if (!q.step()) {
    return std::nullopt;
  }
  json::object packet = q.row();
  json::object decoded;
  // The raw column is the evidence; decode it again with the builtin dictionary. A packet that
  // failed to decode when it arrived fails again here, and says where.
  {
    auto rq = db.prepare("SELECT raw FROM packets WHERE id = ?1");
    rq.bind(1, id);
    if (rq.step()) {
      const auto bytes = rq.blob(0);
      std::vector<std::uint8_t> copy(bytes.begin(), bytes.end());
      const auto& dict = radius::Dictionary::builtin();
      auto result = radius::decode_packet(copy, dict);
      if (result) {
        decoded["ok"] = true;
        decoded["text"] = radius::render_packet(*result, dict);
        json::array lines;
        for (auto& line : radius::ios_debug_lines(*result, dict)) {
          lines.emplace_back(std::move(line));
        }
        decoded["ios_debug"] = std::move(lines);
      } else {
        decoded["ok"] = false;
        decoded["error"] = result.error().message();
        decoded["offset"] = result.error().offset;
      }
    }
  }
  json::object out;
  out["packet"] = std::move(packet);
  out["decoded"] = std::move(decoded);
  auto records = db.rows("SELECT id, session_row, status_type, acct_session_id, event_time "
                         "FROM records WHERE packet_id = ?1",
                         {id});
  add_status_names(records);
  out["records"] = std::move(records);
  out["findings"] = db.rows("SELECT id, run_id, rule_id, severity, scope, message, session_id, "
                            "record_id FROM findings WHERE packet_id = ?1 ORDER BY id LIMIT 500",
                            {id});
  return out;
}

json::object conformance_report(ReadOnlyDatabase& db, const NasScope& scope) {
  const Dialect dialect{db.engine()};
  auto catalog = rule_catalog(db, 200);
  // From finding_tally (storage/schema.cpp, migration 4): packets and sessions are distinct
  // within each run and added up over the runs; a scope's from finding_source_tally (migration
  // 8), the same per NAS.
  std::vector<Param> fp;
  const auto in_scope = scope.all ? std::string() : " WHERE " + finding_source_scope(scope, fp);
  auto findings =
      db.rows("SELECT rule_id, max(severity) AS finding_severity, max(scope) AS finding_scope, "
              "sum(findings) AS findings, sum(packets) AS packets, sum(sessions) AS sessions, "
              "min(example) AS example FROM " +
                  std::string(scope.all ? "finding_tally" : "finding_source_tally") + in_scope +
                  " GROUP BY rule_id HAVING sum(findings) > 0",
              fp);
  std::map<std::string, json::object> rules;
  for (auto& [id, summary] : catalog) {
    auto& o = rules[id];
    o = summary.fields;
    o["rule_id"] = id;
    if (scope.all) {
      o["runs_passed"] = summary.runs_passed;
      o["runs_failed"] = summary.runs_failed;
    } else {
      o["runs_passed"] = nullptr;
      o["runs_failed"] = nullptr;
    }
    o["findings"] = 0;
    o["packets"] = 0;
    o["sessions"] = 0;
  }
  for (auto& v : findings) {
    auto& f = v.as_object();
    const auto id = get_str(f, "rule_id");
    auto& o = rules[id];
    if (!o.contains("rule_id")) {
      // A rule no stored report lists (findings from another tool or an older profile).
      o["rule_id"] = id;
      o["severity"] = f["finding_severity"];
      o["scope"] = f["finding_scope"];
      o["runs_passed"] = nullptr;
      o["runs_failed"] = nullptr;
    }
    for (const char* key : {"findings", "packets", "sessions", "example"}) {
      o[key] = f[key];
    }
  }
  json::array list;
  for (auto& [id, o] : rules) {
    list.push_back(std::move(o));
  }
  json::object out;
  if (!scope.all) {
    // The runs that judged something of the scope; their verdicts are not shown (above).
    std::vector<Param> rp;
    // The runs with packets of the scope, from their per-source tally (on PostgreSQL one
    // aggregate of the scope's packets; a look into each run's packets through packets_run was
    // planned there as a scan of every packet per run).
    const auto with_packets =
        "r.id IN (SELECT t.run_id FROM packet_source_tally AS t WHERE t.packets > 0 AND " +
        source_scope(scope, "t.", rp) + ")";
    // The runs with findings of the scope: on PostgreSQL finding_source_tally looks up every
    // finding's packet and session, where a run needs one finding of the scope (findings_run).
    const auto with_findings =
        dialect.sqlite()
            ? "r.id IN (SELECT run_id FROM finding_source_tally WHERE findings > 0 AND " +
                  finding_source_scope(scope, rp) + ")"
            : "EXISTS (SELECT 1 FROM findings AS f WHERE f.run_id = r.id AND " +
                  finding_scope(scope, "f.", rp) + ")";
    auto q = db.prepare("SELECT r.kind, count(*) FROM runs AS r WHERE r.kind IN ('conform', "
                        "'pcap') AND (" +
                        with_packets + " OR " + with_findings + ") GROUP BY r.kind");
    q.bind_all(rp);
    out["conform_runs"] = 0;
    out["pcap_runs"] = 0;
    while (q.step()) {
      out[q.text(0) + "_runs"] = q.int64(1);
    }
    out["rules"] = std::move(list);
    return out;
  }
  out["conform_runs"] = db.scalar("SELECT count(*) FROM runs WHERE kind = 'conform'");
  // json_extract raises an error on text that is not JSON, which would fail the whole page over
  // one damaged report: json_valid first, through CASE, which evaluates only the branch taken.
  // PostgreSQL's jsonb cast raises the same error: acctlab_json_or_null (storage/pg_schema.cpp,
  // the read model) returns NULL instead.
  out["pcap_runs"] = db.scalar(
      db.engine() == Engine::sqlite
          ? "SELECT count(*) FROM (SELECT CAST(report AS TEXT) AS report FROM runs "
            "WHERE kind = 'pcap') WHERE CASE WHEN json_valid(report) THEN json_extract(report, "
            "'$.import.conformance.rule_results') END IS NOT NULL"
          : "SELECT count(*) FROM runs WHERE kind = 'pcap' AND COALESCE(jsonb_typeof("
            "acctlab_json_or_null(report) #> '{import,conformance,rule_results}'), 'null') "
            "<> 'null'");
  out["rules"] = std::move(list);
  return out;
}

json::object rule_report(ReadOnlyDatabase& db, std::string_view rule_id, const ReportFilters& p,
                         const NasScope& scope) {
  const auto per = p.get_int("per", 100, 1, 500);
  const std::string rule(rule_id);
  // A scope's count from finding_source_tally (migration 9).
  std::vector<Param> cp{rule};
  const auto count_scope = scope.all ? std::string() : " AND " + finding_source_scope(scope, cp);
  const auto total =
      db.scalar("SELECT COALESCE(sum(findings), 0) FROM " +
                    std::string(scope.all ? "finding_tally" : "finding_source_tally") +
                    " WHERE rule_id = ?1" + count_scope,
                cp);
  const auto pages = std::max<std::int64_t>(1, (total + per - 1) / per);
  const auto page_no = p.get_int("page", 1, 1, pages);
  json::object out;
  out["rule_id"] = rule;
  const auto catalog = rule_catalog(db, 20);
  if (const auto it = catalog.find(rule); it != catalog.end()) {
    out["rule"] = it->second.fields;
  } else {
    out["rule"] = nullptr;
  }
  out["total"] = total;
  out["page"] = page_no;
  out["pages"] = pages;
  out["per_page"] = per;
  std::vector<Param> sp{rule, per, (page_no - 1) * per};
  const auto in_scope = scope.all ? std::string() : " AND " + finding_scope(scope, "f.", sp);
  out["findings"] =
      db.rows("SELECT f.id, f.run_id, f.severity, f.scope, f.message, f.packet_id, f.record_id, "
              "f.session_id, f.file, f.frame, p.receive_time, p.src_addr, p.verdict "
              "FROM findings AS f LEFT JOIN packets AS p ON p.id = f.packet_id "
              "WHERE f.rule_id = ?1" +
                  in_scope + " ORDER BY f.id LIMIT ?2 OFFSET ?3",
              sp);
  return out;
}

namespace {

/** The top `n` rows by `key` (descending), rows without a user left out. */
json::array top_rows(const json::array& rows, std::string_view key, std::size_t n) {
  std::vector<const json::object*> sorted;
  for (const auto& v : rows) {
    const auto& o = v.as_object();
    if (is_set(o, "key") && is_set(o, key)) {
      sorted.push_back(&o);
    }
  }
  const auto count = std::min(n, sorted.size());
  std::partial_sort(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(count),
                    sorted.end(), [&](const json::object* a, const json::object* b) {
                      return get_int(*a, key) > get_int(*b, key);
                    });
  json::array out;
  for (std::size_t i = 0; i < count; ++i) {
    out.push_back(json::object{{"user", sorted[i]->at("key")},
                               {"value", sorted[i]->at(key)},
                               {"sessions", sorted[i]->at("sessions")}});
  }
  return out;
}

} // namespace

json::object usage_report(ReadOnlyDatabase& db, const ReportFilters& p, const NasScope& scope) {
  json::object out;
  const auto period = p.get("period");
  const std::string period_key = period == "hour" || period == "month" ? period : "day";
  // A session belongs to the time it started (its first record's when no start time is known):
  // session_find.started, indexed (storage/schema.cpp, migration 3).
  constexpr std::string_view when = "f.started";

  auto from = parse_time(p.get("from"));
  auto to = parse_time(p.get("to"));
  json::object filter;
  if (!from && !to) {
    // No range asked for: the newest stretch of data (2 days of hours, 7 days, 12 months), so
    // the page stays fast on a large database.
    std::vector<Param> np;
    const auto in_scope = scope.all ? std::string() : in_list("s.nas_key", scope.nas_keys, np);
    auto found = scope.all ? db.rows("SELECT max(started) AS t FROM session_find")
                           : db.rows("SELECT max(f.started) AS t FROM session_find AS f JOIN "
                                     "sessions AS s ON s.id = f.id WHERE " +
                                         in_scope,
                                     np);
    auto newest = found.empty() ? std::nullopt : std::optional<json::object>(found[0].as_object());
    if (newest && is_set(*newest, "t")) {
      const double day = 86400;
      const double days = period_key == "hour" ? 2 : period_key == "month" ? 365 : 7;
      from = std::floor(get_double(*newest, "t") / day) * day - (days - 1) * day;
      filter["default_range"] = true;
    }
  }
  const Dialect dialect{db.engine()};
  std::string where = " WHERE 1 = 1";
  std::vector<Param> params;
  if (!scope.all) {
    where += " AND " + in_list("s.nas_key", scope.nas_keys, params);
  }
  // Only text values come this way (the time range is added below).
  auto add = [&](std::string_view column, std::string_view op, std::string value) {
    params.emplace_back(std::in_place_type<std::string>, std::move(value));
    where += " AND ";
    where += column;
    where += op;
    where += "?" + std::to_string(params.size());
  };
  if (from) {
    params.emplace_back(std::in_place_type<double>, *from);
    where += " AND f.started >= ?" + std::to_string(params.size());
    filter["from"] = *from;
  }
  if (to) {
    params.emplace_back(std::in_place_type<double>, *to);
    where += " AND f.started < ?" + std::to_string(params.size());
    filter["to"] = *to;
  }
  for (const char* key : {"nas", "user", "peer"}) {
    if (p.has(key)) {
      const std::string column = std::string(key) == "nas"    ? "s.nas_key"
                                 : std::string(key) == "user" ? "f.user_name"
                                                              : "s.peer";
      add(column, " = ", p.get(key));
      filter[key] = p.get(key);
    }
  }
  out["filter"] = std::move(filter);

  std::vector<Param> sp;
  const auto in_scope =
      scope.all ? std::string() : " AND " + in_list("nas_key", scope.nas_keys, sp);
  out["online_count"] =
      db.scalar("SELECT sum(sessions) FROM session_tally WHERE state = 'open'" + in_scope, sp);
  // Newest first by start (the session_find index): open sessions are the recent ones, so the
  // walk is short. CROSS JOIN keeps that order of the loops (SQLite would rather scan sessions
  // for state = 'open' and sort them all).
  out["online"] = db.rows("SELECT " + std::string(session_columns) + " FROM session_find AS f" +
                              std::string(dialect.ordered_join()) +
                              "sessions AS s ON s.id = f.id WHERE s.state = 'open'" + in_scope +
                              " ORDER BY f.started DESC, s.id DESC LIMIT 100",
                          sp);

  // One range scan of the sessions feeds the per-user table, the three top-ten lists, the
  // per-NAS or per-peer table and the series (aggregated here: one visit of each session row
  // instead of one per table). RFC 2866 §5.3/§5.4: Input counts octets received from the port
  // (the user's upload), Output octets sent to it (the user's download).
  const auto group = p.get("group");
  const std::string group_key = group == "nas" || group == "peer" ? group : "user";
  out["group"] = group_key;
  // Traffic and sessions per period, attributed to the period the session started in (as
  // daloRADIUS does from radacct).
  const std::size_t limit = period_key == "hour" ? 48 : period_key == "month" ? 24 : 62;
  out["period"] = period_key;

  struct Sums {
    std::int64_t sessions = 0;
    std::optional<std::int64_t> time, upload, download; // SQL sum(): NULL when nothing to add
    void add(const Query& q, int column) {
      ++sessions;
      for (int i = 0; i < 3; ++i) {
        if (!q.is_null(column + i)) {
          auto& sum = i == 0 ? time : i == 1 ? upload : download;
          sum = sum.value_or(0) + q.int64(column + i);
        }
      }
    }
  };
  using Key = std::optional<std::string>;
  std::map<Key, Sums> per_user;
  std::map<Key, Sums> per_group;
  std::map<std::string, Sums> series;
  {
    const std::string group_column = group_key == "nas" ? "s.nas_key" : "s.peer";
    auto q = db.prepare("SELECT s.user_name, " + group_column + ", " +
                        dialect.period_text(when, period_key) +
                        ", s.session_time, s.input_octets, s.output_octets "
                        "FROM session_find AS f JOIN sessions AS s ON s.id = f.id" +
                        where);
    q.bind_all(params);
    auto key = [&q](int column) { return q.is_null(column) ? Key{} : Key{q.text(column)}; };
    while (q.step()) {
      per_user[key(0)].add(q, 3);
      if (group_key != "user") {
        per_group[key(1)].add(q, 3);
      }
      series[q.is_null(2) ? std::string() : q.text(2)].add(q, 3);
    }
  }
  auto sums_row = [](const Key& key, const Sums& sums) {
    auto opt = [](const std::optional<std::int64_t>& v) {
      return v ? json::value(*v) : json::value(nullptr);
    };
    return json::object{{"key", key ? json::value(*key) : json::value(nullptr)},
                        {"sessions", sums.sessions},
                        {"time", opt(sums.time)},
                        {"upload", opt(sums.upload)},
                        {"download", opt(sums.download)}};
  };
  // Most sessions first (ties by key), at most 200 rows.
  auto table = [&sums_row](const std::map<Key, Sums>& groups) {
    std::vector<const std::pair<const Key, Sums>*> order;
    for (const auto& entry : groups) {
      order.push_back(&entry);
    }
    std::stable_sort(order.begin(), order.end(), [](const auto* a, const auto* b) {
      return a->second.sessions > b->second.sessions;
    });
    json::array rows;
    for (std::size_t i = 0; i < order.size() && i < 200; ++i) {
      rows.push_back(sums_row(order[i]->first, order[i]->second));
    }
    return rows;
  };
  json::array user_rows;
  for (const auto& [key, sums] : per_user) {
    user_rows.push_back(sums_row(key, sums));
  }
  out["top_users"] = json::object{{"time", top_rows(user_rows, "time", 10)},
                                  {"download", top_rows(user_rows, "download", 10)},
                                  {"upload", top_rows(user_rows, "upload", 10)}};
  out["by_group"] = table(group_key == "user" ? per_user : per_group);
  // The newest `limit` periods, oldest first.
  json::array points;
  auto it = series.begin();
  std::advance(it, series.size() > limit ? series.size() - limit : 0);
  for (; it != series.end(); ++it) {
    points.push_back(json::object{{"bucket", it->first},
                                  {"sessions", it->second.sessions},
                                  {"upload", it->second.upload.value_or(0)},
                                  {"download", it->second.download.value_or(0)}});
  }
  out["series"] = std::move(points);
  out["stale"] = db.rows(
      "SELECT " + std::string(session_columns) +
          ", (SELECT r.status_type FROM records AS r WHERE r.session_row = s.id "
          "ORDER BY r.event_time DESC, r.id DESC LIMIT 1) AS last_status_type "
          // The newest 100 picked first (as the sessions list sorts: see sessions_report), so
          // the last record is looked up for those only, not for every stale session.
          "FROM sessions AS s WHERE s.id IN (SELECT id FROM (SELECT id, last_record_time FROM "
          "sessions WHERE state = 'stale'" +
          in_scope + " ORDER BY id DESC" + std::string(dialect.unlimited()) +
          ") AS picked ORDER BY last_record_time DESC, id DESC LIMIT 100) "
          "ORDER BY s.last_record_time DESC, s.id DESC",
      sp);
  for (auto& r : out["stale"].as_array()) {
    auto& o = r.as_object();
    o["last_status"] = is_set(o, "last_status_type")
                           ? json::value(status_type_name(get_int(o, "last_status_type")))
                           : json::value(nullptr);
  }
  return out;
}

json::object runs_report(ReadOnlyDatabase& db, const NasScope& scope) {
  json::object out;
  if (!scope.all) {
    // The runs that stored a packet or a finding of the scope, counting only those, from the
    // per-source tallies (migration 9).
    std::vector<Param> rp;
    const auto sources = source_scope(scope, "", rp);
    const auto findings = finding_source_scope(scope, rp);
    out["runs"] = db.rows(
        "SELECT r.id, r.kind, r.started, r.finished, r.verdict, COALESCE(p.n, 0) AS packets, "
        "COALESCE(f.n, 0) AS findings FROM runs AS r LEFT JOIN (SELECT run_id, sum(packets) AS n "
        "FROM packet_source_tally WHERE " +
            sources +
            " GROUP BY run_id) AS p ON p.run_id = r.id LEFT JOIN (SELECT "
            "run_id, sum(findings) AS n FROM finding_source_tally WHERE " +
            findings +
            " GROUP BY run_id) AS f "
            "ON f.run_id = r.id WHERE p.n > 0 OR f.n > 0 ORDER BY r.id DESC LIMIT 500",
        rp);
    rp.clear();
    const auto file_sources = source_scope(scope, "", rp);
    out["pcap_files"] =
        db.rows("SELECT file, run_id, sum(packets) AS packets, min(first_frame) AS first_frame, "
                "max(last_frame) AS last_frame, sum(ok) AS ok FROM capture_source_tally WHERE " +
                    file_sources +
                    " GROUP BY file, run_id HAVING sum(packets) > 0 ORDER BY run_id DESC, file "
                    "LIMIT 500",
                rp);
    return out;
  }
  out["runs"] = db.rows("SELECT r.id, r.kind, r.started, r.finished, r.verdict, "
                        "(SELECT COALESCE(sum(t.packets), 0) FROM packet_tally AS t "
                        "WHERE t.run_id = r.id) AS packets, "
                        "(SELECT COALESCE(sum(t.findings), 0) FROM finding_tally AS t "
                        "WHERE t.run_id = r.id) AS findings "
                        "FROM runs AS r ORDER BY r.id DESC LIMIT 500");
  out["pcap_files"] = db.rows("SELECT file, run_id, packets, first_frame, last_frame, ok "
                              "FROM capture_tally WHERE packets > 0 "
                              "ORDER BY run_id DESC, file LIMIT 500");
  return out;
}

std::optional<json::object> run_report(ReadOnlyDatabase& db, std::int64_t id,
                                       const NasScope& scope) {
  auto run = db.row("SELECT id, kind, started, finished, verdict FROM runs WHERE id = ?1", {id});
  if (!run) {
    return std::nullopt;
  }
  if (!scope.all) {
    // Only the run's packets and findings of the scope; its stored report covers every NAS it
    // saw (their counters, sessions and findings), so it is not shown.
    std::vector<Param> pp{id};
    const auto sources = source_scope(scope, "", pp);
    std::vector<Param> fp{id};
    const auto findings = finding_source_scope(scope, fp);
    json::object out;
    out["packets_by_verdict"] =
        db.rows("SELECT verdict, sum(packets) AS count FROM packet_source_tally WHERE run_id = ?1 "
                "AND " +
                    sources + " GROUP BY verdict HAVING sum(packets) > 0 ORDER BY verdict",
                pp);
    out["findings_by_rule"] =
        db.rows("SELECT rule_id, severity, sum(findings) AS count FROM finding_source_tally "
                "WHERE run_id = ?1 AND " +
                    findings +
                    " GROUP BY rule_id, severity HAVING sum(findings) > 0 ORDER BY count DESC, "
                    "rule_id",
                fp);
    if (out["packets_by_verdict"].as_array().empty() &&
        out["findings_by_rule"].as_array().empty()) {
      return std::nullopt; // nothing of the scope: as if there were no such run
    }
    (*run)["report"] = nullptr;
    (*run)["report_withheld"] = true;
    out["run"] = std::move(*run);
    return out;
  }
  // The report column holds JSON, as TEXT or (conformance reports) a BLOB of its bytes; serve it
  // as JSON when it parses, as text otherwise. One larger than whole_report_limit (check --db on
  // a large database: hundreds of megabytes) is served as its members that fit, the others named
  // in report_omitted, so the page never holds it whole.
  (*run)["report"] = nullptr;
  if (auto cell = db.open_cell("runs", "report", id)) {
    (*run)["report_bytes"] = cell->size();
    if (cell->size() <= whole_report_limit) {
      std::string text(static_cast<std::size_t>(cell->size()), '\0');
      text.resize(cell->read(text, 0));
      boost::system::error_code ec;
      auto parsed = json::parse(text, ec);
      if (!ec) {
        (*run)["report"] = std::move(parsed);
      } else {
        // Not JSON (a damaged cell, or text some tool put there): shown as text, with why it is
        // not JSON; octets that are not UTF-8 escaped, so the reply stays valid JSON.
        (*run)["report_error"] = "not JSON: " + ec.message();
        (*run)["report"] = escape_non_utf8(text);
      }
    } else {
      json::object members;
      const auto scan = scan_report(*cell, [&](std::string_view key, json::value&& value) {
        members[key] = std::move(value);
        return true;
      });
      if (scan.status == ReportScan::Status::complete) {
        json::array omitted;
        for (const auto& key : scan.omitted) {
          omitted.emplace_back(key);
        }
        (*run)["report"] = std::move(members);
        (*run)["report_omitted"] = std::move(omitted);
        if (scan.omitted_unnamed > 0) {
          (*run)["report_omitted_unnamed"] = scan.omitted_unnamed;
        }
      } else {
        (*run)["report"] =
            "(not a JSON object: " + scan.reason + "; " + std::to_string(cell->size()) + " bytes)";
      }
    }
  }
  json::object out;
  out["run"] = std::move(*run);
  out["packets_by_verdict"] = db.rows(
      "SELECT verdict, packets AS count FROM packet_tally WHERE run_id = ?1 AND packets > 0 "
      "ORDER BY verdict",
      {id});
  out["findings_by_rule"] =
      db.rows("SELECT rule_id, severity, sum(findings) AS count FROM finding_tally "
              "WHERE run_id = ?1 GROUP BY rule_id, severity HAVING sum(findings) > 0 "
              "ORDER BY count DESC",
              {id});
  return out;
}

json::object nas_report(ReadOnlyDatabase& db, const NasScope& scope) {
  json::object out;
  std::vector<Param> np;
  const auto in_scope =
      scope.all ? std::string() : " WHERE " + in_list("n.identity", scope.nas_keys, np);
  out["nas"] = db.rows(
      "SELECT n.*, (SELECT COALESCE(sum(t.sessions), 0) FROM session_tally AS t WHERE t.nas_key = "
      "n.identity) AS sessions, (SELECT COALESCE(sum(t.sessions), 0) FROM session_tally AS t "
      "WHERE t.nas_key = n.identity AND t.state = 'open') AS open_sessions "
      "FROM nas AS n" +
          in_scope + " ORDER BY n.identity LIMIT 1000",
      np);
  return out;
}

json::array nas_addresses(ReadOnlyDatabase& db) {
  return db.rows("SELECT identity, address FROM nas ORDER BY identity");
}

} // namespace acctlab::storage
