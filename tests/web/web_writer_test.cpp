// The viewer over a database written by the server's own writer (storage::RecordWriter), read
// while the writer is still running: WAL lets the read-only site see each commit.

#include "radius/authenticator.hpp"
#include "radius/packet_codec.hpp"
#include "radius/session_matcher.hpp"
#include "radius/text_form.hpp"
#include "storage/record_writer.hpp"
#include "tests/web/web_fixture.hpp"
#include "web/site.hpp"

#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>
#include <condition_variable>
#include <mutex>

using namespace acctlab;
namespace json = boost::json;

namespace {

class Completions {
public:
  void add(std::vector<storage::Completion>&& done) {
    std::lock_guard lock(mutex_);
    count_ += done.size();
    changed_.notify_all();
  }
  bool wait_for(std::size_t n) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, std::chrono::seconds(10), [&] { return count_ >= n; });
  }

private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::size_t count_ = 0;
};

storage::WriteItem write_item(const std::string& text, double time) {
  const auto& dict = radius::Dictionary::builtin();
  auto packet = radius::parse_packet_text(text, dict);
  REQUIRE(packet);
  auto wire = radius::encode_packet(*packet, dict);
  radius::sign_request(wire, "testing123");
  auto decoded = radius::decode_packet(wire, dict);
  REQUIRE(decoded);
  storage::WriteItem item;
  item.packet.raw.assign(wire.begin(), wire.end());
  item.packet.src_addr = "127.0.0.1";
  item.packet.src_port = 1646;
  item.packet.code = 4;
  item.packet.identifier = decoded->identifier();
  item.packet.receive_time = time;
  storage::RecordInput input;
  input.record = radius::make_accounting_record(*decoded, dict);
  input.nas_key = radius::session_nas_key(input.record, "127.0.0.1");
  input.event_time = time;
  item.nas = input.nas_key;
  item.record = std::move(input);
  item.tag = 1;
  return item;
}

json::object api(web::Site& site, const std::string& target) {
  auto response = site.handle("GET", target);
  INFO(target << " -> " << response.body.substr(0, 300));
  REQUIRE(response.status == 200);
  return json::parse(response.body).as_object();
}

} // namespace

