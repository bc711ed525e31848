// `acctlab serve` run as a service is: --version, a configuration file with the command line on
// top, --check-config as radiusd -C, its logs, /metrics and the viewer beside it. On a SQLite
// file, or a PostgreSQL database with ACCTLAB_TEST_ENGINE=postgres (tests/support/
// test_engine.hpp).
#include "../storage/storage_test_util.hpp"
#include "server_test_util.hpp"
#include "tests/support/loopback_socket.hpp"
#include "tests/support/run_command.hpp"
#include "tests/support/stored_db.hpp"
#include "tests/support/test_engine.hpp"
#include "tests/web/http_client.hpp"

#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>
#include <fstream>
#include <netinet/in.h>
#include <regex>
#include <sys/socket.h>
#include <unistd.h>

using namespace acctlab;
using namespace std::chrono_literals;
using test::make_request;

TEST_CASE("acctlab --version names the release and the commit", "[server][service][no-db]") {
  const auto result = test::run_acctlab("--version");
  CHECK(result.status == 0);
  // "acctlab 0.1.0 (commit 7c376bb6fcd3)" or "(commit unknown)" outside git; -dirty when changed.
  CHECK(std::regex_match(
      result.output,
      std::regex(R"(acctlab \d+\.\d+\.\d+ \(commit ([0-9a-f]{7,40}(-dirty)?|unknown)\)\n)")));
}

TEST_CASE("serve --config: the file's options apply, the command line overrides them",
          "[server][service][config]") {
  test::TempDir dir;
  std::filesystem::create_directory(dir.file("state"));
  std::ofstream(dir.file("clients.conf"))
      << "client lab {\n  ipaddr = 127.0.0.1/32\n  secret = fromfile\n}\n";
  const auto conf = dir.file("acctlab.conf");
  // On SQLite a path relative to the file's folder; on PostgreSQL the URI, taken as it is.
  const auto from_file = test::fresh_database(dir.file("state/acct.db"), "from_file");
  std::ofstream(conf) << "# a lab server\nlisten = 127.0.0.1:0\ndb = "
                      << (test::on_postgres() ? from_file : "state/acct.db")
                      << "\nclients = clients.conf\nstats = 0\nreport-interval = 3600\n";

  {
    test::ServerProcess process({"serve", "--config", conf}, dir.file("serve.log"));
    const auto port = process.wait_for_port();
    REQUIRE(port != 0);
    test::UdpClient client("127.0.0.1", port);
    const auto request = make_request({.session_id = "from-config", .secret = "fromfile"});
    client.send(request);
    const auto response = client.receive(5s);
    REQUIRE(response);
    CHECK(test::is_valid_response(*response, request, "fromfile"));
    process.signal(SIGTERM);
    REQUIRE(process.wait() == 0);
    // The database is the file's (a path relative to the file's folder).
    CHECK(test::stored_count(from_file, "SELECT COUNT(*) FROM records WHERE acct_session_id = "
                                        "'from-config'") == 1);
  }
  {
    // --db on the command line wins over the file's db; the rest of the file still applies.
    const auto override_db = test::fresh_database(dir.file("override.db"), "override");
    test::ServerProcess process({"serve", "--config", conf, "--db", override_db},
                                dir.file("serve2.log"));
    const auto port = process.wait_for_port();
    REQUIRE(port != 0);
    test::UdpClient client("127.0.0.1", port);
    const auto request = make_request({.session_id = "overridden", .secret = "fromfile"});
    client.send(request);
    REQUIRE(client.receive(5s));
    process.signal(SIGTERM);
    REQUIRE(process.wait() == 0);
    CHECK(test::stored_count(override_db, "SELECT COUNT(*) FROM records WHERE acct_session_id = "
                                          "'overridden'") == 1);
    CHECK(test::stored_count(from_file, "SELECT COUNT(*) FROM records WHERE acct_session_id = "
                                        "'overridden'") == 0);
  }
}

