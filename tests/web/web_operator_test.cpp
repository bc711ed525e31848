// The operator role over real HTTP: two NAS groups in a clients file (east: the client 127.0.0.1,
// which sent NAS 10.1.1.147's requests; west: 127.0.0.2, the hostile NAS's), accounts of each
// group, an admin and an operator without groups, and every route asked by each: an operator
// never gets a byte of the other group's data (pages, API, CSV, /events, ids by URL), the admin
// gets both.
#include "server/clients_file.hpp"
#include "tests/web/http_client.hpp"
#include "web/auth.hpp"
#include "web/http_server.hpp"
#include "web/nas_scope.hpp"
#include "web/site.hpp"
#include "web_fixture.hpp"

#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace acctlab;
using namespace acctlab::web;

namespace {

// What only each group's data holds, as it reads in HTML, JSON and CSV alike.
const std::vector<std::string> east_marks{"10.1.1.147", "joe@cclient", "ann@cclient", "152608"};
const std::vector<std::string> west_marks{"127.0.0.2", "10.13.13.9", "alert(", "capture<1>",
                                          "capture&lt;1&gt;"};

constexpr std::string_view clients_text = R"(
client east-gw {
  ipaddr = 127.0.0.1
  secret = testing123
  group = east
}
client west-net {
  ipaddr = 127.0.0.0/24
  secret = testing123
  group = west
}
)";

struct OperatorViewer {
  /** live_interval: the operators' recount throttle (0: every change); streams last lifetime. */
  explicit OperatorViewer(const std::string& db,
                          std::chrono::milliseconds live_interval = std::chrono::milliseconds(0),
                          std::chrono::seconds lifetime = std::chrono::seconds(2),
                          std::chrono::milliseconds poll = std::chrono::milliseconds(100))
      : auth({{"alice", "admin", {}, hash_password("password1")},
              {"eve", "operator", {"east"}, hash_password("password2")},
              {"wes", "operator", {"west"}, hash_password("password3")},
              {"nog", "operator", {}, hash_password("password4")}}),
        site(db), server(site, options(lifetime, poll)) {
    site.set_authenticator(&auth);
    site.set_scoped_live_interval(live_interval);
    auto clients = server::parse_clients(clients_text, "clients.conf");
    REQUIRE(clients);
    site.set_clients(std::move(*clients));
    server.start();
  }
  static ServerOptions options(std::chrono::seconds lifetime, std::chrono::milliseconds poll) {
    ServerOptions o;
    o.address = "127.0.0.1";
    o.port = 0;
    o.poll_interval = poll;
    o.event_stream_lifetime = lifetime;
    return o;
  }
  /** Signs in through POST /login; the cookie to send. */
  std::string login(const std::string& user, const std::string& password) {
    const auto body = "user=" + user + "&password=" + password;
    const auto reply = test::http_raw(
        server.port(), "POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                       "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: " +
                           std::to_string(body.size()) + "\r\n\r\n" + body);
    REQUIRE(reply.status == 303);
    const auto cookie = reply.header("set-cookie");
    return cookie.substr(0, cookie.find(';'));
  }
  test::HttpReply get(const std::string& target, const std::string& cookie) {
    return test::http_raw(server.port(), "GET " + target +
                                             " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: "
                                             "close\r\nCookie: " +
                                             cookie + "\r\n\r\n");
  }
  boost::json::object api(const std::string& target, const std::string& cookie) {
    const auto reply = get(target, cookie);
    INFO(target << " -> " << reply.status << " " << reply.body.substr(0, 300));
    REQUIRE(reply.status == 200);
    auto value = boost::json::parse(reply.body);
    REQUIRE(value.is_object());
    return value.as_object();
  }

  Authenticator auth;
  Site site;
  HttpServer server;
};

bool holds_any(const std::string& body, const std::vector<std::string>& marks) {
  for (const auto& mark : marks) {
    if (body.find(mark) != std::string::npos) {
      return true;
    }
  }
  return false;
}

std::string first_mark(const std::string& body, const std::vector<std::string>& marks) {
  for (const auto& mark : marks) {
    if (body.find(mark) != std::string::npos) {
      return mark;
    }
  }
  return {};
}

