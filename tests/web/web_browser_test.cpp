// A real browser: headless Chromium opens the main pages served from a real database, the test
// checks the DOM it built (content present, hostile values inert, the live script ran without a
// Content-Security-Policy complaint) and saves screenshots under test-output/web/screenshots.

#include "server/clients_file.hpp"
#include "tests/web/web_fixture.hpp"
#include "web/auth.hpp"
#include "web/http_server.hpp"
#include "web/site.hpp"

#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

using namespace acctlab::web;
using namespace acctlab::web::test;

namespace {

std::string find_chromium() {
  for (const char* candidate :
       {"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"}) {
    if (std::filesystem::exists(candidate)) {
      return candidate;
    }
  }
  return {};
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

struct Browser {
  std::string binary;
  std::string dir;
  int runs = 0;

  /** Runs Chromium headless with `action` on url; returns stdout, and stderr in `log`. A
   * kept_profile (a folder) carries cookies from one run to the next; otherwise each run has a
   * fresh profile. */
  std::string run(const std::string& action, const std::string& url, std::string& log,
                  const std::string& kept_profile = {}) {
    const auto profile =
        kept_profile.empty() ? dir + "/profile-" + std::to_string(runs) : kept_profile;
    const auto err = dir + "/chromium-" + std::to_string(runs++) + ".log";
    std::filesystem::create_directories(profile);
    // The flags keep Chromium off the network (no component updates, sync or background
    // fetches) and inside this test's own profile; timeout bounds a hung browser.
    const std::string command =
        "timeout 90 " + binary +
        " --headless --no-sandbox --disable-gpu --disable-dev-shm-usage "
        "--disable-background-networking --disable-component-update --disable-sync "
        "--no-first-run --no-default-browser-check --enable-logging=stderr --v=0 "
        "--user-data-dir=" +
        profile + " --window-size=1280,900 " + action + " '" + url + "' 2>" + err;
    std::string out;
    if (FILE* pipe = ::popen(command.c_str(), "r")) {
      char buf[8192];
      std::size_t n = 0;
      while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) {
        out.append(buf, n);
      }
      ::pclose(pipe);
    }
    log = read_file(err);
    if (kept_profile.empty()) {
      std::filesystem::remove_all(profile);
    }
    return out;
  }
};

} // namespace

TEST_CASE("headless Chromium renders the pages", "[web][browser]") {
  Browser browser{find_chromium(), test_directory("browser"), 0};
  INFO("install chromium (scripts/setup.sh) to run the browser test");
  REQUIRE_FALSE(browser.binary.empty());

  const auto path = test_directory("browser") + "/acct.db";
  const auto ids = make_fixture_database(path);
  Site site(path);
  ServerOptions options;
  options.port = 0;
  options.poll_interval = std::chrono::milliseconds(200);
  // Short event streams: Chromium's virtual time only runs while no request is pending, so the
  // overview's /events stream must end for --virtual-time-budget to let the page settle after
  // live.js has received its first event.
  options.event_stream_lifetime = std::chrono::seconds(1);
  HttpServer server(site, options);
  server.start();
  const auto base = "http://127.0.0.1:" + std::to_string(server.port());
  const auto shots = test_directory("screenshots");

  SECTION("overview: counters, chart, and the live script updating them") {
    std::string log;
    const auto dom = browser.run("--virtual-time-budget=3000 --dump-dom", base + "/", log);
    INFO(log.substr(0, 2000));
    INFO(dom.substr(std::min(dom.size(), dom.find("Newest record")), 300));
    REQUIRE(dom.find("<h1>Overview</h1>") != std::string::npos);
    CHECK(dom.find("open sessions") != std::string::npos);
    CHECK(dom.find("<svg") != std::string::npos);
    CHECK(dom.find("Interim-Update") != std::string::npos);
    // live.js received a server-sent event and wrote the status line.
    CHECK(dom.find("live · updated") != std::string::npos);
    CHECK(log.find("Content Security Policy") == std::string::npos);
    CHECK(log.find("Refused to") == std::string::npos);
  }

  SECTION("session detail: timeline, attributes, raw hex, findings") {
    std::string log;
    const auto dom =
        browser.run("--dump-dom", base + "/sessions/" + std::to_string(ids.document_session), log);
    REQUIRE(dom.find("Session 00000001") != std::string::npos);
    CHECK(dom.find("Interim-Update") != std::string::npos);
    CHECK(dom.find("isakmp-group-id=cclient") != std::string::npos);
    CHECK(dom.find("Raw packet") != std::string::npos);
    CHECK(dom.find("DOC-STOP-COUNTERS") != std::string::npos);
    CHECK(dom.find("<polyline") != std::string::npos);
    // Chromium logs CSP violations as console messages naming the policy.
    CHECK(log.find("Content Security Policy") == std::string::npos);
    CHECK(log.find("Refused to") == std::string::npos);
  }

  SECTION("hostile values stay text in the browser's DOM") {
    std::string log;
    const auto dom =
        browser.run("--dump-dom", base + "/sessions/" + std::to_string(ids.hostile_session), log);
    REQUIRE(dom.find("<h1>") != std::string::npos);
    // Had the markup been parsed, the DOM would hold a script or img element built from it.
    CHECK(dom.find("<script>alert(1)</script>") == std::string::npos);
    CHECK(dom.find("<img src=\"x\"") == std::string::npos);
    CHECK(dom.find("&lt;script&gt;alert(1)&lt;/script&gt;") != std::string::npos);
  }

  SECTION("sessions list, usage, conformance, runs and NASes render; screenshots saved") {
    for (const auto& [name, target, expect] :
         {std::tuple<std::string, std::string, std::string>{"overview", "/", "Records per hour"},
          {"sessions", "/sessions", "joe@cclient"},
          {"session", "/sessions/" + std::to_string(ids.document_session), "Timeline"},
          {"usage", "/usage", "Top users"},
          {"conformance", "/conformance", "RFC2866-ACCT-SESSION-ID"},
          {"runs", "/runs", "capture&lt;1&gt;.pcap"},
          {"nas", "/nas", "10.1.1.147"}}) {
      INFO(name);
      std::string log;
      if (name != "overview" && name != "session") {
        const auto dom = browser.run("--dump-dom", base + target, log);
        CHECK(dom.find(expect) != std::string::npos);
      }
      const auto png = shots + "/" + name + ".png";
      std::filesystem::remove(png);
      browser.run("--screenshot=" + png, base + target, log);
      REQUIRE(std::filesystem::exists(png));
      CHECK(std::filesystem::file_size(png) > 10000);
    }
  }
}