TEST_CASE("pages over a database the server's writer is filling", "[web][writer][sqlite]") {
  const auto path = web::test::test_directory("writer") + "/acct.db";
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::remove((path + suffix).c_str());
  }
  const double t0 = web::test::fixture_base_time;
  Completions done;
  storage::WriterOptions options;
  storage::RecordWriter writer(path, options, [&](auto&& c) { done.add(std::move(c)); });
  web::Site site(path);

  writer.submit(write_item(
      R"(Accounting-Request id=4 { Acct-Session-Id = "00000001", Cisco-AVPair = "isakmp-group-id=cclient", Framed-IP-Address = 10.13.13.1, Cisco-AVPair = "vrf-id=cisco", Cisco-AVPair = "isakmp-initator-ip=11.1.2.2", Cisco-AVPair = "connect-progress=No Progress", User-Name = "joe@cclient", Acct-Status-Type = Start, Cisco-NAS-Port = "FastEthernet0/0.1", NAS-Port = 0, NAS-IP-Address = 10.1.1.147, Acct-Delay-Time = 0 })",
      t0));
  REQUIRE(done.wait_for(1));
  auto overview = api(site, "/api/overview");
  CHECK(overview.at("live").at("sessions").at("open").as_int64() == 1);
  auto live = site.live_update(-1);
  REQUIRE(live);

  writer.submit(write_item(
      R"(Accounting-Request id=22 { Acct-Session-Id = "00000001", Cisco-AVPair = "isakmp-initator-ip=11.1.2.2", Acct-Session-Time = 109, Acct-Input-Octets = 608, Acct-Output-Octets = 608, Acct-Input-Packets = 4, Acct-Output-Packets = 4, Acct-Status-Type = Interim-Update, NAS-IP-Address = 10.1.1.147, Acct-Delay-Time = 0 })",
      t0 + 109));
  writer.submit(write_item(
      R"(Accounting-Request id=19 { Acct-Session-Id = "00000001", Acct-Session-Time = 709, Acct-Input-Octets = 152608, Acct-Output-Octets = 152608, Acct-Input-Packets = 1004, Acct-Output-Packets = 1004, Acct-Terminate-Cause = User-Request, Acct-Status-Type = Stop, NAS-IP-Address = 10.1.1.147, Acct-Delay-Time = 2 })",
      t0 + 709));
  writer.submit(write_item(
      R"(Accounting-Request id=5 { Acct-Session-Id = "x\"<b>", User-Name = "<script>alert(1)</script>", Acct-Status-Type = Start, NAS-IP-Address = 10.1.1.147 })",
      t0 + 800));
  REQUIRE(done.wait_for(4));

  // The watcher connection notices the commits.
  auto after = site.live_update(live->first);
  REQUIRE(after);
  CHECK(json::parse(after->second).at("records").as_int64() == 4);

  auto closed = api(site, "/api/sessions?state=closed");
  REQUIRE(closed.at("total").as_int64() == 1);
  const auto& row = closed.at("sessions").as_array()[0].as_object();
  CHECK(row.at("acct_session_id").as_string() == "00000001");
  CHECK(row.at("user_name").as_string() == "joe@cclient");
  CHECK(row.at("input_octets").as_int64() == 152608);
  CHECK(row.at("peer").as_string() == "11.1.2.2");
  const auto id = row.at("id").as_int64();

  auto detail = api(site, "/api/sessions/" + std::to_string(id));
  const auto& records = detail.at("records").as_array();
  REQUIRE(records.size() == 3);
  CHECK(records[0].at("status").as_string() == "Start");
  CHECK(records[1].at("status").as_string() == "Interim-Update");
  CHECK(records[2].at("status").as_string() == "Stop");
  CHECK(records[2].at("delay").as_int64() == 2);
  bool saw_group = false;
  for (const auto& a : records[0].at("attribute_list").as_array()) {
    saw_group |= a.at("value").as_string() == "\"isakmp-group-id=cclient\"";
  }
  CHECK(saw_group);

  auto page = site.handle("GET", "/sessions/" + std::to_string(id));
  CHECK(page.status == 200);
  CHECK(page.body.find("Interim-Update") != std::string::npos);
  auto list = site.handle("GET", "/sessions");
  CHECK(list.body.find("<script>alert") == std::string::npos);
  CHECK(list.body.find("&lt;script&gt;alert(1)&lt;/script&gt;") != std::string::npos);

  auto nas = api(site, "/api/nas");
  REQUIRE(nas.at("nas").as_array().size() == 1);
  CHECK(nas.at("nas").as_array()[0].at("requests").as_int64() == 4);
  CHECK(nas.at("nas").as_array()[0].at("sessions").as_int64() == 2);
  writer.stop();
}

