// The database door: packets stored as `acctlab serve` stores them, checked, and the findings
// written back linked to their packet, record and session rows.

#include "conformance/db_trace.hpp"
#include "conformance/profile.hpp"
#include "conformance/report.hpp"
#include "defect_corpus.hpp"
#include "radius/accounting_record.hpp"
#include "radius/packet_codec.hpp"
#include "storage/schema.hpp"
#include "storage/sqlite.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <sqlite3.h>

using namespace acctlab;
using namespace acctlab::conformance;

namespace {

void exec(sqlite3* db, const std::string& sql) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    const std::string message = error ? error : "?";
    sqlite3_free(error);
    FAIL(message);
  }
}

std::int64_t scalar(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* statement = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &statement, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(statement) == SQLITE_ROW);
  const auto value = sqlite3_column_int64(statement, 0);
  sqlite3_finalize(statement);
  return value;
}

} // namespace

TEST_CASE("check --db: findings are stored linked to packet, record and session",
          "[conformance][db]") {
  const auto& dict = radius::Dictionary::builtin();
  const auto path = std::filesystem::temp_directory_path() /
                    ("acctlab-conformance-db-" + std::to_string(::getpid()) + ".db");
  std::filesystem::remove(path);
  {
    // The server's own schema (storage/schema.cpp), as `acctlab serve` creates it.
    storage::Database created(path.string());
    storage::migrate(created);
  }
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);

  // Store the requests of a trace with a duplicate Start, as the server would: packet, record,
  // session rows. Responses are not stored.
  auto spec = corpus::clean_spec();
  corpus::Request again = spec.requests[0];
  again.time = 30;
  corpus::set(again.attrs, "NAS-Port", "1");
  spec.requests.push_back(again);
  const auto trace = corpus::build_trace(spec, dict);
  std::map<std::string, std::int64_t> sessions;
  std::int64_t packet_id = 0;
  for (const auto& packet : trace.packets) {
    if (packet.direction != Direction::to_server) {
      continue;
    }
    ++packet_id;
    sqlite3_stmt* insert = nullptr;
    REQUIRE(sqlite3_prepare_v2(db,
                               "INSERT INTO packets (id, receive_time, src_addr, src_port, "
                               "dst_addr, dst_port, code, verdict, raw) VALUES "
                               "(?, ?, '127.0.0.1', 40001, '127.0.0.1', 1813, 4, 'ok', ?)",
                               -1, &insert, nullptr) == SQLITE_OK);
    sqlite3_bind_int64(insert, 1, packet_id);
    sqlite3_bind_double(insert, 2, 1700000000.0 + packet.time);
    sqlite3_bind_blob(insert, 3, packet.raw.data(), static_cast<int>(packet.raw.size()),
                      SQLITE_TRANSIENT);
    REQUIRE(sqlite3_step(insert) == SQLITE_DONE);
    sqlite3_finalize(insert);
    const auto record =
        radius::make_accounting_record(*radius::decode_packet(packet.raw, dict), dict);
    auto [it, inserted] = sessions.try_emplace(record.session_id, sessions.size() + 1);
    if (inserted) {
      exec(db, "INSERT INTO sessions (id, nas_key, acct_session_id, unique_id, state, "
               "last_record_time) VALUES (" +
                   std::to_string(it->second) + ", '10.1.1.147', '" + record.session_id + "', 'u" +
                   record.session_id + "', 'open', 0)");
    }
    exec(db, "INSERT INTO records (packet_id, session_row, acct_session_id, nas_identity, "
             "event_time, receive_time) VALUES (" +
                 std::to_string(packet_id) + ", " + std::to_string(it->second) + ", '" +
                 record.session_id + "', '10.1.1.147', 0, 0)");
  }

  DbTraceOptions options;
  options.secret = "testing123";
  const auto loaded = load_trace_from_db(path.string(), options);
  REQUIRE(loaded);
  CHECK(loaded->packets.size() == static_cast<std::size_t>(packet_id));
  CHECK_FALSE(loaded->responses_recorded);
  auto profile = load_profile("cisco-ios-ipsec", dict);
  REQUIRE(profile);
  const auto verdict = check_trace(*loaded, *profile, dict);
  std::vector<std::string> errors;
  for (const auto& finding : verdict.findings) {
    if (finding.severity == Severity::error) {
      errors.push_back(finding.rule_id);
    }
  }
  // No EXC-UNANSWERED: the database keeps requests only.
  CHECK(errors == std::vector<std::string>{"SES-DUPLICATE-START"});

  const auto run = store_findings(path.string(), verdict, render_json(verdict));
  REQUIRE(run);
  CHECK(scalar(db, "SELECT COUNT(*) FROM findings WHERE run_id = " + std::to_string(*run)) ==
        static_cast<std::int64_t>(verdict.findings.size()));
  CHECK(scalar(db, "SELECT COUNT(*) FROM runs WHERE kind = 'conform' AND verdict = 'fail'") == 1);
  // The duplicate Start's finding points at the second Start's packet, record and session 1.
  const auto duplicate_packet =
      scalar(db, "SELECT packet_id FROM findings WHERE rule_id = 'SES-DUPLICATE-START'");
  CHECK(scalar(db, "SELECT receive_time - 1700000000 FROM packets WHERE id = " +
                       std::to_string(duplicate_packet)) == 30);
  CHECK(scalar(db, "SELECT session_id FROM findings WHERE rule_id = 'SES-DUPLICATE-START'") ==
        sessions.at("00000001"));
  CHECK(scalar(db, "SELECT record_id IS NOT NULL FROM findings WHERE rule_id = "
                   "'SES-DUPLICATE-START'") == 1);

  const auto missing = load_trace_from_db((path.string() + ".absent"));
  CHECK_FALSE(missing);
  sqlite3_close(db);
  std::filesystem::remove(path);
}
