// The import judge in parts against the whole-run judge: one capture imported once, the database
// copied, one copy judged by check_trace over the whole run, the other in parts of a few dozen
// packets. The findings tables must be equal row for row (ids, order, links, file, frame) and the
// summaries (what runs.report shows) field for field.
//
// The capture interleaves every defect-corpus case (each with its own sessions and client port,
// all from one NAS, so the Accounting-On/Off and rekey cases reach the other cases' sessions) with
// generated traffic from 16 NASes (lost and retransmitted requests), so sessions spread over many
// parts of the trace and the cross-session rules link packets of different parts.
//
// On SQLite files, and again with ACCTLAB_TEST_ENGINE=postgres on databases of a private
// PostgreSQL cluster (tests/support/test_engine.hpp): the import writes PostgreSQL in a run scope
// of its own, the judge reads its packets from there and stores its findings there. What was
// stored is read through storage's read API (tests/support/stored_db.hpp).

#include "conformance/pcap_trace.hpp"
#include "conformance/profile.hpp"
#include "defect_corpus.hpp"
#include "pcap/accounting_traffic.hpp"
#include "pcap/capture_import.hpp"
#include "pcap/pcap_writer.hpp"
#include "tests/support/stored_db.hpp"
#include "tests/support/test_db.hpp"
#include "tests/support/test_engine.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <set>
#include <unistd.h>

using namespace acctlab;
using namespace acctlab::conformance;

namespace {

namespace fs = std::filesystem;

capture::Endpoint endpoint(const std::string& text) {
  const auto colon = text.rfind(':');
  return {*capture::IpAddress::parse(text.substr(0, colon)),
          static_cast<std::uint16_t>(std::stoi(text.substr(colon + 1)))};
}

constexpr double epoch = 1'700'000'000.0;

void write_capture(const std::string& path, const std::vector<TracePacket>& packets) {
  std::string error;
  auto writer = capture::PcapWriter::create(path, error, capture::PcapWriter::Precision::nano);
  REQUIRE(writer);
  std::uint32_t ip_id = 1;
  for (const auto& packet : packets) {
    capture::UdpFrameSpec frame;
    frame.timestamp_ns = static_cast<std::int64_t>((epoch + packet.time) * 1e9);
    frame.source = endpoint(packet.source);
    frame.destination = endpoint(packet.destination);
    frame.ip_id = ip_id++;
    REQUIRE(writer->write_udp(frame, packet.raw));
  }
  REQUIRE(writer->close());
}

void check_same(const capture::ConformanceSummary& a, const capture::ConformanceSummary& b) {
  CHECK(a.profile == b.profile);
  CHECK(a.verdict == b.verdict);
  CHECK(a.rules == b.rules);
  CHECK(a.rules_failed == b.rules_failed);
  CHECK(a.errors == b.errors);
  CHECK(a.warnings == b.warnings);
  CHECK(a.infos == b.infos);
  CHECK(a.findings_stored == b.findings_stored);
  CHECK(a.findings_with_frame == b.findings_with_frame);
  REQUIRE(a.by_rule.size() == b.by_rule.size());
  for (std::size_t i = 0; i < a.by_rule.size(); ++i) {
    INFO("by_rule " << i << " " << a.by_rule[i].rule_id);
    CHECK(a.by_rule[i].rule_id == b.by_rule[i].rule_id);
    CHECK(a.by_rule[i].severity == b.by_rule[i].severity);
    CHECK(a.by_rule[i].count == b.by_rule[i].count);
  }
  REQUIRE(a.examples.size() == b.examples.size());
  for (std::size_t i = 0; i < a.examples.size(); ++i) {
    INFO("example " << i << " " << a.examples[i].message);
    CHECK(a.examples[i].rule_id == b.examples[i].rule_id);
    CHECK(a.examples[i].severity == b.examples[i].severity);
    CHECK(a.examples[i].message == b.examples[i].message);
    CHECK(a.examples[i].file == b.examples[i].file);
    CHECK(a.examples[i].frame == b.examples[i].frame);
  }
  REQUIRE(a.results.size() == b.results.size());
  for (std::size_t i = 0; i < a.results.size(); ++i) {
    INFO("rule " << a.results[i].id);
    CHECK(a.results[i].id == b.results[i].id);
    CHECK(a.results[i].passed == b.results[i].passed);
  }
}

} // namespace

