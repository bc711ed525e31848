#include "web/site.hpp"

#include "storage/reports.hpp"
#include "web/assets.hpp"
#include "web/html.hpp"
#include "web/pages.hpp"

#include <boost/json/serialize.hpp>
#include <charconv>

namespace acctlab::web {

using namespace storage; // the read model: reports, ReadOnlyDatabase

namespace json = boost::json;

const std::vector<std::pair<std::string, std::string>>& security_headers() {
  // No inline script or style: the pages' only script is /static/live.js and the charts are
  // styled by class from /static/style.css. Nothing is loaded from elsewhere.
  static const std::vector<std::pair<std::string, std::string>> headers{
      {"Content-Security-Policy",
       "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"},
      {"X-Content-Type-Options", "nosniff"},
      {"Referrer-Policy", "no-referrer"},
      {"X-Frame-Options", "DENY"},
      {"Cache-Control", "no-store"},
  };
  return headers;
}

class Site::Lease {
public:
  explicit Lease(Site& site) : site_(site), db_(site.acquire()) {}
  ~Lease() { site_.release(std::move(db_)); }
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  ReadOnlyDatabase& operator*() { return *db_; }

private:
  Site& site_;
  std::unique_ptr<ReadOnlyDatabase> db_;
};

Site::Site(std::string db_path) : db_path_(std::move(db_path)) {
  auto db = std::make_unique<ReadOnlyDatabase>(db_path_);
  for (const char* table : {"packets", "records", "sessions", "runs", "nas", "findings"}) {
    if (!db->has_table(table)) {
      throw DbError(1, db_path_ + " is not an acctlab database (no table " + table + ")");
    }
  }
  // The tallies and search rows of schema versions 3 and 4 (storage/schema.cpp), which the pages
  // read.
  for (const char* table : {"record_tally", "packet_tally", "capture_tally", "session_tally",
                            "session_find", "finding_tally"}) {
    if (!db->has_table(table)) {
      throw DbError(1, db_path_ + " has an older acctlab schema (no table " + table +
                           "): `acctlab web` migrates it, or any acctlab writer opening it");
    }
  }
  pool_.push_back(std::move(db));
  watcher_ = std::make_unique<ReadOnlyDatabase>(db_path_);
}

Site::~Site() = default;

std::unique_ptr<ReadOnlyDatabase> Site::acquire() {
  {
    std::lock_guard lock(pool_mutex_);
    if (!pool_.empty()) {
      auto db = std::move(pool_.back());
      pool_.pop_back();
      return db;
    }
  }
  return std::make_unique<ReadOnlyDatabase>(db_path_);
}

void Site::release(std::unique_ptr<ReadOnlyDatabase> db) {
  if (!db) {
    return;
  }
  std::lock_guard lock(pool_mutex_);
  if (pool_.size() < 8) {
    pool_.push_back(std::move(db));
  }
}

namespace {

Response html(std::string body) {
  return Response{200, "text/html; charset=utf-8", std::move(body), {}};
}

Response json_response(const json::object& o) {
  return Response{200, "application/json", json::serialize(o) + "\n", {}};
}

Response not_found(bool api, std::string_view what) {
  if (api) {
    return Response{404,
                    "application/json",
                    json::serialize(json::object{{"error", "not found"}, {"what", what}}) + "\n",
                    {}};
  }
  return Response{
      404, "text/html; charset=utf-8", error_page(404, "Not found: " + std::string(what)), {}};
}

/** "123" -> 123; anything else -> nullopt (ids in URLs are positive integers). */
std::optional<std::int64_t> parse_id(std::string_view text) {
  std::int64_t id = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || id <= 0) {
    return std::nullopt;
  }
  return id;
}

/** Splits "/sessions/12" into ("sessions", "12"); the rest may be empty. */
std::pair<std::string_view, std::string_view> split_path(std::string_view path) {
  path.remove_prefix(1);
  const auto slash = path.find('/');
  if (slash == std::string_view::npos) {
    return {path, {}};
  }
  return {path.substr(0, slash), path.substr(slash + 1)};
}

} // namespace

