// Tests server/tls_listener.hpp through the accounting server: real TLS over loopback with
// certificates made by openssl for the test, client/radsec_stream as the peer, real SQLite files
// or PostgreSQL databases (tests/support/test_engine.hpp).
#include "../storage/storage_test_util.hpp"
#include "client/radsec_stream.hpp"
#include "radius/authenticator.hpp"
#include "server/accounting_server.hpp"
#include "server/tls_listener.hpp"
#include "server_test_util.hpp"
#include "tests/support/run_command.hpp"
#include "tests/support/stored_db.hpp"
#include "tests/support/test_engine.hpp"

#include <catch2/catch.hpp>
#include <fstream>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <set>

using namespace acctlab;
using namespace std::chrono_literals;
using gateway::RadsecStream;
using test::make_request;
using test::RequestSpec;

namespace {

/** The certificates of tests/support/make-test-certs.sh, made once per process. */
const std::string& cert_dir() {
  static test::TempDir dir;
  static const std::string path = [] {
    const auto result =
        test::run_command(std::string(ACCTLAB_SOURCE_DIR) + "/tests/support/make-test-certs.sh " +
                          dir.path().string() + " 2>&1");
    if (result.status != 0) {
      throw std::runtime_error("make-test-certs.sh failed: " + result.output);
    }
    return dir.path().string();
  }();
  return path;
}
std::string cert(const std::string& name) {
  return cert_dir() + "/" + name;
}

server::ServerOptions tls_options(const test::TempDir& dir, const std::string& clients_text = "") {
  server::ServerOptions options;
  options.listen = {"127.0.0.1:0"};
  options.database = test::fresh_database(dir.file("acct.db"), "acct");
  options.tls.listen = {"127.0.0.1:0"};
  options.tls.certificate = cert("server.pem");
  options.tls.private_key = cert("server.key");
  options.tls.ca = cert("ca.pem");
  if (!clients_text.empty()) {
    std::ofstream(dir.file("clients.conf")) << clients_text;
    options.clients_file = dir.file("clients.conf");
  }
  return options;
}

gateway::RadsecConfig client_config(const std::string& name = "client") {
  gateway::RadsecConfig config;
  if (!name.empty()) {
    config.certificate = cert(name + ".pem");
    config.private_key = cert(name + ".key");
  }
  config.ca = cert("ca.pem");
  config.server_name = "127.0.0.1";
  return config;
}

std::unique_ptr<RadsecStream> connect(std::uint16_t port,
                                      const gateway::RadsecConfig& config = client_config()) {
  std::string error;
  auto stream = RadsecStream::connect("127.0.0.1", port, config, 5s, error);
  INFO(error);
  return stream;
}

std::int64_t count(const std::string& database, const std::string& sql) {
  return test::stored_count(database, sql);
}

RequestSpec radsec(RequestSpec spec) {
  spec.secret = "radsec";
  return spec;
}

/** Waits (bounded) until predicate holds. */
template <class F> bool eventually(F predicate, std::chrono::milliseconds limit = 5s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (predicate()) {
      return true;
    }
    std::this_thread::sleep_for(20ms);
  }
  return predicate();
}

/** Status-Server (RFC 5997) with a Message-Authenticator, signed with secret. */
test::Bytes status_server(std::uint8_t identifier, const std::string& secret) {
  test::Bytes packet(20 + 18, 0);
  packet[0] = 12;
  packet[1] = identifier;
  packet[3] = static_cast<std::uint8_t>(packet.size());
  for (int i = 4; i < 20; ++i) {
    packet[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(i * 7);
  }
  packet[20] = radius::message_authenticator_type;
  packet[21] = 18;
  unsigned int length = 16;
  HMAC(EVP_md5(), secret.data(), static_cast<int>(secret.size()), packet.data(), packet.size(),
       packet.data() + 22, &length);
  return packet;
}

} // namespace

