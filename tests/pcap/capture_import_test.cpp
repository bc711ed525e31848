// `acctlab pcap analyze --db`: a capture of a real gateway run (the reference gateway against
// `acctlab serve` on loopback, written as a pcap by the project's writer) imported into SQLite
// as a run, compared with what the server itself stored from the same traffic.

#include "gateway_capture.hpp"
#include "storage/sqlite.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <map>
#include <set>
#include <sys/wait.h>

using namespace acctlab;
using namespace acctlab::capture;
using namespace acctlab::capture::test;

namespace {

std::int64_t scalar(storage::Database& db, const std::string& sql) {
  return db.query_int64(sql).value_or(-1);
}

std::multiset<std::string> records_of(storage::Database& db, const std::string& where) {
  std::multiset<std::string> out;
  auto q = db.prepare("SELECT r.acct_session_id, r.status_type, r.input_octets, r.output_octets, "
                      "r.session_time FROM records AS r JOIN packets AS p ON p.id = r.packet_id " +
                      where);
  while (q.step()) {
    out.insert(q.column_text(0) + "/" + q.column_text(1) + "/" + q.column_text(2) + "/" +
               q.column_text(3) + "/" + q.column_text(4));
  }
  return out;
}

} // namespace

TEST_CASE("A gateway capture imported as a run matches what the server stored", "[pcap][import]") {
  const auto dir = scratch_dir("import");
  const auto capture = gateway_capture(dir, "periodic-interims.scn");
  const auto db_path = (dir / "import.db").string();
  const auto import_cmd = acctlab_binary + " pcap analyze " + capture.pcap.string() + " --db " +
                          db_path + " --secrets " + (dir / "clients.conf").string() +
                          " --interim-interval 60 --report json --out ";
  int status = 0;
  run(import_cmd + (dir / "first.json").string(), &status);
  REQUIRE(WEXITSTATUS(status) == 1); // judged: the wrong-secret Start fails it (docs/cli.md)

  const auto report = boost::json::parse(read_text(dir / "first.json")).as_object();
  const auto& import = report.at("import").as_object();
  const auto run_id = import.at("run_id").as_int64();

  storage::Database db(db_path);
  storage::Database served(capture.server_db.string());
  const auto run_key = std::to_string(run_id);

  // One run of kind 'pcap', judged, with the analysis report the web viewer's Runs page shows.
  CHECK(scalar(db, "SELECT count(*) FROM runs WHERE kind = 'pcap' AND id = " + run_key +
                       " AND finished IS NOT NULL AND verdict IN ('pass', 'fail')") == 1);
  auto stored = db.prepare("SELECT report FROM runs WHERE id = " + run_key);
  REQUIRE(stored.step());
  const auto stored_report = boost::json::parse(stored.column_text(0)).as_object();
  stored.reset();
  CHECK(stored_report.at("import").at("run_id").as_int64() == run_id);
  CHECK(stored_report.at("totals").at("requests") == report.at("totals").at("requests"));

  // Every RADIUS datagram is a packet row with its file and frame; the requests the server
  // accepted are records, the same ones the server stored.
  const auto requests = report.at("totals").at("requests").to_number<std::uint64_t>();
  const auto responses = report.at("totals").at("responses").to_number<std::uint64_t>();
  CHECK(scalar(db, "SELECT count(*) FROM packets WHERE run_id = " + run_key) ==
        static_cast<std::int64_t>(requests + responses));
  CHECK(scalar(db, "SELECT count(*) FROM packets WHERE run_id = " + run_key +
                       " AND (file IS NULL OR frame IS NULL OR file != '" + capture.pcap.string() +
                       "')") == 0);
  CHECK(scalar(db, "SELECT max(frame) FROM packets WHERE run_id = " + run_key) ==
        static_cast<std::int64_t>(capture.frames));
  const auto imported = records_of(db, "WHERE p.run_id = " + run_key);
  const auto server_records = records_of(served, "");
  CHECK(imported.size() == 7); // 1 Start, 5 Interim-Updates, 1 Stop
  CHECK(imported == server_records);
  CHECK(import.at("records").to_number<std::uint64_t>() == imported.size());

  // The request signed with another secret is kept with its verdict, never as a record.
  auto bad = db.prepare("SELECT id, verdict, reason FROM packets WHERE run_id = ?1 AND frame = ?2");
  bad.bind(1, run_id).bind(2, static_cast<std::int64_t>(capture.bad_frame));
  REQUIRE(bad.step());
  const auto bad_id = bad.column_int64(0);
  CHECK(bad.column_text(1) == "bad-authenticator");
  CHECK(bad.column_text(2).find("lab-gw") != std::string::npos);
  bad.reset();
  CHECK(scalar(db, "SELECT count(*) FROM records WHERE packet_id = " + std::to_string(bad_id)) ==
        0);
  CHECK(scalar(db, "SELECT count(*) FROM packets WHERE run_id = " + run_key +
                       " AND verdict != 'ok'") == 1);

  // Sessions by the server's matcher: the same one session, closed, as the server has it.
  CHECK(scalar(db, "SELECT count(*) FROM sessions WHERE state = 'closed' AND record_count = 7") ==
        1);
  CHECK(scalar(served, "SELECT count(*) FROM sessions WHERE state = 'closed' AND "
                       "record_count = 7") == 1);
  CHECK(import.at("sessions").at("opened").to_number<std::uint64_t>() == 1);
  CHECK(import.at("sessions").at("closed").to_number<std::uint64_t>() == 1);

  // Findings are stored under the run, with file and frame, linked to the rows that prove them:
  // the bad authenticator's is on that packet (no record), in that frame.
  CHECK(scalar(db, "SELECT count(*) FROM findings WHERE run_id = " + run_key) ==
        static_cast<std::int64_t>(
            import.at("conformance").at("findings_stored").to_number<std::uint64_t>()));
  CHECK(scalar(db, "SELECT count(*) FROM findings WHERE run_id = " + run_key +
                       " AND (file IS NULL OR frame IS NULL)") == 0);
  CHECK(scalar(db, "SELECT count(*) FROM findings WHERE run_id = " + run_key +
                       " AND rule_id = 'PKT-REQUEST-AUTHENTICATOR' AND packet_id = " +
                       std::to_string(bad_id) + " AND record_id IS NULL AND frame = " +
                       std::to_string(capture.bad_frame)) == 1);
  // The stored report lists every rule judged with its outcome, as a tester run's does, so the
  // viewer's per-rule pass/fail counts include captures.
  CHECK(scalar(db, "SELECT count(*) FROM json_each((SELECT report FROM runs WHERE id = " + run_key +
                       "), '$.import.conformance.rule_results')") ==
        static_cast<std::int64_t>(import.at("conformance").at("rules").to_number<std::uint64_t>()));
  CHECK(
      scalar(db, "SELECT count(*) FROM json_each((SELECT report FROM runs WHERE id = " + run_key +
                     "), '$.import.conformance.rule_results') WHERE json_extract(value, '$.id') = "
                     "'PKT-REQUEST-AUTHENTICATOR' AND json_extract(value, '$.passed') = 0") == 1);
  CHECK(scalar(db, "SELECT count(*) FROM findings AS f JOIN records AS r ON r.id = f.record_id "
                   "WHERE f.run_id = " +
                       run_key + " AND f.session_id = r.session_row") ==
        scalar(db, "SELECT count(*) FROM findings WHERE run_id = " + run_key +
                       " AND record_id IS NOT NULL"));
  CHECK(import.at("conformance").at("verdict") == "fail");

  // A second import of the same file is a second run with its own packets, records and
  // sessions; the first run is untouched.
  run(import_cmd + (dir / "second.json").string(), &status);
  REQUIRE(WEXITSTATUS(status) == 1);
  const auto second = boost::json::parse(read_text(dir / "second.json")).as_object();
  const auto second_run = second.at("import").at("run_id").as_int64();
  CHECK(second_run != run_id);
  CHECK(scalar(db, "SELECT count(*) FROM runs WHERE kind = 'pcap'") == 2);
  CHECK(records_of(db, "WHERE p.run_id = " + std::to_string(second_run)) == imported);
  CHECK(records_of(db, "WHERE p.run_id = " + run_key) == imported);
  CHECK(scalar(db, "SELECT count(*) FROM sessions WHERE state = 'closed' AND record_count = 7") ==
        2);
  CHECK(second.at("import").at("sessions").at("closed").to_number<std::uint64_t>() == 1);
}

