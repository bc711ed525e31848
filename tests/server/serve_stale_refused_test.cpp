// `acctlab serve` on a database that refuses to mark one session stale (a trigger): the server
// logs it once with the database's reason, counts it in the stats line, keeps checking the other
// sessions, and answers the requests that arrive meanwhile. radclient sends over UDP.

#include "../storage/storage_test_util.hpp"
#include "server_test_util.hpp"
#include "storage/pg_connection.hpp"
#include "storage/pg_schema.hpp"
#include "storage/read_db.hpp"
#include "storage/schema.hpp"
#include "storage/sqlite.hpp"
#include "tests/support/test_engine.hpp"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <thread>
#include <unistd.h>

using namespace acctlab;

namespace {

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
    ++n;
  }
  return n;
}

/** Sends one Accounting-Request with radclient; whether it was answered. */
bool send(const test::TempDir& dir, std::uint16_t port, const std::string& name,
          const std::string& body) {
  const auto request = dir.file(name + ".txt");
  std::ofstream(request) << body;
  const auto output = dir.file(name + ".out");
  const int status =
      std::system(("radclient -r 1 -t 3 -D /usr/share/freeradius -f " + request +
                   " 127.0.0.1:" + std::to_string(port) + " acct testing123 > " + output + " 2>&1")
                      .c_str());
  return status == 0 &&
         test::read_file(output).find("Received Accounting-Response") != std::string::npos;
}

std::string start_of(const std::string& session_id) {
  // Acct-Interim-Interval 1: stale after 3 s without a record.
  return "Acct-Session-Id = \"" + session_id +
         "\"\nNAS-IP-Address = 192.0.2.9\nAcct-Status-Type = Start\nAcct-Interim-Interval = 1\n"
         "Acct-Delay-Time = 0\n";
}

} // namespace

TEST_CASE("serve: a stale mark the database refuses is logged once with its reason and counted, "
          "the others are marked and requests answered",
          "[server][stale][radclient]") {
  if (::access("/usr/bin/radclient", X_OK) != 0) {
    FAIL("radclient is not installed (Debian package freeradius-utils)");
  }
  test::TempDir dir;
  const auto db = test::fresh_database(dir.file("acct.db"), "serve_stale_refused");
  if (storage::is_postgres_uri(db)) {
    storage::PgConnection pg(db);
    storage::migrate_postgres(pg);
    pg.exec("CREATE FUNCTION refuse_stale() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RAISE "
            "EXCEPTION ''no stale mark for S''; END'");
    pg.exec("CREATE TRIGGER refuse_stale BEFORE UPDATE ON sessions FOR EACH ROW WHEN "
            "(NEW.state = 'stale' AND NEW.acct_session_id = 'S') EXECUTE FUNCTION "
            "refuse_stale()");
  } else {
    storage::Database sqlite(db);
    storage::migrate(sqlite);
    sqlite.exec("CREATE TRIGGER refuse_stale BEFORE UPDATE ON sessions WHEN NEW.state = 'stale' "
                "AND NEW.acct_session_id = 'S' BEGIN SELECT RAISE(ABORT, 'no stale mark for S'); "
                "END");
  }

  test::ServerProcess process({"serve", "--listen", "127.0.0.1:0", "--db", db, "--stats", "0"},
                              dir.file("serve.log"));
  const auto port = process.wait_for_port();
  INFO(process.log());
  REQUIRE(port != 0);
  REQUIRE(send(dir, port, "start-s", start_of("S")));
  REQUIRE(send(dir, port, "start-k", start_of("K")));

  // Stale after 3 s, checked every 5 s: the refusal is logged by about 8 s (bounded wait).
  const std::string line = "the database refused to mark session S of NAS 192.0.2.9 stale";
  for (int i = 0; i < 100 && occurrences(process.log(), line) == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
  }
  INFO(process.log());
  CHECK(occurrences(process.log(), line) == 1);
  CHECK(occurrences(process.log(), "no stale mark for S") == 1);
  // Answered meanwhile, and two more checks later still said once.
  CHECK(send(dir, port, "start-a", start_of("A")));
  std::this_thread::sleep_for(std::chrono::seconds(10));
  process.signal(SIGTERM);
  CHECK(process.wait() == 0);
  const auto log = process.log();
  INFO(log);
  CHECK(occurrences(log, line) == 1);
  CHECK(log.find("stale_refused=1 ") != std::string::npos);

  storage::ReadOnlyDatabase reader(db);
  auto states = reader.prepare(
      "SELECT acct_session_id || '=' || state FROM sessions WHERE acct_session_id IN ('S', 'K') "
      "ORDER BY acct_session_id");
  std::string seen;
  while (states.step()) {
    seen += states.text(0) + " ";
  }
  CHECK(seen == "K=stale S=open ");
}
