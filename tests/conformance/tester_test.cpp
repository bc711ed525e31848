// acctlab conform end to end: the reference gateway against embedded servers on loopback, their
// SQLite databases read back, and the verdict of the rules.

#include "conformance/tester.hpp"

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <sqlite3.h>

using namespace acctlab;
using namespace acctlab::conformance;

namespace {

const Profile& cisco() {
  static const Profile profile = [] {
    auto loaded = load_profile("cisco-ios-ipsec", radius::Dictionary::builtin());
    REQUIRE(loaded);
    return std::move(loaded).value();
  }();
  return profile;
}

TesterOptions options_in(const std::string& name) {
  TesterOptions options;
  options.work_dir = (std::filesystem::temp_directory_path() /
                      ("acctlab-tester-" + std::to_string(::getpid()) + "-" + name))
                         .string();
  return options;
}

void exec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  REQUIRE(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);
}

} // namespace

TEST_CASE("every gateway scenario passes against the embedded server", "[conformance][tester]") {
  const auto& dict = radius::Dictionary::builtin();
  const auto scenarios = scenario_library();
  REQUIRE(scenarios.size() >= 10);
  const auto options = options_in("all");
  std::size_t errors = 0;
  std::size_t records = 0;
  for (const auto& path : scenarios) {
    const auto result = run_conformance(path, cisco(), dict, options);
    INFO("scenario " << result.name << ": " << result.error);
    for (const auto& failure : result.pipeline_failures) {
      UNSCOPED_INFO("pipeline: " << failure);
    }
    CHECK(result.error.empty());
    CHECK(result.pipeline_failures.empty());
    CHECK(result.records > 0);
    CHECK(result.answers > 0);
    CHECK_FALSE(result.databases.empty());
    records += result.records;
    for (const auto& finding : result.verdict.findings) {
      if (finding.severity == Severity::error) {
        ++errors;
        UNSCOPED_INFO(finding.rule_id << ": " << finding.message);
      }
      // The only warning a clean gateway draws is the document's own Acct-Terminate-Cause 0.
      if (finding.severity == Severity::warning) {
        CHECK(finding.rule_id == "PKT-TERMINATE-CAUSE-ZERO");
      }
    }
    CHECK(result.passed());
  }
  std::printf("conformance tester: %zu gateway scenarios, %zu records, %zu error findings\n",
              scenarios.size(), records, errors);
  CHECK(errors == 0);
  std::filesystem::remove_all(options.work_dir);
}

TEST_CASE("the database comparison sees a lost record and wrong totals", "[conformance][tester]") {
  const auto& dict = radius::Dictionary::builtin();
  const auto options = options_in("mismatch");
  const auto result = run_conformance(resolve_scenario("one-session"), cisco(), dict, options);
  REQUIRE(result.passed());
  REQUIRE(result.databases.size() == result.endpoints.size());
  const auto& db = result.databases.front();
  const auto& endpoint = result.endpoints.front();
  CHECK(database_mismatches(result.trace, cisco(), dict, endpoint, db).empty());

  // Findings of the run are stored, linked to the stored packets.
  sqlite3* handle = nullptr;
  REQUIRE(sqlite3_open(db.c_str(), &handle) == SQLITE_OK);
  sqlite3_stmt* statement = nullptr;
  REQUIRE(sqlite3_prepare_v2(handle,
                             "SELECT COUNT(*), COUNT(packet_id) FROM findings f JOIN runs r ON "
                             "r.id = f.run_id WHERE r.kind = 'conform'",
                             -1, &statement, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(statement) == SQLITE_ROW);
  CHECK(sqlite3_column_int(statement, 0) == static_cast<int>(result.verdict.findings.size()));
  CHECK(sqlite3_column_int(statement, 1) == sqlite3_column_int(statement, 0));
  sqlite3_finalize(statement);
  sqlite3_close(handle);

  exec(db, "UPDATE sessions SET input_octets = input_octets + 1");
  auto mismatches = database_mismatches(result.trace, cisco(), dict, endpoint, db);
  REQUIRE(mismatches.size() == 1);
  CHECK(mismatches[0].find("stores session time") != std::string::npos);

  exec(db, "DELETE FROM findings; DELETE FROM records WHERE status_type = 2");
  mismatches = database_mismatches(result.trace, cisco(), dict, endpoint, db);
  bool lost = false;
  for (const auto& line : mismatches) {
    lost = lost || line.find("record Stop \"00000001\"") != std::string::npos;
  }
  CHECK(lost);
  std::filesystem::remove_all(options.work_dir);
}

TEST_CASE("a server that does not answer fails the scenario", "[conformance][tester]") {
  // A bound UDP socket that never answers: the gateway retransmits, then gives up.
  const auto& dict = radius::Dictionary::builtin();
  auto options = options_in("silent");
  options.answer_wait_seconds = 0.05;
  // Port 9 (discard) on loopback: nothing listens, so nothing answers.
  options.server = "127.0.0.1:9";
  const auto result = run_conformance(resolve_scenario("stop-only"), cisco(), dict, options);
  REQUIRE(result.error.empty());
  CHECK_FALSE(result.passed());
  CHECK(result.databases.empty());
  bool unanswered = false;
  for (const auto& finding : result.verdict.findings) {
    unanswered = unanswered || finding.rule_id == "EXC-UNANSWERED";
  }
  CHECK(unanswered);
  CHECK_FALSE(result.pipeline_failures.empty()); // the gateway gave up on the record
}

TEST_CASE("event log lines become a trace", "[conformance][tester]") {
  const auto trace = trace_from_event_log(
      "{\"time_ms\":0,\"event\":\"record\",\"kind\":\"start\"}\n"
      "{\"time_ms\":1500,\"event\":\"sent\",\"server\":\"127.0.0.1:1813\",\"local_port\":40000,"
      "\"packet\":\"04010014000000000000000000000000000000ff\"}\n"
      "{\"time_ms\":1502,\"event\":\"answer\",\"server\":\"127.0.0.1:1813\",\"local_port\":40000,"
      "\"packet\":\"05010014000000000000000000000000000000ff\"}\n"
      "{\"time_ms\":1600,\"event\":\"lost\",\"server\":\"127.0.0.1:1814\",\"local_port\":40000,"
      "\"packet\":\"0401001400000000000000000000000000000000\"}\n");
  REQUIRE(trace);
  REQUIRE(trace->packets.size() == 2);
  CHECK(trace->packets[0].source == "127.0.0.1:40000");
  CHECK(trace->packets[0].direction == Direction::to_server);
  CHECK(trace->packets[1].destination == "127.0.0.1:40000");
  CHECK(trace->packets[1].time == Approx(1.502));
  CHECK_FALSE(trace_from_event_log("{\"event\":\"sent\"}\n"));
  CHECK_FALSE(trace_from_event_log("not json\n"));
}