TEST_CASE("Staleness is judged in capture time, and the text report shows the import",
          "[pcap][import]") {
  // A Start and one Interim-Update, then silence: at the end of the capture the session is
  // stale only if the capture lasts longer than 3 × its interval after the last record.
  const auto dir = scratch_dir("import-stale");
  const auto capture = gateway_capture(dir, "periodic-interims.scn");
  auto trace = conformance::trace_from_event_log(read_text(dir / "events.jsonl"));
  REQUIRE(trace);
  // The first two exchanges (Start, first Interim-Update); with `late`, then an unrelated
  // datagram that moves the capture's clock 2 hours on: longer than 3 × any interval.
  const auto write_capture = [&](const std::string& path, bool late) {
    std::string error;
    auto writer = PcapWriter::create(path, error, PcapWriter::Precision::nano);
    REQUIRE(writer);
    double last = 0;
    for (std::size_t i = 0; i < 4 && i < trace->packets.size(); ++i) {
      const auto& packet = trace->packets[i];
      UdpFrameSpec frame;
      last = 1'700'000'000.0 + packet.time;
      frame.timestamp_ns = static_cast<std::int64_t>(last * 1e9);
      frame.source = parse_endpoint(packet.source);
      frame.destination = parse_endpoint(packet.destination);
      REQUIRE(writer->write_udp(frame, packet.raw));
    }
    if (late) {
      UdpFrameSpec frame;
      frame.timestamp_ns = static_cast<std::int64_t>((last + 7200) * 1e9);
      frame.source = parse_endpoint("127.0.0.1:40000");
      frame.destination = parse_endpoint("127.0.0.1:1813");
      // A malformed Accounting-Request (its Length says 30, 20 octets came): a RADIUS packet
      // the decoder refuses, stored with its verdict (not RADIUS at all would be a capture
      // issue, not stored).
      std::vector<std::uint8_t> malformed(20, 0);
      malformed[0] = 4;
      malformed[1] = 9;
      malformed[3] = 30;
      REQUIRE(writer->write_udp(frame, malformed));
    }
    REQUIRE(writer->close());
  };
  const auto path = (dir / "stale.pcap").string();
  write_capture(path, true);
  write_capture((dir / "open.pcap").string(), false);

  int status = 0;
  const auto text = run(acctlab_binary + " pcap analyze " + path + " --db " +
                            (dir / "stale.db").string() + " --interim-interval 60",
                        &status);
  CHECK(WEXITSTATUS(status) == 1); // PKT-MALFORMED fails the judged import
  CHECK(text.find("sessions opened 1: closed 0, stale 1, open at end 0") != std::string::npos);
  CHECK(text.find("conformance (profile cisco-ios-ipsec)") != std::string::npos);
  CHECK(text.find("malformed 1") != std::string::npos);
  storage::Database db((dir / "stale.db").string());
  CHECK(scalar(db, "SELECT count(*) FROM sessions WHERE state = 'stale'") == 1);
  // The malformed datagram is stored with its decoder verdict and its frame.
  CHECK(scalar(db, "SELECT count(*) FROM packets WHERE verdict = 'malformed' AND frame = 5 AND "
                   "reason LIKE '%offset%'") == 1);

  // Without the late datagram the capture ends at the Interim's answer: the session is open.
  const auto open_text = run(acctlab_binary + " pcap analyze " + (dir / "open.pcap").string() +
                                 " --db " + (dir / "open.db").string() + " --no-check",
                             &status);
  CHECK(status == 0);
  CHECK(open_text.find("sessions opened 1: closed 0, stale 0, open at end 1") != std::string::npos);
  CHECK(open_text.find("conformance (") == std::string::npos);
  (void)capture;
}