TEST_CASE("RadSec: Start, Interim-Update and Stop are answered after commit and stored",
          "[server][tls]") {
  test::TempDir dir;
  auto options = tls_options(dir);
  test::ServerThread server(options);
  const auto port = server.server().local_tls_ports().at(0);
  auto stream = connect(port);
  REQUIRE(stream);
  CHECK(stream->version() == "TLSv1.3"); // 1.3 preferred when both have it
  CHECK(stream->alpn() == "radius/1.0");
  for (std::uint32_t status : {1u, 3u, 2u}) {
    const auto request =
        make_request(radsec({.status = status, .identifier = static_cast<std::uint8_t>(status)}));
    REQUIRE(stream->write(request));
    std::vector<std::uint8_t> answer;
    REQUIRE(stream->read_packet(answer, 5s) == RadsecStream::ReadStatus::packet);
    CHECK(test::is_valid_response(answer, request, "radsec"));
    // Acknowledged means committed: the record is there when the answer is.
    CHECK(count(options.database,
                "SELECT count(*) FROM records WHERE status_type = " + std::to_string(status)) == 1);
  }
  CHECK(count(options.database, "SELECT count(*) FROM packets WHERE dst_port = " +
                                    std::to_string(port) + " AND verdict = 'ok'") == 3);
  CHECK(count(options.database, "SELECT count(*) FROM sessions WHERE state = 'closed'") == 1);
  const auto counters = server.server().counters();
  CHECK(counters.tls_established == 1);
  CHECK(counters.answered == 3);
}

TEST_CASE("RadSec: framing by the Length field alone", "[server][tls]") {
  test::TempDir dir;
  test::ServerThread server(tls_options(dir));
  auto stream = connect(server.server().local_tls_ports().at(0));
  REQUIRE(stream);
  std::vector<std::uint8_t> answer;

  SECTION("one packet split over three records") {
    const auto request = make_request(radsec({.identifier = 7}));
    const std::span<const std::uint8_t> all(request);
    REQUIRE(stream->write(all.subspan(0, 3)));
    std::this_thread::sleep_for(20ms);
    REQUIRE(stream->write(all.subspan(3, 10)));
    std::this_thread::sleep_for(20ms);
    REQUIRE(stream->write(all.subspan(13)));
    REQUIRE(stream->read_packet(answer, 5s) == RadsecStream::ReadStatus::packet);
    CHECK(test::is_valid_response(answer, request, "radsec"));
  }
  SECTION("two packets in one record, both answered") {
    const auto first = make_request(radsec({.session_id = "A", .identifier = 1}));
    const auto second = make_request(radsec({.session_id = "B", .identifier = 2}));
    auto both = first;
    both.insert(both.end(), second.begin(), second.end());
    REQUIRE(stream->write(both));
    std::set<int> identifiers;
    for (int i = 0; i < 2; ++i) {
      REQUIRE(stream->read_packet(answer, 5s) == RadsecStream::ReadStatus::packet);
      CHECK(test::is_valid_response(answer, answer[1] == 1 ? first : second, "radsec"));
      identifiers.insert(answer[1]);
    }
    CHECK(identifiers == std::set<int>{1, 2});
  }
}

TEST_CASE("RadSec: Status-Server is answered, Identifier 0 included", "[server][tls]") {
  test::TempDir dir;
  test::ServerThread server(tls_options(dir));
  auto stream = connect(server.server().local_tls_ports().at(0));
  REQUIRE(stream);
  for (std::uint8_t identifier : {0, 1}) {
    const auto request = status_server(identifier, "radsec");
    REQUIRE(stream->write(request));
    std::vector<std::uint8_t> answer;
    REQUIRE(stream->read_packet(answer, 5s) == RadsecStream::ReadStatus::packet);
    CHECK(answer[0] == 5);
    CHECK(answer[1] == identifier);
    CHECK(test::is_valid_response(answer, request, "radsec"));
  }
  CHECK(server.server().counters().status_server == 2);
}