TEST_CASE("serve --check-config: 0 for a good file, every error with file:line for a bad one",
          "[server][service][config][no-db]") {
  test::TempDir dir;
  std::ofstream(dir.file("clients.conf"))
      << "client lab {\n  ipaddr = 127.0.0.1/32\n  secret = s\n}\n";
  const auto good = dir.file("good.conf");
  std::ofstream(good) << "listen = 127.0.0.1:1813\nlisten = [::1]:1813\ndb = acct.db\n"
                         "clients = clients.conf\nsynchronous = normal\nweb = 127.0.0.1:8080\n";
  auto result = test::run_acctlab("serve --config " + good + " --check-config");
  CHECK(result.status == 0);
  CHECK_THAT(result.output, Catch::Contains("configuration OK"));
  // It validates and exits: nothing was created, nothing listened.
  CHECK_FALSE(std::filesystem::exists(dir.file("acct.db")));

  const auto bad = dir.file("bad.conf");
  std::ofstream(bad) << "listen = 127.0.0.1\nstats = ten\n\nclients = missing.conf\nfoo = bar\n";
  result = test::run_acctlab("serve --config " + bad + " --check-config");
  CHECK(result.status == 2);
  CHECK_THAT(result.output, Catch::Contains(bad + ":1: listen \"127.0.0.1\""));
  CHECK_THAT(result.output, Catch::Contains(bad + ":2: stats wants"));
  CHECK_THAT(result.output, Catch::Contains(bad + ":4: clients: cannot read"));
  CHECK_THAT(result.output, Catch::Contains(bad + ":5: unknown key \"foo\""));

  // A bad value on the command line is named as the option.
  result = test::run_acctlab("serve --config " + good + " --stats x --check-config");
  CHECK(result.status == 2);
  CHECK_THAT(result.output, Catch::Contains("--stats wants a whole number"));

  // A clients file with a mistake: the error is the clients file's own line.
  std::ofstream(dir.file("clients.conf")) << "client lab {\n  ipaddr = 127.0.0.1/99\n}\n";
  result = test::run_acctlab("serve --config " + good + " --check-config");
  CHECK(result.status == 2);
  CHECK_THAT(result.output, Catch::Contains(dir.file("clients.conf") + ":2:"));

  // serve itself refuses to start on a bad file, with the same messages.
  result = test::run_acctlab("serve --config " + bad);
  CHECK(result.status == 2);
  CHECK_THAT(result.output, Catch::Contains(bad + ":2: stats wants"));
}

TEST_CASE("serve --log-format json: every line of both streams is one JSON object",
          "[server][service][logs]") {
  if (::access("/usr/bin/python3", X_OK) != 0) {
    FAIL("python3 is not installed (scripts/setup.sh installs it)");
  }
  test::TempDir dir;
  // Only 127.0.0.1 with secret "right": a wrong secret is a bad_authenticator drop with a NAS.
  std::ofstream(dir.file("clients.conf"))
      << "client lab {\n  ipaddr = 127.0.0.1/32\n  secret = right\n  shortname = lab-gw\n}\n";
  const auto log = dir.file("serve.log");
  test::ServerProcess process({"serve", "--listen", "127.0.0.1:0", "--db",
                               test::fresh_database(dir.file("acct.db"), "acct"), "--clients",
                               dir.file("clients.conf"), "--log-format", "json", "--debug",
                               "radius", "--stats", "1"},
                              log);
  const auto port = process.wait_for_port();
  REQUIRE(port != 0);
  test::UdpClient client("127.0.0.1", port);
  // A user name with a quote, a backslash, a control character and a byte that is not UTF-8:
  // the debug lines print it, and each line must still be valid JSON.
  const auto odd = make_request(
      {.session_id = "json-1", .identifier = 1, .secret = "right", .user = "jo\"e\\\x01\xff"});
  client.send(odd);
  const auto odd_answer = client.receive(5s);
  INFO(process.log());
  REQUIRE(odd_answer);
  client.send(make_request({.session_id = "json-2", .identifier = 2, .secret = "wrong"}));
  CHECK_FALSE(client.receive(300ms));
  // Wait for a stats line (every second), then stop.
  for (int i = 0; i < 100 && process.log().find("\"event\":\"stats\"") == std::string::npos; ++i) {
    std::this_thread::sleep_for(30ms);
  }
  process.signal(SIGTERM);
  REQUIRE(process.wait() == 0);

  // A strict reader: the file must be UTF-8, every non-empty line a JSON object (no NaN or
  // Infinity) with time, level, event, nas, message and fields; it prints the events it saw.
  const auto script = dir.file("check.py");
  std::ofstream(script) << R"(import json, sys, re
def no_constants(name):
    raise ValueError("not JSON: " + name)
seen = []
with open(sys.argv[1], encoding="utf-8", errors="strict") as f:
    for number, line in enumerate(f, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line, parse_constant=no_constants)
        except ValueError as e:
            sys.exit(f"line {number}: {e}: {line!r}")
        if not isinstance(obj, dict):
            sys.exit(f"line {number}: not an object")
        for key in ("time", "level", "event", "nas", "message", "fields"):
            if key not in obj:
                sys.exit(f"line {number}: no {key}")
        if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", obj["time"]):
            sys.exit(f"line {number}: time {obj['time']!r}")
        if obj["level"] not in ("debug", "info", "warning", "error"):
            sys.exit(f"line {number}: level {obj['level']!r}")
        if not isinstance(obj["fields"], dict):
            sys.exit(f"line {number}: fields is not an object")
        seen.append(obj)
events = {o["event"] for o in seen}
print(" ".join(sorted(events)))
drop = [o for o in seen if o["event"] == "packet_dropped"]
if drop and (drop[0]["nas"] != "lab-gw" or drop[0]["fields"].get("cause") != "bad-authenticator"):
    sys.exit(f"drop line: {drop[0]!r}")
stats = [o for o in seen if o["event"] == "stats"]
if stats and not isinstance(stats[0]["fields"].get("received"), int):
    sys.exit("stats.received is not a number")
print(len(seen), "lines")
)";
  const auto result = test::run_command("python3 " + script + " " + log + " 2>&1");
  INFO(result.output);
  INFO(process.log());
  REQUIRE(result.status == 0);
  for (const char* event :
       {"listening", "radius_debug", "packet_dropped", "stats", "stopping", "stopped"}) {
    CHECK_THAT(result.output, Catch::Contains(event));
  }
}