TEST_CASE("The import judge in parts gives the whole-run judge's findings, in its order",
          "[conformance][pcap][parts]") {
  const auto& dict = radius::Dictionary::builtin();
  const auto dir = fs::temp_directory_path() / ("acctlab-run-judge-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const auto corpus_file = (dir / "corpus.pcap").string();
  const auto generated_file = (dir / "generated.pcap").string();
  write_capture(corpus_file, corpus::interleaved_cases(dict));

  capture::TrafficSpec traffic;
  traffic.exchanges = 3000;
  traffic.nas_count = 16;
  traffic.requests_per_second = 6; // spread over the corpus's ten minutes
  traffic.lost = 0.02;
  traffic.retransmitted = 0.02;
  traffic.start_ns = static_cast<std::int64_t>(epoch * 1e9);
  capture::TrafficTruth truth;
  std::string error;
  REQUIRE(capture::write_accounting_capture(generated_file, traffic, truth, error));

  std::string parse_error;
  auto secrets = capture::ClientSecrets::parse(
      "client all {\n ipaddr = 0.0.0.0/0\n secret = testing123\n shortname = all\n}\n", "test",
      parse_error);
  REQUIRE(secrets);
  capture::AnalysisOptions analysis;
  analysis.secrets = &*secrets;
  analysis.dictionary = &dict;
  capture::ImportOptions import;
  import.database = test::fresh_database((dir / "whole.db").string(), "run_judge_whole");
  const auto imported = capture::import_captures({corpus_file, generated_file}, analysis, import,
                                                 capture::RunJudge{});
  REQUIRE(imported.import);
  const auto run_id = imported.import->run_id;
  const auto whole_db = import.database;
  const auto parts_db =
      test::copy_database(whole_db, (dir / "parts.db").string(), "run_judge_parts");

  auto profile = load_profile("cisco-ios-ipsec", dict);
  REQUIRE(profile);
  RunJudgeStats whole_stats;
  RunJudgeOptions whole_options;
  whole_options.part_packets = 0;
  whole_options.stats = &whole_stats;
  const auto whole =
      judge_imported_run(whole_db, run_id, &*secrets, *profile, dict, 60.0, whole_options);
  REQUIRE(whole);

  constexpr std::size_t part_packets = 64;
  RunJudgeStats stats;
  RunJudgeOptions options;
  options.part_packets = part_packets;
  options.stats = &stats;
  const auto parts = judge_imported_run(parts_db, run_id, &*secrets, *profile, dict, 60.0, options);
  INFO((parts ? std::string() : parts.error()));
  REQUIRE(parts);

  // Many parts, none holding the run.
  CHECK(whole_stats.parts == 1);
  CHECK(stats.packets == whole_stats.packets);
  CHECK(stats.parts >= stats.packets / part_packets);
  CHECK(stats.parts >= 50);
  CHECK(stats.largest_part < stats.packets / 10);

  const auto a = [&](const std::string& sql) { return test::stored_rows(whole_db, sql); };
  const auto b = [&](const std::string& sql) { return test::stored_rows(parts_db, sql); };
  // The irregular cases are there, so the comparison covers them (and the cross-part rules).
  std::set<std::string> rules;
  for (const auto& row : a("SELECT DISTINCT rule_id FROM findings")) {
    rules.insert(row[0]);
  }
  for (const char* rule :
       {"SES-NO-START", "SES-AFTER-STOP", "SES-DUPLICATE-START", "PKT-REQUEST-AUTHENTICATOR",
        "PKT-MESSAGE-AUTHENTICATOR", "PKT-MALFORMED", "EXC-UNANSWERED", "EXC-UNMATCHED-RESPONSE",
        "RFC5080-CHANGED-SAME-ID", "RFC5080-RESEND-NEW-ID", "SES-REKEY-NEW-SESSION",
        "SES-ACCT-ON-OPEN", "SES-AFTER-ACCT-ON", "SES-INTERIM-CADENCE", "SES-NO-STOP"}) {
    INFO(rule);
    CHECK(rules.count(rule) == 1);
  }
  // Bad authenticators were stored as such (not records), and still judged.
  CHECK(test::stored_count(whole_db,
                           "SELECT count(*) FROM packets WHERE verdict = 'bad-authenticator'") > 0);
  // Sessions whose records lie further apart in the trace than a part holds: cutting the trace
  // into parts by packet order would split them.
  const auto spread =
      a("WITH ordered AS (SELECT id, row_number() OVER (ORDER BY receive_time, id) AS n "
        "FROM packets WHERE run_id = " +
        std::to_string(run_id) +
        ") SELECT count(*) FROM (SELECT r.session_row FROM records r JOIN ordered o "
        "ON o.id = r.packet_id WHERE r.session_row IS NOT NULL GROUP BY r.session_row "
        "HAVING max(o.n) - min(o.n) > " +
        std::to_string(part_packets) + ") AS spread");
  CHECK(std::stoi(spread[0][0]) > 100);

  const std::string findings = "SELECT id, run_id, rule_id, severity, scope, message, packet_id, "
                               "record_id, session_id, file, frame FROM findings ORDER BY id";
  const auto expected = a(findings);
  const auto got = b(findings);
  CHECK(expected.size() > 1000);
  CHECK(acctlab::test::count_differing_rows(expected, got) == 0);
  // What the viewer tallies from them (the finding triggers) is the same too.
  CHECK(a("SELECT * FROM finding_tally ORDER BY 1, 2, 3, 4") ==
        b("SELECT * FROM finding_tally ORDER BY 1, 2, 3, 4"));
  check_same(*whole, *parts);

  test::remove_database(whole_db, whole_db);
  test::remove_database(parts_db, parts_db);
  fs::remove_all(dir);
}
