// HTTP tests: a real Beast server on 127.0.0.1 port 0 over a real SQLite file, asked by a plain
// socket client. Every route: status, content type, and the JSON twin's shape.

#include "storage/schema.hpp"
#include "storage/sqlite.hpp"
#include "tests/support/test_engine.hpp"
#include "tests/web/http_client.hpp"
#include "tests/web/viewer.hpp"
#include "tests/web/web_fixture.hpp"
#include "web/http_server.hpp"
#include "web/site.hpp"

#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sys/wait.h>
#include <thread>
#include <vector>

namespace json = boost::json;
using namespace acctlab::web;
using namespace acctlab::web::test;

namespace {

/** A fresh fixture database (tests/web/web_fixture.hpp), made before the viewer over it opens. */
struct FixtureFile {
  explicit FixtureFile(const std::string& name)
      : path(test_database(name)), ids(make_fixture_database(path)) {}
  std::string path;
  FixtureIds ids;
};

/** The fixture database, served. */
struct Served : FixtureFile, Viewer {
  explicit Served(const std::string& name,
                  std::chrono::milliseconds poll = std::chrono::milliseconds(1000))
      : FixtureFile(name), Viewer(path, poll) {}
};

bool has(const json::object& o, const char* key, json::kind kind) {
  const auto* v = o.if_contains(key);
  return v && v->kind() == kind;
}

} // namespace

TEST_CASE("every HTML page answers 200 with HTML and the security headers", "[web][http]") {
  Served s("pages");
  const auto doc = std::to_string(s.ids.document_session);
  for (const std::string& target : std::vector<std::string>{
           "/", "/sessions", "/sessions?state=open&sort=user&order=asc", "/sessions/" + doc,
           "/packets/" + std::to_string(s.ids.start_packet),
           "/packets/" + std::to_string(s.ids.malformed_packet), "/conformance",
           "/conformance/RFC2866-ACCT-SESSION-ID", "/usage", "/usage?group=nas&period=hour",
           "/usage?period=month&from=2026-11-01&to=2026-12-01", "/runs",
           "/runs/" + std::to_string(s.ids.conform_run), "/nas"}) {
    const auto reply = s.get(target);
    INFO(target << " -> " << reply.status << " " << reply.body.substr(0, 400));
    CHECK(reply.status == 200);
    CHECK(reply.header("content-type") == "text/html; charset=utf-8");
    CHECK(reply.header("content-security-policy").find("default-src 'none'") != std::string::npos);
    CHECK(reply.header("content-security-policy").find("unsafe-inline") == std::string::npos);
    CHECK(reply.header("x-content-type-options") == "nosniff");
    CHECK(reply.body.starts_with("<!DOCTYPE html>"));
    CHECK(reply.body.find("</html>") != std::string::npos);
    // No inline script anywhere: the CSP would refuse it.
    CHECK(reply.body.find("<script>") == std::string::npos);
    CHECK(std::stoul(reply.header("content-length")) == reply.body.size());
  }
}

TEST_CASE("a server run's counters read as a table, live until it stops", "[web][http]") {
  Served s("serve-run");
  const auto body = s.get("/runs/" + std::to_string(s.ids.serve_run)).body;
  CHECK(body.find("<h2>Server counters</h2>") != std::string::npos);
  CHECK(body.find("As of the server's last report") != std::string::npos); // not finished
  CHECK(body.find("<th>Accepted (valid Accounting-Requests)</th><td class=\"num\">17,212</td>") !=
        std::string::npos);
  CHECK(body.find("<th>Malformed</th><td class=\"num\">1</td>") != std::string::npos);
  CHECK(body.find("<th>Commit time, average</th><td class=\"num\">0.17 ms</td>") !=
        std::string::npos);
  CHECK(body.find("<pre class=\"report\">") == std::string::npos);
  // A nested report (the tester's) stays JSON text.
  const auto conform = s.get("/runs/" + std::to_string(s.ids.conform_run)).body;
  CHECK(conform.find("<h2>Server counters</h2>") == std::string::npos);
}

