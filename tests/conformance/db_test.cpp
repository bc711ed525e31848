// The database door: packets stored as `acctlab serve` stores them, checked, and the findings
// written back linked to their packet, record and session rows. On a SQLite file, and with
// ACCTLAB_TEST_ENGINE=postgres on a database of a private PostgreSQL cluster.

#include "conformance/db_trace.hpp"
#include "conformance/profile.hpp"
#include "conformance/report.hpp"
#include "defect_corpus.hpp"
#include "radius/accounting_record.hpp"
#include "radius/packet_codec.hpp"
#include "tests/support/stored_db.hpp"
#include "tests/support/stored_run_writer.hpp"
#include "tests/support/test_engine.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <unistd.h>

using namespace acctlab;
using namespace acctlab::conformance;

TEST_CASE("check --db: findings are stored linked to packet, record and session",
          "[conformance][db]") {
  const auto& dict = radius::Dictionary::builtin();
  const auto path = (std::filesystem::temp_directory_path() /
                     ("acctlab-conformance-db-" + std::to_string(::getpid()) + ".db"))
                        .string();
  // The server's own schema (storage's migrations), as `acctlab serve` creates it.
  const auto database = test::fresh_database(path, "conformance_db");
  const auto scalar = [&](const std::string& sql) { return test::stored_count(database, sql); };

  // Store the requests of a trace with a duplicate Start, as the server would: packet, record,
  // session rows. Responses are not stored.
  auto spec = corpus::clean_spec();
  corpus::Request again = spec.requests[0];
  again.time = 30;
  corpus::set(again.attrs, "NAS-Port", "1");
  spec.requests.push_back(again);
  const auto trace = corpus::build_trace(spec, dict);
  std::map<std::string, std::int64_t> sessions;
  std::size_t stored = 0;
  {
    test::StoredRunWriter db(database);
    for (const auto& packet : trace.packets) {
      if (packet.direction != Direction::to_server) {
        continue;
      }
      ++stored;
      const auto packet_id = db.packet({.receive_time = 1700000000.0 + packet.time,
                                        .src_addr = "127.0.0.1",
                                        .src_port = 40001,
                                        .dst_addr = "127.0.0.1",
                                        .dst_port = 1813,
                                        .code = 4,
                                        .raw = packet.raw});
      const auto record =
          radius::make_accounting_record(*radius::decode_packet(packet.raw, dict), dict);
      auto [it, inserted] = sessions.try_emplace(record.session_id, 0);
      if (inserted) {
        it->second = db.session("10.1.1.147", record.session_id, "u" + record.session_id);
      }
      db.record(packet_id, it->second, record.session_id, "10.1.1.147");
    }
    db.commit();
  }

  DbTraceOptions options;
  options.secret = "testing123";
  const auto loaded = load_trace_from_db(database, options);
  REQUIRE(loaded);
  CHECK(loaded->packets.size() == stored);
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

  const auto run = store_findings(database, verdict, render_json(verdict));
  REQUIRE(run);
  CHECK(scalar("SELECT COUNT(*) FROM findings WHERE run_id = " + std::to_string(*run)) ==
        static_cast<std::int64_t>(verdict.findings.size()));
  CHECK(scalar("SELECT COUNT(*) FROM runs WHERE kind = 'conform' AND verdict = 'fail'") == 1);
  // The duplicate Start's finding points at the second Start's packet, record and session.
  const auto duplicate_packet =
      scalar("SELECT packet_id FROM findings WHERE rule_id = 'SES-DUPLICATE-START'");
  CHECK(scalar("SELECT CAST(receive_time - 1700000000 AS INTEGER) FROM packets WHERE id = " +
               std::to_string(duplicate_packet)) == 30);
  CHECK(scalar("SELECT session_id FROM findings WHERE rule_id = 'SES-DUPLICATE-START'") ==
        sessions.at("00000001"));
  CHECK(scalar("SELECT CASE WHEN record_id IS NOT NULL THEN 1 ELSE 0 END FROM findings WHERE "
               "rule_id = 'SES-DUPLICATE-START'") == 1);

  if (test::on_postgres()) {
    auto absent = database;
    absent.replace(absent.find("t_conformance_db"), 16, "t_absent");
    CHECK_FALSE(load_trace_from_db(absent));
  } else {
    CHECK_FALSE(load_trace_from_db(path + ".absent"));
    std::filesystem::remove(path);
  }
}
