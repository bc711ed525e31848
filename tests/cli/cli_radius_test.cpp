// The acctlab binary's decode / encode / dict commands and the demo, run as a user runs them.

#include "tests/support/run_command.hpp"

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sqlite3.h>
#include <string>
#include <sys/wait.h>

namespace {

using acctlab::test::run_acctlab;

/** The first column of the first row of sql over the SQLite file at path (-1 on failure). */
std::int64_t count(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  std::int64_t result = -1;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
      result = sqlite3_column_int64(stmt, 0);
    }
    sqlite3_finalize(stmt);
  }
  sqlite3_close(db);
  return result;
}

} // namespace

TEST_CASE("encode then decode with the secret says the authenticator is valid", "[cli]") {
  auto encoded = run_acctlab("encode 'Accounting-Request id=4 { Acct-Session-Id = \"00000001\", "
                             "Acct-Status-Type = Start }' --secret testing123");
  REQUIRE(encoded.status == 0);
  std::string hex = encoded.output;
  hex.erase(hex.find_last_not_of("\n") + 1);
  CHECK(hex.size() == 2 * 36);
  auto good = run_acctlab("decode " + hex + " --secret testing123");
  CHECK(good.status == 0);
  CHECK(good.output.find("Acct-Session-Id = \"00000001\"") != std::string::npos);
  CHECK(good.output.find("Request Authenticator: valid") != std::string::npos);
  auto bad = run_acctlab("decode " + hex + " --secret wrong");
  CHECK(bad.status == 3);
  CHECK(bad.output.find("Request Authenticator: INVALID") != std::string::npos);
}

TEST_CASE("malformed input gets a one-line reason and a non-zero exit", "[cli]") {
  auto truncated = run_acctlab("decode 0401002000000000000000000000000000000000");
  CHECK(truncated.status == 2);
  CHECK(truncated.output.find("length_exceeds_datagram at offset 2") != std::string::npos);
  auto not_hex = run_acctlab("decode zz");
  CHECK(not_hex.status != 0);
  CHECK(not_hex.output.find("not a hex digit") != std::string::npos);
  auto bad_text = run_acctlab("encode 'Accounting-Request id=1 { No-Such-Attribute = 1 }'");
  CHECK(bad_text.status == 2);
  CHECK(bad_text.output.find("No-Such-Attribute") != std::string::npos);
}

TEST_CASE("encode refuses a packet longer than RFC 2865 allows", "[cli]") {
  // Seventeen 240-octet values: each attribute is legal, the packet (20 + 17 x 242 = 4134
  // octets) is not; sixteen (3892 octets) still encode.
  const std::string value(240, 'u');
  auto text = [&](int count) {
    std::string body;
    for (int i = 0; i < count; ++i) {
      body += (i ? ", " : "") + std::string("User-Name = \"") + value + "\"";
    }
    return "encode 'Accounting-Request id=1 { " + body + " }'";
  };
  auto fits = run_acctlab(text(16));
  CHECK(fits.status == 0);
  CHECK(fits.output.size() == 2 * 3892 + 1);
  auto too_long = run_acctlab(text(17));
  CHECK(too_long.status == 2);
  CHECK(too_long.output.find("4134 octets; RFC 2865 §3 allows 4096") != std::string::npos);
}

TEST_CASE("dict looks up by name, number and vendor number", "[cli]") {
  auto by_name = run_acctlab("dict Acct-Terminate-Cause");
  CHECK(by_name.status == 0);
  CHECK(by_name.output.find("number: 49") != std::string::npos);
  CHECK(by_name.output.find("Idle-Timeout = 4") != std::string::npos);
  auto vendor = run_acctlab("dict 26.9.1");
  CHECK(vendor.output.find("Cisco-AVPair") != std::string::npos);
  auto missing = run_acctlab("dict No-Such");
  CHECK(missing.status == 1);
  auto other = run_acctlab("dict Acct-Session-Id --dictionary /usr/share/freeradius/dictionary");
  CHECK(other.status == 0);
  CHECK(other.output.find("/usr/share/freeradius/dictionary.rfc2866") != std::string::npos);
  auto broken = run_acctlab("dict X --dictionary /nonexistent/dictionary");
  CHECK(broken.status != 0);
  CHECK(broken.output.find("cannot read") != std::string::npos);
}