std::int64_t int_at(const boost::json::object& o, std::initializer_list<const char*> path) {
  const boost::json::value* v = nullptr;
  const boost::json::object* at = &o;
  for (const char* key : path) {
    v = at->if_contains(key);
    REQUIRE(v);
    if (v->is_object()) {
      at = &v->as_object();
    }
  }
  return v->is_int64() ? v->as_int64() : static_cast<std::int64_t>(v->to_number<double>());
}

} // namespace

TEST_CASE("clients file: group lines name a NAS's groups", "[web][operator]") {
  auto clients = server::parse_clients("client a {\n ipaddr = 192.0.2.1\n secret = s\n group = east"
                                       "\n group = core\n group = east\n}\n",
                                       "c.conf");
  REQUIRE(clients);
  CHECK(clients->clients().at(0).groups == std::vector<std::string>{"east", "core"});
  auto bad = server::parse_clients(
      "client a {\n ipaddr = 192.0.2.1\n secret = s\n group = a:b\n}\n", "c.conf");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().to_string() == "c.conf:4: bad group 'a:b' (1-64 of A-Z a-z 0-9 . _ @ -)");
}

TEST_CASE("the accounts file takes operators with their groups", "[web][operator]") {
  const auto hash = hash_password("password1");
  auto accounts = parse_accounts("eve:operator:east,west:" + hash + "\nnog:operator::" + hash +
                                     "\nalice:admin::" + hash + "\n",
                                 "acc");
  REQUIRE(accounts);
  CHECK(accounts->at(0).groups == std::vector<std::string>{"east", "west"});
  CHECK_FALSE(accounts->at(0).admin());
  CHECK(accounts->at(1).groups.empty());
  CHECK(accounts->at(2).admin());
  CHECK(parse_accounts("a:admin:east:" + hash, "acc").error() ==
        "acc:1: admin 'a' has NAS groups: an admin sees every NAS (use role operator)");
  CHECK(parse_accounts("a:operator:ea st:" + hash, "acc").error() ==
        "acc:1: bad NAS group 'ea st'");
}

TEST_CASE("a NAS is in the group of the client its requests came from, longest prefix first",
          "[web][operator]") {
  const auto db_path = test::test_directory("operator-scope") + "/acct.db";
  test::make_fixture_database(db_path);
  storage::ReadOnlyDatabase db(db_path);
  auto clients = server::parse_clients(clients_text, "clients.conf");
  REQUIRE(clients);
  // 127.0.0.1 lies in west's 127.0.0.0/24 too, but east's host entry is the longer prefix.
  const auto east = nas_scope({"eve", "operator", {"east"}, ""}, *clients, db);
  CHECK_FALSE(east.all);
  CHECK(east.nas_keys == std::vector<std::string>{"10.1.1.147"});
  CHECK(east.addresses == std::vector<std::string>{"127.0.0.1"});
  const auto west = nas_scope({"wes", "operator", {"west"}, ""}, *clients, db);
  CHECK(west.nas_keys == std::vector<std::string>{test::hostile_nas});
  CHECK(west.addresses == std::vector<std::string>{"127.0.0.2"});
  const auto both = nas_scope({"bo", "operator", {"west", "east"}, ""}, *clients, db);
  CHECK(both.nas_keys.size() == 2);
  CHECK(nas_scope({"no", "operator", {"north"}, ""}, *clients, db).nas_keys.empty());
  CHECK(nas_scope({"alice", "admin", {}, ""}, *clients, db).all);
  CHECK(unknown_groups({{"no", "operator", {"north", "east"}, ""}}, *clients) ==
        std::vector<std::string>{"north"});
}

