// bench_web: builds an acctlab database of N accounting records (default 1,000,000) in the
// server's schema (storage::migrate; storage::recount_tallies fills the tallies and the session
// search rows after the rows go in), then times the main
// pages through web::Site (HTML rendering included, no network). Then, for each index migration 3
// adds, it drops that index, times the pages again and puts it back: which pages each index is for.
// The ids and values the pages ask for (a session, its user, peer and day, a rule with findings, a
// run, the page numbers) are read from the database, so every page exists whatever the record
// count; a page that answers anything but 200 stops the bench with exit status 1, never timed.
//
//   build/bench/web/bench_web [records] [database path] [--reuse] [--operator] [--build-only]
//   build/bench/web/bench_web 0 [database path] --pg-schema URI
//
// --build-only builds the database and stops (bench/web/operator-pages.sh times it over HTTP).
// --pg-schema creates the acctlab schema of this build in the PostgreSQL database at URI and
// stops (operator-pages.sh then copies the SQLite database's rows there).
//
// --operator times the list pages as an admin and as an operator whose group holds 5 of the 20
// NASes (clients 10.1.1.1-10.1.1.5): the admin's pages read the tallies, the operator's count
// its own rows (storage::NasScope).

#include "bench/web/document_start.hpp"
#include "server/clients_file.hpp"
#include "storage/pg_connection.hpp"
#include "storage/pg_schema.hpp"
#include "storage/schema.hpp"
#include "web/auth.hpp"
#include "web/site.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <random>
#include <sqlite3.h>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

void exec(sqlite3* db, const char* sql) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    std::fprintf(stderr, "bench_web: %s\n  in %s\n", error ? error : "?", sql);
    std::exit(1);
  }
}

sqlite3_stmt* prepare(sqlite3* db, const char* sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) != SQLITE_OK) {
    std::fprintf(stderr, "bench_web: %s\n", sqlite3_errmsg(db));
    std::exit(1);
  }
  return stmt;
}

void step(sqlite3* db, sqlite3_stmt* stmt) {
  if (sqlite3_step(stmt) != SQLITE_DONE) {
    std::fprintf(stderr, "bench_web: %s\n", sqlite3_errmsg(db));
    std::exit(1);
  }
  sqlite3_reset(stmt);
}