TEST_CASE("A truncated capture imports what precedes the cut and says where it ends",
          "[pcap][import]") {
  const auto dir = scratch_dir("import-truncated");
  const auto capture = gateway_capture(dir, "periodic-interims.scn");
  const auto full = read_text(capture.pcap);
  const auto cut = (dir / "cut.pcap").string();
  write_text(cut, full.substr(0, full.size() - 30)); // the last record loses its tail
  int status = 0;
  const auto out = run(acctlab_binary + " pcap analyze " + cut + " --db " +
                           (dir / "cut.db").string() + " --report json",
                       &status);
  // Part of the capture was not read: incomplete, whatever the rules say (docs/cli.md).
  CHECK(WEXITSTATUS(status) == 3);
  const auto report = boost::json::parse(out).as_object();
  CHECK(report.at("verdict") == "incomplete");
  REQUIRE(!report.at("unread").as_array().empty());
  const auto& first_unread = report.at("unread").as_array().front().as_object();
  CHECK(first_unread.at("reason") == "file_truncated");
  CHECK(first_unread.at("frame").to_number<std::uint64_t>() == capture.frames);
  CHECK(first_unread.at("offset").to_number<std::uint64_t>() > 24);
  // The cut falls in the last fragment of the last datagram (the wrong-secret Start, 220
  // octets): the file ends there, and that datagram's first fragment never completes.
  std::map<std::string, std::uint64_t> issues;
  for (const auto& value : report.at("capture_issues").at("list").as_array()) {
    const auto& issue = value.as_object();
    CHECK(issue.at("file").as_string() == cut.c_str());
    issues[std::string(issue.at("kind").as_string())] =
        issue.at("frame").to_number<std::uint64_t>();
  }
  CHECK(issues == std::map<std::string, std::uint64_t>{{"file_truncated", capture.frames},
                                                       {"fragment_timeout", capture.frames - 1}});
  // Every datagram whole before the cut is stored; the one it cut is not.
  storage::Database db((dir / "cut.db").string());
  CHECK(db.query_int64("SELECT count(*) FROM packets").value_or(-1) == 14);
  CHECK(db.query_int64("SELECT max(frame) FROM packets").value_or(-1) ==
        static_cast<std::int64_t>(capture.frames - 2));
  CHECK(db.query_int64("SELECT count(*) FROM records").value_or(-1) == 7);
  // What was read passes the rules (the wrong-secret request was cut), but the run is stored as
  // incomplete: a damaged capture never passes.
  CHECK(report.at("import").at("conformance").at("verdict") == "pass");
  CHECK(report.at("import").at("run_verdict") == "incomplete");
  CHECK(db.query_int64("SELECT count(*) FROM runs WHERE verdict = 'incomplete'").value_or(-1) == 1);

  // A file that does not exist is bad input (status 2, docs/cli.md): said before any run is
  // made, so nothing passes and the database gains no empty run.
  const auto runs_before = db.query_int64("SELECT count(*) FROM runs").value_or(-1);
  const auto absent = run(acctlab_binary + " pcap analyze " + (dir / "absent.pcap").string() +
                              " --db " + (dir / "cut.db").string() + " --report json 2>&1",
                          &status);
  CHECK(WEXITSTATUS(status) == 2);
  CHECK(absent.find("absent.pcap: cannot be opened") != std::string::npos);
  CHECK(db.query_int64("SELECT count(*) FROM runs").value_or(-1) == runs_before);
}