namespace {

/** GET over a plain socket on 127.0.0.1; the whole reply (headers and body), bounded in time. */
std::string http_get(std::uint16_t port, const std::string& target) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval timeout{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string reply;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    const std::string request =
        "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    (void)!::write(fd, request.data(), request.size());
    char buffer[8192];
    for (int i = 0; i < 10000; ++i) {
      const ssize_t n = ::read(fd, buffer, sizeof buffer);
      if (n <= 0) {
        break;
      }
      reply.append(buffer, static_cast<std::size_t>(n));
    }
  }
  ::close(fd);
  return reply;
}

/** Checks a /metrics reply with tests/support/check_prometheus.py; returns its output. */
test::CommandResult check_metrics(const test::TempDir& dir, const std::string& reply,
                                  const std::vector<std::string>& expectations) {
  const auto body_at = reply.find("\r\n\r\n");
  std::ofstream(dir.file("metrics.txt"))
      << reply.substr(body_at == std::string::npos ? 0 : body_at + 4);
  std::string command = "/usr/bin/python3 " + std::string(ACCTLAB_SOURCE_DIR) +
                        "/tests/support/check_prometheus.py " + dir.file("metrics.txt");
  for (const auto& e : expectations) {
    command += " '" + e + "'";
  }
  return test::run_command(command + " 2>&1");
}

} // namespace