TEST_CASE("overview JSON carries sessions, records, NASes, findings and activity", "[web][http]") {
  Served s("overview");
  const auto o = s.api("/api/overview");
  REQUIRE(has(o, "live", json::kind::object));
  const auto& live = o.at("live").as_object();
  const auto& sessions = live.at("sessions").as_object();
  CHECK(sessions.at("open").as_int64() == 1);
  CHECK(sessions.at("closed").as_int64() == 1);
  CHECK(sessions.at("stale").as_int64() == 1);
  CHECK(live.at("records").as_int64() == 6);
  CHECK(has(o, "nas", json::kind::array));
  CHECK(o.at("nas").as_array().size() == 2);
  REQUIRE(has(o, "records_by_status", json::kind::array));
  bool saw_interim = false;
  for (const auto& r : o.at("records_by_status").as_array()) {
    if (r.as_object().at("status").as_string() == "Interim-Update") {
      saw_interim = true;
      CHECK(r.as_object().at("count").as_int64() == 2);
    }
  }
  CHECK(saw_interim);
  CHECK(has(o, "findings_by_severity", json::kind::array));
  CHECK(o.at("findings_by_severity").as_array().size() == 2);
  const auto& points = o.at("activity").as_object().at("points").as_array();
  CHECK(points.size() == 48);
  std::int64_t records = 0;
  for (const auto& p : points) {
    records += p.as_object().at("records").as_int64();
  }
  CHECK(records == 6);
}

TEST_CASE("sessions JSON filters, sorts and paginates", "[web][http]") {
  Served s("sessions");
  auto all = s.api("/api/sessions");
  CHECK(all.at("total").as_int64() == 3);
  CHECK(all.at("sessions").as_array().size() == 3);
  // Default sort: newest start first (the open session started last).
  CHECK(all.at("sessions").as_array()[0].as_object().at("state").as_string() == "open");
  CHECK(all.at("sort").as_string() == "start");

  auto closed = s.api("/api/sessions?state=closed");
  REQUIRE(closed.at("total").as_int64() == 1);
  const auto& doc = closed.at("sessions").as_array()[0].as_object();
  CHECK(doc.at("acct_session_id").as_string() == "00000001");
  CHECK(doc.at("input_octets").as_int64() == 152608);
  CHECK(doc.at("user_name").as_string() == "joe@cclient");

  CHECK(s.api("/api/sessions?user=ann%40cclient").at("total").as_int64() == 1);
  CHECK(s.api("/api/sessions?q=11.1.2").at("total").as_int64() == 1);  // peer
  CHECK(s.api("/api/sessions?q=0000000").at("total").as_int64() == 2); // session ids
  CHECK(s.api("/api/sessions?q=%25").at("total").as_int64() == 0);     // '%' is literal
  CHECK(s.api("/api/sessions?nas=10.1.1.147").at("total").as_int64() == 2);
  CHECK(s.api("/api/sessions?from=2026-11-20+08:30").at("total").as_int64() == 1);
  CHECK(s.api("/api/sessions?to=2026-11-20+08:05").at("total").as_int64() == 1);
  // SQL text in a filter is a value, not SQL.
  CHECK(s.api("/api/sessions?user=%27%20OR%201%3D1%20--").at("total").as_int64() == 0);
  CHECK(s.api("/api/sessions?sort=id%3BDROP%20TABLE%20sessions").at("sort").as_string() == "start");
  // Orders without an index (sorted by id and key first) and with one agree with the data.
  auto by_last = s.api("/api/sessions?sort=last&order=asc");
  REQUIRE(by_last.at("sessions").as_array().size() == 3);
  CHECK(by_last.at("sessions").as_array()[0].at("acct_session_id").as_string() == "00000001");
  CHECK(by_last.at("sessions").as_array()[2].at("state").as_string() == "open");
  auto by_out = s.api("/api/sessions?sort=out&order=desc&per=1&page=2");
  REQUIRE(by_out.at("sessions").as_array().size() == 1);
  CHECK(by_out.at("sessions").as_array()[0].at("output_octets").as_int64() == 90000);

  auto by_user = s.api("/api/sessions?sort=user&order=asc");
  CHECK(by_user.at("sort").as_string() == "user");
  CHECK(by_user.at("sessions").as_array()[1].as_object().at("user_name").as_string() ==
        "ann@cclient");

  auto page2 = s.api("/api/sessions?per=2&page=2");
  CHECK(page2.at("pages").as_int64() == 2);
  CHECK(page2.at("page").as_int64() == 2);
  CHECK(page2.at("sessions").as_array().size() == 1);
  CHECK(s.api("/api/sessions?per=2&page=99").at("page").as_int64() == 2);
}