TEST_CASE("RadSec: certificates the server refuses", "[server][tls]") {
  test::TempDir dir;
  auto options = tls_options(dir, "client gw1 {\n ipaddr = 127.0.0.1\n proto = tls\n"
                                  " certificate_name = gw1.example.net\n}\n");
  test::ServerThread server(options);
  const auto port = server.server().local_tls_ports().at(0);
  // Under TLS 1.3 a client learns of a refused certificate on its first read, not at connect.
  auto refused = [&](const gateway::RadsecConfig& config) {
    std::string error;
    auto stream = RadsecStream::connect("127.0.0.1", port, config, 5s, error);
    if (!stream) {
      return true;
    }
    stream->write(make_request(radsec({})));
    std::vector<std::uint8_t> answer;
    return stream->read_packet(answer, 5s) == RadsecStream::ReadStatus::closed;
  };
  std::uint64_t failures = 0;
  SECTION("no certificate") {
    CHECK(refused(client_config("")));
    failures = 1;
  }
  SECTION("expired") {
    CHECK(refused(client_config("expired")));
    failures = 1;
  }
  SECTION("signed by another CA") {
    CHECK(refused(client_config("stranger")));
    failures = 1;
  }
  SECTION("a good certificate that does not name the client's certificate_name") {
    std::ofstream(dir.file("clients.conf"))
        << "client gw1 {\n ipaddr = 127.0.0.1\n proto = tls\n certificate_name = gw2.example\n}\n";
    server.server().reload_clients();
    std::this_thread::sleep_for(100ms);
    CHECK(refused(client_config("client")));
    failures = 1;
  }
  SECTION("TLS 1.1 and below are refused") {
    const auto result =
        test::run_command("timeout 10 openssl s_client -connect 127.0.0.1:" + std::to_string(port) +
                          " -tls1_1 -cert " + cert("client.pem") + " -key " + cert("client.key") +
                          " </dev/null 2>&1");
    CHECK(result.output.find("Cipher is (NONE)") != std::string::npos);
    failures = 1;
  }
  CHECK(eventually([&] { return server.server().counters().tls_handshake_failed == failures; }));
  CHECK(server.server().counters().tls_established == 0);
  CHECK(count(options.database, "SELECT count(*) FROM packets") == 0);
  CHECK_THAT(server.log(), Catch::Contains("TLS handshake failed") ||
                               Catch::Contains("does not name gw2.example"));
}

TEST_CASE("RadSec: the right certificate and name are accepted, openssl s_client agrees",
          "[server][tls]") {
  test::TempDir dir;
  auto options = tls_options(dir, "client gw1 {\n ipaddr = 127.0.0.1\n proto = tls\n"
                                  " certificate_name = gw1.example.net\n}\n");
  test::ServerThread server(options);
  const auto port = server.server().local_tls_ports().at(0);
  auto stream = connect(port);
  REQUIRE(stream);
  const auto request = make_request(radsec({}));
  REQUIRE(stream->write(request));
  std::vector<std::uint8_t> answer;
  REQUIRE(stream->read_packet(answer, 5s) == RadsecStream::ReadStatus::packet);
  CHECK(test::is_valid_response(answer, request, "radsec"));
  // An independent client: the handshake, the protocol, ALPN and no compression.
  const auto result = test::run_command(
      "timeout 10 openssl s_client -connect 127.0.0.1:" + std::to_string(port) + " -cert " +
      cert("client.pem") + " -key " + cert("client.key") + " -CAfile " + cert("ca.pem") +
      " -alpn radius/1.0 -verify_return_error </dev/null 2>&1");
  CHECK_THAT(result.output, Catch::Contains("Verify return code: 0 (ok)"));
  CHECK_THAT(result.output, Catch::Contains("ALPN protocol: radius/1.0"));
  CHECK_THAT(result.output, Catch::Contains("TLSv1.3"));
  CHECK_THAT(result.output,
             Catch::Contains("Compression: NONE") || !Catch::Contains("Compression: zlib"));
  // 0-RTT: the server offers no early data in its tickets.
  CHECK_THAT(result.output, !Catch::Contains("Max Early Data: 1"));
}

TEST_CASE("RadSec: a client address with no TLS entry is refused before the handshake",
          "[server][tls]") {
  test::TempDir dir;
  // 127.0.0.1 may send over UDP only.
  auto options =
      tls_options(dir, "client udp-only {\n ipaddr = 127.0.0.1\n secret = testing123\n}\n");
  test::ServerThread server(options);
  std::string error;
  auto stream = RadsecStream::connect("127.0.0.1", server.server().local_tls_ports().at(0),
                                      client_config(), 5s, error);
  CHECK(!stream);
  CHECK(eventually([&] { return server.server().counters().unknown_client == 1; }));
  CHECK(server.server().counters().tls_refused == 1);
  CHECK_THAT(server.log(), Catch::Contains("no TLS client (proto = tls) matches 127.0.0.1"));
}

