// RadSec with real peers: radclient -> radsecproxy (UDP in, TLS out) -> acctlab serve
// --listen-tls, and FreeRADIUS 3.2 proxying accounting to acctlab over TLS. Every process is a
// private instance on free loopback ports in a temporary directory, stopped by its PID.
#include "../storage/storage_test_util.hpp"
#include "server_test_util.hpp"
#include "storage/sqlite.hpp"
#include "tests/support/run_command.hpp"

#include <catch2/catch.hpp>
#include <fstream>

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

/** acctlab serve on a free TLS port, accepting the proxy's certificate from 127.0.0.1. */
std::vector<std::string> serve_tls_args(const test::TempDir& dir, const std::string& certs) {
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
          dir.file("acct.db"),
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
  test::ServerProcess acctlab(serve_tls_args(dir, certs), dir.file("serve.log"));
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
  storage::Database db(dir.file("acct.db"));
  CHECK(db.query_int64("SELECT count(*) FROM records") == 3);
  CHECK(db.query_int64("SELECT count(*) FROM packets WHERE verdict = 'ok' AND dst_port = " +
                       std::to_string(tls_port)) == 3);
  auto row = db.prepare("SELECT acctstate, acctinputoctets, acctsessiontime FROM radacct");
  REQUIRE(row.step());
  CHECK(row.column_text(0) == "closed");
  CHECK(row.column_int64(1) == 152608);
  CHECK(row.column_int64(2) == 709);
}