TEST_CASE("session detail JSON has the timeline, decoded attributes, raw hex and findings",
          "[web][http]") {
  Served s("detail");
  auto o = s.api("/api/sessions/" + std::to_string(s.ids.document_session));
  CHECK(o.at("session").as_object().at("state").as_string() == "closed");
  const auto& records = o.at("records").as_array();
  REQUIRE(records.size() == 3);
  const auto& start = records[0].as_object();
  const auto& interim = records[1].as_object();
  CHECK(start.at("status").as_string() == "Start");
  CHECK(interim.at("status").as_string() == "Interim-Update");
  CHECK(records[2].as_object().at("status").as_string() == "Stop");
  CHECK(interim.at("since_previous").as_double() == Approx(109));
  CHECK(interim.at("input_octets").as_int64() == 608);
  CHECK(start.at("raw").as_string().starts_with("0404"));
  bool saw_avpair = false;
  for (const auto& a : start.at("attribute_list").as_array()) {
    const auto& attr = a.as_object();
    if (attr.at("name").as_string() == "Cisco-AVPair" &&
        attr.at("value").as_string() == "\"isakmp-group-id=cclient\"") {
      saw_avpair = true;
    }
  }
  CHECK(saw_avpair);
  REQUIRE(o.at("findings").as_array().size() == 1);
  CHECK(o.at("findings").as_array()[0].as_object().at("rule_id").as_string() ==
        "DOC-STOP-COUNTERS");

  CHECK(s.get("/api/sessions/999999").status == 404);
  CHECK(s.get("/sessions/abc").status == 404);
  CHECK(s.get("/sessions/-1").status == 404);
}

TEST_CASE("packet JSON decodes the stored datagram or says why it cannot", "[web][http]") {
  Served s("packet");
  auto ok = s.api("/api/packets/" + std::to_string(s.ids.start_packet));
  CHECK(ok.at("decoded").as_object().at("ok").as_bool());
  CHECK(std::string(ok.at("decoded").as_object().at("text").as_string())
            .find("User-Name = \"joe@cclient\"") != std::string::npos);
  CHECK(ok.at("decoded").as_object().at("ios_debug").as_array().size() > 5);
  // The packet's own columns; its record (the same row in the database) is listed apart.
  CHECK(ok.at("packet").as_object().at("verdict").as_string() == "ok");
  CHECK_FALSE(ok.at("packet").as_object().contains("session_row"));
  REQUIRE(ok.at("records").as_array().size() == 1);
  CHECK(ok.at("records").as_array()[0].as_object().at("id").as_int64() == s.ids.start_packet);
  auto bad = s.api("/api/packets/" + std::to_string(s.ids.malformed_packet));
  CHECK_FALSE(bad.at("decoded").as_object().at("ok").as_bool());
  CHECK(bad.at("decoded").as_object().at("error").as_string().size() > 0);
  CHECK(bad.at("packet").as_object().at("raw").as_string() == "0407004001");
}