TEST_CASE("RadSec: a discarded packet closes its connection and is kept as evidence",
          "[server][tls]") {
  test::TempDir dir;
  auto options = tls_options(dir);
  test::ServerThread server(options);
  const auto port = server.server().local_tls_ports().at(0);
  auto stream = connect(port);
  REQUIRE(stream);
  std::string verdict;
  SECTION("a Length below 20") {
    auto request = make_request(radsec({}));
    request[2] = 0;
    request[3] = 4;
    REQUIRE(stream->write(request));
    verdict = "malformed";
  }
  SECTION("a Length claim of 65535") {
    auto request = make_request(radsec({}));
    request[2] = 0xff;
    request[3] = 0xff;
    REQUIRE(stream->write(request));
    verdict = "malformed";
  }
  SECTION("an attribute of length 1") {
    auto request = make_request(radsec({}));
    request.insert(request.end(), {1, 1});
    request[3] = static_cast<std::uint8_t>(request.size());
    radius::sign_request(request, "radsec");
    REQUIRE(stream->write(request));
    verdict = "malformed";
  }
  SECTION("the wrong secret") {
    REQUIRE(stream->write(make_request({.secret = "testing123"})));
    verdict = "bad-authenticator";
  }
  SECTION("a wrong Message-Authenticator") {
    auto request = make_request(radsec({.message_authenticator = true}));
    request[request.size() - 1] ^= 0xff; // the Message-Authenticator (the last attribute)...
    // ...and the Request Authenticator made again by hand (RFC 2866 §3), so only the former fails.
    std::fill(request.begin() + 4, request.begin() + 20, 0);
    std::vector<std::uint8_t> to_hash(request);
    to_hash.insert(to_hash.end(), {'r', 'a', 'd', 's', 'e', 'c'});
    const auto digest = radius::md5({std::span<const std::uint8_t>(to_hash)});
    std::copy(digest.begin(), digest.end(), request.begin() + 4);
    REQUIRE(stream->write(request));
    verdict = "bad-message-authenticator";
  }
  CHECK(stream->wait_closed(5s));
  CHECK(eventually([&] { return count(options.database, "SELECT count(*) FROM packets") == 1; }));
  CHECK(count(options.database, "SELECT count(*) FROM packets WHERE verdict = '" + verdict +
                                    "' AND dst_port = " + std::to_string(port)) == 1);
  CHECK(count(options.database, "SELECT count(*) FROM records") == 0);
  // The server itself is unharmed: a new connection is served.
  auto again = connect(port);
  REQUIRE(again);
  const auto request = make_request(radsec({.identifier = 9}));
  REQUIRE(again->write(request));
  std::vector<std::uint8_t> answer;
  REQUIRE(again->read_packet(answer, 5s) == RadsecStream::ReadStatus::packet);
  CHECK(test::is_valid_response(answer, request, "radsec"));
}

TEST_CASE("RadSec: an idle connection is closed after the idle timeout", "[server][tls]") {
  test::TempDir dir;
  auto options = tls_options(dir);
  options.tls.idle_timeout = 1s;
  test::ServerThread server(options);
  auto stream = connect(server.server().local_tls_ports().at(0));
  REQUIRE(stream);
  const auto start = std::chrono::steady_clock::now();
  CHECK(stream->wait_closed(5s));
  const auto waited = std::chrono::steady_clock::now() - start;
  CHECK(waited >= 900ms);
  CHECK(waited < 3s);
  CHECK(eventually([&] { return server.log().find("idle for 1 s; closed") != std::string::npos; }));
}

TEST_CASE("RadSec: a retransmission on a new connection is a duplicate, stored once",
          "[server][tls]") {
  test::TempDir dir;
  auto options = tls_options(dir);
  test::ServerThread server(options);
  const auto port = server.server().local_tls_ports().at(0);
  const auto request = make_request(radsec({.identifier = 5}));
  auto stream = connect(port);
  REQUIRE(stream);
  REQUIRE(stream->write(request));
  std::vector<std::uint8_t> answer;
  REQUIRE(stream->read_packet(answer, 5s) == RadsecStream::ReadStatus::packet);
  // The same connection repeating it (RFC 5080 §2.2.2 keys on address, port, ID, authenticator).
  REQUIRE(stream->write(request));
  REQUIRE(stream->read_packet(answer, 5s) == RadsecStream::ReadStatus::packet);
  CHECK(test::is_valid_response(answer, request, "radsec"));
  CHECK(count(options.database, "SELECT count(*) FROM records") == 1);
  // The cached answer goes out at once; the duplicate's evidence row is committed after it.
  CHECK(eventually([&] {
    return count(options.database, "SELECT count(*) FROM packets WHERE verdict = 'duplicate'") == 1;
  }));
}

