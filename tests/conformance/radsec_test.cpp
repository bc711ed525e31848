// RadSec end to end: `acctlab conform --tls` (the reference gateway over TLS against embedded
// servers listening on TLS only), the RadSec probe against acctlab's own TLS listener, and the
// gateway's TLS transport when the server is away. Real TLS on loopback, real SQLite files.

#include "client/lab_certificates.hpp"
#include "client/radius_transport.hpp"
#include "conformance/radsec_probe.hpp"
#include "conformance/tester.hpp"
#include "radius/packet.hpp"
#include "server/accounting_server.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <thread>

using namespace acctlab;
using namespace acctlab::conformance;
using namespace std::chrono_literals;

namespace {

const Profile& cisco() {
  static const Profile profile = [] {
    auto loaded = load_profile("cisco-ios-ipsec", radius::Dictionary::builtin());
    REQUIRE(loaded);
    return std::move(loaded).value();
  }();
  return profile;
}

std::string scratch(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("acctlab-radsec-" + std::to_string(::getpid()) + "-" + name))
      .string();
}

/** An in-process acctlab listening on TLS only, with lab certificates; stopped at the end. */
class TlsServer {
public:
  /** port 0 picks a free one; a restart (reuse_pki) keeps the certificates made before. */
  TlsServer(const std::string& dir, std::chrono::seconds idle, std::uint16_t port = 0,
            bool reuse_pki = false) {
    if (reuse_pki) {
      const auto pki = dir + "/pki/";
      certs_ = {pki + "ca.pem", pki + "server.pem", pki + "server.key", pki + "client.pem",
                pki + "client.key"};
    } else {
      REQUIRE_FALSE(gateway::make_lab_certificates(dir + "/pki", certs_));
    }
    server::ServerOptions options;
    options.listen.clear();
    options.database = dir + "/acct.db";
    options.handle_signals = false;
    options.stats_interval = 0ms;
    options.tls.listen = {"127.0.0.1:" + std::to_string(port)};
    options.tls.certificate = certs_.server_cert;
    options.tls.private_key = certs_.server_key;
    options.tls.ca = certs_.ca;
    options.tls.idle_timeout = idle;
    server_ = std::make_unique<server::AccountingServer>(
        options, [](server::LogLevel, std::string_view, std::string_view) {});
    thread_ = std::thread([this] { server_->run(); });
  }
  ~TlsServer() {
    server_->stop();
    thread_.join();
  }
  std::uint16_t port() const { return server_->local_tls_ports().at(0); }
  const gateway::LabCertificates& certs() const { return certs_; }
  server::AccountingServer& server() { return *server_; }

private:
  gateway::LabCertificates certs_;
  std::unique_ptr<server::AccountingServer> server_;
  std::thread thread_;
};

RadsecProbeOptions probe_options(const TlsServer& server, const std::string& dir) {
  RadsecProbeOptions options;
  options.host = "127.0.0.1";
  options.port = server.port();
  options.tls.certificate = server.certs().client_cert;
  options.tls.private_key = server.certs().client_key;
  options.tls.ca = server.certs().ca;
  options.work_dir = dir;
  options.answer_timeout = 3s;
  return options;
}

const Finding* finding_of(const Verdict& verdict, const std::string& rule) {
  for (const auto& finding : verdict.findings) {
    if (finding.rule_id == rule) {
      return &finding;
    }
  }
  return nullptr;
}

} // namespace

TEST_CASE("acctlab conform --tls: gateway scenarios over RadSec pass and are stored",
          "[conformance][tls]") {
  const auto& dict = radius::Dictionary::builtin();
  TesterOptions options;
  options.work_dir = scratch("conform");
  options.tls = true;
  options.secret = "radsec";
  for (const auto* name : {"one-session", "document-debug", "failover"}) {
    const auto result = run_conformance(resolve_scenario(name), cisco(), dict, options);
    INFO("scenario " << name << ": " << result.error);
    for (const auto& failure : result.pipeline_failures) {
      UNSCOPED_INFO("pipeline: " << failure);
    }
    CHECK(result.error.empty());
    CHECK(result.pipeline_failures.empty());
    CHECK(result.answers > 0);
    CHECK(result.passed());
  }
  std::filesystem::remove_all(options.work_dir);
}

TEST_CASE("the RadSec probe passes acctlab's own TLS listener", "[conformance][tls]") {
  const auto dir = scratch("probe");
  std::filesystem::create_directories(dir);
  TlsServer server(dir, 1s);
  auto options = probe_options(server, dir);
  options.idle_wait = 1s;
  const auto verdict = probe_radsec(options);
  for (const auto& finding : verdict.findings) {
    UNSCOPED_INFO(finding.rule_id << ": " << finding.message);
  }
  CHECK(verdict.outcomes.size() == radsec_probe_rules().size());
  CHECK(verdict.count(Severity::error) == 0);
  CHECK(verdict.count(Severity::warning) == 0);
  const auto* handshake = finding_of(verdict, "RADSEC-HANDSHAKE");
  REQUIRE(handshake);
  CHECK_THAT(handshake->message, Catch::Contains("TLSv1.3") && Catch::Contains("radius/1.0"));
  const auto* idle = finding_of(verdict, "RADSEC-IDLE-TIMEOUT");
  REQUIRE(idle);
  CHECK_THAT(idle->message, Catch::StartsWith("closed after"));
  // What the probe sent was judged by the server as the probe expected.
  const auto counters = server.server().counters();
  CHECK(counters.malformed == 4);            // attribute Length 0 and 1, Length 4097 and 19
  CHECK(counters.tls_handshake_failed == 1); // the unknown CA
  CHECK(counters.status_server == 1);
  std::filesystem::remove_all(dir);
}

