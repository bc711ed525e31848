#include "web/reports.hpp"

#include "radius/dictionary.hpp"
#include "radius/ios_debug.hpp"
#include "radius/packet_codec.hpp"
#include "radius/text_form.hpp"
#include "radius/value.hpp"

#include <algorithm>
#include <array>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <cmath>
#include <map>
#include <vector>

namespace acctlab::web {

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

constexpr std::string_view session_columns =
    "s.id, s.nas_key, s.acct_session_id, s.state, s.flags, s.user_name, s.peer, s.framed_ip, "
    "s.start_time, s.stop_time, s.last_record_time, s.session_time, s.input_octets, "
    "s.output_octets, s.input_packets, s.output_packets, s.terminate_cause, s.record_count";

} // namespace

json::object live_counters(ReadOnlyDatabase& db, bool count_records) {
  json::object out;
  auto states = counts_by(db, "SELECT state, count(*) FROM sessions GROUP BY state");
  json::object sessions;
  std::int64_t total = 0;
  for (const char* state : {"open", "closed", "stale"}) {
    const auto n = states.contains(state) ? states[state].as_int64() : 0;
    sessions[state] = n;
    total += n;
  }
  sessions["total"] = total;
  out["sessions"] = std::move(sessions);
  // Exact counts: a walk of the smallest index, about 15 ms per million rows.
  if (count_records) {
    out["records"] = db.scalar("SELECT count(*) FROM records");
  }
  out["packets"] = db.scalar("SELECT count(*) FROM packets");
  out["findings"] = db.scalar("SELECT count(*) FROM findings");
  auto last = db.row("SELECT max(event_time) AS t FROM records");
  out["last_event_time"] = last ? (*last)["t"] : json::value(nullptr);
  return out;
}