TEST_CASE("RadSec: backpressure instead of drops, and a stalled reader blocks no one",
          "[server][tls]") {
  test::TempDir dir;
  auto options = tls_options(dir);
  options.max_in_flight = 4; // commits "lag" as soon as four requests wait
  options.tls.max_outstanding_per_connection = 8;
  test::ServerThread server(options);
  const auto port = server.server().local_tls_ports().at(0);

  // A stalled reader: sends much and never reads its answers.
  auto stalled = connect(port);
  REQUIRE(stalled);
  for (int i = 0; i < 200; ++i) {
    stalled->write(make_request(radsec({.session_id = "stall" + std::to_string(i),
                                        .identifier = static_cast<std::uint8_t>(i)})),
                   100ms);
  }
  // Another connection is served meanwhile, every request answered, none dropped.
  auto busy = connect(port);
  REQUIRE(busy);
  constexpr int n = 300;
  std::vector<test::Bytes> requests;
  test::Bytes all;
  for (int i = 0; i < n; ++i) {
    requests.push_back(make_request(radsec(
        {.session_id = "busy" + std::to_string(i), .identifier = static_cast<std::uint8_t>(i)})));
  }
  std::size_t next = 0;
  int answered = 0;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (answered < n && std::chrono::steady_clock::now() < deadline) {
    // Keep up to 200 in flight: IDs stay unique within the window.
    while (next < requests.size() && next - static_cast<std::size_t>(answered) < 200) {
      REQUIRE(busy->write(requests[next++]));
    }
    std::vector<std::uint8_t> answer;
    if (busy->read_packet(answer, 5s) == RadsecStream::ReadStatus::packet) {
      ++answered;
    }
  }
  CHECK(answered == n);
  const auto counters = server.server().counters();
  CHECK(counters.overload_drops == 0);
  CHECK(count(options.database,
              "SELECT count(*) FROM records WHERE acct_session_id LIKE 'busy%'") == n);
}

TEST_CASE("RadSec: connections over the limit are refused", "[server][tls]") {
  test::TempDir dir;
  auto options = tls_options(dir);
  options.tls.max_connections = 2;
  test::ServerThread server(options);
  const auto port = server.server().local_tls_ports().at(0);
  auto first = connect(port);
  auto second = connect(port);
  REQUIRE(first);
  REQUIRE(second);
  // The client's handshake ends before the server has read its Finished (TLS 1.3): wait until
  // the server counts both as open. Otherwise tls_open == 1 below could be the second one
  // arriving rather than the first one leaving, and the fourth would meet a full house.
  REQUIRE(eventually([&] { return server.server().counters().tls_open == 2; }));
  std::string error;
  auto third = RadsecStream::connect("127.0.0.1", port, client_config(), 5s, error);
  INFO(server.log());
  CHECK(!third);
  CHECK(eventually([&] { return server.server().counters().tls_refused == 1; }));
  first.reset();
  CHECK(eventually([&] { return server.server().counters().tls_open == 1; }));
  auto fourth = connect(port);
  CHECK(fourth);
}

TEST_CASE("RadSec: a client entry without a secret uses radsec, proto is checked",
          "[server][tls][clients][no-db]") {
  auto parsed =
      server::parse_clients("client a {\n ipaddr = 192.0.2.1\n proto = tls\n}\n"
                            "client b {\n ipaddr = 192.0.2.2\n proto = *\n secret = s\n}\n",
                            "clients.conf");
  REQUIRE(parsed);
  const auto source = *server::IpAddress::parse("192.0.2.1");
  CHECK(parsed->match(source) == nullptr); // TLS only
  REQUIRE(parsed->match(source, server::Transport::tls));
  CHECK(parsed->match(source, server::Transport::tls)->secret == "radsec");
  const auto both = *server::IpAddress::parse("192.0.2.2");
  CHECK(parsed->match(both)->name == "b");
  CHECK(parsed->match(both, server::Transport::tls)->name == "b");
  auto bad = server::parse_clients("client a {\n ipaddr = 192.0.2.1\n proto = tcp\n}\n", "c.conf");
  REQUIRE(!bad);
  CHECK(bad.error().to_string() ==
        "c.conf:3: proto must be udp, tls or *, not 'tcp' (RADIUS over plain TCP is not served)");
  auto name_without_tls = server::parse_clients(
      "client a {\n ipaddr = 192.0.2.1\n secret = x\n certificate_name = a.example\n}\n", "c.conf");
  CHECK(!name_without_tls);
}