TEST_CASE("serve --web /metrics: the stats counters, latency histograms, per-NAS counts, the "
          "database, in the Prometheus text format",
          "[server][service][metrics]") {
  if (::access("/usr/bin/python3", X_OK) != 0) {
    FAIL("python3 is not installed (scripts/setup.sh installs it)");
  }
  test::TempDir dir;
  std::ofstream(dir.file("clients.conf"))
      << "client lab {\n  ipaddr = 127.0.0.1/32\n  secret = right\n  shortname = lab\n}\n"
      << "client quiet {\n  ipaddr = 127.0.0.3/32\n  secret = other\n}\n";
  const auto web = test::free_loopback_port(SOCK_STREAM);
  const auto db = test::fresh_database(dir.file("acct.db"), "acct");
  test::ServerProcess process({"serve", "--listen", "127.0.0.1:0", "--db", db, "--clients",
                               dir.file("clients.conf"), "--web",
                               "127.0.0.1:" + std::to_string(web), "--stats", "0"},
                              dir.file("serve.log"));
  const auto port = process.wait_for_port();
  REQUIRE(port != 0);
  test::UdpClient client("127.0.0.1", port);
  // Start, Interim-Update, Stop of one session: three records, the session closed.
  std::uint8_t id = 1;
  for (const std::uint32_t status : {1u, 3u, 2u}) {
    const auto request = make_request(
        {.status = status, .session_id = "m-1", .identifier = id++, .secret = "right"});
    client.send(request);
    const auto response = client.receive(5s);
    REQUIRE(response);
    CHECK(test::is_valid_response(*response, request, "right"));
  }
  client.send(make_request({.session_id = "m-2", .identifier = id++, .secret = "wrong"}));
  CHECK_FALSE(client.receive(200ms));
  // From 127.0.0.2, which no client matches: counted under the bounded label "unknown".
  test::UdpClient stranger("127.0.0.1", port, "127.0.0.2");
  stranger.send(make_request({.session_id = "m-3", .identifier = 1}));
  CHECK_FALSE(stranger.receive(200ms));

  std::string reply;
  std::string expected_commit = test::run_acctlab("--version").output;
  expected_commit = expected_commit.substr(expected_commit.find("commit ") + 7);
  expected_commit = expected_commit.substr(0, expected_commit.find(')'));
  test::CommandResult checked;
  // The unknown source's drop is counted when its datagram is handled: poll until it shows.
  std::vector<std::string> expected{
      "acctlab_received_total=5",
      "acctlab_accepted_total=3",
      "acctlab_answered_total=3",
      "acctlab_bad_authenticator_total=1",
      "acctlab_unknown_client_total=1",
      "acctlab_open_sessions=0",
      "acctlab_database_up=1",
      "acctlab_in_flight=0",
      "acctlab_commit_latency_seconds_count>=1",
      "acctlab_nas_requests_total{nas=\"lab\"}=4",
      "acctlab_nas_requests_total{nas=\"unknown\"}=1",
      "acctlab_nas_drops_total{nas=\"lab\",cause=\"bad-authenticator\"}=1",
      "acctlab_nas_drops_total{nas=\"unknown\",cause=\"unknown-client\"}=1",
      "acctlab_db_sessions{state=\"closed\"}=1",
      "acctlab_db_records=3",
      "acctlab_build_info{version=\"" ACCTLAB_TEST_VERSION "\",commit=\"" + expected_commit +
          "\"}=1"};
  if (!test::on_postgres()) {
    // The fdatasync of SQLite's log and its file's size (PostgreSQL's are its server's).
    expected.insert(expected.end(),
                    {"acctlab_sync_latency_seconds_count>=1", "acctlab_database_size_bytes>=4096"});
  }
  for (int i = 0; i < 50; ++i) {
    reply = http_get(web, "/metrics");
    checked = check_metrics(dir, reply, expected);
    if (checked.status == 0) {
      break;
    }
    std::this_thread::sleep_for(100ms);
  }
  INFO(reply);
  INFO(checked.output);
  CHECK(checked.status == 0);
  CHECK_THAT(reply, Catch::StartsWith("HTTP/1.1 200"));
  CHECK_THAT(reply, Catch::Contains("text/plain; version=0.0.4"));
  // A NAS that sent nothing has no series: labels come from traffic, within the clients file.
  CHECK_THAT(reply, !Catch::Contains("nas=\"quiet\""));
  process.signal(SIGTERM);
  REQUIRE(process.wait() == 0);

  // `acctlab web` alone over the same database: the database's tallies and files.
  const auto web2 = test::free_loopback_port(SOCK_STREAM);
  test::ServerProcess viewer({"web", "--db", db, "--listen", "127.0.0.1:" + std::to_string(web2)},
                             dir.file("web.log"));
  // The viewer's own answer, not the server's above: until it answers, it may not yet handle
  // the SIGTERM below (it died of it once under the sanitizers). Up to 15 s.
  reply.clear();
  for (int i = 0; i < 300 && reply.find("200 OK") == std::string::npos; ++i) {
    std::this_thread::sleep_for(50ms);
    reply = http_get(web2, "/metrics");
  }
  expected = {"acctlab_db_sessions{state=\"closed\"}=1", "acctlab_db_sessions{state=\"open\"}=0",
              "acctlab_db_records=3", "acctlab_db_packets=5"};
  if (!test::on_postgres()) {
    expected.emplace_back("acctlab_database_size_bytes>=4096");
  }
  checked = check_metrics(dir, reply, expected);
  INFO(reply);
  CHECK(checked.status == 0);
  viewer.signal(SIGTERM);
  CHECK(viewer.wait() == 0);
}