TEST_CASE("an operator sees only its group's NASes on every route, the admin sees all",
          "[web][operator]") {
  const auto db = test::test_directory("operator") + "/acct.db";
  const auto ids = test::make_fixture_database(db);
  OperatorViewer viewer(db);
  const auto alice = viewer.login("alice", "password1");
  const auto eve = viewer.login("eve", "password2");
  const auto wes = viewer.login("wes", "password3");

  const auto id = [](std::int64_t n) { return std::to_string(n); };
  const std::vector<std::string> routes{
      "/",
      "/sessions",
      "/sessions?q=cclient",
      "/sessions.csv",
      "/usage",
      "/usage?group=nas",
      "/usage?group=peer&period=month",
      "/conformance",
      "/conformance/DOC-STOP-COUNTERS",
      "/conformance/RFC2866-ACCT-SESSION-ID",
      "/conformance/RFC2865-LENGTH",
      "/runs",
      "/runs/" + id(ids.serve_run),
      "/runs/" + id(ids.pcap_run),
      "/runs/" + id(ids.conform_run),
      "/nas",
      "/sessions/" + id(ids.document_session),
      "/sessions/" + id(ids.stale_session),
      "/sessions/" + id(ids.hostile_session),
      "/packets/" + id(ids.start_packet),
      "/packets/" + id(ids.hostile_packet),
      "/packets/" + id(ids.malformed_packet),
      "/metrics",
  };
  std::vector<std::string> targets = routes;
  for (const auto& route : routes) {
    if (route != "/sessions.csv" && route != "/metrics") {
      targets.push_back("/api" + (route == "/" ? std::string("/overview") : route));
    }
  }
  int east_seen = 0;
  int west_seen = 0;
  for (const auto& target : targets) {
    INFO(target);
    const auto as_eve = viewer.get(target, eve);
    const auto as_wes = viewer.get(target, wes);
    const auto as_alice = viewer.get(target, alice);
    CHECK(as_alice.status == 200);
    // Another group's id answers as a missing one (404), never 403: ids do not tell what exists.
    CHECK((as_eve.status == 200 || as_eve.status == 404));
    CHECK((as_wes.status == 200 || as_wes.status == 404));
    CHECK(first_mark(as_eve.body, west_marks) == "");
    CHECK(first_mark(as_wes.body, east_marks) == "");
    east_seen += holds_any(as_eve.body, east_marks);
    west_seen += holds_any(as_wes.body, west_marks);
    if (holds_any(as_alice.body, east_marks) || holds_any(as_alice.body, west_marks)) {
      // Whatever the admin's page shows of either group, the operators' pages would not: the
      // admin is not scoped.
      CHECK(as_alice.status == 200);
    }
  }
  // Each operator does see its own data (the scope is not simply "nothing").
  CHECK(east_seen > 20);
  CHECK(west_seen > 10);

  // Ids of the other group: 404 as for an id that does not exist.
  for (const auto& target :
       {"/sessions/" + id(ids.hostile_session), "/api/sessions/" + id(ids.hostile_session),
        "/packets/" + id(ids.hostile_packet), "/packets/" + id(ids.malformed_packet),
        "/runs/" + id(ids.pcap_run), "/api/runs/" + id(ids.pcap_run)}) {
    INFO(target);
    CHECK(viewer.get(target, eve).status == 404);
    CHECK(viewer.get(target, alice).status == 200);
  }
  for (const auto& target :
       {"/sessions/" + id(ids.document_session), "/packets/" + id(ids.start_packet)}) {
    INFO(target);
    CHECK(viewer.get(target, wes).status == 404);
    CHECK(viewer.get(target, eve).status == 200);
  }
  CHECK(viewer.get("/metrics", eve).status == 404);
  CHECK(viewer.get("/metrics", alice).status == 200);

  // The counts: the admin's cover both groups, each operator's its own.
  const auto all = viewer.api("/api/overview", alice);
  const auto east = viewer.api("/api/overview", eve);
  const auto west = viewer.api("/api/overview", wes);
  CHECK(int_at(all, {"live", "sessions", "total"}) == 3);
  CHECK(int_at(east, {"live", "sessions", "total"}) == 2);
  CHECK(int_at(west, {"live", "sessions", "total"}) == 1);
  CHECK(int_at(all, {"live", "packets"}) == 7);
  CHECK(int_at(east, {"live", "packets"}) == 5);
  CHECK(int_at(west, {"live", "packets"}) == 2);
  CHECK(int_at(east, {"live", "records"}) == 5);
  CHECK(int_at(west, {"live", "records"}) == 1);
  CHECK(int_at(all, {"live", "findings"}) == 3);
  CHECK(int_at(east, {"live", "findings"}) == 1);
  CHECK(int_at(west, {"live", "findings"}) == 2);
  CHECK(viewer.api("/api/nas", eve).at("nas").as_array().size() == 1);
  CHECK(viewer.api("/api/nas", alice).at("nas").as_array().size() == 2);
  CHECK(int_at(viewer.api("/api/sessions", eve), {"total"}) == 2);
  CHECK(int_at(viewer.api("/api/sessions", wes), {"total"}) == 1);
  CHECK(viewer.get("/sessions.csv", eve).header("x-acctlab-rows") == "2 of 2");
  CHECK(viewer.get("/sessions.csv", alice).header("x-acctlab-rows") == "3 of 3");
  // Runs: the serve run for both (its own packets counted), the capture run for west only; a
  // run's stored report (every NAS's counters) for the admin only.
  const auto runs = viewer.api("/api/runs", eve).at("runs").as_array();
  CHECK(runs.size() == 2); // the conform run (a finding of east) and the serve run
  CHECK(viewer.api("/api/runs", eve).at("pcap_files").as_array().empty());
  CHECK(viewer.api("/api/runs", wes).at("pcap_files").as_array().size() == 1);
  const auto serve_run = viewer.api("/api/runs/" + id(ids.serve_run), eve);
  CHECK(serve_run.at("run").as_object().at("report").is_null());
  CHECK(serve_run.at("run").as_object().at("report_withheld").as_bool());
  CHECK(viewer.get("/runs/" + id(ids.serve_run), eve).body.find("17,213") == std::string::npos);
  CHECK(viewer.get("/runs/" + id(ids.serve_run), alice).body.find("17,213") != std::string::npos);
  // Conformance: the rule whose only finding is west's is not found for east.
  CHECK(viewer.get("/conformance/RFC2866-ACCT-SESSION-ID", eve).status == 404);
  CHECK(viewer.get("/conformance/RFC2866-ACCT-SESSION-ID", wes).status == 200);
  CHECK(int_at(viewer.api("/api/conformance/DOC-STOP-COUNTERS", eve), {"total"}) == 1);
  // The runs that judged something of each group: east's finding is the conform run's, west's
  // malformed datagram the capture's.
  CHECK(int_at(viewer.api("/api/conformance", eve), {"conform_runs"}) == 1);
  CHECK(int_at(viewer.api("/api/conformance", eve), {"pcap_runs"}) == 0);
  CHECK(int_at(viewer.api("/api/conformance", wes), {"pcap_runs"}) == 1);
}