namespace {

/** One query's rows as text, for comparing a table with what it should hold. */
std::string dump(storage::Database& db, const std::string& select) {
  auto q = db.prepare("SELECT IFNULL(group_concat(line, ';'), '') FROM (" + select + ")");
  REQUIRE(q.step());
  return q.column_text(0);
}

const std::string record_tally_rows =
    "SELECT hour || ',' || status_type || ',' || records || ',' || last_event AS line "
    "FROM record_tally WHERE records > 0 ORDER BY hour, status_type";
const std::string packet_tally_rows =
    "SELECT run_id || ',' || verdict || ',' || packets AS line FROM packet_tally "
    "WHERE packets > 0 ORDER BY run_id, verdict";
const std::string capture_tally_rows =
    "SELECT run_id || ',' || file || ',' || packets || ',' || ok || ',' || "
    "IFNULL(first_frame, '-') || ',' || IFNULL(last_frame, '-') AS line FROM capture_tally "
    "WHERE packets > 0 ORDER BY run_id, file";
// The same per source address (migration 8), and what record_source_total must hold, counted from
// the packets themselves.
const std::string record_source_rows =
    "SELECT src_addr || ',' || hour || ',' || status_type || ',' || records || ',' || last_event "
    "AS line FROM record_source_tally WHERE records > 0 ORDER BY src_addr, hour, status_type";
const std::string record_source_total_rows =
    "SELECT src_addr || ',' || status_type || ',' || records || ',' || last_event AS line "
    "FROM record_source_total WHERE records > 0 ORDER BY src_addr, status_type";
const std::string record_source_total_truth =
    "SELECT src_addr || ',' || IFNULL(status_type, -1) || ',' || count(*) || ',' || "
    "max(event_time) AS line FROM packets WHERE nas_identity IS NOT NULL "
    "GROUP BY src_addr, IFNULL(status_type, -1) ORDER BY src_addr, IFNULL(status_type, -1)";
const std::string packet_source_rows =
    "SELECT src_addr || ',' || run_id || ',' || verdict || ',' || packets AS line "
    "FROM packet_source_tally WHERE packets > 0 ORDER BY src_addr, run_id, verdict";
const std::string capture_source_rows =
    "SELECT src_addr || ',' || run_id || ',' || file || ',' || packets || ',' || ok || ',' || "
    "IFNULL(first_frame, '-') || ',' || IFNULL(last_frame, '-') AS line "
    "FROM capture_source_tally WHERE packets > 0 ORDER BY src_addr, run_id, file";
// What session_tally and session_find must hold, computed from the sessions themselves.
const std::string session_tally_rows = "SELECT nas_key || ',' || state || ',' || sessions AS line "
                                       "FROM session_tally WHERE sessions > 0 ORDER BY 1";
const std::string session_tally_truth =
    "SELECT nas_key || ',' || state || ',' || count(*) AS line FROM sessions "
    "GROUP BY nas_key, state ORDER BY 1";
const std::string session_find_rows =
    "SELECT id || ',' || started || ',' || IFNULL(user_name, '-') || ',' || text AS line "
    "FROM session_find ORDER BY id";
const std::string session_find_truth =
    "SELECT id || ',' || COALESCE(start_time, (SELECT min(event_time) FROM records "
    "WHERE session_row = sessions.id)) || ',' || IFNULL(user_name, '-') || ',' || "
    "acct_session_id || char(31) || IFNULL(user_name, '') || char(31) || IFNULL(peer, '') || "
    "char(31) || IFNULL(framed_ip, '') AS line FROM sessions ORDER BY id";

const std::string finding_tally_rows =
    "SELECT run_id || ',' || rule_id || ',' || severity || ',' || scope || ',' || findings || "
    "',' || packets || ',' || sessions || ',' || IFNULL(example, '-') AS line FROM finding_tally "
    "WHERE findings > 0 ORDER BY 1";
const std::string finding_tally_truth =
    "SELECT IFNULL(run_id, 0) || ',' || rule_id || ',' || severity || ',' || scope || ',' || "
    "count(*) || ',' || count(DISTINCT packet_id) || ',' || count(DISTINCT session_id) || ',' || "
    "IFNULL(min(message), '-') AS line FROM findings "
    "GROUP BY IFNULL(run_id, 0), rule_id, severity, scope ORDER BY 1";

// finding_source_tally (migration 8), and what it must hold, counted from the findings and what
// they point at.
const std::string finding_source_rows =
    "SELECT run_id || ',' || rule_id || ',' || severity || ',' || scope || ',' || src_addr || "
    "',' || nas_key || ',' || findings || ',' || packets || ',' || sessions || ',' || "
    "IFNULL(example, '-') AS line FROM finding_source_tally WHERE findings > 0 ORDER BY 1";
const std::string finding_source_truth =
    "SELECT IFNULL(f.run_id, 0) || ',' || f.rule_id || ',' || f.severity || ',' || f.scope || ',' "
    "|| IFNULL(p.src_addr, '') || ',' || IFNULL(s.nas_key, '') || ',' || count(*) || ',' || "
    "count(DISTINCT f.packet_id) || ',' || count(DISTINCT f.session_id) || ',' || "
    "IFNULL(min(f.message), '-') AS line FROM findings AS f LEFT JOIN packets AS p ON p.id = "
    "f.packet_id LEFT JOIN sessions AS s ON s.id = f.session_id GROUP BY IFNULL(f.run_id, 0), "
    "f.rule_id, f.severity, f.scope, IFNULL(p.src_addr, ''), IFNULL(s.nas_key, '') ORDER BY 1";

void check_tallies_match_a_recount(const std::string& path) {
  storage::Database db(path);
  const auto records = dump(db, record_tally_rows);
  const auto packets = dump(db, packet_tally_rows);
  const auto captures = dump(db, capture_tally_rows);
  const auto source_records = dump(db, record_source_rows);
  const auto source_packets = dump(db, packet_source_rows);
  const auto source_captures = dump(db, capture_source_rows);
  CHECK_FALSE(records.empty());
  CHECK_FALSE(source_records.empty());
  CHECK(dump(db, record_source_total_rows) == dump(db, record_source_total_truth));
  storage::recount_tallies(db);
  CHECK(dump(db, record_tally_rows) == records);
  CHECK(dump(db, packet_tally_rows) == packets);
  CHECK(dump(db, capture_tally_rows) == captures);
  CHECK(dump(db, record_source_rows) == source_records);
  CHECK(dump(db, packet_source_rows) == source_packets);
  CHECK(dump(db, capture_source_rows) == source_captures);
  CHECK(dump(db, record_source_total_rows) == dump(db, record_source_total_truth));
  CHECK(dump(db, session_tally_rows) == dump(db, session_tally_truth));
  CHECK(dump(db, session_find_rows) == dump(db, session_find_truth));
  CHECK(dump(db, finding_tally_rows) == dump(db, finding_tally_truth));
  CHECK(dump(db, finding_source_rows) == dump(db, finding_source_truth));
}

} // namespace