TEST_CASE("the viewer refuses an address other than loopback unless told --insecure, and then "
          "warns",
          "[server][service][web]") {
  test::TempDir dir;
  const auto db = test::fresh_database(dir.file("acct.db"), "acct");
  // A database for the viewer: a server that ran once.
  {
    test::ServerProcess process({"serve", "--listen", "127.0.0.1:0", "--db", db, "--stats", "0"},
                                dir.file("serve.log"));
    REQUIRE(process.wait_for_port() != 0);
    process.signal(SIGTERM);
    REQUIRE(process.wait() == 0);
  }
  auto result = test::run_acctlab("web --db '" + db + "' --listen 0.0.0.0:0");
  CHECK(result.status == 2);
  CHECK_THAT(result.output, Catch::Contains("0.0.0.0 is not a loopback address"));
  result =
      test::run_acctlab("serve --db '" + db + "' --listen 127.0.0.1:0 --web 0.0.0.0:0 --stats 0");
  CHECK(result.status == 2);
  CHECK_THAT(result.output, Catch::Contains("is not a loopback address"));

  // --insecure: it serves, and says so on every start.
  const auto port = test::free_loopback_port(SOCK_STREAM);
  test::ServerProcess viewer(
      {"web", "--db", db, "--listen", "0.0.0.0:" + std::to_string(port), "--insecure"},
      dir.file("web.log"));
  std::string reply;
  // Up to 15 s: a viewer starting beside parallel builds took longer than 5 s once.
  for (int i = 0; i < 300 && reply.find("200 OK") == std::string::npos; ++i) {
    std::this_thread::sleep_for(50ms);
    reply = http_get(port, "/metrics"); // over loopback: the test sends nothing elsewhere
  }
  CHECK_THAT(reply, Catch::StartsWith("HTTP/1.1 200"));
  CHECK_THAT(viewer.log(), Catch::Contains("WARNING: --insecure"));
  viewer.signal(SIGTERM);
  CHECK(viewer.wait() == 0);
}

TEST_CASE("the viewer over HTTPS with accounts: a login, a signed cookie, every route gated",
          "[server][service][web][tls]") {
  if (::access("/usr/bin/python3", X_OK) != 0 || ::access("/usr/bin/openssl", X_OK) != 0) {
    FAIL("python3 and openssl are needed (scripts/setup.sh installs them)");
  }
  test::TempDir dir;
  const auto db = test::fresh_database(dir.file("acct.db"), "acct");
  {
    test::ServerProcess process({"serve", "--listen", "127.0.0.1:0", "--db", db, "--stats", "0"},
                                dir.file("serve.log"));
    REQUIRE(process.wait_for_port() != 0);
    process.signal(SIGTERM);
    REQUIRE(process.wait() == 0);
  }
  // A self-signed certificate for 127.0.0.1, and an account made as an administrator makes it.
  REQUIRE(test::run_command("/usr/bin/openssl req -x509 -newkey rsa:2048 -nodes -keyout " +
                            dir.file("key.pem") + " -out " + dir.file("cert.pem") +
                            " -days 2 -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1 "
                            ">/dev/null 2>&1")
              .status == 0);
  auto result =
      test::run_command("printf 'sesame-open\\n' | " + std::string(ACCTLAB_BINARY_DIR) +
                        "/acctlab users add alice --accounts " + dir.file("accounts") + " 2>&1");
  REQUIRE(result.status == 0);
  CHECK((std::filesystem::status(dir.file("accounts")).permissions() &
         std::filesystem::perms::others_read) == std::filesystem::perms::none);
  result = test::run_command("printf 'sesame-open\\n' | " + std::string(ACCTLAB_BINARY_DIR) +
                             "/acctlab users add ops --role operator --nas-group east --accounts " +
                             dir.file("accounts") + " 2>&1");
  CHECK(result.status == 0); // an operator of group east (the clients file below names it)
  std::ofstream(dir.file("clients.conf"))
      << "client lab {\n  ipaddr = 127.0.0.1\n  secret = testing123\n  group = east\n}\n";

  // TLS without accounts on an address other than loopback is still refused.
  result = test::run_acctlab("web --db '" + db + "' --listen 0.0.0.0:0 --tls-cert " +
                             dir.file("cert.pem") + " --tls-key " + dir.file("key.pem"));
  CHECK(result.status == 2);

  const auto port = test::free_loopback_port(SOCK_STREAM);
  test::ServerProcess viewer({"web", "--db", db, "--listen", "0.0.0.0:" + std::to_string(port),
                              "--tls-cert", dir.file("cert.pem"), "--tls-key", dir.file("key.pem"),
                              "--accounts", dir.file("accounts"), "--clients",
                              dir.file("clients.conf")},
                             dir.file("web.log"));
  const auto script = dir.file("client.py");
  std::ofstream(script) << R"(import ssl, sys, http.client, socket, urllib.parse, time
port, cafile = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=cafile)
def req(method, path, body=None, headers={}):
    c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=10)
    c.request(method, path, body=body, headers=headers)
    r = c.getresponse(); data = r.read(); c.close()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, data