/** Sessions of five records (Start, 3 Interim-Update, Stop); 4% stay open, 2% go stale. */
void build(const std::string& path, long records) {
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::filesystem::remove(path + suffix);
  }
  {
    acctlab::storage::Database db(path);
    acctlab::storage::migrate(db);
  }
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  exec(db, "PRAGMA synchronous = OFF");
  exec(db, "BEGIN");
  const auto raw = acctlab::bench::document_start();
  const double t0 = 1790812800; // 2026-10-01 00:00:00 UTC
  const double span = 60 * 86400.0;
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> jitter(0, 600);
  exec(db, "INSERT INTO runs (kind, started, finished, verdict) VALUES ('serve', 1790812800, "
           "1796083200, 'ok')");
  for (int i = 0; i < 9; ++i) {
    exec(db, "INSERT INTO runs (kind, started, finished, verdict, report) VALUES ('conform', "
             "1795000000, 1795000100, 'pass', '{\"scenarios\":4}')");
  }
  auto* packet = prepare(db, "INSERT INTO packets (id, run_id, receive_time, src_addr, src_port, "
                             "code, identifier, verdict, raw) VALUES (?1, 1, ?2, ?3, 1646, 4, ?4, "
                             "'ok', ?5)");
  auto* record = prepare(
      db, "INSERT INTO records (id, packet_id, session_row, status_type, acct_session_id, "
          "nas_identity, user_name, event_time, receive_time, delay, session_time, input_octets, "
          "output_octets, input_packets, output_packets) VALUES (?1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, "
          "?7, 0, ?8, ?9, ?10, ?11, ?12)");
  auto* session = prepare(
      db, "INSERT INTO sessions (id, nas_key, acct_session_id, unique_id, state, start_time, "
          "update_time, stop_time, last_record_time, input_octets, output_octets, input_packets, "
          "output_packets, session_time, user_name, framed_ip, peer, nas_ip, record_count) "
          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, "
          "?2, ?18)");
  auto* finding = prepare(db, "INSERT INTO findings (run_id, rule_id, severity, scope, message, "
                              "packet_id, record_id, session_id) VALUES (2, ?1, ?2, ?3, "
                              "'synthetic finding', ?4, ?5, ?6)");
  long record_id = 0;
  long session_id = 0;
  const int status_types[] = {1, 3, 3, 3, 2};
  while (record_id < records) {
    ++session_id;
    // Sessions are created in the order they start, as the server's matcher creates them; the
    // jitter (up to 10 minutes) lets a few overtake one another.
    const double start =
        t0 + span * static_cast<double>(record_id) / static_cast<double>(records) + jitter(rng);
    const int users = 5000;
    const auto user = "user" + std::to_string(rng() % users) + "@cclient";
    const auto nas = "10.1.1." + std::to_string(1 + rng() % 20);
    const auto sid = std::to_string(100000000 + session_id);
    const auto peer = "11.1." + std::to_string(rng() % 250) + "." + std::to_string(rng() % 250);
    const int kind = static_cast<int>(rng() % 100);
    const bool open = kind < 4;
    const bool stale = kind >= 4 && kind < 6;
    const int count = open || stale ? 2 : 5;
    const double rate = 1000.0 + static_cast<double>(rng() % 100000);
    double last = start;
    std::int64_t in = 0;
    std::int64_t out = 0;
    for (int r = 0; r < count && record_id < records; ++r) {
      ++record_id;
      const int status = open || stale ? (r == 0 ? 1 : 3) : status_types[r];
      const double t = start + 600.0 * r;
      last = t;
      in = static_cast<std::int64_t>(rate * 600 * r);
      out = in * 3;
      sqlite3_bind_int64(packet, 1, record_id);
      sqlite3_bind_double(packet, 2, t);
      sqlite3_bind_text(packet, 3, nas.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_int(packet, 4, static_cast<int>(record_id % 256));
      sqlite3_bind_blob(packet, 5, raw.data(), static_cast<int>(raw.size()), SQLITE_STATIC);
      step(db, packet);
      sqlite3_bind_int64(record, 1, record_id);
      sqlite3_bind_int64(record, 2, session_id);
      sqlite3_bind_int(record, 3, status);
      sqlite3_bind_text(record, 4, sid.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(record, 5, nas.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(record, 6, user.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_double(record, 7, t);
      if (status == 1) {
        for (int c = 8; c <= 12; ++c) {
          sqlite3_bind_null(record, c);
        }
      } else {
        sqlite3_bind_int(record, 8, 600 * r);
        sqlite3_bind_int64(record, 9, in);
        sqlite3_bind_int64(record, 10, out);
        sqlite3_bind_int64(record, 11, in / 500);
        sqlite3_bind_int64(record, 12, out / 500);
      }
      step(db, record);
      // Every 97th record from the first on, so that even a small database has a finding.
      if (record_id % 97 == 1) {
        static const char* rules[] = {"RFC2866-ACCT-SESSION-ID", "DOC-STOP-COUNTERS",
                                      "RFC2866-DELAY", "DOC-INTERIM-INTERVAL"};
        const int rule = static_cast<int>(record_id % 4);
        sqlite3_bind_text(finding, 1, rules[rule], -1, SQLITE_STATIC);
        sqlite3_bind_text(finding, 2, rule % 2 ? "warning" : "error", -1, SQLITE_STATIC);
        sqlite3_bind_text(finding, 3, rule == 1 ? "session" : "packet", -1, SQLITE_STATIC);
        sqlite3_bind_int64(finding, 4, record_id);
        sqlite3_bind_int64(finding, 5, record_id);
        sqlite3_bind_int64(finding, 6, session_id);
        step(db, finding);
      }
    }
    sqlite3_bind_int64(session, 1, session_id);
    sqlite3_bind_text(session, 2, nas.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(session, 3, sid.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(session, 4, ("u" + sid).c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(session, 5, open ? "open" : stale ? "stale" : "closed", -1, SQLITE_STATIC);
    sqlite3_bind_double(session, 6, start);
    sqlite3_bind_double(session, 7, last);
    if (open || stale) {
      sqlite3_bind_null(session, 8);
    } else {
      sqlite3_bind_double(session, 8, last);
    }
    sqlite3_bind_double(session, 9, last);
    sqlite3_bind_int64(session, 10, in);
    sqlite3_bind_int64(session, 11, out);
    sqlite3_bind_int64(session, 12, in / 500);
    sqlite3_bind_int64(session, 13, out / 500);
    sqlite3_bind_int64(session, 14, static_cast<std::int64_t>(last - start));
    sqlite3_bind_text(session, 15, user.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(session, 16, ("10.13." + std::to_string(session_id % 250) + ".1").c_str(), -1,
                      SQLITE_TRANSIENT);
    sqlite3_bind_text(session, 17, peer.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(session, 18, count);
    step(db, session);
  }
  for (int n = 1; n <= 20; ++n) {
    exec(db,
         ("INSERT INTO nas (identity, address, first_seen, last_seen, requests, accepted) "
          "VALUES ('10.1.1." +
          std::to_string(n) + "', '10.1.1." + std::to_string(n) + "', 1790812800, 1796000000, " +
          std::to_string(records / 20) + ", " + std::to_string(records / 20) + ")")
             .c_str());
  }
  sqlite3_finalize(packet);
  sqlite3_finalize(record);
  sqlite3_finalize(session);
  sqlite3_finalize(finding);
  exec(db, "COMMIT");
  sqlite3_close(db);
  {
    // Inserted here directly, not through the record writer, which keeps the tallies.
    acctlab::storage::Database tallies(path);
    acctlab::storage::recount_tallies(tallies);
    tallies.exec("ANALYZE");
  }
  std::fprintf(stderr, "bench_web: %ld records, %ld sessions in %s\n", record_id, session_id,
               path.c_str());
}

struct Page {
  std::string name;
  std::string target;
};

/** The first column of the first row of `sql`, or "" when there is no row or it is NULL. */
std::string query_text(sqlite3* db, const std::string& sql) {
  auto* stmt = prepare(db, sql.c_str());
  std::string out;
  if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_type(stmt, 0) != SQLITE_NULL) {
    out = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  }
  sqlite3_finalize(stmt);
  return out;
}

std::string url_encode(const std::string& text) {
  std::string out;
  for (const unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", c);
      out += hex;
    }
  }
  return out;
}

/** The pages to time, with ids and values taken from the database at `path`: a closed session
 * from the middle of the data (its user, its peer's /24 for the search, its realm for a search
 * every session of the realm matches, the day it started), the rule with the most findings, the
 * first run, and page 100 of the session lists or their last page when there are fewer. Exits
 * when the database lacks what a page needs (no sessions, no findings, no runs). */
std::vector<Page> pages_for(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    std::fprintf(stderr, "bench_web: cannot open %s\n", path.c_str());
    std::exit(1);
  }
  const std::string middle = "(SELECT (min(id) + max(id)) / 2 FROM sessions)";
  auto session = query_text(db, "SELECT id FROM sessions WHERE id >= " + middle +
                                    " AND state = 'closed' ORDER BY id LIMIT 1");
  if (session.empty()) {
    session =
        query_text(db, "SELECT id FROM sessions WHERE id >= " + middle + " ORDER BY id LIMIT 1");
  }
  // Its user, peer and start day ("" for each when there is no session).
  const auto of_session = [&](const std::string& column) {
    return session.empty()
               ? std::string()
               : query_text(db, "SELECT " + column + " FROM sessions WHERE id = " + session);
  };
  const auto user = of_session("user_name");
  const auto peer = of_session("peer");
  const auto day = of_session("date(start_time, 'unixepoch')");
  const auto next_day = of_session("date(start_time, 'unixepoch', '+1 day')");
  const auto rule = query_text(db, "SELECT rule_id FROM finding_tally GROUP BY rule_id ORDER BY "
                                   "sum(findings) DESC, rule_id LIMIT 1");
  const auto run = query_text(db, "SELECT min(id) FROM runs");
  // The session lists show 50 a page by default (storage/reports.cpp); a page past the last one
  // would show the last page under another number.
  const auto sessions = std::atol(query_text(db, "SELECT count(*) FROM sessions").c_str());
  sqlite3_close(db);
  const char* missing = session.empty() || user.empty() || peer.empty() || day.empty()
                            ? "session with a user, a peer and a start time"
                        : rule.empty() ? "finding"
                        : run.empty()  ? "run"
                                       : nullptr;
  if (missing) {
    std::fprintf(stderr, "bench_web: %s has no %s to time the pages with\n", path.c_str(), missing);
    std::exit(1);
  }
  const auto page = std::to_string(std::clamp((sessions + 49) / 50, 1L, 100L));
  const auto at = user.find('@');
  const auto realm = at == std::string::npos ? user : user.substr(at + 1);
  const auto dot = peer.rfind('.');
  const auto subnet = dot == std::string::npos ? peer : peer.substr(0, dot);
  return {
      {"overview", "/"},
      {"overview JSON", "/api/overview"},
      {"sessions (newest)", "/sessions"},
      {"sessions page " + page, "/sessions?page=" + page},
      {"sessions by user", "/sessions?user=" + url_encode(user)},
      {"sessions sorted by user", "/sessions?sort=user&order=asc"},
      {"sessions sorted by download", "/sessions?sort=out"},
      {"sessions search", "/sessions?q=" + url_encode(subnet)},
      {"sessions search, every session of a realm", "/sessions?q=" + url_encode(realm)},
      {"sessions by last record", "/sessions?sort=last"},
      {"sessions by last record, page " + page, "/sessions?sort=last&page=" + page},
      {"sessions open", "/sessions?state=open"},
      {"session detail", "/sessions/" + session},
      {"usage (default)", "/usage"},
      {"usage per hour, one day", "/usage?period=hour&from=" + day + "&to=" + next_day},
      {"conformance", "/conformance"},
      {"rule drill-down", "/conformance/" + url_encode(rule)},
      {"runs", "/runs"},
      {"run detail", "/runs/" + run},
      {"NASes", "/nas"},
  };
}

struct Timing {
  double wall_ms = 0;
  double cpu_ms = 0;
};

/** Median of `runs` timings of one page: wall clock, and this process's CPU time (the machine
 * is shared, so the wall clock includes waiting for the other builders). */
Timing time_page(acctlab::web::Site& site, const std::string& target, int runs,
                 const std::string& cookie = {}) {
  std::vector<double> ms;
  std::vector<double> cpu;
  for (int i = 0; i < runs; ++i) {
    const auto begin = Clock::now();
    const auto cpu_begin = std::clock();
    const auto response = cookie.empty()
                              ? site.handle("GET", target)
                              : site.handle(acctlab::web::Request{"GET", target, cookie});
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - begin).count());
    cpu.push_back(1000.0 * static_cast<double>(std::clock() - cpu_begin) / CLOCKS_PER_SEC);
    if (response.status != 200) {
      // A page that fails (a 404 answers fast) must never be reported as a timing.
      std::fprintf(stderr, "bench_web: FAILED: GET %s answered %u, not 200; nothing timed\n",
                   target.c_str(), response.status);
      std::exit(1);
    }
  }
  std::sort(ms.begin(), ms.end());
  std::sort(cpu.begin(), cpu.end());
  return {ms[ms.size() / 2], cpu[cpu.size() / 2]};
}

} // namespace

int main(int argc, char** argv) {
  long records = 1000000;
  std::string path = "bench_web.db";
  bool reuse = false;
  bool as_operator = false;
  bool build_only = false;
  std::string pg_schema;
  std::string only; // --page TARGET: time that page 200 times and stop (for a profiler)
  int positional = 0;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--reuse") == 0) {
      reuse = true;
    } else if (std::strcmp(argv[i], "--operator") == 0) {
      as_operator = true;
    } else if (std::strcmp(argv[i], "--build-only") == 0) {
      build_only = true;
    } else if (std::strcmp(argv[i], "--pg-schema") == 0 && i + 1 < argc) {
      pg_schema = argv[++i];
    } else if (std::strcmp(argv[i], "--page") == 0 && i + 1 < argc) {
      only = argv[++i];
    } else if (positional++ == 0) {
      records = std::atol(argv[i]);
    } else {
      path = argv[i];
    }
  }
  if (!pg_schema.empty()) {
    acctlab::storage::PgConnection db(pg_schema);
    acctlab::storage::migrate_postgres(db);
    return 0;
  }
  if (reuse && std::filesystem::exists(path)) {
    // A database from an earlier build of this bench: bring its schema up to date first.
    acctlab::storage::Database db(path);
    acctlab::storage::migrate(db);
  } else {
    const auto begin = Clock::now();
    build(path, records);
    std::fprintf(stderr, "bench_web: built in %.1f s\n",
                 std::chrono::duration<double>(Clock::now() - begin).count());
  }
  if (build_only) {
    return 0;
  }
  if (!only.empty()) {
    acctlab::web::Site site(path);
    const auto t = time_page(site, only, 200);
    std::printf("%s: %.1f ms (%.1f CPU ms)\n", only.c_str(), t.wall_ms, t.cpu_ms);
    return 0;
  }
  if (as_operator) {
    using namespace acctlab;
    web::Site site(path);
    web::Authenticator auth({{"admin", "admin", {}, web::hash_password("password1")},
                             {"op", "operator", {"bench"}, web::hash_password("password2")}});
    site.set_authenticator(&auth);
    std::string clients;
    for (int i = 1; i <= 5; ++i) {
      clients += "client nas" + std::to_string(i) + " {\n ipaddr = 10.1.1." + std::to_string(i) +
                 "\n secret = s\n group = bench\n}\n";
    }
    site.set_clients(*server::parse_clients(clients, "bench.conf"));
    const auto expires = std::time(nullptr) + 3600;
    const auto admin =
        std::string(web::Authenticator::cookie_name) + "=" + auth.sign("admin", expires);
    const auto op = std::string(web::Authenticator::cookie_name) + "=" + auth.sign("op", expires);
    std::printf("| target | admin: ms (CPU ms) | operator, 5 of 20 NASes: ms (CPU ms) |\n"
                "|---|---:|---:|\n");
    for (const char* target : {"/", "/api/overview", "/sessions", "/sessions?q=user1", "/usage",
                               "/conformance", "/runs", "/nas"}) {
      const auto a = time_page(site, target, 5, admin);
      const auto o = time_page(site, target, 5, op);
      std::printf("| `%s` | %.1f (%.1f) | %.1f (%.1f) |\n", target, a.wall_ms, a.cpu_ms, o.wall_ms,
                  o.cpu_ms);
    }
    return 0;
  }
  const auto pages = pages_for(path);
  // The indexes migration 3 adds (the tallies cannot be dropped: the pages read them).
  std::vector<std::pair<std::string, std::string>> indexes;
  {
    sqlite3* db = nullptr;
    sqlite3_open(path.c_str(), &db);
    auto* q = prepare(db, "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND name IN "
                          "('session_find_started') ORDER BY name");
    while (sqlite3_step(q) == SQLITE_ROW) {
      indexes.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(q, 0)),
                           reinterpret_cast<const char*>(sqlite3_column_text(q, 1)));
    }
    sqlite3_finalize(q);
    sqlite3_close(db);
  }
  std::vector<Timing> with;
  {
    acctlab::web::Site site(path);
    for (const auto& page : pages) {
      with.push_back(time_page(site, page.target, 5));
    }
  }
  std::vector<std::vector<Timing>> without;
  for (const auto& [name, sql] : indexes) {
    sqlite3* db = nullptr;
    sqlite3_open(path.c_str(), &db);
    exec(db, ("DROP INDEX " + name).c_str());
    sqlite3_close(db);
    std::vector<Timing> t;
    {
      acctlab::web::Site site(path);
      for (const auto& page : pages) {
        t.push_back(time_page(site, page.target, 3));
      }
    }
    sqlite3_open(path.c_str(), &db);
    exec(db, sql.c_str());
    exec(db, "ANALYZE");
    sqlite3_close(db);
    without.push_back(std::move(t));
  }
  std::printf("| page | target | schema v3: ms (CPU ms)");
  for (const auto& index : indexes) {
    std::printf(" | without %s", index.first.c_str());
  }
  std::printf(" |\n|---|---|---:");
  for (std::size_t i = 0; i < indexes.size(); ++i) {
    std::printf("|---:");
  }
  std::printf("|\n");
  for (std::size_t i = 0; i < pages.size(); ++i) {
    std::printf("| %s | `%s` | %.1f (%.1f)", pages[i].name.c_str(), pages[i].target.c_str(),
                with[i].wall_ms, with[i].cpu_ms);
    for (const auto& t : without) {
      std::printf(" | %.1f (%.1f)", t[i].wall_ms, t[i].cpu_ms);
    }
    std::printf(" |\n");
  }
  return 0;
}