TEST_CASE("headless Chromium over a database the conformance tester produced", "[web][browser]") {
  Browser browser{find_chromium(), test_directory("browser-conform"), 0};
  REQUIRE_FALSE(browser.binary.empty());
  // acctlab conform runs the gateway's document-debug scenario (the feature document's Start,
  // Interim-Update and Stop) against an embedded server, then judges and stores the findings.
  const auto work = test_directory("browser-conform") + "/work";
  std::filesystem::remove_all(work);
  const std::string command = std::string(ACCTLAB_BINARY_DIR) +
                              "/acctlab conform --scenario document-debug --colour never "
                              "--work-dir " +
                              work + " >" + work + ".log 2>&1";
  REQUIRE(std::system(command.c_str()) == 0);
  const auto path = work + "/document-debug-1.db";
  REQUIRE(std::filesystem::exists(path));

  Site site(path);
  // The document's three listings are three sessions: joe's Start (00000001), the Stop of
  // 00000002, the Interim-Update of 00000003.
  auto sessions = site.handle("GET", "/api/sessions");
  REQUIRE(sessions.status == 200);
  const auto list = boost::json::parse(sessions.body).at("sessions").as_array();
  REQUIRE(list.size() == 3);
  std::map<std::string, std::string> by_session_id;
  for (const auto& s : list) {
    by_session_id[std::string(s.at("acct_session_id").as_string())] =
        std::to_string(s.at("id").as_int64());
  }
  REQUIRE(by_session_id.size() == 3);
  const auto id = by_session_id["00000002"];

  ServerOptions options;
  options.port = 0;
  HttpServer server(site, options);
  server.start();
  const auto base = "http://127.0.0.1:" + std::to_string(server.port());
  const auto shots = test_directory("screenshots");

  std::string log;
  const auto start =
      browser.run("--dump-dom", base + "/sessions/" + by_session_id["00000001"], log);
  CHECK(start.find("joe@cclient") != std::string::npos);
  CHECK(start.find("isakmp-initator-ip=11.1.2.2") != std::string::npos);
  const auto session = browser.run("--dump-dom", base + "/sessions/" + id, log);
  CHECK(session.find("isakmp-initator-ip=11.1.1.2") != std::string::npos);
  CHECK(session.find("disc-cause-ext=No Reason") != std::string::npos);
  CHECK(session.find("PKT-TERMINATE-CAUSE-ZERO") != std::string::npos);
  CHECK(session.find("RFC 2866") != std::string::npos); // the finding's rule source
  const auto interim =
      browser.run("--dump-dom", base + "/sessions/" + by_session_id["00000003"], log);
  CHECK(interim.find("Interim-Update") != std::string::npos);
  const auto conformance = browser.run("--dump-dom", base + "/conformance", log);
  CHECK(conformance.find("CISCO-START-AVPAIR-ISAKMP-INITIATOR-IP") != std::string::npos);
  CHECK(conformance.find("PKT-REQUEST-AUTHENTICATOR") != std::string::npos);
  for (const auto& [name, target] :
       {std::pair<std::string, std::string>{"conform-session", "/sessions/" + id},
        {"conform-conformance", "/conformance"}}) {
    const auto png = shots + "/" + name + ".png";
    std::filesystem::remove(png);
    browser.run("--screenshot=" + png, base + target, log);
    INFO(name);
    CHECK(std::filesystem::exists(png));
  }
}

