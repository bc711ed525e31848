// RadSec in a real capture: tcpdump (started by the test) records a TLS connection on loopback
// between client/radsec_stream and acctlab's TLS listener; `pcap analyze` must report the
// session — endpoints, versions, ALPN, octets, application-data records — as tshark reads it.

#include "client/lab_certificates.hpp"
#include "client/radsec_stream.hpp"
#include "pcap/analysis_report.hpp"
#include "pcap/capture_analysis.hpp"
#include "pcap/tls_sessions.hpp"
#include "radius/authenticator.hpp"
#include "radius/dictionary.hpp"
#include "radius/packet_codec.hpp"
#include "server/accounting_server.hpp"
#include "tests/pcap/capture_test_support.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fcntl.h>
#include <fstream>
#include <map>
#include <spawn.h>
#include <sstream>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

using namespace acctlab;
using namespace acctlab::capture;
using namespace acctlab::capture::test;
using namespace std::chrono_literals;

namespace {
std::string read_text(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}
} // namespace

TEST_CASE("A tcpdump capture of a RadSec connection is reported as a TLS session",
          "[pcap][tls][tcpdump]") {
  const auto dir = scratch_dir("radsec");
  gateway::LabCertificates certs;
  REQUIRE_FALSE(gateway::make_lab_certificates((dir / "pki").string(), certs));
  server::ServerOptions options;
  options.listen.clear();
  options.database = (dir / "acct.db").string();
  options.handle_signals = false;
  options.stats_interval = 0ms;
  options.tls.listen = {"127.0.0.1:0"};
  options.tls.certificate = certs.server_cert;
  options.tls.private_key = certs.server_key;
  options.tls.ca = certs.ca;
  server::AccountingServer server(options,
                                  [](server::LogLevel, std::string_view, std::string_view) {});
  std::thread runner([&server] { server.run(); });
  const auto port = server.local_tls_ports().at(0);

  const auto file = (dir / "radsec.pcap").string();
  const auto log = (dir / "tcpdump.log").string();
  std::vector<std::string> args = {"tcpdump",
                                   "-i",
                                   "lo",
                                   "--immediate-mode",
                                   "-U",
                                   "-n",
                                   "-w",
                                   file,
                                   "tcp port " + std::to_string(port)};
  std::vector<char*> argv;
  for (auto& a : args) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, log.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  const bool spawned = posix_spawnp(&pid, "tcpdump", &actions, nullptr, argv.data(), environ) == 0;
  posix_spawn_file_actions_destroy(&actions);
  bool listening = false;
  for (int i = 0; spawned && i < 100 && !listening; ++i) { // at most ten seconds
    std::this_thread::sleep_for(100ms);
    listening = read_text(log).find("listening on") != std::string::npos;
  }
  if (!listening) {
    if (spawned) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
    server.stop();
    runner.join();
    FAIL("tcpdump could not capture on lo (needs root or CAP_NET_RAW): " << read_text(log));
  }
  std::this_thread::sleep_for(500ms);

  // Three accounting requests over one RadSec connection, each answered.
  {
    gateway::RadsecConfig config;
    config.certificate = certs.client_cert;
    config.private_key = certs.client_key;
    config.ca = certs.ca;
    config.keylog_file = (dir / "keys.log").string();
    std::string error;
    auto stream = gateway::RadsecStream::connect("127.0.0.1", port, config, 5s, error);
    INFO(error);
    REQUIRE(stream);
    const auto& dict = radius::Dictionary::builtin();
    for (std::uint8_t id = 1; id <= 3; ++id) {
      radius::Packet packet(radius::Code::accounting_request, id);
      packet.add(dict.find("Acct-Session-Id")->number, std::string_view("cap-1"));
      packet.add_integer(dict.find("Acct-Status-Type")->number, id == 1 ? 1 : id == 2 ? 3 : 2);
      auto wire = radius::encode_packet(packet, dict);
      radius::sign_request(wire, "radsec");
      REQUIRE(stream->write(wire));
      std::vector<std::uint8_t> answer;
      REQUIRE(stream->read_packet(answer, 5s) == gateway::RadsecStream::ReadStatus::packet);
    }
  }
  std::this_thread::sleep_for(500ms);
  ::kill(pid, SIGINT);
  ::waitpid(pid, nullptr, 0);
  server.stop();
  runner.join();

  AnalysisOptions analysis;
  analysis.extra_ports = {port};
  const auto result = analyze_captures({file}, analysis);
  REQUIRE(result.tls_sessions.size() == 1);
  const auto& session = result.tls_sessions.front();
  CHECK(session.server.port == port);
  CHECK(session.syn_seen);
  CHECK(session.version == "TLSv1.3");
  CHECK(session.offered_versions == "TLSv1.3 TLSv1.2");
  CHECK(session.alpn_offered == "radius/1.0");
  CHECK(session.unreadable.empty());

  // tshark's reading of the same file, told the port is TLS.
  const std::string tshark = "tshark -r " + file + " -d tcp.port==" + std::to_string(port) + ",tls";
  const auto opaque = run(tshark + " -V 2>/dev/null | grep -c 'Opaque Type: Application Data'");
  CHECK(session.application_records == std::stoull(opaque));
  const auto octets = run(tshark + " -T fields -e tcp.srcport -e tcp.len 2>/dev/null");
  std::uint64_t to_server = 0;
  std::uint64_t to_client = 0;
  std::istringstream lines(octets);
  for (std::uint64_t source = 0, length = 0; lines >> source >> length;) {
    (source == port ? to_client : to_server) += length;
  }
  CHECK(session.octets_to_server == to_server);
  CHECK(session.octets_to_client == to_client);
  CHECK(session.application_records >= 6); // three requests and three answers at least
  CHECK_THAT(to_text(result), Catch::Contains("1 session(s); the RADIUS packets inside are "
                                              "encrypted, read only with --tls-keylog"));
  CHECK(session.radius_packets == 0);

  // With the client's key log: the RADIUS packets, per frame, as tshark decrypts them.
  std::string error;
  const auto keys = TlsKeyLog::load((dir / "keys.log").string(), error);
  INFO(error);
  REQUIRE(keys);
  StreamOptions stream_options;
  stream_options.extra_ports = {port};
  stream_options.tls_keys = &*keys;
  DatagramStream stream({file}, stream_options);
  std::map<std::uint64_t, std::string> ours;
  UdpDatagram datagram;
  while (stream.next(datagram)) {
    for (const auto octet : datagram.payload) {
      char hex[3];
      std::snprintf(hex, sizeof hex, "%02x", octet);
      ours[datagram.frame] += hex;
    }
  }
  std::map<std::uint64_t, std::string> theirs;
  std::istringstream decrypted(run(tshark + " -o tls.keylog_file:" + (dir / "keys.log").string() +
                                   " -d tls.port==" + std::to_string(port) +
                                   ",data -T fields -e frame.number -e data.data 2>/dev/null"));
  for (std::string line; std::getline(decrypted, line);) {
    const auto tab = line.find('\t');
    if (tab != std::string::npos && tab + 1 < line.size()) {
      theirs[std::stoull(line.substr(0, tab))] = line.substr(tab + 1);
    }
  }
  CHECK(ours.size() == 6); // three requests, three answers
  CHECK(ours == theirs);
  analysis.tls_keys = &*keys;
  const auto opened = analyze_captures({file}, analysis);
  REQUIRE(opened.tls_sessions.size() == 1);
  CHECK(opened.tls_sessions.front().radius_packets == 6);
  CHECK(opened.totals.exchanges == 3);
}