TEST_CASE("the RadSec probe fails a server that keeps idle connections open",
          "[conformance][tls]") {
  const auto dir = scratch("probe-idle");
  std::filesystem::create_directories(dir);
  TlsServer server(dir, 600s);
  auto options = probe_options(server, dir);
  options.idle_wait = 1s; // the server's is ten minutes
  const auto verdict = probe_radsec(options);
  const auto* idle = finding_of(verdict, "RADSEC-IDLE-TIMEOUT");
  REQUIRE(idle);
  CHECK(idle->severity == Severity::warning);
  CHECK(idle->party == Party::server);
  CHECK_THAT(idle->message, Catch::Contains("still open after 6 s"));
  CHECK(verdict.count(Severity::error) == 0);
  std::filesystem::remove_all(dir);
}

TEST_CASE("the RadSec probe fails what is not a RadSec server", "[conformance][tls]") {
  const auto dir = scratch("probe-nothing");
  std::filesystem::create_directories(dir);
  gateway::LabCertificates certs;
  REQUIRE_FALSE(gateway::make_lab_certificates(dir + "/pki", certs));
  RadsecProbeOptions options;
  options.host = "127.0.0.1";
  options.port = 1; // nothing listens on tcpmux here
  options.tls.certificate = certs.client_cert;
  options.tls.private_key = certs.client_key;
  options.tls.ca = certs.ca;
  options.work_dir = dir;
  options.answer_timeout = 1s;
  const auto verdict = probe_radsec(options);
  CHECK(verdict.has_errors());
  const auto* handshake = finding_of(verdict, "RADSEC-HANDSHAKE");
  REQUIRE(handshake);
  CHECK(handshake->severity == Severity::error);
  CHECK_THAT(handshake->message, Catch::Contains("TCP connect"));
  std::filesystem::remove_all(dir);
}

namespace {

gateway::OutgoingRecord start_record(std::uint64_t handle) {
  gateway::OutgoingRecord record;
  record.handle = handle;
  record.label = "Start " + std::to_string(handle);
  record.servers = {0};
  record.build = [handle](std::uint32_t delay) {
    const auto& dict = radius::Dictionary::builtin();
    radius::Packet packet(radius::Code::accounting_request, 0);
    packet.add(dict.find("Acct-Session-Id")->number, "tls-" + std::to_string(handle));
    packet.add_integer(dict.find("Acct-Status-Type")->number, 1);
    packet.add_integer(dict.find("Acct-Delay-Time")->number, delay);
    return packet;
  };
  return record;
}

std::size_t count_kind(const std::vector<gateway::TransportEvent>& events,
                       gateway::TransportEvent::Kind kind) {
  return static_cast<std::size_t>(std::count_if(events.begin(), events.end(),
                                                [kind](const auto& e) { return e.kind == kind; }));
}

} // namespace

TEST_CASE("the gateway's TLS transport reconnects with backoff and keeps a watchdog",
          "[conformance][tls][gateway]") {
  const auto dir = scratch("transport");
  std::filesystem::create_directories(dir);
  auto server = std::make_unique<TlsServer>(dir, 600s);
  const auto port = server->port();
  gateway::ServerEndpoint endpoint;
  endpoint.slot = "A";
  endpoint.host = "127.0.0.1";
  endpoint.port = port;
  endpoint.secret = "radsec";
  endpoint.tls = true;
  endpoint.tls_config.certificate = server->certs().client_cert;
  endpoint.tls_config.private_key = server->certs().client_key;
  endpoint.tls_config.ca = server->certs().ca;
  gateway::RealClock clock;
  gateway::TransportOptions options;
  options.retransmit = 5;
  options.timeout = 700ms;
  options.watchdog = 300ms;
  gateway::RadiusTransport transport({endpoint}, options, clock);
  REQUIRE_FALSE(transport.open());
  using Kind = gateway::TransportEvent::Kind;

  // Answered over one connection.
  transport.submit(start_record(1));
  transport.poll(3s);
  auto events = transport.take_events();
  CHECK(count_kind(events, Kind::answer) == 1);

  // Idle: the watchdog's Status-Server is answered and the connection stays.
  for (int i = 0; i < 10; ++i) {
    transport.poll(100ms, false);
  }
  const auto status_before = server->server().counters().status_server;
  CHECK(status_before >= 1);
  CHECK(server->server().counters().tls_established == 1);

  // The server goes away: the next record finds no connection, and the transport retries with
  // backoff (never on the same connection) until a new server on the same port answers.
  server.reset();
  transport.submit(start_record(2));
  std::unique_ptr<TlsServer> again;
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  std::size_t answers = 0;
  std::size_t lost = 0;
  while (answers == 0 && std::chrono::steady_clock::now() < deadline) {
    transport.poll(100ms, false);
    transport.on_time();
    for (const auto& e : transport.take_events()) {
      answers += e.kind == Kind::answer ? 1 : 0;
      lost += e.kind == Kind::lost ? 1 : 0;
      if (e.kind == Kind::lost) {
        UNSCOPED_INFO("lost: " << e.reason);
      }
    }
    if (lost > 0 && !again) {
      // The same port and certificates: a server restarted.
      again = std::make_unique<TlsServer>(dir, 600s, port, true);
    }
  }
  CHECK(lost >= 1);
  CHECK(answers == 1);
  std::filesystem::remove_all(dir);
}