TEST_CASE("an operator's /events stream counts its NASes and moves only with them",
          "[web][operator]") {
  const auto db = test::test_directory("operator-events") + "/acct.db";
  test::make_fixture_database(db);
  OperatorViewer viewer(db);
  const auto eve = viewer.login("eve", "password2");
  const auto wes = viewer.login("wes", "password3");
  const auto alice = viewer.login("alice", "password1");
  // While the streams run (2 s each), east's NAS opens a session.
  std::thread writer([&db] {
    std::this_thread::sleep_for(std::chrono::milliseconds(600));
    test::add_open_session(db, "00000099");
  });
  test::HttpReply as_wes;
  test::HttpReply as_alice;
  std::thread wes_stream([&] { as_wes = viewer.get("/events", wes); });
  std::thread alice_stream([&] { as_alice = viewer.get("/events", alice); });
  const auto as_eve = viewer.get("/events", eve);
  writer.join();
  wes_stream.join();
  alice_stream.join();
  const auto events = [](const std::string& body) {
    std::vector<boost::json::object> out;
    for (auto pos = body.find("data: "); pos != std::string::npos;
         pos = body.find("data: ", pos + 1)) {
      out.push_back(
          boost::json::parse(body.substr(pos + 6, body.find('\n', pos) - pos - 6)).as_object());
    }
    return out;
  };
  const auto east = events(as_eve.body);
  const auto west = events(as_wes.body);
  const auto all = events(as_alice.body);
  INFO(as_eve.body << "\n---\n" << as_wes.body << "\n---\n" << as_alice.body);
  // The fixture writes the session, then recounts the tallies in a second transaction: east
  // may see the record before the session's tally moves (three events), never fewer than two.
  REQUIRE(east.size() >= 2);
  CHECK(int_at(east.front(), {"sessions", "total"}) == 2);
  CHECK(int_at(east.back(), {"sessions", "total"}) == 3);
  CHECK(int_at(east.back(), {"sessions", "open"}) == 1);
  // West's counters did not change: one event, and nothing of east's in it.
  REQUIRE(west.size() == 1);
  CHECK(int_at(west.front(), {"sessions", "total"}) == 1);
  CHECK(int_at(west.front(), {"packets"}) == 2);
  REQUIRE(all.size() >= 2);
  CHECK(int_at(all.front(), {"sessions", "total"}) == 3);
  CHECK(int_at(all.back(), {"sessions", "total"}) == 4);
}