namespace {

/** The distinct cx values of the circles of each chart (<figure>) on a page that has polylines. */
std::vector<std::set<std::string>> chart_points(const std::string& dom) {
  std::vector<std::set<std::string>> charts;
  for (auto at = dom.find("<figure"); at != std::string::npos; at = dom.find("<figure", at + 1)) {
    const auto end = dom.find("</figure>", at);
    const auto figure = dom.substr(at, end == std::string::npos ? std::string::npos : end - at);
    if (figure.find("<polyline") == std::string::npos) {
      continue;
    }
    std::set<std::string> xs;
    for (auto cx = figure.find(" cx=\""); cx != std::string::npos;
         cx = figure.find(" cx=\"", cx + 1)) {
      const auto from = cx + 5;
      xs.insert(figure.substr(from, figure.find('"', from) - from));
    }
    charts.push_back(std::move(xs));
  }
  return charts;
}

/** The timeline's rows as (Acct-Status-Type, event time text), in page order. */
std::vector<std::pair<std::string, std::string>> timeline(const std::string& dom) {
  std::vector<std::pair<std::string, std::string>> rows;
  const auto table = dom.find("<h2>Timeline</h2>");
  const auto end = dom.find("</table>", table);
  if (table == std::string::npos || end == std::string::npos) {
    return rows;
  }
  const auto body = dom.substr(table, end - table);
  for (auto at = body.find("<tr><td><a href=\"#record-"); at != std::string::npos;
       at = body.find("<tr><td><a href=\"#record-", at + 1)) {
    std::vector<std::string> cells;
    auto cell = body.find("<td", at);
    const auto row_end = body.find("</tr>", at);
    while (cell != std::string::npos && cell < row_end && cells.size() < 3) {
      const auto open = body.find('>', cell) + 1;
      const auto close = body.find("</td>", open);
      cells.push_back(body.substr(open, close - open));
      cell = body.find("<td", close);
    }
    if (cells.size() == 3) {
      rows.emplace_back(cells[1], cells[2]);
    }
  }
  return rows;
}

} // namespace