TEST_CASE("the writer keeps the viewer's tallies and search rows as the rows change",
          "[web][writer][schema][sqlite]") {
  const auto path = web::test::test_directory("tallies") + "/acct.db";
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::remove((path + suffix).c_str());
  }
  const double t0 = web::test::fixture_base_time;
  Completions done;
  storage::WriterOptions options;
  options.run_kind = "pcap";
  storage::RecordWriter writer(path, options, [&](auto&& c) { done.add(std::move(c)); });
  web::Site site(path);

  // A Start that names neither user nor address; the Interim-Update brings both, as a NAS does
  // when the address is assigned after the session starts.
  auto start = write_item(
      R"(Accounting-Request id=1 { Acct-Session-Id = "late0001", Acct-Status-Type = Start, NAS-IP-Address = 10.1.1.147 })",
      t0);
  start.packet.file = "capture.pcap";
  start.packet.frame = 7;
  writer.submit(std::move(start));
  REQUIRE(done.wait_for(1));
  CHECK(api(site, "/api/sessions?q=late%40").at("total").as_int64() == 0);
  auto interim = write_item(
      R"(Accounting-Request id=2 { Acct-Session-Id = "late0001", User-Name = "late@cclient", Framed-IP-Address = 10.9.9.9, Cisco-AVPair = "isakmp-initiator-ip=11.7.7.7", Acct-Status-Type = Interim-Update, Acct-Session-Time = 60, NAS-IP-Address = 10.1.1.147 })",
      t0 + 3700);
  interim.packet.file = "capture.pcap";
  interim.packet.frame = 9;
  writer.submit(std::move(interim));
  // A datagram that failed to decode: a packet, no record.
  storage::WriteItem bad;
  bad.packet.raw = {4, 9, 0, 64};
  bad.packet.src_addr = "127.0.0.1";
  bad.packet.verdict = storage::Verdict::malformed;
  bad.packet.receive_time = t0 + 3701;
  bad.packet.file = "capture.pcap";
  bad.packet.frame = 3;
  bad.nas = "10.1.1.147";
  bad.tag = 2;
  writer.submit(std::move(bad));
  // The Stop from another address of the NAS: the per-source tallies hold two sources.
  auto stop = write_item(
      R"(Accounting-Request id=3 { Acct-Session-Id = "late0001", Acct-Status-Type = Stop, Acct-Session-Time = 120, Acct-Input-Octets = 10, Acct-Output-Octets = 20, NAS-IP-Address = 10.1.1.147 })",
      t0 + 3760);
  stop.packet.src_addr = "127.0.0.9";
  writer.submit(std::move(stop));
  REQUIRE(done.wait_for(4));

  // The search and the user filter see what the later record taught.
  CHECK(api(site, "/api/sessions?q=late%40").at("total").as_int64() == 1);
  CHECK(api(site, "/api/sessions?q=10.9.9").at("total").as_int64() == 1);
  CHECK(api(site, "/api/sessions?q=11.7.7").at("total").as_int64() == 1);
  CHECK(api(site, "/api/sessions?user=late%40cclient").at("total").as_int64() == 1);
  auto overview = api(site, "/api/overview");
  CHECK(overview.at("live").at("records").as_int64() == 3);
  CHECK(overview.at("live").at("packets").as_int64() == 4);
  CHECK(overview.at("live").at("sessions").at("closed").as_int64() == 1);
  CHECK(overview.at("live").at("sessions").at("open").as_int64() == 0);
  CHECK(overview.at("live").at("last_event_time").as_double() == t0 + 3760);
  auto runs = api(site, "/api/runs");
  REQUIRE(runs.at("pcap_files").as_array().size() == 1);
  const auto& capture = runs.at("pcap_files").as_array()[0].as_object();
  CHECK(capture.at("packets").as_int64() == 3); // the Stop came without a file
  CHECK(capture.at("ok").as_int64() == 2);
  CHECK(capture.at("first_frame").as_int64() == 3);
  CHECK(capture.at("last_frame").as_int64() == 9);
  {
    storage::Database db(path);
    CHECK(dump(db, "SELECT src_addr || ',' || status_type || ',' || records AS line FROM "
                   "record_source_total ORDER BY src_addr, status_type") ==
          "127.0.0.1,1,1;127.0.0.1,3,1;127.0.0.9,2,1");
    CHECK(dump(db, "SELECT src_addr || ',' || verdict || ',' || packets AS line FROM "
                   "packet_source_tally ORDER BY src_addr, verdict") ==
          "127.0.0.1,malformed,1;127.0.0.1,ok,2;127.0.0.9,ok,1");
  }
  writer.stop();
  check_tallies_match_a_recount(path);
}