TEST_CASE("an operator's /events stream recounts at most once per interval under a flood of "
          "writes, and still brings its NASes' numbers",
          "[web][operator]") {
  const auto db = test::test_database("operator-throttle");
  test::make_fixture_database(db);
  // The throttle at 1 s, the streams polling every 50 ms for 4 s; writes for the first 2.5 s.
  constexpr auto interval = std::chrono::milliseconds(1000);
  OperatorViewer viewer(db, interval, std::chrono::seconds(4), std::chrono::milliseconds(50));
  const auto eve = viewer.login("eve", "password2");
  const auto alice = viewer.login("alice", "password1");
  const auto recounts = [&] {
    const auto body = viewer.get("/metrics", alice).body;
    const std::string series = "acctlab_viewer_live_recounts_total{scope=\"operator\"} ";
    const auto at = body.find(series);
    REQUIRE(at != std::string::npos);
    return std::stoll(body.substr(at + series.size()));
  };
  const auto before = viewer.api("/api/overview", eve);
  const auto packets_before = int_at(before, {"live", "packets"});
  const auto sessions_before = int_at(before, {"live", "sessions", "total"});
  const auto recounts_before = recounts();

  // East's NAS (eve's group) and west's open sessions, two of east's to one of west's, as fast
  // as they commit: every commit moves the database's version.
  int east_writes = 0;
  int west_writes = 0;
  const auto begin = std::chrono::steady_clock::now();
  std::thread writer([&] {
    for (int i = 0;
         i < 2000 && std::chrono::steady_clock::now() - begin < std::chrono::milliseconds(2500);
         ++i) {
      const bool west = i % 3 == 2;
      test::add_open_session(db, "flood-" + std::to_string(i), west);
      ++(west ? west_writes : east_writes);
    }
  });
  const auto stream = viewer.get("/events", eve);
  const auto elapsed = std::chrono::steady_clock::now() - begin;
  writer.join();
  const auto counted = recounts() - recounts_before;

  std::vector<boost::json::object> events;
  for (auto pos = stream.body.find("data: "); pos != std::string::npos;
       pos = stream.body.find("data: ", pos + 1)) {
    events.push_back(
        boost::json::parse(stream.body.substr(pos + 6, stream.body.find('\n', pos) - pos - 6))
            .as_object());
  }
  INFO(stream.body << "\neast writes " << east_writes << ", west writes " << west_writes
                   << ", recounts " << counted << " in "
                   << std::chrono::duration<double>(elapsed).count() << " s");
  // A flood: many more commits than the throttle lets through (without it, one recount per
  // poll that sees a change: dozens here).
  REQUIRE(east_writes >= 10);
  REQUIRE(west_writes >= 5);
  // At most one recount per interval over the stream's life (the first one at once).
  CHECK(counted >= 2);
  CHECK(counted <= 1 + elapsed / interval);
  CHECK(static_cast<std::int64_t>(events.size()) <= counted);
  // The writes stopped at 2.5 s, the stream at 4 s: its last event, counted at most an interval
  // after the last write, holds every write of east's and none of west's.
  REQUIRE(events.size() >= 2);
  CHECK(int_at(events.back(), {"sessions", "total"}) == sessions_before + east_writes);
  CHECK(int_at(events.back(), {"packets"}) == packets_before + east_writes);
  for (const auto& event : events) {
    CHECK(int_at(event, {"packets"}) <= packets_before + east_writes);
  }
}

TEST_CASE("an operator without groups signs in and is told it sees nothing", "[web][operator]") {
  const auto db = test::test_directory("operator-none") + "/acct.db";
  const auto ids = test::make_fixture_database(db);
  OperatorViewer viewer(db);
  const auto nog = viewer.login("nog", "password4");
  for (const std::string& target :
       {std::string("/"), std::string("/sessions"), std::string("/api/overview"),
        std::string("/sessions.csv"), "/sessions/" + std::to_string(ids.document_session),
        std::string("/nas"), std::string("/metrics")}) {
    INFO(target);
    const auto reply = viewer.get(target, nog);
    CHECK(reply.status == 403);
    CHECK_THAT(reply.body,
               Catch::Contains("no NAS groups") || Catch::Contains("without NAS groups"));
    CHECK_FALSE(holds_any(reply.body, east_marks));
    CHECK_FALSE(holds_any(reply.body, west_marks));
  }
  CHECK(viewer.get("/events", nog).body.find("data:") == std::string::npos);
}

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string sign_in(std::uint16_t port, const std::string& user, const std::string& password) {
  const auto body = "user=" + user + "&password=" + password;
  const auto reply =
      test::http_raw(port, "POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                           "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: " +
                               std::to_string(body.size()) + "\r\n\r\n" + body);
  const auto cookie = reply.header("set-cookie");
  return cookie.substr(0, cookie.find(';'));
}

