// RadSec with real peers: radclient -> radsecproxy (UDP in, TLS out) -> acctlab serve
// --listen-tls, and FreeRADIUS 3.2 proxying accounting to acctlab over TLS. Every process is a
// private instance on free loopback ports in a temporary directory, stopped by its PID. On a
// SQLite file, or a PostgreSQL database with ACCTLAB_TEST_ENGINE=postgres.
#include "../storage/storage_test_util.hpp"
#include "server_test_util.hpp"
#include "tests/support/run_command.hpp"
#include "tests/support/stored_db.hpp"
#include "tests/support/test_engine.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

using namespace acctlab;
using namespace std::chrono_literals;

namespace {

/** Any program as a child process (stdout and stderr to log), killed by PID at the end. */
class Child {
public:
  Child(std::vector<std::string> argv, const std::string& log) {
    pid_ = ::fork();
    if (pid_ == 0) {
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      std::vector<char*> args;
      for (auto& arg : argv) {
        args.push_back(arg.data());
      }
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
  }
  ~Child() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      for (int i = 0; i < 100; ++i) {
        if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
          return;
        }
        std::this_thread::sleep_for(20ms);
      }
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  bool running() const { return pid_ > 0 && ::waitpid(pid_, nullptr, WNOHANG) == 0; }

private:
  pid_t pid_ = -1;
};

/** A port free on 127.0.0.1 for the given socket type at the time of asking. */
std::uint16_t free_port(int type) {
  const int fd = ::socket(AF_INET, type, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

bool udp_port_bound(std::uint16_t port) {
  const auto result = test::run_command("ss -lunH 'sport = :" + std::to_string(port) + "'");
  return result.output.find(std::to_string(port)) != std::string::npos;
}

std::string make_certs(const test::TempDir& dir) {
  const auto certs = dir.file("certs");
  const auto result = test::run_command(std::string(ACCTLAB_SOURCE_DIR) +
                                        "/tests/support/make-test-certs.sh " + certs + " 2>&1");
  if (result.status != 0) {
    throw std::runtime_error("make-test-certs.sh: " + result.output);
  }
  return certs;
}

/** The test's database: a file in dir, or a fresh PostgreSQL database. */
std::string database(const test::TempDir& dir) {
  return test::fresh_database(dir.file("acct.db"), "acct");
}

/** acctlab serve on a free TLS port, accepting the proxy's certificate from 127.0.0.1. */
std::vector<std::string> serve_tls_args(const test::TempDir& dir, const std::string& certs,
                                        const std::string& db) {
  std::ofstream(dir.file("clients.conf")) << "client proxy {\n  ipaddr = 127.0.0.1\n"
                                             "  proto = tls\n"
                                             "  certificate_name = proxy.example.net\n}\n";
  return {"serve",
          "--listen-tls",
          "127.0.0.1:0",
          "--tls-cert",
          certs + "/server.pem",
          "--tls-key",
          certs + "/server.key",
          "--tls-ca",
          certs + "/ca.pem",
          "--clients",
          dir.file("clients.conf"),
          "--db",
          db,
          "--stats",
          "0"};
}

/** radclient sends Start, Interim-Update and Stop to port; each must be answered. */
void send_session(const test::TempDir& dir, std::uint16_t port, const std::string& session) {
  const std::string common = "Acct-Session-Id = \"" + session +
                             "\"\nUser-Name = \"joe@cclient\"\n"
                             "NAS-IP-Address = 192.0.2.147\nAcct-Delay-Time = 0\n";
  const std::pair<const char*, std::string> packets[] = {
      {"start", common + "Acct-Status-Type = Start\n"},
      {"interim", common + "Acct-Status-Type = Interim-Update\nAcct-Session-Time = 109\n"
                           "Acct-Input-Octets = 608\n"},
      {"stop", common + "Acct-Status-Type = Stop\nAcct-Session-Time = 709\n"
                        "Acct-Input-Octets = 152608\nAcct-Terminate-Cause = User-Request\n"},
  };
  for (const auto& [name, body] : packets) {
    const auto file = dir.file(session + name + ".txt");
    std::ofstream(file) << body;
    const auto result =
        test::run_command("radclient -x -r 2 -t 5 -D /usr/share/freeradius -f " + file +
                          " 127.0.0.1:" + std::to_string(port) + " acct testing123 2>&1");
    INFO(result.output);
    CHECK(result.status == 0);
    CHECK_THAT(result.output, Catch::Contains("Received Accounting-Response"));
  }
}

} // namespace

TEST_CASE("radsecproxy: radclient -> radsecproxy -> acctlab over TLS", "[server][tls][peers]") {
  if (::access("/usr/sbin/radsecproxy", X_OK) != 0 || ::access("/usr/bin/radclient", X_OK) != 0) {
    FAIL("radsecproxy or radclient is not installed (scripts/setup.sh installs both)");
  }
  test::TempDir dir;
  const auto certs = make_certs(dir);
  const auto db = database(dir);
  test::ServerProcess acctlab(serve_tls_args(dir, certs, db), dir.file("serve.log"));
  const auto tls_port = acctlab.wait_for_port();
  REQUIRE(tls_port != 0);

  const auto udp_port = free_port(SOCK_DGRAM);
  std::ofstream(dir.file("radsecproxy.conf"))
      << "ListenUDP 127.0.0.1:" << udp_port << "\n"
      << "LogLevel 4\nLogDestination file://" << dir.file("radsecproxy.log") << "\n"
      << "tls default {\n  CACertificateFile " << certs << "/ca.pem\n"
      << "  CertificateFile " << certs << "/proxy.pem\n"
      << "  CertificateKeyFile " << certs << "/proxy.key\n}\n"
      << "client nas {\n  host 127.0.0.1\n  type udp\n  secret testing123\n}\n"
      << "server acctlab {\n  host 127.0.0.1\n  port " << tls_port
      << "\n  type tls\n  secret radsec\n}\n"
      << "realm * {\n  accountingServer acctlab\n}\n";
  Child proxy({"/usr/sbin/radsecproxy", "-f", "-c", dir.file("radsecproxy.conf")},
              dir.file("radsecproxy.out"));
  for (int i = 0; i < 100 && !udp_port_bound(udp_port); ++i) {
    std::this_thread::sleep_for(50ms);
  }
  REQUIRE(proxy.running());

  send_session(dir, udp_port, "rsp-00000001");

  INFO(test::read_file(dir.file("radsecproxy.log")));
  INFO(acctlab.log());
  CHECK_THAT(acctlab.log(), Catch::Contains("TLS connection from 127.0.0.1:") &&
                                Catch::Contains("certificate /O=acctlab test/CN=proxy"));
  acctlab.signal(SIGTERM);
  CHECK(acctlab.wait() == 0);
  CHECK(test::stored_count(db, "SELECT count(*) FROM records") == 3);
  CHECK(test::stored_count(db, "SELECT count(*) FROM packets WHERE verdict = 'ok' AND "
                               "dst_port = " +
                                   std::to_string(tls_port)) == 3);
  CHECK(test::stored_row(db, "SELECT acctstate, acctinputoctets, acctsessiontime FROM radacct") ==
        "closed|152608|709");
}

namespace {

/** A private FreeRADIUS 3.2: a UDP accounting listener, a TLS accounting listener (the
 * sites-available/tls shape) and a TLS home server pointing at acctlab; requests whose
 * Acct-Session-Id starts with "proxy-" are proxied there, the rest written to a detail file. */
std::string freeradius_config(const std::string& d, const std::string& certs,
                              std::uint16_t udp_port, std::uint16_t tls_port,
                              std::uint16_t acctlab_port) {
  std::ostringstream c;
  c << "prefix = /usr\nexec_prefix = /usr\nsysconfdir = /etc\nlocalstatedir = /var\n"
    << "sbindir = /usr/sbin\nlogdir = " << d << "/log\nraddbdir = " << d << "\nradacctdir = " << d
    << "/radacct\nname = freeradius\nconfdir = " << d << "\nmodconfdir = " << d
    << "/mods-config\nrun_dir = " << d << "/run\ndb_dir = " << d
    << "\nlibdir = /usr/lib/freeradius\npidfile = " << d << "/run/radiusd.pid\n"
    << "max_request_time = 30\ncleanup_delay = 5\nmax_requests = 4096\nhostname_lookups = no\n"
    << "proxy_requests = yes\nlog {\n destination = stdout\n}\n"
    << "security {\n allow_core_dumps = no\n max_attributes = 200\n reject_delay = 0\n"
    << " status_server = yes\n}\n"
    << "thread pool {\n start_servers = 2\n max_servers = 4\n min_spare_servers = 1\n"
    << " max_spare_servers = 4\n}\n"
    << "client lab {\n ipaddr = 127.0.0.1\n secret = testing123\n}\n"
    << "clients radsec {\n client local {\n  ipaddr = 127.0.0.1\n  proto = tls\n"
    << "  secret = radsec\n }\n}\n"
    << "proxy server {\n default_fallback = no\n}\n"
    << "home_server acctlab {\n type = acct\n ipaddr = 127.0.0.1\n port = " << acctlab_port
    << "\n proto = tcp\n secret = radsec\n status_check = none\n tls {\n  private_key_file = "
    << certs << "/proxy.key\n  certificate_file = " << certs << "/proxy.pem\n  ca_file = " << certs
    << "/ca.pem\n  fragment_size = 8192\n }\n}\n"
    << "home_server_pool acctlab_pool {\n type = fail-over\n home_server = acctlab\n}\n"
    << "realm acctlab {\n acct_pool = acctlab_pool\n nostrip\n}\n"
    << "modules {\n detail {\n  filename = " << d << "/radacct/detail\n"
    << "  escape_filenames = no\n  permissions = 0600\n  header = \"%t\"\n }\n}\n"
    << "server default {\n listen {\n  type = acct\n  ipaddr = 127.0.0.1\n  port = " << udp_port
    << "\n }\n listen {\n  type = acct\n  ipaddr = 127.0.0.1\n  port = " << tls_port
    << "\n  proto = tcp\n  clients = radsec\n  tls {\n   private_key_file = " << certs
    << "/server.key\n   certificate_file = " << certs << "/server.pem\n   ca_file = " << certs
    << "/ca.pem\n   require_client_cert = yes\n   fragment_size = 8192\n  }\n }\n"
    << " preacct {\n  if (&Acct-Session-Id =~ /^proxy-/) {\n   update control {\n"
    << "    &Proxy-To-Realm := \"acctlab\"\n   }\n  }\n }\n"
    << " accounting {\n  detail\n }\n}\n";
  return c.str();
}

} // namespace

TEST_CASE("FreeRADIUS 3.2 over TLS: proxying to acctlab, acctlab's gateway and probe against it",
          "[server][tls][peers]") {
  if (::access("/usr/sbin/freeradius", X_OK) != 0 || ::access("/usr/bin/radclient", X_OK) != 0) {
    FAIL("freeradius or radclient is not installed (scripts/setup.sh installs both)");
  }
  test::TempDir dir;
  const auto certs = make_certs(dir);
  const auto db = database(dir);
  test::ServerProcess acctlab(serve_tls_args(dir, certs, db), dir.file("serve.log"));
  const auto acctlab_port = acctlab.wait_for_port();
  REQUIRE(acctlab_port != 0);

  const auto d = dir.file("freeradius");
  for (const char* sub : {"", "/log", "/run", "/radacct"}) {
    std::filesystem::create_directories(d + sub);
  }
  std::ofstream(d + "/dictionary") << "$INCLUDE /usr/share/freeradius/dictionary\n";
  const auto udp_port = free_port(SOCK_DGRAM);
  const auto tls_port = free_port(SOCK_STREAM);
  std::ofstream(d + "/radiusd.conf")
      << freeradius_config(d, certs, udp_port, tls_port, acctlab_port);
  // -fxx: foreground, debug output, but threaded (TLS home servers need threads).
  Child freeradius({"/usr/sbin/freeradius", "-fxx", "-l", "stdout", "-d", d},
                   dir.file("freeradius.log"));
  bool ready = false;
  for (int i = 0; i < 200 && !ready && freeradius.running(); ++i) {
    ready = test::read_file(dir.file("freeradius.log")).find("Ready to process requests") !=
            std::string::npos;
    std::this_thread::sleep_for(50ms);
  }
  INFO(test::read_file(dir.file("freeradius.log")).substr(0, 4000));
  REQUIRE(ready);

  SECTION("FreeRADIUS as a TLS client: radclient -> FreeRADIUS -> acctlab") {
    send_session(dir, udp_port, "proxy-00000001");
    INFO(acctlab.log());
    acctlab.signal(SIGTERM);
    CHECK(acctlab.wait() == 0);
    CHECK(test::stored_count(db, "SELECT count(*) FROM records") == 3);
    CHECK(test::stored_count(db, "SELECT count(*) FROM sessions WHERE state = 'closed'") == 1);
    CHECK_THAT(acctlab.log(), Catch::Contains("certificate /O=acctlab test/CN=proxy"));
  }
  SECTION("acctlab's gateway sends to FreeRADIUS's TLS listener") {
    const auto result = test::run_acctlab(
        "gateway --scenario " + std::string(ACCTLAB_SOURCE_DIR) +
        "/client/scenarios/document-debug.scn --server-tls 127.0.0.1:" + std::to_string(tls_port) +
        " --tls-cert " + certs + "/client.pem --tls-key " + certs + "/client.key --tls-ca " +
        certs + "/ca.pem");
    INFO(result.output);
    CHECK(result.status == 0); // every record acknowledged with a verified answer
    // Every transmission answered: over TCP nothing is retransmitted on the same connection.
    std::smatch counts;
    REQUIRE(std::regex_search(result.output, counts,
                              std::regex(R"((\d+) transmission\(s\), (\d+) verified answer)")));
    CHECK(counts[1] == counts[2]);
    CHECK(std::stoi(counts[2]) >= 3);
    const auto detail = test::read_file(d + "/radacct/detail");
    CHECK_THAT(detail, Catch::Contains("Acct-Status-Type = Start") &&
                           Catch::Contains("Acct-Status-Type = Stop"));
  }
  SECTION("the RadSec probe against FreeRADIUS's TLS listener") {
    const auto result = test::run_acctlab(
        "conform --probe-radsec 127.0.0.1:" + std::to_string(tls_port) + " --tls-cert " + certs +
        "/client.pem --tls-key " + certs + "/client.key --tls-ca " + certs + "/ca.pem --work-dir " +
        dir.file("probe") + " --report json");
    INFO(result.output);
    // FreeRADIUS 3.2.1 reads one RADIUS packet per TLS record: a packet split over records, or
    // two in one record, closes the connection ("Received bad packet"). Everything else the
    // probe asks, it does.
    CHECK(result.status == 1);
    // The JSON report's rules: {"id":"RADSEC-…", …, "passed":true|false, …}.
    auto passed = [&](const std::string& id) {
      const auto at = result.output.find("\"id\":\"" + id + "\"");
      const auto flag = result.output.find("\"passed\":", at);
      return at != std::string::npos && flag != std::string::npos &&
             result.output.compare(flag + 9, 4, "true") == 0;
    };
    CHECK_FALSE(passed("RADSEC-SPLIT-RECORDS"));
    CHECK_FALSE(passed("RADSEC-TWO-PER-RECORD"));
    CHECK(passed("RADSEC-HANDSHAKE"));
    CHECK(passed("RADSEC-ATTRIBUTE-LENGTH"));
    CHECK(passed("RADSEC-WRONG-LENGTH"));
    CHECK(passed("RADSEC-UNKNOWN-CERT"));
    CHECK(passed("RADSEC-STATUS-SERVER-ID0"));
    CHECK_THAT(test::read_file(dir.file("freeradius.log")), Catch::Contains("Received bad packet"));
  }
}