TEST_CASE("demo reproduces the document's Start record, passes every scenario and serves the "
          "reports",
          "[cli][demo]") {
  char dir_template[] = "/tmp/acctlab-demo-XXXXXX";
  REQUIRE(mkdtemp(dir_template));
  const std::string dir = dir_template;
  auto demo = run_acctlab("demo --dir " + dir);
  INFO(demo.output);
  CHECK(demo.status == 0);
  CHECK(demo.output.find("len 220") != std::string::npos);
  CHECK(demo.output.find("RADIUS: Cisco AVpair [1] 29 \"isakmp-initator-ip=11.1.2.2\"") !=
        std::string::npos);
  CHECK(demo.output.find("length as the document prints it (220): yes") != std::string::npos);
  CHECK(demo.output.find(" FAIL") == std::string::npos);
  CHECK(demo.output.find("scenarios passed; document record reproduced") != std::string::npos);
  // The strongSwan step ran and passed, or said plainly why it could not run.
  CHECK(demo.output.find("== 2b. A real NAS") != std::string::npos);
  CHECK((demo.output.find("strongSwan lab passed") != std::string::npos ||
         (demo.output.find("   SKIPPED: ") != std::string::npos &&
          demo.output.find("strongSwan lab skipped (") != std::string::npos)));
  std::ifstream report(dir + "/report.json");
  CHECK(report.good());

  // The web step: not on a terminal, so it serves the combined database on a free port, checks
  // the overview, the document's session and the overview JSON over HTTP, and stops.
  CHECK(demo.output.find("== 4. The reports in a browser") != std::string::npos);
  CHECK(demo.output.find("self-check over HTTP") != std::string::npos);
  CHECK(demo.output.find("NOT AS EXPECTED") == std::string::npos);
  std::size_t ok_lines = 0;
  for (auto pos = demo.output.find("  ok\n"); pos != std::string::npos;
       pos = demo.output.find("  ok\n", pos + 1)) {
    ++ok_lines;
  }
  CHECK(ok_lines == 4); // the overview, the document's Start, a session with interims, the JSON
  // The combined database holds every scenario database's sessions, each under its file's name.
  std::int64_t expected_sessions = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".db" && entry.path().stem() != "all-scenarios") {
      expected_sessions += count(entry.path().string(), "SELECT count(*) FROM sessions");
    }
  }
  CHECK(expected_sessions > 0);
  const auto all = dir + "/all-scenarios.db";
  CHECK(count(all, "SELECT count(*) FROM sessions") == expected_sessions);
  // The document's three listings are three sessions: joe's Start (still open), the Stop of
  // 00000002, the Interim-Update of 00000003 (open).
  CHECK(count(all, "SELECT count(*) FROM sessions WHERE unique_id LIKE 'document-debug-1/%' AND "
                   "user_name = 'joe@cclient' AND state = 'open'") == 1);
  CHECK(count(all,
              "SELECT count(*) FROM sessions WHERE unique_id LIKE 'document-debug-1/%' AND "
              "acct_session_id = '00000002' AND state = 'closed' AND session_time = 709") == 1);
  CHECK(demo.output.find("served: " + std::to_string(expected_sessions) + " sessions") !=
        std::string::npos);

  // --no-web skips the step.
  auto quiet = run_acctlab("demo --no-web --dir " + dir);
  CHECK(quiet.status == 0);
  CHECK(quiet.output.find("== 4.") == std::string::npos);
  std::filesystem::remove_all(dir);
}