TEST_CASE("headless Chromium over the demo's data: a session with interims has its shape",
          "[web][browser]") {
  Browser browser{find_chromium(), test_directory("browser-demo"), 0};
  REQUIRE_FALSE(browser.binary.empty());
  // What a new user has after scripts/demo.sh: every scenario run by the tester and gathered
  // into all-scenarios.db. The gateway runs them on its virtual clock (hours in milliseconds);
  // the lab's gateway stamps its records with Event-Timestamp from that clock.
  const auto work = test_directory("browser-demo") + "/work";
  std::filesystem::remove_all(work);
  const std::string command = std::string(ACCTLAB_BINARY_DIR) +
                              "/acctlab demo --no-web --no-lab --dir " + work + " >" + work +
                              ".log 2>&1";
  REQUIRE(std::system(command.c_str()) == 0);
  const auto path = work + "/all-scenarios.db";
  REQUIRE(std::filesystem::exists(path));

  Site site(path);
  // periodic-interims.scn: Start, an Interim-Update every minute, Stop after 5 m 30 s.
  auto sessions = site.handle("GET", "/api/sessions?per=500");
  REQUIRE(sessions.status == 200);
  std::string id;
  const auto listed = boost::json::parse(sessions.body);
  for (const auto& s : listed.at("sessions").as_array()) {
    const auto candidate = std::to_string(s.at("id").as_int64());
    const auto detail = boost::json::parse(site.handle("GET", "/api/sessions/" + candidate).body);
    const auto& unique_id = detail.at("session").at("unique_id").as_string();
    if (std::string(unique_id).starts_with("periodic-interims-1/")) {
      id = candidate;
    }
  }
  REQUIRE_FALSE(id.empty());

  ServerOptions options;
  options.port = 0;
  HttpServer server(site, options);
  server.start();
  const auto base = "http://127.0.0.1:" + std::to_string(server.port());
  std::string log;
  const auto dom = browser.run("--dump-dom", base + "/sessions/" + id, log);
  REQUIRE(dom.find("<h2>Timeline</h2>") != std::string::npos);

  // Every counter chart (two against the session's own time, two against event time) has a
  // point per record with counters, at as many places along x.
  const auto charts = chart_points(dom);
  CHECK(charts.size() == 4);
  for (std::size_t i = 0; i < charts.size(); ++i) {
    INFO("chart " << i + 1);
    CHECK(charts[i].size() > 1);
  }
  CHECK(dom.find("5m 30s") != std::string::npos); // the Stop's Acct-Session-Time on its axis
  CHECK(dom.find("NAS (Event-Timestamp)") != std::string::npos);

  // Start first and Stop last, each at its own time: 5 m 30 s apart on the NAS's clock, which
  // the "YYYY-MM-DD HH:MM:SS" texts order as strings.
  const auto rows = timeline(dom);
  REQUIRE(rows.size() == 7);
  CHECK(rows.front().first == "Start");
  CHECK(rows.back().first == "Stop");
  for (std::size_t i = 1; i < rows.size(); ++i) {
    INFO(rows[i - 1].second << " then " << rows[i].second);
    CHECK(rows[i - 1].second < rows[i].second);
  }

  // The overview's activity chart spreads the lab over the hours its scenarios took.
  const auto json = boost::json::parse(site.handle("GET", "/api/overview").body);
  std::size_t hours = 0;
  for (const auto& point : json.at("activity").at("points").as_array()) {
    const auto& p = point.as_object();
    hours += p.at("start").to_number<double>() + p.at("interim").to_number<double>() +
                         p.at("stop").to_number<double>() >
                     0
                 ? 1
                 : 0;
  }
  CHECK(hours > 1);

  const auto png = test_directory("screenshots") + "/demo-session.png";
  std::filesystem::remove(png);
  browser.run("--screenshot=" + png, base + "/sessions/" + id, log);
  CHECK(std::filesystem::exists(png));
}

TEST_CASE("headless Chromium signs in through the login form, and only then sees the pages",
          "[web][browser][auth]") {
  Browser browser{find_chromium(), test_directory("browser-login"), 0};
  INFO("install chromium (scripts/setup.sh) to run the browser test");
  REQUIRE_FALSE(browser.binary.empty());
  const auto path = test_directory("browser-login") + "/acct.db";
  make_fixture_database(path);
  Site site(path);
  Authenticator auth({{"alice", "admin", {}, hash_password("password1")}});
  site.set_authenticator(&auth);
  ServerOptions options;
  options.port = 0;
  options.event_stream_lifetime = std::chrono::seconds(1);
  HttpServer server(site, options);
  server.start();
  const auto base = "http://127.0.0.1:" + std::to_string(server.port());
  const auto profile = browser.dir + "/kept-profile";
  std::filesystem::remove_all(profile);
  std::filesystem::create_directories(profile);
  // A page that fills in and submits the login form as a person would (the site itself allows
  // no inline script, so the page comes from a file).
  const auto submit = [&](const std::string& password) {
    const auto page = browser.dir + "/login-" + password + ".html";
    std::ofstream(page) << "<!DOCTYPE html><html><body><form id=\"f\" method=\"post\" action=\""
                        << base << "/login\"><input name=\"user\" value=\"alice\">"
                        << "<input name=\"password\" value=\"" << password << "\"></form>"
                        << "<script>document.getElementById('f').submit();</script></body></html>";
    std::string log;
    browser.run("--virtual-time-budget=3000 --dump-dom", "file://" + page, log, profile);
  };
  std::string log;
  // Before signing in: the login form, and none of the data.
  auto dom = browser.run("--dump-dom", base + "/sessions", log, profile);
  CHECK(dom.find("action=\"/login\"") != std::string::npos);
  CHECK(dom.find("joe@cclient") == std::string::npos);
  // A wrong password leaves the browser signed out.
  submit("wrong");
  dom = browser.run("--dump-dom", base + "/sessions", log, profile);
  CHECK(dom.find("joe@cclient") == std::string::npos);
  // The right one: the cookie is kept and the pages show their data.
  submit("password1");
  dom = browser.run("--dump-dom", base + "/sessions", log, profile);
  CHECK(dom.find("joe@cclient") != std::string::npos);
  CHECK(log.find("Content Security Policy") == std::string::npos);
  const auto shot = test_directory("screenshots") + "/login.png";
  std::filesystem::remove(shot);
  browser.run("--screenshot=" + shot, base + "/login", log);
  CHECK(std::filesystem::exists(shot));
  std::filesystem::remove_all(profile);
}