TEST_CASE("a version 2 database gains the viewer's tallies and search rows when migrated",
          "[web][schema][sqlite]") {
  const auto dir = web::test::test_directory("migrate-v2");
  const auto fixture = dir + "/fixture.db";
  const auto ids = web::test::make_fixture_database(fixture);
  const auto path = dir + "/v2.db";
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::remove((path + suffix).c_str());
  }
  {
    storage::Database db(path);
    storage::migrate(db, 2);
    CHECK(storage::schema_version(db) == 2);
    // The fixture's rows, copied into a database without the viewer's migrations (3 and 4).
    db.exec("ATTACH DATABASE '" + fixture + "' AS f");
    for (const char* table : {"runs", "nas", "sessions", "records", "findings"}) {
      if (std::string_view(table) == "records") {
        // Version 2 keeps a packet's row and its record's apart (migration 6 joined them).
        db.exec("INSERT INTO main.packets SELECT id, run_id, receive_time, src_addr, src_port, "
                "dst_addr, dst_port, code, identifier, verdict, reason, file, frame, raw FROM "
                "f.packets");
      }
      if (std::string_view(table) == "sessions") {
        // Version 2's sessions lack the class column (migration 8).
        db.exec("INSERT INTO main.sessions SELECT id, nas_key, acct_session_id, unique_id, state, "
                "flags, start_time, update_time, stop_time, last_record_time, input_octets, "
                "output_octets, input_packets, output_packets, session_time, terminate_cause, "
                "interim_interval, user_name, framed_ip, peer, nas_ip, nas_port, nas_port_type, "
                "calling_station_id, called_station_id, record_count FROM f.sessions");
        continue;
      }
      db.exec(std::string("INSERT INTO main.") + table + " SELECT * FROM f." + table);
    }
    db.exec("DETACH DATABASE f");
    storage::migrate(db);
    CHECK(storage::schema_version(db) == storage::current_schema_version());
  }
  check_tallies_match_a_recount(path);
  web::Site site(path);
  auto overview = api(site, "/api/overview");
  CHECK(overview.at("live").at("sessions").at("total").as_int64() == 3);
  CHECK(overview.at("live").at("records").as_int64() == 6);
  CHECK(api(site, "/api/sessions?q=11.1.2").at("total").as_int64() == 1);
  CHECK(api(site, "/api/sessions/" + std::to_string(ids.document_session))
            .at("records")
            .as_array()
            .size() == 3);
}