json::object overview_report(ReadOnlyDatabase& db) {
  json::object out;
  out["generated"] = now();
  out["live"] = live_counters(db, false);
  out["nas"] = db.rows("SELECT identity, address, first_seen, last_seen, requests, accepted, "
                       "duplicates, bad_authenticator, bad_message_authenticator, malformed, "
                       "unknown_client FROM nas ORDER BY identity LIMIT 200");
  auto by_status = db.rows("SELECT status_type, count(*) AS count FROM records "
                           "GROUP BY status_type ORDER BY status_type");
  add_status_names(by_status);
  // The records total is the sum of the per-status counts: one walk of the records instead of two.
  std::int64_t records = 0;
  for (const auto& v : by_status) {
    records += get_int(v.as_object(), "count");
  }
  out["live"].as_object()["records"] = records;
  out["records_by_status"] = std::move(by_status);
  // Almost every packet is "ok": count the others over two ranges of the verdict index and
  // take ok as the difference, rather than walking a million index entries.
  auto verdicts = db.rows("SELECT verdict, count(*) AS count FROM packets WHERE verdict < 'ok' "
                          "GROUP BY verdict UNION ALL SELECT verdict, count(*) FROM packets "
                          "WHERE verdict > 'ok' GROUP BY verdict");
  std::int64_t not_ok = 0;
  for (const auto& v : verdicts) {
    not_ok += get_int(v.as_object(), "count");
  }
  const auto packets_total = get_int(out["live"].as_object(), "packets");
  if (packets_total > not_ok) {
    verdicts.push_back(json::object{{"verdict", "ok"}, {"count", packets_total - not_ok}});
  }
  std::sort(verdicts.begin(), verdicts.end(), [](const json::value& a, const json::value& b) {
    return get_str(a.as_object(), "verdict") < get_str(b.as_object(), "verdict");
  });
  out["packets_by_verdict"] = std::move(verdicts);
  out["findings_by_severity"] = db.rows(
      "SELECT severity, count(*) AS count FROM findings GROUP BY severity ORDER BY count DESC");

  // Activity: records per hour over the 48 hours up to the newest record.
  constexpr double bucket = 3600;
  constexpr int buckets = 48;
  const auto last = get_double(out["live"].as_object(), "last_event_time");
  json::array points;
  if (is_set(out["live"].as_object(), "last_event_time")) {
    const double end = std::floor(last / bucket) * bucket;
    const double begin = end - bucket * (buckets - 1);
    std::vector<std::array<std::int64_t, 4>> counts(buckets, {0, 0, 0, 0});
    auto q = db.prepare("SELECT CAST((event_time - ?1) / 3600 AS INTEGER) AS b, count(*), "
                        "sum(status_type = 1), sum(status_type = 3), sum(status_type = 2) "
                        "FROM records WHERE event_time >= ?1 GROUP BY b");
    q.bind(1, begin);
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

struct SessionFilter {
  std::string where;
  std::vector<Param> params;
  json::object echo; // the filter as understood, for the JSON twin and the form
};

SessionFilter session_filter(const QueryParams& p) {
  SessionFilter f;
  std::vector<std::string> clauses;
  auto add = [&](std::string clause, Param value) {
    f.params.push_back(std::move(value));
    const auto n = std::to_string(f.params.size());
    for (std::size_t pos; (pos = clause.find("?#")) != std::string::npos;) {
      clause.replace(pos, 2, "?" + n);
    }
    clauses.push_back(std::move(clause));
  };
  if (p.has("nas")) {
    add("s.nas_key = ?#", p.get("nas"));
    f.echo["nas"] = p.get("nas");
  }
  if (p.has("user")) {
    add("s.user_name = ?#", p.get("user"));
    f.echo["user"] = p.get("user");
  }
  if (p.has("peer")) {
    add("s.peer = ?#", p.get("peer"));
    f.echo["peer"] = p.get("peer");
  }
  const auto state = p.get("state");
  if (state == "open" || state == "closed" || state == "stale") {
    add("s.state = ?#", state);
    f.echo["state"] = state;
  }
  // A session is in [from, to] when its span overlaps the range.
  if (const auto from = parse_time(p.get("from"))) {
    add("COALESCE(s.stop_time, s.last_record_time) >= ?#", *from);
    f.echo["from"] = *from;
  }
  if (const auto to = parse_time(p.get("to"))) {
    add("COALESCE(s.start_time, s.last_record_time) <= ?#", *to);
    f.echo["to"] = *to;
  }
  if (p.has("q")) {
    add("(s.acct_session_id LIKE ?# ESCAPE '\\' OR s.user_name LIKE ?# ESCAPE '\\' OR "
        "s.peer LIKE ?# ESCAPE '\\' OR s.framed_ip LIKE ?# ESCAPE '\\')",
        like_pattern(p.get("q")));
    f.echo["q"] = p.get("q");
  }
  for (std::size_t i = 0; i < clauses.size(); ++i) {
    f.where += (i == 0 ? " WHERE " : " AND ") + clauses[i];
  }
  return f;
}

struct SortColumn {
  std::string_view key;
  std::string_view expression;
};
constexpr std::array<SortColumn, 10> sort_columns{{
    {"start", "s.start_time"},
    {"last", "s.last_record_time"},
    {"stop", "s.stop_time"},
    {"user", "s.user_name"},
    {"nas", "s.nas_key"},
    {"state", "s.state"},
    {"time", "s.session_time"},
    {"in", "s.input_octets"},
    {"out", "s.output_octets"},
    {"id", "s.id"},
}};

} // namespace

json::object sessions_report(ReadOnlyDatabase& db, const QueryParams& p, bool all_rows) {
  auto f = session_filter(p);
  std::string_view sort_key = "last";
  std::string_view sort_expr = "s.last_record_time";
  const auto wanted = p.get("sort");
  for (const auto& c : sort_columns) {
    if (c.key == wanted) {
      sort_key = c.key;
      sort_expr = c.expression;
    }
  }
  const bool ascending = p.get("order") == "asc";
  const auto per = all_rows ? 100000 : p.get_int("per", 50, 1, 500);
  const auto total = db.scalar("SELECT count(*) FROM sessions AS s" + f.where, f.params);
  const auto pages = std::max<std::int64_t>(1, (total + per - 1) / per);
  const auto page_no = all_rows ? 1 : p.get_int("page", 1, 1, pages);

  std::string sql = "SELECT " + std::string(session_columns) + " FROM sessions AS s" + f.where +
                    " ORDER BY " + std::string(sort_expr) + (ascending ? " ASC" : " DESC") +
                    ", s.id" + (ascending ? " ASC" : " DESC") + " LIMIT " + std::to_string(per) +
                    " OFFSET " + std::to_string((page_no - 1) * per);
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

/** Per rule, from the reports of the newest conform runs (conformance/ writes each run's JSON
 * report, whose "rules" list says for every rule of the profile whether it passed). */
struct RuleSummary {
  json::object fields; // id, source, severity, scope, summary
  std::int64_t runs_passed = 0;
  std::int64_t runs_failed = 0;
};

std::map<std::string, RuleSummary> rule_catalog(ReadOnlyDatabase& db, int runs) {
  std::map<std::string, RuleSummary> catalog;
  auto q = db.prepare("SELECT report FROM runs WHERE kind = 'conform' AND report IS NOT NULL "
                      "ORDER BY id DESC LIMIT ?1");
  q.bind(1, std::int64_t{runs});
  while (q.step()) {
    boost::system::error_code ec;
    auto report = json::parse(q.text(0), ec);
    if (ec || !report.is_object()) {
      continue; // a report from elsewhere, or damaged: not ours to judge
    }
    const auto* rules = report.get_object().if_contains("rules");
    if (!rules || !rules->is_array()) {
      continue;
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

std::optional<json::object> session_report(ReadOnlyDatabase& db, std::int64_t id) {
  auto session = db.row("SELECT * FROM sessions WHERE id = ?1", {id});
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

std::optional<json::object> packet_report(ReadOnlyDatabase& db, std::int64_t id) {
  auto q = db.prepare("SELECT * FROM packets WHERE id = ?1");
  q.bind(1, id);
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

json::object conformance_report(ReadOnlyDatabase& db) {
  auto catalog = rule_catalog(db, 200);
  auto findings = db.rows(
      "SELECT rule_id, max(severity) AS finding_severity, max(scope) AS finding_scope, "
      "count(*) AS findings, count(DISTINCT packet_id) AS packets, count(DISTINCT session_id) "
      "AS sessions, min(message) AS example FROM findings GROUP BY rule_id");
  std::map<std::string, json::object> rules;
  for (auto& [id, summary] : catalog) {
    auto& o = rules[id];
    o = summary.fields;
    o["rule_id"] = id;
    o["runs_passed"] = summary.runs_passed;
    o["runs_failed"] = summary.runs_failed;
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
  out["conform_runs"] = db.scalar("SELECT count(*) FROM runs WHERE kind = 'conform'");
  out["rules"] = std::move(list);
  return out;
}

json::object rule_report(ReadOnlyDatabase& db, std::string_view rule_id, const QueryParams& p) {
  const auto per = p.get_int("per", 100, 1, 500);
  const std::string rule(rule_id);
  const auto total = db.scalar("SELECT count(*) FROM findings WHERE rule_id = ?1", {rule});
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
  out["findings"] =
      db.rows("SELECT f.id, f.run_id, f.severity, f.scope, f.message, f.packet_id, f.record_id, "
              "f.session_id, f.file, f.frame, p.receive_time, p.src_addr, p.verdict "
              "FROM findings AS f LEFT JOIN packets AS p ON p.id = f.packet_id "
              "WHERE f.rule_id = ?1 ORDER BY f.id LIMIT ?2 OFFSET ?3",
              {rule, per, (page_no - 1) * per});
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

json::object usage_report(ReadOnlyDatabase& db, const QueryParams& p) {
  json::object out;
  const auto period = p.get("period");
  const std::string period_key = period == "hour" || period == "month" ? period : "day";
  // A session belongs to the time it started (its last record when no Start was seen). The
  // expression matches the proposed index web_sessions_usage (web/indexes.cpp).
  constexpr std::string_view when = "COALESCE(s.start_time, s.last_record_time)";

  auto from = parse_time(p.get("from"));
  auto to = parse_time(p.get("to"));
  json::object filter;
  if (!from && !to) {
    // No range asked for: the newest stretch of data (2 days of hours, 7 days, 12 months), so
    // the page stays fast on a large database.
    auto newest = db.row("SELECT max(" + std::string(when) + ") AS t FROM sessions AS s");
    if (newest && is_set(*newest, "t")) {
      const double day = 86400;
      const double days = period_key == "hour" ? 2 : period_key == "month" ? 365 : 7;
      from = std::floor(get_double(*newest, "t") / day) * day - (days - 1) * day;
      filter["default_range"] = true;
    }
  }
  std::string where = " WHERE 1";
  std::vector<Param> params;
  auto add = [&](std::string_view column, std::string_view op, Param value) {
    params.push_back(std::move(value));
    where += " AND ";
    where += column;
    where += op;
    where += "?" + std::to_string(params.size());
  };
  if (from) {
    add(when, " >= ", *from);
    filter["from"] = *from;
  }
  if (to) {
    add(when, " < ", *to);
    filter["to"] = *to;
  }
  for (const char* key : {"nas", "user", "peer"}) {
    if (p.has(key)) {
      const std::string column = std::string(key) == "nas"    ? "s.nas_key"
                                 : std::string(key) == "user" ? "s.user_name"
                                                              : "s.peer";
      add(column, " = ", p.get(key));
      filter[key] = p.get(key);
    }
  }
  out["filter"] = std::move(filter);

  out["online_count"] = db.scalar("SELECT count(*) FROM sessions WHERE state = 'open'");
  out["online"] = db.rows("SELECT " + std::string(session_columns) +
                          " FROM sessions AS s WHERE s.state = 'open' "
                          "ORDER BY s.last_record_time DESC LIMIT 100");

  // One pass per user gives both the per-user table and the three top-ten lists.
  // RFC 2866 §5.3/§5.4: Input counts octets received from the port (the user's upload),
  // Output octets sent to it (the user's download).
  const std::string sums = "count(*) AS sessions, sum(s.session_time) AS time, "
                           "sum(s.input_octets) AS upload, sum(s.output_octets) AS download";
  // "+": group with a temporary b-tree over the range scan; left to itself SQLite walks the
  // whole user_name index in order and fetches every session from the table.
  auto per_user = db.rows("SELECT s.user_name AS key, " + sums + " FROM sessions AS s" + where +
                              " GROUP BY +s.user_name",
                          params);
  out["top_users"] = json::object{{"time", top_rows(per_user, "time", 10)},
                                  {"download", top_rows(per_user, "download", 10)},
                                  {"upload", top_rows(per_user, "upload", 10)}};
  const auto group = p.get("group");
  const std::string group_key = group == "nas" || group == "peer" ? group : "user";
  out["group"] = group_key;
  if (group_key == "user") {
    std::sort(per_user.begin(), per_user.end(), [](const json::value& a, const json::value& b) {
      return get_int(a.as_object(), "sessions") > get_int(b.as_object(), "sessions");
    });
    if (per_user.size() > 200) {
      per_user.resize(200);
    }
    out["by_group"] = std::move(per_user);
  } else {
    const std::string column = group_key == "nas" ? "s.nas_key" : "s.peer";
    out["by_group"] = db.rows("SELECT " + column + " AS key, " + sums + " FROM sessions AS s" +
                                  where + " GROUP BY 1 ORDER BY sessions DESC LIMIT 200",
                              params);
  }

  // Traffic and sessions per period, attributed to the period the session started in (as
  // daloRADIUS does from radacct).
  const std::string format = period_key == "hour"    ? "%Y-%m-%d %H:00"
                             : period_key == "month" ? "%Y-%m"
                                                     : "%Y-%m-%d";
  const int limit = period_key == "hour" ? 48 : period_key == "month" ? 24 : 62;
  out["period"] = period_key;
  out["series"] = db.rows("SELECT * FROM (SELECT strftime('" + format + "', " + std::string(when) +
                              ", 'unixepoch') AS bucket, count(*) AS sessions, "
                              "COALESCE(sum(s.input_octets), 0) AS upload, "
                              "COALESCE(sum(s.output_octets), 0) AS download FROM sessions AS s" +
                              where + " GROUP BY 1 ORDER BY 1 DESC LIMIT " + std::to_string(limit) +
                              ") ORDER BY bucket",
                          params);
  out["stale"] = db.rows(
      "SELECT " + std::string(session_columns) +
      ", (SELECT r.status_type FROM records AS r WHERE r.session_row = s.id "
      "ORDER BY r.event_time DESC, r.id DESC LIMIT 1) AS last_status_type "
      "FROM sessions AS s WHERE s.state = 'stale' ORDER BY s.last_record_time DESC LIMIT 100");
  for (auto& r : out["stale"].as_array()) {
    auto& o = r.as_object();
    o["last_status"] = is_set(o, "last_status_type")
                           ? json::value(status_type_name(get_int(o, "last_status_type")))
                           : json::value(nullptr);
  }
  return out;
}

json::object runs_report(ReadOnlyDatabase& db) {
  json::object out;
  out["runs"] = db.rows("SELECT r.id, r.kind, r.started, r.finished, r.verdict, "
                        "(SELECT count(*) FROM packets AS p WHERE p.run_id = r.id) AS packets, "
                        "(SELECT count(*) FROM findings AS f WHERE f.run_id = r.id) AS findings "
                        "FROM runs AS r ORDER BY r.id DESC LIMIT 500");
  out["pcap_files"] =
      db.rows("SELECT file, run_id, count(*) AS packets, min(frame) AS first_frame, max(frame) AS "
              "last_frame, sum(verdict = 'ok') AS ok FROM packets WHERE file IS NOT NULL "
              "GROUP BY file, run_id ORDER BY run_id DESC LIMIT 500");
  return out;
}

std::optional<json::object> run_report(ReadOnlyDatabase& db, std::int64_t id) {
  auto run = db.row("SELECT * FROM runs WHERE id = ?1", {id});
  if (!run) {
    return std::nullopt;
  }
  // The report column holds JSON; serve it as JSON when it parses, as text otherwise.
  if (is_set(*run, "report")) {
    boost::system::error_code ec;
    auto parsed = json::parse(get_str(*run, "report"), ec);
    if (!ec) {
      (*run)["report"] = std::move(parsed);
    }
  }
  json::object out;
  out["run"] = std::move(*run);
  out["packets_by_verdict"] = db.rows(
      "SELECT verdict, count(*) AS count FROM packets WHERE run_id = ?1 GROUP BY verdict", {id});
  out["findings_by_rule"] =
      db.rows("SELECT rule_id, severity, count(*) AS count FROM findings WHERE run_id = ?1 "
              "GROUP BY rule_id, severity ORDER BY count DESC",
              {id});
  return out;
}

json::object nas_report(ReadOnlyDatabase& db) {
  json::object out;
  auto nas = db.rows("SELECT n.*, (SELECT count(*) FROM sessions AS s WHERE s.nas_key = "
                     "n.identity) AS sessions FROM nas AS n ORDER BY n.identity LIMIT 1000");
  // Open sessions are few: group them once instead of a lookup per NAS and session.
  json::object open;
  // Counted here: asked to GROUP BY nas_key, SQLite walks the whole (nas_key, ...) index.
  auto q = db.prepare("SELECT nas_key FROM sessions WHERE state = 'open'");
  while (q.step()) {
    auto& n = open[q.text(0)];
    n = n.is_int64() ? n.get_int64() + 1 : 1;
  }
  for (auto& v : nas) {
    auto& o = v.as_object();
    const auto* n = open.if_contains(get_str(o, "identity"));
    o["open_sessions"] = n ? n->as_int64() : 0;
  }
  out["nas"] = std::move(nas);
  return out;
}

} // namespace acctlab::web