for attempt in range(100):
    try:
        req("GET", "/login"); break
    except OSError:
        time.sleep(0.05)
def check(ok, what):
    if not ok: sys.exit("FAIL: " + what)
pages = ["/", "/sessions", "/usage", "/conformance", "/runs", "/nas"]
programs = ["/api/overview", "/api/sessions", "/api/nas", "/sessions.csv", "/metrics", "/events"]
for p in pages:
    s, h, _ = req("GET", p); check(s == 303 and h.get("location") == "/login", f"{p} without a session: {s}")
for p in programs:
    s, _, _ = req("GET", p); check(s == 401, f"{p} without a session: {s}")
form = {"Content-Type": "application/x-www-form-urlencoded"}
s, h, _ = req("POST", "/login", "user=alice&password=wrong", form); check(s == 401, f"wrong password: {s}")
s, h, _ = req("POST", "/login", urllib.parse.urlencode({"user": "alice", "password": "sesame-open"}), form)
check(s == 303, f"login: {s}")
sc = h.get("set-cookie", "")
for flag in ("HttpOnly", "Secure", "SameSite=Strict"):
    check(flag in sc, f"cookie lacks {flag}: {sc}")
check(h.get("strict-transport-security", "").startswith("max-age="), "no HSTS")
cookie = sc.split(";")[0]
for p in pages + programs[:-1]:
    s, h, _ = req("GET", p, headers={"Cookie": cookie}); check(s == 200, f"{p} with a session: {s}")
    for name in ("content-security-policy", "x-content-type-options", "strict-transport-security"):
        check(name in h, f"{p} lacks {name}")
    check("frame-ancestors 'none'" in h["content-security-policy"], f"{p}: CSP without frame-ancestors")
# The operator signs in the same way; /metrics (every NAS's counters) is not its.
s, h, _ = req("POST", "/login", "user=ops&password=sesame-open", form); check(s == 303, f"operator login: {s}")
ops = h.get("set-cookie", "").split(";")[0]
s, _, _ = req("GET", "/api/overview", headers={"Cookie": ops}); check(s == 200, f"operator overview: {s}")
s, _, _ = req("GET", "/metrics", headers={"Cookie": ops}); check(s == 404, f"operator metrics: {s}")
tampered = cookie[:-1] + ("0" if cookie[-1] != "0" else "1")
s, _, _ = req("GET", "/api/overview", headers={"Cookie": tampered}); check(s == 401, f"tampered cookie: {s}")
# Plain HTTP to the HTTPS port gets no page.
raw = socket.create_connection(("127.0.0.1", port), timeout=5)
raw.sendall(b"GET /api/overview HTTP/1.1\r\nHost: x\r\n\r\n")
try:
    answer = raw.recv(4096)
except OSError:
    answer = b""
check(b"sessions" not in answer and not answer.startswith(b"HTTP/1.1 200"), f"plain HTTP answered: {answer[:60]!r}")
# Five failures from one address, then even the right password is refused for a while.
for i in range(5):
    req("POST", "/login", "user=alice&password=wrong", form)