TEST_CASE("finding_tally and finding_source_tally follow findings as they are added and removed",
          "[web][schema][sqlite]") {
  const auto dir = web::test::test_directory("finding-tally");
  const auto path = dir + "/acct.db";
  const auto ids = web::test::make_fixture_database(path);
  {
    storage::Database db(path);
    CHECK_FALSE(dump(db, finding_tally_rows).empty());
    CHECK(dump(db, finding_tally_rows) == dump(db, finding_tally_truth));
    CHECK_FALSE(dump(db, finding_source_rows).empty());
    CHECK(dump(db, finding_source_rows) == dump(db, finding_source_truth));
    // A second finding of the same rule, run and packet: one more finding, no more packets.
    db.prepare("INSERT INTO findings (run_id, rule_id, severity, scope, message, packet_id, "
               "session_id) SELECT run_id, rule_id, severity, scope, 'again', packet_id, "
               "session_id FROM findings WHERE rule_id = 'DOC-STOP-COUNTERS'")
        .run();
    CHECK(dump(db, finding_tally_rows) == dump(db, finding_tally_truth));
    CHECK(dump(db, finding_source_rows) == dump(db, finding_source_truth));
    db.exec("DELETE FROM findings WHERE rule_id = 'DOC-STOP-COUNTERS' AND message = 'again'");
    CHECK(dump(db, finding_tally_rows) == dump(db, finding_tally_truth));
    CHECK(dump(db, finding_source_rows) == dump(db, finding_source_truth));
    db.exec("DELETE FROM findings WHERE rule_id = 'RFC2865-LENGTH'");
    CHECK(dump(db, finding_tally_rows) == dump(db, finding_tally_truth));
    CHECK(dump(db, finding_source_rows) == dump(db, finding_source_truth));
  }
  web::Site site(path);
  auto conformance = api(site, "/api/conformance");
  bool saw = false;
  for (const auto& rule : conformance.at("rules").as_array()) {
    if (rule.at("rule_id").as_string() == "DOC-STOP-COUNTERS") {
      saw = true;
      CHECK(rule.at("findings").as_int64() == 1);
      CHECK(rule.at("sessions").as_int64() == 1);
    }
    CHECK(rule.at("rule_id").as_string() != "RFC2865-LENGTH");
  }
  CHECK(saw);
  auto detail = api(site, "/api/sessions/" + std::to_string(ids.document_session));
  CHECK(detail.at("findings").as_array().size() == 1);
}