TEST_CASE("conformance, usage, runs and NAS JSON", "[web][http]") {
  Served s("reports");
  auto c = s.api("/api/conformance");
  CHECK(c.at("conform_runs").as_int64() == 1);
  // Three rules with findings, plus PKT-MALFORMED which only the run report lists.
  REQUIRE(c.at("rules").as_array().size() == 4);
  for (const auto& r : c.at("rules").as_array()) {
    const auto& rule = r.as_object();
    const auto id = std::string(rule.at("rule_id").as_string());
    if (id == "PKT-MALFORMED") {
      CHECK(rule.at("runs_passed").as_int64() == 1);
      CHECK(rule.at("findings").as_int64() == 0);
      CHECK(rule.at("source").as_string() == "RFC 2865 §3");
    } else if (id == "RFC2866-ACCT-SESSION-ID") {
      CHECK(rule.at("runs_failed").as_int64() == 1);
      CHECK(rule.at("findings").as_int64() == 1);
      CHECK(rule.at("packets").as_int64() == 1);
    } else if (id == "DOC-STOP-COUNTERS") {
      CHECK(rule.at("runs_passed").is_null()); // no report lists it
      CHECK(rule.at("sessions").as_int64() == 1);
    } else {
      CHECK(id == "RFC2865-LENGTH");
    }
  }
  auto drill = s.api("/api/conformance/RFC2866-ACCT-SESSION-ID");
  CHECK(drill.at("rule").at("source").as_string() == "RFC 2866 §5.5");
  auto rule = s.api("/api/conformance/RFC2865-LENGTH");
  REQUIRE(rule.at("findings").as_array().size() == 1);
  CHECK(rule.at("findings").as_array()[0].as_object().at("frame").as_int64() == 12);
  CHECK(s.get("/api/conformance/NO-SUCH-RULE").status == 404);

  auto u = s.api("/api/usage?period=hour");
  CHECK(u.at("online_count").as_int64() == 1);
  CHECK(u.at("online").as_array().size() == 1);
  CHECK(u.at("stale").as_array().size() == 1);
  CHECK(u.at("stale").as_array()[0].as_object().at("last_status").as_string() == "Interim-Update");
  const auto& top_download = u.at("top_users").as_object().at("download").as_array();
  REQUIRE(top_download.size() == 2); // the hostile session reported no counters
  CHECK(top_download[0].as_object().at("user").as_string() == "joe@cclient");
  CHECK(top_download[0].as_object().at("value").as_int64() == 152608);
  CHECK(u.at("series").as_array().size() == 2); // sessions started in hours 08 (two) and 09
  CHECK(u.at("filter").at("default_range").as_bool());
  CHECK(u.at("filter").at("from").as_double() ==
        Approx(fixture_base_time - 8 * 3600 - 86400)); // period=hour: the newest 2 days
  auto by_nas = s.api("/api/usage?group=nas&user=joe%40cclient");
  CHECK(by_nas.at("group").as_string() == "nas");
  CHECK(by_nas.at("by_group").as_array().size() == 1);

  auto runs = s.api("/api/runs");
  CHECK(runs.at("runs").as_array().size() == 3);
  CHECK(runs.at("pcap_files").as_array().size() == 1);
  auto run = s.api("/api/runs/" + std::to_string(s.ids.conform_run));
  CHECK(run.at("run").as_object().at("report").as_object().at("scenarios").as_int64() == 4);
  CHECK(run.at("findings_by_rule").as_array().size() == 2);

  auto nas = s.api("/api/nas");
  REQUIRE(nas.at("nas").as_array().size() == 2);
  const auto& first = nas.at("nas").as_array()[0].as_object();
  CHECK(first.at("identity").as_string() == "10.1.1.147");
  CHECK(first.at("sessions").as_int64() == 2);
  CHECK(first.at("duplicates").as_int64() == 1);
}

TEST_CASE("CSV export follows the filters and quotes text", "[web][http]") {
  Served s("csv");
  auto reply = s.get("/sessions.csv?state=closed");
  REQUIRE(reply.status == 200);
  CHECK(reply.header("content-type") == "text/csv; charset=utf-8");
  CHECK(reply.header("content-disposition").find("sessions.csv") != std::string::npos);
  CHECK(reply.header("x-acctlab-rows") == "1 of 1");
  CHECK(reply.body.starts_with("id,nas_key,acct_session_id,state"));
  CHECK(reply.body.find("\"00000001\"") != std::string::npos);
  CHECK(reply.body.find("2026-11-20 08:00:00") != std::string::npos);
  CHECK(std::count(reply.body.begin(), reply.body.end(), '\n') == 2);
  auto hostile = s.get("/sessions.csv?state=open");
  CHECK(hostile.body.find("\"q\"\"uote&amp;'<b>x\"") != std::string::npos);
}

TEST_CASE("static assets come from the binary, no path reaches the file system", "[web][http]") {
  Served s("static");
  auto css = s.get("/static/style.css");
  CHECK(css.status == 200);
  CHECK(css.header("content-type") == "text/css; charset=utf-8");
  auto js = s.get("/static/live.js");
  CHECK(js.status == 200);
  CHECK(js.header("content-type") == "text/javascript; charset=utf-8");
  CHECK(js.body.find("EventSource") != std::string::npos);
  for (const char* target : {"/static/../../../../etc/passwd", "/static/%2e%2e/%2e%2e/etc/passwd",
                             "/../etc/passwd", "/static/", "/static/style.css/..", "/etc/passwd",
                             "/api/", "/api/nope", "/sessions/1/../../etc"}) {
    auto reply = s.get(target);
    INFO(target);
    CHECK(reply.status == 404);
    CHECK(reply.body.find("root:") == std::string::npos);
  }
}