s, _, _ = req("POST", "/login", "user=alice&password=sesame-open", form); check(s == 429, f"throttle: {s}")
print("ok")
)";
  result = test::run_command("/usr/bin/python3 " + script + " " + std::to_string(port) + " " +
                             dir.file("cert.pem") + " 2>&1");
  INFO(result.output);
  INFO(viewer.log());
  CHECK(result.status == 0);
  CHECK_THAT(result.output, Catch::Contains("ok"));
  CHECK_THAT(viewer.log(), !Catch::Contains("WARNING"));
  viewer.signal(SIGTERM);
  CHECK(viewer.wait() == 0);
}

namespace {

/** Sends request and waits for its valid answer (bounded: 5 tries of 1 s). */
bool answered(std::uint16_t port, const test::Bytes& request) {
  test::UdpClient client("127.0.0.1", port);
  for (int attempt = 0; attempt < 5; ++attempt) {
    client.send(request);
    if (const auto response = client.receive(1000ms);
        response && test::is_valid_response(*response, request, "testing123")) {
      return true;
    }
  }
  return false;
}

/** GET target's JSON object, retried while the viewer is not up yet (bounded: 40 x 250 ms). */
boost::json::object api(std::uint16_t port, const std::string& target) {
  for (int attempt = 0; attempt < 40; ++attempt) {
    const auto reply = web::test::http_get(port, target);
    if (reply.status == 200) {
      return boost::json::parse(reply.body).as_object();
    }
    INFO(target << " -> " << reply.status << " " << reply.body.substr(0, 300));
    REQUIRE(reply.status == 0); // not listening yet; any answer but 200 is a failure
    std::this_thread::sleep_for(250ms);
  }
  FAIL("no answer from the viewer on port " << port);
  return {};
}

} // namespace

TEST_CASE("serve --web: the viewer shows what the server stored, its counters move with commits",
          "[server][service][web]") {
  test::TempDir dir;
  const auto web_port = test::free_loopback_port(SOCK_STREAM);
  test::ServerProcess serve({"serve", "--listen", "127.0.0.1:0", "--db",
                             test::fresh_database(dir.file("acct.db"), "acct"), "--stats", "0",
                             "--web", "127.0.0.1:" + std::to_string(web_port)},
                            dir.file("serve.log"));
  const auto port = serve.wait_for_port();
  REQUIRE(port != 0);

  const auto empty = api(web_port, "/api/overview");
  CHECK(empty.at("live").at("records").as_int64() == 0);

  REQUIRE(answered(port, make_request({.status = 1, .session_id = "web-1", .identifier = 1})));
  REQUIRE(answered(port, make_request({.status = 2,
                                       .session_id = "web-1",
                                       .identifier = 2,
                                       .input_octets = 300,
                                       .session_time = 60})));
  REQUIRE(answered(port, make_request({.status = 1, .session_id = "web-2", .identifier = 3})));
  const auto overview = api(web_port, "/api/overview");
  CHECK(overview.at("live").at("records").as_int64() == 3);
  CHECK(overview.at("live").at("sessions").at("open").as_int64() == 1);
  CHECK(overview.at("live").at("sessions").at("closed").as_int64() == 1);
  const auto sessions = api(web_port, "/api/sessions?q=web-1");
  REQUIRE(sessions.at("total").as_int64() == 1);
  const auto& session = sessions.at("sessions").as_array()[0].as_object();
  CHECK(session.at("input_octets").as_int64() == 300);
  const auto detail = api(web_port, "/api/sessions/" + std::to_string(session.at("id").as_int64()));
  CHECK(detail.at("records").as_array().size() == 2);
  // The server's own run, with the counters it writes as its report.
  CHECK(api(web_port, "/api/runs").at("runs").as_array().size() >= 1);
  // A page over the server's metrics and the database's tallies.
  const auto metrics = web::test::http_get(web_port, "/metrics");
  CHECK(metrics.status == 200);
  CHECK_THAT(metrics.body, Catch::Contains("acctlab_db_records 3"));

  serve.signal(SIGTERM);
  CHECK(serve.wait() == 0);
}