TEST_CASE("headless Chromium signed in as an operator sees only its group's NASes",
          "[web][browser][auth][operator]") {
  Browser browser{find_chromium(), test_directory("browser-operator"), 0};
  INFO("install chromium (scripts/setup.sh) to run the browser test");
  REQUIRE_FALSE(browser.binary.empty());
  const auto path = test_directory("browser-operator") + "/acct.db";
  const auto ids = make_fixture_database(path);
  Site site(path);
  // Group west: the client 127.0.0.2, which sent the hostile NAS's requests; 10.1.1.147's came
  // from 127.0.0.1, group east.
  Authenticator auth({{"wes", "operator", {"west"}, hash_password("password3")}});
  site.set_authenticator(&auth);
  auto clients = acctlab::server::parse_clients(
      "client east-gw {\n ipaddr = 127.0.0.1\n secret = s\n group = east\n}\n"
      "client west-gw {\n ipaddr = 127.0.0.2\n secret = s\n group = west\n}\n",
      "clients.conf");
  REQUIRE(clients);
  site.set_clients(std::move(*clients));
  ServerOptions options;
  options.port = 0;
  options.poll_interval = std::chrono::milliseconds(200);
  options.event_stream_lifetime = std::chrono::seconds(1);
  HttpServer server(site, options);
  server.start();
  const auto base = "http://127.0.0.1:" + std::to_string(server.port());
  const auto profile = browser.dir + "/kept-profile";
  std::filesystem::remove_all(profile);
  std::filesystem::create_directories(profile);
  const auto page = browser.dir + "/login.html";
  std::ofstream(page) << "<!DOCTYPE html><html><body><form id=\"f\" method=\"post\" action=\""
                      << base << "/login\"><input name=\"user\" value=\"wes\">"
                      << "<input name=\"password\" value=\"password3\"></form>"
                      << "<script>document.getElementById('f').submit();</script></body></html>";
  std::string log;
  browser.run("--virtual-time-budget=3000 --dump-dom", "file://" + page, log, profile);

  // Every page as the browser builds it (live.js included): the hostile NAS's data is there,
  // none of 10.1.1.147's.
  const auto hostile_user_text = std::string("&lt;script&gt;alert(1)&lt;/script&gt;");
  for (const std::string& target :
       {std::string("/"), std::string("/sessions"), std::string("/usage"), std::string("/nas"),
        std::string("/runs"), std::string("/conformance"),
        "/sessions/" + std::to_string(ids.hostile_session)}) {
    INFO(target);
    const auto dom =
        browser.run("--virtual-time-budget=3000 --dump-dom", base + target, log, profile);
    CHECK(dom.find("<h1>") != std::string::npos);
    CHECK(dom.find("action=\"/login\"") == std::string::npos);
    for (const char* east : {"10.1.1.147", "joe@cclient", "ann@cclient", "152608"}) {
      INFO(east);
      CHECK(dom.find(east) == std::string::npos);
    }
    CHECK(log.find("Content Security Policy") == std::string::npos);
  }
  auto dom = browser.run("--dump-dom", base + "/sessions", log, profile);
  CHECK(dom.find(hostile_user_text) != std::string::npos);
  dom = browser.run("--dump-dom", base + "/nas", log, profile);
  CHECK(dom.find("127.0.0.2") != std::string::npos);
  // The overview's live counters, set again by live.js from /events: west's two packets and
  // one open session (all NASes together have seven and two).
  dom = browser.run("--virtual-time-budget=3000 --dump-dom", base + "/", log, profile);
  CHECK(dom.find("data-live=\"packets\">2<") != std::string::npos);
  CHECK(dom.find("data-live=\"sessions.open\">1<") != std::string::npos);
  // Another group's session by URL: not found.
  dom = browser.run("--dump-dom", base + "/sessions/" + std::to_string(ids.document_session), log,
                    profile);
  CHECK(dom.find("Not found") != std::string::npos);
  CHECK(dom.find("joe@cclient") == std::string::npos);
  const auto shot = test_directory("screenshots") + "/operator-sessions.png";
  std::filesystem::remove(shot);
  browser.run("--screenshot=" + shot, base + "/sessions", log, profile);
  CHECK(std::filesystem::exists(shot));
  std::filesystem::remove_all(profile);
}