namespace {

/** A TCP segment 10.0.0.1:40000 -> 10.0.0.2:2083 (or back), as the frame parser hands it over. */
ParsedFrame segment(bool to_server, std::uint32_t sequence, bool syn,
                    const std::vector<std::uint8_t>& data, std::vector<std::uint8_t>& storage) {
  const std::uint8_t client[4] = {10, 0, 0, 1};
  const std::uint8_t server[4] = {10, 0, 0, 2};
  storage.assign(20, 0);
  const std::uint16_t from = to_server ? 40000 : 2083;
  const std::uint16_t to = to_server ? 2083 : 40000;
  storage[0] = static_cast<std::uint8_t>(from >> 8);
  storage[1] = static_cast<std::uint8_t>(from);
  storage[2] = static_cast<std::uint8_t>(to >> 8);
  storage[3] = static_cast<std::uint8_t>(to);
  for (int i = 0; i < 4; ++i) {
    storage[4 + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(sequence >> (24 - 8 * i));
  }
  storage[12] = 5 << 4;
  storage[13] = syn ? 0x02 : 0x18;
  storage.insert(storage.end(), data.begin(), data.end());
  ParsedFrame parsed;
  parsed.kind = FrameKind::other_ip;
  parsed.protocol = 6;
  parsed.source = IpAddress::v4(to_server ? client : server);
  parsed.destination = IpAddress::v4(to_server ? server : client);
  parsed.payload = storage;
  return parsed;
}

} // namespace

TEST_CASE("RadSec sessions: records across segments are counted; gaps and garbage reported",
          "[pcap][tls]") {
  TlsSessionTracker tracker;
  std::vector<std::uint8_t> storage;
  std::uint64_t frame = 0;
  auto feed = [&](bool to_server, std::uint32_t sequence, bool syn,
                  const std::vector<std::uint8_t>& data) {
    tracker.add(segment(to_server, sequence, syn, data, storage), 0, {0, ++frame});
  };
  feed(true, 1000, true, {});
  feed(false, 5000, true, {});
  // A 3000-octet application-data record in three segments, then a small one, to the server.
  std::vector<std::uint8_t> record = {23, 3, 3, 0x0B, 0xB8};
  record.resize(5 + 3000, 0xAB);
  const std::vector<std::uint8_t> small = {23, 3, 3, 0, 2, 1, 2};
  std::vector<std::uint8_t> all = record;
  all.insert(all.end(), small.begin(), small.end());
  feed(true, 1001, false, {all.begin(), all.begin() + 1000});
  feed(true, 2001, false, {all.begin() + 1000, all.begin() + 2500});
  feed(true, 2001, false, {all.begin() + 1000, all.begin() + 2500}); // a retransmission
  feed(true, 3501, false, {all.begin() + 2500, all.end()});
  // The other way: a gap (a segment the capture missed), then more.
  feed(false, 5001, false, small);
  feed(false, 5001 + 7 + 100, false, small);
  auto sessions = tracker.sessions();
  REQUIRE(sessions.size() == 1);
  CHECK(sessions[0].application_records == 3);
  CHECK(sessions[0].octets_to_server == all.size() + 1500);
  CHECK(sessions[0].unreadable == "a gap in the TCP stream (a segment not captured)");

  // Not TLS at all on the port.
  TlsSessionTracker other;
  const std::vector<std::uint8_t> http = {'G', 'E', 'T', ' ', '/', ' ', 'H'};
  other.add(segment(true, 1, true, {}, storage), 0, {0, 1});
  other.add(segment(true, 2, false, http, storage), 0, {0, 2});
  REQUIRE(other.sessions().size() == 1);
  CHECK(other.sessions()[0].unreadable == "not TLS records");
  CHECK(other.sessions()[0].application_records == 0);
}