TEST_CASE("methods, sizes and malformed requests are refused", "[web][http]") {
  Served s("limits");
  CHECK(http_get(s.server.port(), "/", "POST").status == 405);
  CHECK(http_get(s.server.port(), "/", "DELETE").status == 405);
  auto head = http_get(s.server.port(), "/nas", "HEAD");
  CHECK(head.status == 200);
  CHECK(head.body.empty());
  CHECK(std::stoul(head.header("content-length")) > 100);

  const std::string huge_header(20000, 'a');
  auto big = http_raw(s.server.port(), "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + huge_header +
                                           "\r\nConnection: close\r\n\r\n");
  CHECK(big.status == 413);
  auto body = http_raw(s.server.port(), "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n"
                                        "Connection: close\r\n\r\n" +
                                            std::string(100000, 'b'));
  CHECK(body.status == 413);
  auto garbage = http_raw(s.server.port(), "\x01\x02 nonsense\r\n\r\n");
  CHECK(garbage.status == 400);
  // The server is still answering after all that.
  CHECK(s.get("/").status == 200);
}

TEST_CASE("/events pushes the counters and again when a writer commits", "[web][http][live]") {
  Served s("events", std::chrono::milliseconds(100));
  const auto stream = read_events(s.server.port(), 2, std::chrono::seconds(10),
                                  [&] { add_open_session(s.path, "live-1"); });
  INFO(stream);
  CHECK(stream.starts_with("HTTP/1.1 200 OK"));
  CHECK(stream.find("Content-Type: text/event-stream") != std::string::npos);
  const auto first = stream.find("data: ");
  REQUIRE(first != std::string::npos);
  const auto second = stream.find("data: ", first + 1);
  REQUIRE(second != std::string::npos);
  auto before = json::parse(stream.substr(first + 6, stream.find('\n', first) - first - 6));
  auto after = json::parse(stream.substr(second + 6, stream.find('\n', second) - second - 6));
  CHECK(before.at("sessions").at("open").as_int64() == 1);
  CHECK(after.at("sessions").at("open").as_int64() == 2);
  CHECK(after.at("records").as_int64() == 7);
}

TEST_CASE("the site refuses a file that is not an acctlab database", "[web][http]") {
  if (acctlab::test::on_postgres()) {
    // A database without the acctlab schema, and one that does not exist.
    const auto empty = test_database("notdb");
    CHECK_THROWS_AS(Site(empty), DbError);
    CHECK_THROWS_AS(
        Site(empty.substr(0, empty.find('?')) + "_missing" + empty.substr(empty.find('?'))),
        DbError);
    return;
  }
  const auto dir = test_directory("notdb");
  CHECK_THROWS_AS(Site(dir + "/missing.db"), DbError);
  {
    // An empty SQLite file exists but has no acctlab tables.
    auto path = dir + "/empty.db";
    std::remove(path.c_str());
    FILE* f = std::fopen(path.c_str(), "w");
    REQUIRE(f);
    std::fclose(f);
    CHECK_THROWS_AS(Site(path), DbError);
  }
}

TEST_CASE("parse_listen accepts host:port forms", "[web]") {
  std::string address;
  std::uint16_t port = 0;
  CHECK(parse_listen("127.0.0.1:8080", address, port));
  CHECK(address == "127.0.0.1");
  CHECK(port == 8080);
  CHECK(parse_listen("[::1]:0", address, port));
  CHECK(address == "::1");
  CHECK(port == 0);
  CHECK(parse_listen("localhost:9", address, port));
  CHECK(address == "127.0.0.1");
  CHECK_FALSE(parse_listen("127.0.0.1", address, port));
  CHECK_FALSE(parse_listen("127.0.0.1:99999", address, port));
  CHECK_FALSE(parse_listen(":80", address, port));
  CHECK_FALSE(parse_listen("::1:80", address, port));
}