std::string nas_of(std::uint16_t port, const std::string& cookie) {
  const auto reply = test::http_raw(port, "GET /api/nas HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                          "Connection: close\r\nCookie: " +
                                              cookie + "\r\n\r\n");
  return reply.status == 200 ? reply.body : std::string();
}

} // namespace

TEST_CASE("acctlab users add and acctlab web --clients: operators, their groups, SIGHUP",
          "[web][operator][cli]") {
  const std::string binary = std::string(ACCTLAB_BINARY_DIR) + "/acctlab";
  const auto dir = test::test_directory("operator-cli");
  const auto db = dir + "/acct.db";
  test::make_fixture_database(db);
  const auto accounts = dir + "/viewer.accounts";
  const auto clients = dir + "/clients.conf";
  std::filesystem::remove(accounts);
  const auto run = [&](const std::string& command) {
    const int rc = std::system((command + " >" + dir + "/out.log 2>&1").c_str());
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  };
  const auto add = "printf 'password3\\n' | " + binary + " users add ";
  CHECK(run(add + "wes --role operator --nas-group west --accounts " + accounts) == 0);
  CHECK(run(add + "root --role admin --nas-group west --accounts " + accounts) == 2);
  CHECK(run(add + "bad --role operator --nas-group 'a:b' --accounts " + accounts) == 2);
  CHECK(slurp(accounts).starts_with("wes:operator:west:scrypt$"));
  // Operators need the clients file that names the groups.
  CHECK(run(binary + " web --db " + db + " --listen 127.0.0.1:0 --accounts " + accounts) == 2);
  CHECK_THAT(slurp(dir + "/out.log"), Catch::Contains("--clients FILE"));

  std::ofstream(clients) << "client east {\n ipaddr = 127.0.0.1\n secret = s\n group = east\n}\n"
                            "client west {\n ipaddr = 127.0.0.2\n secret = s\n group = west\n}\n";
  const auto log = dir + "/web.log";
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    std::freopen(log.c_str(), "w", stderr);
    ::execl(binary.c_str(), binary.c_str(), "web", "--db", db.c_str(), "--listen", "127.0.0.1:0",
            "--accounts", accounts.c_str(), "--clients", clients.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  struct Stop {
    pid_t pid;
    ~Stop() {
      ::kill(pid, SIGTERM);
      int status = 0;
      ::waitpid(pid, &status, 0);
    }
  } stop{pid};
  // "acctlab web: serving DB on http://127.0.0.1:PORT/ (Ctrl-C stops)"
  std::uint16_t port = 0;
  for (int i = 0; i < 100 && port == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const auto text = slurp(log);
    if (const auto at = text.find("http://127.0.0.1:"); at != std::string::npos) {
      port = static_cast<std::uint16_t>(std::stoi(text.substr(at + 17)));
    }
  }
  REQUIRE(port != 0);
  const auto cookie = sign_in(port, "wes", "password3");
  REQUIRE_FALSE(cookie.empty());
  auto nas = nas_of(port, cookie);
  CHECK(nas.find("127.0.0.2") != std::string::npos);
  CHECK(nas.find("10.1.1.147") == std::string::npos);

  // The admin moves west to the other client; SIGHUP reads the file again.
  std::ofstream(clients) << "client east {\n ipaddr = 127.0.0.1\n secret = s\n group = west\n}\n"
                            "client west {\n ipaddr = 127.0.0.2\n secret = s\n group = east\n}\n";
  ::kill(pid, SIGHUP);
  for (int i = 0; i < 50 && nas.find("10.1.1.147") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    nas = nas_of(port, cookie);
  }
  CHECK(nas.find("10.1.1.147") != std::string::npos);
  CHECK(nas.find("127.0.0.2") == std::string::npos);
  // A file in error keeps the groups it had.
  std::ofstream(clients) << "client broken {\n";
  ::kill(pid, SIGHUP);
  for (int i = 0; i < 50 && slurp(log).find("reload failed") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CHECK_THAT(slurp(log), Catch::Contains("reload failed, keeping the previous NAS groups"));
  CHECK(nas_of(port, cookie).find("10.1.1.147") != std::string::npos);
}