Response Site::route(ReadOnlyDatabase& db, std::string_view path, std::string_view query) {
  const QueryParams params(query);
  const bool api = path.starts_with("/api/");
  if (api) {
    path.remove_prefix(4);
  }
  if ((!api && path == "/") || (api && path == "/overview")) {
    auto report = overview_report(db);
    return api ? json_response(report) : html(overview_page(report));
  }
  if (!api && path == "/sessions.csv") {
    auto report = sessions_report(db, params, true);
    // The export is built in memory, so it stops at max_csv_rows; the header says how many of
    // how many it holds (the sessions page says so beside its CSV link).
    const auto total = report.at("total").as_int64();
    const auto rows = static_cast<std::int64_t>(report.at("sessions").as_array().size());
    return Response{200,
                    "text/csv; charset=utf-8",
                    sessions_csv(report),
                    {{"Content-Disposition", "attachment; filename=\"sessions.csv\""},
                     {"X-Acctlab-Rows", std::to_string(rows) + " of " + std::to_string(total)}}};
  }
  const auto [section, rest] = split_path(path);
  if (section == "sessions") {
    if (rest.empty()) {
      auto report = sessions_report(db, params);
      return api ? json_response(report) : html(sessions_page(report, params));
    }
    const auto id = parse_id(rest);
    auto report = id ? session_report(db, *id) : std::nullopt;
    if (!report) {
      return not_found(api, path);
    }
    return api ? json_response(*report) : html(session_page(*report));
  }
  if (section == "packets" && !rest.empty()) {
    const auto id = parse_id(rest);
    auto report = id ? packet_report(db, *id) : std::nullopt;
    if (!report) {
      return not_found(api, path);
    }
    return api ? json_response(*report) : html(packet_page(*report));
  }
  if (section == "conformance") {
    if (rest.empty()) {
      auto report = conformance_report(db);
      return api ? json_response(report) : html(conformance_page(report));
    }
    const auto rule = url_decode(rest);
    auto report = rule_report(db, rule, params);
    if (get_int(report, "total") == 0) {
      return not_found(api, path);
    }
    return api ? json_response(report) : html(rule_page(report, params));
  }
  if (section == "usage" && rest.empty()) {
    auto report = usage_report(db, params);
    return api ? json_response(report) : html(usage_page(report, params));
  }
  if (section == "runs") {
    if (rest.empty()) {
      auto report = runs_report(db);
      return api ? json_response(report) : html(runs_page(report));
    }
    const auto id = parse_id(rest);
    auto report = id ? run_report(db, *id) : std::nullopt;
    if (!report) {
      return not_found(api, path);
    }
    return api ? json_response(*report) : html(run_page(*report));
  }
  if (section == "nas" && rest.empty()) {
    auto report = nas_report(db);
    return api ? json_response(report) : html(nas_page(report));
  }
  return not_found(api, path);
}

Response Site::handle(std::string_view method, std::string_view target) {
  if (method != "GET" && method != "HEAD") {
    auto r = Response{405, "text/plain; charset=utf-8", "method not allowed\n", {}};
    r.headers.emplace_back("Allow", "GET, HEAD");
    return r;
  }
  if (target.empty() || target.front() != '/' || target.size() > 4096) {
    return Response{400, "text/plain; charset=utf-8", "bad request target\n", {}};
  }
  const auto qmark = target.find('?');
  const auto path = target.substr(0, qmark);
  const auto query =
      qmark == std::string_view::npos ? std::string_view{} : target.substr(qmark + 1);
  // Static files come from the binary, looked up by exact name: no file system, no traversal.
  if (path.starts_with("/static/")) {
    if (const auto* asset = find_asset(path.substr(8))) {
      return Response{200,
                      std::string(asset->content_type),
                      std::string(asset->body),
                      {{"Cache-Control", "max-age=3600"}}};
    }
    return Response{404, "text/plain; charset=utf-8", "not found\n", {}};
  }
  try {
    Lease lease(*this);
    return route(*lease, path, query);
  } catch (const DbError& e) {
    // SQLITE_BUSY (5) and SQLITE_LOCKED (6): the writer holds the database; try again soon.
    const bool busy = (e.code() & 0xff) == 5 || (e.code() & 0xff) == 6;
    const unsigned status = busy ? 503 : 500;
    if (path.starts_with("/api/")) {
      return Response{status,
                      "application/json",
                      json::serialize(json::object{{"error", e.what()}}) + "\n",
                      {}};
    }
    return Response{status, "text/html; charset=utf-8", error_page(status, e.what()), {}};
  } catch (const std::exception& e) {
    return Response{500, "text/html; charset=utf-8", error_page(500, e.what()), {}};
  }
}

std::optional<std::pair<std::int64_t, std::string>> Site::live_update(std::int64_t version) {
  std::lock_guard lock(live_mutex_);
  try {
    const auto current = watcher_->data_version();
    if (current != live_version_ || live_json_.empty()) {
      auto counters = live_counters(*watcher_);
      counters["last_event_time_text"] = is_set(counters, "last_event_time")
                                             ? format_time(get_double(counters, "last_event_time"))
                                             : std::string();
      live_json_ = json::serialize(counters);
      live_version_ = current;
    }
  } catch (const DbError&) {
    return std::nullopt; // busy: the next poll tries again
  }
  if (version == live_version_) {
    return std::nullopt;
  }
  return std::pair{live_version_, live_json_};
}

} // namespace acctlab::web
