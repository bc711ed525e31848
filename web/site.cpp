#include "web/site.hpp"

#include "radius/markup.hpp"
#include "storage/pg_connection.hpp" // database_display_name
#include "storage/reports.hpp"
#include "web/assets.hpp"
#include "web/auth.hpp"
#include "web/html.hpp"
#include "web/nas_scope.hpp"
#include "web/pages.hpp"

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <cstdio>
#include <filesystem>

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
      throw DbError(1, database_display_name(db_path_) + " is not an acctlab database (no table " +
                           table + ")");
    }
  }
  // The tallies and search rows of schema versions 3 and 4 (storage/schema.cpp), which the pages
  // read.
  for (const char* table : {"record_tally", "packet_tally", "capture_tally", "session_tally",
                            "session_find", "finding_tally"}) {
    if (!db->has_table(table)) {
      throw DbError(1, database_display_name(db_path_) + " has an older acctlab schema (no table " +
                           table +
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

Response Site::route(ReadOnlyDatabase& db, std::string_view path, std::string_view query,
                     const NasScope& scope) {
  const QueryParams params(query);
  const bool api = path.starts_with("/api/");
  if (api) {
    path.remove_prefix(4);
  }
  if (!api && path == "/metrics" && !scope.all) {
    // The server's and the database's counters cover every NAS: for admins (and scrapers
    // signing in as one).
    return not_found(api, path);
  }
  if (!api && path == "/metrics") {
    return Response{200, "text/plain; version=0.0.4; charset=utf-8", metrics(db), {}};
  }
  if ((!api && path == "/") || (api && path == "/overview")) {
    auto report = overview_report(db, scope);
    return api ? json_response(report) : html(overview_page(report));
  }
  if (!api && path == "/sessions.csv") {
    auto report = sessions_report(db, params, true, scope);
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
      auto report = sessions_report(db, params, false, scope);
      return api ? json_response(report) : html(sessions_page(report, params));
    }
    const auto id = parse_id(rest);
    auto report = id ? session_report(db, *id, scope) : std::nullopt;
    if (!report) {
      return not_found(api, path);
    }
    return api ? json_response(*report) : html(session_page(*report));
  }
  if (section == "packets" && !rest.empty()) {
    const auto id = parse_id(rest);
    auto report = id ? packet_report(db, *id, scope) : std::nullopt;
    if (!report) {
      return not_found(api, path);
    }
    return api ? json_response(*report) : html(packet_page(*report));
  }
  if (section == "conformance") {
    if (rest.empty()) {
      auto report = conformance_report(db, scope);
      return api ? json_response(report) : html(conformance_page(report));
    }
    const auto rule = url_decode(rest);
    auto report = rule_report(db, rule, params, scope);
    if (get_int(report, "total") == 0) {
      return not_found(api, path);
    }
    return api ? json_response(report) : html(rule_page(report, params));
  }
  if (section == "usage" && rest.empty()) {
    auto report = usage_report(db, params, scope);
    return api ? json_response(report) : html(usage_page(report, params));
  }
  if (section == "runs") {
    if (rest.empty()) {
      auto report = runs_report(db, scope);
      return api ? json_response(report) : html(runs_page(report));
    }
    const auto id = parse_id(rest);
    auto report = id ? run_report(db, *id, scope) : std::nullopt;
    if (!report) {
      return not_found(api, path);
    }
    return api ? json_response(*report) : html(run_page(*report));
  }
  if (section == "nas" && rest.empty()) {
    auto report = nas_report(db, scope);
    return api ? json_response(report) : html(nas_page(report));
  }
  return not_found(api, path);
}

std::string Site::metrics(ReadOnlyDatabase& db) {
  std::string out = metrics_source_ ? metrics_source_() : std::string();
  const auto gauge = [&out](std::string_view name, std::string_view help) {
    out.append("# HELP ").append(name).append(" ").append(help).append("\n# TYPE ");
    out.append(name).append(" gauge\n");
  };
  const auto value = [&out](std::string_view series, double v) {
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%.17g", v);
    out.append(series).append(" ").append(buffer).append("\n");
  };
  // What the database holds, from the tallies the overview reads (cheap at any size).
  const auto live = live_counters(db, true);
  gauge("acctlab_db_sessions", "Sessions stored, by state.");
  const auto& sessions = live.at("sessions").as_object();
  for (const char* state : {"open", "closed", "stale"}) {
    value(std::string("acctlab_db_sessions{state=\"") + state + "\"}",
          static_cast<double>(get_int(sessions, state)));
  }
  gauge("acctlab_db_records", "Accounting records stored.");
  value("acctlab_db_records", static_cast<double>(get_int(live, "records")));
  gauge("acctlab_db_packets", "Packets stored as evidence, every verdict.");
  value("acctlab_db_packets", static_cast<double>(get_int(live, "packets")));
  gauge("acctlab_db_findings", "Conformance findings stored.");
  value("acctlab_db_findings", static_cast<double>(get_int(live, "findings")));
  if (is_set(live, "last_event_time")) {
    gauge("acctlab_db_last_event_timestamp_seconds", "Event time of the newest record.");
    value("acctlab_db_last_event_timestamp_seconds", get_double(live, "last_event_time"));
  }
  out.append("# HELP acctlab_viewer_live_recounts_total Live counters counted for /events "
             "streams: for every NAS (all), or for an operator's NASes (operator).\n"
             "# TYPE acctlab_viewer_live_recounts_total counter\n");
  value("acctlab_viewer_live_recounts_total{scope=\"all\"}",
        static_cast<double>(live_recounts_all_.load()));
  value("acctlab_viewer_live_recounts_total{scope=\"operator\"}",
        static_cast<double>(live_recounts_scoped_.load()));
  if (!metrics_source_) {
    // A server has its own database gauges; a viewer alone reports the files it reads.
    std::error_code ec;
    if (const auto size = std::filesystem::file_size(db_path_, ec); !ec) {
      gauge("acctlab_database_size_bytes", "Size of the database file.");
      value("acctlab_database_size_bytes", static_cast<double>(size));
    }
    if (const auto size = std::filesystem::file_size(db_path_ + "-wal", ec); !ec) {
      gauge("acctlab_database_wal_size_bytes", "Size of the write-ahead log file.");
      value("acctlab_database_wal_size_bytes", static_cast<double>(size));
    }
  }
  return out;
}

namespace {

Response login_page(unsigned status, std::string_view message) {
  std::string body = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                     "<title>acctlab: sign in</title>"
                     "<link rel=\"stylesheet\" href=\"/static/style.css\"></head><body>"
                     "<main><h1>acctlab</h1><form method=\"post\" action=\"/login\">";
  if (!message.empty()) {
    body += "<p class=\"error\" role=\"alert\">" + radius::escape_markup(message) + "</p>";
  }
  body += "<p><label>Name <input name=\"user\" autocomplete=\"username\" required></label></p>"
          "<p><label>Password <input name=\"password\" type=\"password\" "
          "autocomplete=\"current-password\" required></label></p>"
          "<p><button type=\"submit\">Sign in</button></p></form></main></body></html>\n";
  return Response{status, "text/html; charset=utf-8", std::move(body), {}};
}

/** A value of an application/x-www-form-urlencoded body. */
std::string form_value(std::string_view body, std::string_view name) {
  std::size_t pos = 0;
  while (pos <= body.size()) {
    const auto amp = body.find('&', pos);
    const auto item = body.substr(pos, amp == std::string_view::npos ? amp : amp - pos);
    const auto eq = item.find('=');
    if (eq != std::string_view::npos && item.substr(0, eq) == name) {
      std::string raw(item.substr(eq + 1));
      std::replace(raw.begin(), raw.end(), '+', ' ');
      return url_decode(raw);
    }
    if (amp == std::string_view::npos) {
      break;
    }
    pos = amp + 1;
  }
  return {};
}

} // namespace

bool Site::authorized(std::string_view cookie) const {
  return !auth_ || auth_->session(cookie) != nullptr;
}

void Site::set_clients(server::ClientList clients) {
  auto shared = std::make_shared<const server::ClientList>(std::move(clients));
  std::lock_guard lock(clients_mutex_);
  clients_ = std::move(shared);
}

NasScope Site::scope_of(const Account& account, ReadOnlyDatabase& db) {
  if (account.admin()) {
    return NasScope::everything();
  }
  std::shared_ptr<const server::ClientList> clients;
  {
    std::lock_guard lock(clients_mutex_);
    clients = clients_;
  }
  return clients ? nas_scope(account, *clients, db) : NasScope::only({}, {});
}

Response Site::handle(const Request& request) {
  auto response = [&]() -> Response {
    if (!auth_) {
      return serve(request.method, request.target, nullptr);
    }
    const auto path = request.target.substr(0, request.target.find('?'));
    const std::string secure = request.secure ? "; Secure" : "";
    if (path == "/login") {
      if (request.method == "POST") {
        bool throttled = false;
        const auto cookie =
            auth_->login(form_value(request.body, "user"), form_value(request.body, "password"),
                         request.peer, &throttled);
        if (!cookie) {
          return throttled ? login_page(429, "Too many failed sign-ins; wait a minute.")
                           : login_page(401, "Wrong name or password.");
        }
        return Response{
            303,
            "text/plain; charset=utf-8",
            "signed in\n",
            {{"Location", "/"},
             {"Set-Cookie", std::string(Authenticator::cookie_name) + "=" + *cookie +
                                "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" +
                                std::to_string(Authenticator::session_lifetime.count()) + secure}}};
      }
      if (request.method == "GET" || request.method == "HEAD") {
        return login_page(200, "");
      }
    }
    if (path == "/logout") {
      return Response{
          303,
          "text/plain; charset=utf-8",
          "signed out\n",
          {{"Location", "/login"},
           {"Set-Cookie", std::string(Authenticator::cookie_name) +
                              "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0" + secure}}};
    }
    const bool page = !path.starts_with("/api/") && path != "/metrics" && path != "/sessions.csv" &&
                      path != "/events";
    const Account* account = auth_->session(request.cookie);
    if (!path.starts_with("/static/") && !account) {
      // Programs (API, CSV, metrics) may send HTTP Basic credentials (RFC 7617) instead of a
      // cookie, a Prometheus scraper among them; pages send a person to the login form.
      if (!page && !request.authorization.empty()) {
        if (const auto* program = auth_->basic(request.authorization, request.peer)) {
          return serve(request.method, request.target, program);
        }
      }
      if (page && (request.method == "GET" || request.method == "HEAD")) {
        return Response{303, "text/plain; charset=utf-8", "sign in\n", {{"Location", "/login"}}};
      }
      return Response{401,
                      "text/plain; charset=utf-8",
                      "sign in first: /login (programs: HTTP Basic)\n",
                      {{"WWW-Authenticate", "Basic realm=\"acctlab\", charset=\"UTF-8\""}}};
    }
    return serve(request.method, request.target, account);
  }();
  if (request.secure) {
    response.headers.emplace_back("Strict-Transport-Security", "max-age=31536000");
  }
  return response;
}

Response Site::handle(std::string_view method, std::string_view target) {
  return serve(method, target, nullptr);
}

Response Site::serve(std::string_view method, std::string_view target, const Account* account) {
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
  if (account && !account->admin() && account->groups.empty()) {
    const std::string why = "the account " + account->name +
                            " is an operator without NAS groups, so it sees no NAS. An admin "
                            "gives it one: acctlab users add " +
                            account->name +
                            " --role operator --nas-group GROUP, where GROUP is a `group = GROUP` "
                            "line of NAS entries in the clients file.";
    if (path.starts_with("/api/")) {
      return Response{403,
                      "application/json",
                      json::serialize(json::object{{"error", "no NAS groups"}, {"why", why}}) +
                          "\n",
                      {}};
    }
    return Response{403,
                    "text/html; charset=utf-8",
                    error_page(403, "No NAS to show: " + why + " (Sign out: /logout)"),
                    {}};
  }
  try {
    Lease lease(*this);
    const auto scope = account ? scope_of(*account, *lease) : NasScope::everything();
    return route(*lease, path, query, scope);
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
      ++live_recounts_all_;
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

std::optional<std::pair<std::int64_t, std::string>> Site::live_update(std::int64_t version,
                                                                      std::string_view cookie) {
  const Account* account = auth_ ? auth_->session(cookie) : nullptr;
  if (!auth_ || (account && account->admin())) {
    return live_update(version);
  }
  if (!account || account->groups.empty()) {
    return std::nullopt;
  }
  // An operator's counters, counted over its NASes when the database changed, at most once per
  // scoped_live_interval_ for all of its streams, on a connection of the pool (the admin's
  // streams keep the watcher). The version a stream sees is a serial that moves only when these
  // counters do, so another NAS's traffic does not show as an event either.
  std::int64_t current = 0;
  try {
    std::lock_guard lock(live_mutex_);
    current = watcher_->data_version();
  } catch (const DbError&) {
    return std::nullopt;
  }
  std::lock_guard lock(scoped_live_mutex_);
  try {
    auto& live = scoped_live_[account->name];
    const auto now = std::chrono::steady_clock::now();
    if ((current != live.data_version && now - live.counted >= scoped_live_interval_) ||
        live.json.empty()) {
      live.counted = now;
      Lease lease(*this);
      auto counters = live_counters(*lease, true, scope_of(*account, *lease));
      ++live_recounts_scoped_;
      counters["last_event_time_text"] = is_set(counters, "last_event_time")
                                             ? format_time(get_double(counters, "last_event_time"))
                                             : std::string();
      auto text = json::serialize(counters);
      if (text != live.json) {
        live.json = std::move(text);
        ++live.serial;
      }
      live.data_version = current;
    }
    if (version == live.serial) {
      return std::nullopt;
    }
    return std::pair{live.serial, live.json};
  } catch (const DbError&) {
    return std::nullopt; // busy: the next poll tries again
  }
}

} // namespace acctlab::web