TEST_CASE("acctlab web refuses a missing database and a malformed --listen", "[web][cli][sqlite]") {
  const std::string binary = std::string(ACCTLAB_BINARY_DIR) + "/acctlab";
  const auto dir = test_directory("cli");
  const auto status = [&](const std::string& args) {
    const int rc = std::system((binary + " web " + args + " >" + dir + "/out.log 2>&1").c_str());
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  };
  CHECK(status("--db " + dir + "/missing.db --listen 127.0.0.1:0") == 1);
  const auto db = dir + "/acct.db";
  make_fixture_database(db);
  CHECK(status("--db " + db + " --listen 127.0.0.1") == 2);
  CHECK(status("--db " + db + " --listen 127.0.0.1:70000") == 2);
  // An address other than loopback is refused before anything else unless --insecure says so
  // (docs/web.md, Safety); then an address this machine does not have cannot be bound.
  CHECK(status("--db " + db + " --listen 192.0.2.1:0") == 2);
  CHECK(status("--db " + db + " --listen 192.0.2.1:0 --insecure") == 1);
  // The viewer never creates a database.
  CHECK_FALSE(std::filesystem::exists(dir + "/missing.db"));

  // A database an older build wrote (schema version 2) is brought up to date before serving,
  // here before the bind fails.
  const auto old = dir + "/old.db";
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::filesystem::remove(old + suffix);
  }
  {
    acctlab::storage::Database v2(old);
    acctlab::storage::migrate(v2, 2);
  }
  CHECK(status("--db " + old + " --listen 192.0.2.1:0 --insecure") == 1);
  std::ifstream log(dir + "/out.log");
  const std::string said((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  CHECK(said.find("migrating") != std::string::npos);
  acctlab::storage::Database migrated(old);
  CHECK(acctlab::storage::schema_version(migrated) == acctlab::storage::current_schema_version());
}

TEST_CASE("judged capture imports count in the per-rule pass and fail", "[web][http][pcap]") {
  Served s("reports-pcap");
  {
    TestSql db(s.path);
    db.insert("INSERT INTO runs (kind, started, finished, verdict, report) VALUES ('pcap', 1, "
              "2, 'fail', ?1)",
              {R"({"import": {"conformance": {"verdict": "fail", "rule_results": [
                   {"id": "PKT-MALFORMED", "source": "RFC 2865 §3", "severity": "error",
                    "scope": "packet", "summary": "s", "passed": false}]}}})"});
    // An import that was not judged (--no-check) counts for no rule.
    db.exec("INSERT INTO runs (kind, started, verdict, report) VALUES ('pcap', 3, 'imported', "
            "'{\"totals\": {}}')");
    // A damaged capture, and one with no accounting in it: neither passed.
    db.exec("INSERT INTO runs (kind, started, verdict, report) VALUES ('pcap', 4, 'incomplete', "
            "'{\"totals\": {}}'), ('pcap', 5, 'no accounting traffic', '{\"totals\": {}}')");
  }
  auto c = s.api("/api/conformance");
  CHECK(c.at("conform_runs").as_int64() == 1);
  CHECK(c.at("pcap_runs").as_int64() == 1);
  bool seen = false;
  for (const auto& r : c.at("rules").as_array()) {
    const auto& rule = r.as_object();
    if (rule.at("rule_id").as_string() == "PKT-MALFORMED") {
      seen = true;
      CHECK(rule.at("runs_passed").as_int64() == 1); // the tester run
      CHECK(rule.at("runs_failed").as_int64() == 1); // the capture import
    }
  }
  CHECK(seen);
  const auto page = s.get("/conformance");
  CHECK_THAT(page.body, Catch::Contains("1 judged capture imports"));
  // Run verdicts wear the severity colours: a failed import reads as an error.
  const auto runs = s.get("/runs");
  CHECK_THAT(runs.body, Catch::Contains("sev-error\">fail<"));
  CHECK_THAT(runs.body, Catch::Contains("sev-info\">imported<"));
  CHECK_THAT(runs.body, Catch::Contains("sev-error\">incomplete<"));
  CHECK_THAT(runs.body, Catch::Contains("sev-warning\">no accounting traffic<"));
}
