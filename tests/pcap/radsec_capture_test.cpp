// RadSec in a real capture: tcpdump (started by the test) records a TLS connection on loopback
// between client/radsec_stream and acctlab's TLS listener; `pcap analyze` must report the
// session — endpoints, versions, ALPN, octets, application-data records — as tshark reads it.

#include "client/lab_certificates.hpp"
#include "client/radsec_stream.hpp"
#include "conformance/pcap_trace.hpp"
#include "pcap/analysis_report.hpp"
#include "pcap/capture_analysis.hpp"
#include "pcap/capture_import.hpp"
#include "pcap/tls_sessions.hpp"
#include "radius/authenticator.hpp"
#include "radius/dictionary.hpp"
#include "radius/packet_codec.hpp"
#include "server/accounting_server.hpp"
#include "storage/sqlite.hpp"
#include "tests/pcap/capture_test_support.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fcntl.h>
#include <filesystem>
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
/** tcpdump on lo for one TCP port, started and stopped by the test (only its own PID). */
class Tcpdump {
public:
  Tcpdump(const std::string& file, std::uint16_t port, const std::string& log) : log_(log) {
    // A ring of 32 MiB in slots of a 64 KiB snapshot length: the default 2 MiB ring in slots of
    // 256 KiB holds eight frames, and a loaded machine drops the rest.
    std::vector<std::string> args = {"tcpdump",
                                     "-i",
                                     "lo",
                                     "--immediate-mode",
                                     "-U",
                                     "-n",
                                     "-s",
                                     "65535",
                                     "-B",
                                     "32768",
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
    if (posix_spawnp(&pid_, "tcpdump", &actions, nullptr, argv.data(), environ) != 0) {
      pid_ = -1;
    }
    posix_spawn_file_actions_destroy(&actions);
    for (int i = 0; pid_ > 0 && i < 100 && !listening_; ++i) { // at most ten seconds
      std::this_thread::sleep_for(100ms);
      listening_ = read_text(log).find("listening on") != std::string::npos;
    }
    if (listening_) {
      std::this_thread::sleep_for(500ms);
    }
  }
  ~Tcpdump() { stop(); }
  bool listening() const { return listening_; }
  std::string log() const { return read_text(log_); }
  /** After stop(): the frames the kernel dropped, from tcpdump's summary (0 when it says so). */
  std::uint64_t dropped() const {
    const auto text = log();
    const auto at = text.find(" packets dropped by kernel");
    if (at == std::string::npos) {
      return 0;
    }
    const auto begin = text.rfind('\n', at);
    return std::stoull(text.substr(begin == std::string::npos ? 0 : begin + 1));
  }
  void stop() {
    if (pid_ > 0) {
      ::kill(pid_, listening_ ? SIGINT : SIGKILL);
      ::waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }

private:
  std::string log_;
  pid_t pid_ = -1;
  bool listening_ = false;
};

/** Hex of the RADIUS octets per frame: ours (decrypted by acctlab) and tshark's. */
std::map<std::uint64_t, std::string> our_frames(const std::string& file, std::uint16_t port,
                                                const TlsKeyLog& keys) {
  StreamOptions stream_options;
  stream_options.extra_ports = {port};
  stream_options.tls_keys = &keys;
  DatagramStream stream({file}, stream_options);
  std::map<std::uint64_t, std::string> ours;
  UdpDatagram datagram;
  while (stream.next(datagram)) {
    if (datagram.source.port != port && datagram.destination.port != port) {
      continue; // a capture's other legs (plain UDP)
    }
    for (const auto octet : datagram.payload) {
      char hex[3];
      std::snprintf(hex, sizeof hex, "%02x", octet);
      ours[datagram.frame] += hex;
    }
  }
  return ours;
}

std::map<std::uint64_t, std::string> tshark_frames(const std::string& file, std::uint16_t port,
                                                   const std::string& keylog) {
  std::map<std::uint64_t, std::string> theirs;
  std::istringstream decrypted(run("tshark -r " + file + " -d tcp.port==" + std::to_string(port) +
                                   ",tls -o tls.keylog_file:" + keylog +
                                   " -d tls.port==" + std::to_string(port) +
                                   ",data -T fields -e frame.number -e data.data 2>/dev/null"));
  for (std::string line; std::getline(decrypted, line);) {
    const auto tab = line.find('\t');
    if (tab != std::string::npos && tab + 1 < line.size()) {
      auto data = line.substr(tab + 1);
      data.erase(std::remove(data.begin(), data.end(), ','), data.end()); // records in a frame
      theirs[std::stoull(line.substr(0, tab))] = data;
    }
  }
  return theirs;
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
  Tcpdump tcpdump(file, port, (dir / "tcpdump.log").string());
  if (!tcpdump.listening()) {
    server.stop();
    runner.join();
    FAIL("tcpdump could not capture on lo (needs root or CAP_NET_RAW): " << tcpdump.log());
  }

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
  tcpdump.stop();
  server.stop();
  runner.join();
  INFO(tcpdump.log());
  REQUIRE(tcpdump.dropped() == 0); // a capture with holes is another test's business

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

TEST_CASE("RadSec sessions: records across segments are counted, gaps and garbage reported",
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

TEST_CASE("TLS 1.2 RadSec sessions in a tcpdump capture decrypt as tshark decrypts them",
          "[pcap][tls][tcpdump]") {
  const auto dir = scratch_dir("radsec12");
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
  const auto file = (dir / "radsec12.pcap").string();
  const auto keylog = (dir / "keys.log").string();
  std::filesystem::remove(keylog);
  Tcpdump tcpdump(file, port, (dir / "tcpdump.log").string());
  if (!tcpdump.listening()) {
    server.stop();
    runner.join();
    FAIL("tcpdump could not capture on lo (needs root or CAP_NET_RAW): " << tcpdump.log());
  }
  // The lab certificates are ECDSA: the ECDHE_ECDSA suites, AEAD and CBC (the latter with
  // encrypt-then-MAC, which OpenSSL offers and accepts by default).
  const std::vector<std::pair<std::string, std::string>> suites = {
      {"ECDHE-ECDSA-AES128-GCM-SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"},
      {"ECDHE-ECDSA-AES256-GCM-SHA384", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"},
      {"ECDHE-ECDSA-CHACHA20-POLY1305", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"},
      {"ECDHE-ECDSA-AES128-SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256"},
      {"ECDHE-ECDSA-AES256-SHA", "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA"}};
  const auto& dict = radius::Dictionary::builtin();
  std::uint8_t id = 0;
  for (const auto& [openssl_name, iana_name] : suites) {
    gateway::RadsecConfig config;
    config.certificate = certs.client_cert;
    config.private_key = certs.client_key;
    config.ca = certs.ca;
    config.keylog_file = keylog;
    config.max_version = "TLSv1.2";
    config.tls12_ciphers = openssl_name;
    std::string error;
    auto stream = gateway::RadsecStream::connect("127.0.0.1", port, config, 5s, error);
    INFO(openssl_name << ": " << error);
    REQUIRE(stream);
    CHECK(stream->version() == "TLSv1.2");
    // A Start and a Stop in one TLS record (two packets in a record are normal, RFC 6613 §2.6).
    std::vector<std::uint8_t> both;
    for (const int status : {1, 2}) {
      radius::Packet packet(radius::Code::accounting_request, ++id);
      packet.add(dict.find("Acct-Session-Id")->number, std::string_view(openssl_name));
      packet.add_integer(dict.find("Acct-Status-Type")->number, static_cast<std::uint32_t>(status));
      auto wire = radius::encode_packet(packet, dict);
      radius::sign_request(wire, "radsec");
      both.insert(both.end(), wire.begin(), wire.end());
    }
    REQUIRE(stream->write(both));
    std::vector<std::uint8_t> answer;
    REQUIRE(stream->read_packet(answer, 5s) == gateway::RadsecStream::ReadStatus::packet);
    REQUIRE(stream->read_packet(answer, 5s) == gateway::RadsecStream::ReadStatus::packet);
  }
  // MAC-then-encrypt (RFC 5246 §6.2.3.2, without RFC 7366) from another peer: openssl s_client
  // with -no_etm sends one Start and stays two seconds for the answer.
  {
    radius::Packet packet(radius::Code::accounting_request, ++id);
    packet.add(dict.find("Acct-Session-Id")->number, std::string_view("s_client"));
    packet.add_integer(dict.find("Acct-Status-Type")->number, 1);
    auto wire = radius::encode_packet(packet, dict);
    radius::sign_request(wire, "radsec");
    const auto request = (dir / "request.bin").string();
    std::ofstream(request, std::ios::binary)
        .write(reinterpret_cast<const char*>(wire.data()),
               static_cast<std::streamsize>(wire.size()));
    int status = -1;
    const auto output = run(
        "(cat " + request + "; sleep 2) | timeout 20 openssl s_client -connect 127.0.0.1:" +
            std::to_string(port) + " -tls1_2 -cipher ECDHE-ECDSA-AES256-SHA -no_etm -keylogfile " +
            keylog + " -cert " + certs.client_cert + " -key " + certs.client_key + " -CAfile " +
            certs.ca + " -quiet -no_ign_eof 2>/dev/null | od -An -tx1 | head -c 200",
        &status);
    INFO(output);
    CHECK(output.substr(0, 3) == " 05"); // an Accounting-Response came back
  }
  std::this_thread::sleep_for(500ms);
  tcpdump.stop();
  server.stop();
  runner.join();
  INFO(tcpdump.log());
  REQUIRE(tcpdump.dropped() == 0); // a capture with holes is another test's business

  std::string error;
  const auto keys = TlsKeyLog::load(keylog, error);
  INFO(error);
  REQUIRE(keys);
  CHECK(keys->sessions() == suites.size() + 1);
  CHECK(keys->lines_not_read() == 0);
  const auto ours = our_frames(file, port, *keys);
  const auto theirs = tshark_frames(file, port, keylog);
  CHECK(ours.size() >= 2 * suites.size()); // each request record and each answer's frame
  CHECK(ours == theirs);
  // The server answers what one commit completed for a connection in one TLS record: each
  // Start and Stop sent together come back as two 20-octet answers in one frame.
  const auto paired_answers = std::count_if(ours.begin(), ours.end(), [](const auto& frame) {
    return frame.second.size() == 2 * 2 * 20 && frame.second.rfind("05", 0) == 0 &&
           frame.second.compare(40, 2, "05") == 0;
  });
  CHECK(paired_answers == static_cast<std::ptrdiff_t>(suites.size()));

  AnalysisOptions analysis;
  analysis.extra_ports = {port};
  analysis.tls_keys = &*keys;
  const auto result = analyze_captures({file}, analysis);
  REQUIRE(result.tls_sessions.size() == suites.size() + 1);
  const auto& s_client = result.tls_sessions.back();
  CHECK(s_client.cipher_suite == "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA");
  CHECK(s_client.unreadable.empty());
  CHECK(s_client.radius_packets == 2);
  for (std::size_t i = 0; i < suites.size(); ++i) {
    const auto& session = result.tls_sessions[i];
    INFO(suites[i].first << ": " << session.unreadable);
    CHECK(session.version == "TLSv1.2");
    CHECK(session.cipher_suite == suites[i].second);
    CHECK(session.decrypted);
    CHECK(session.unreadable.empty());
    CHECK(session.radius_packets == 4);
  }
  CHECK(result.totals.exchanges == 2 * suites.size() + 1);
  CHECK(result.tls_sessions_not_decrypted == 0);
  CHECK(capture_verdict(result) == CaptureVerdict::complete);

  SECTION("a session without its key log line and a bad line are named, counted, not passed") {
    // Drop the ChaCha20 session's line (the third handshake) and add a torn line.
    std::ifstream in(keylog);
    std::ostringstream kept;
    int line_number = 0;
    for (std::string line; std::getline(in, line);) {
      if (++line_number != 3) {
        kept << line << '\n';
      }
    }
    kept << "CLIENT_RANDOM 00112233\n";
    const auto partial_path = (dir / "partial.log").string();
    std::ofstream(partial_path) << kept.str();
    const auto partial = TlsKeyLog::load(partial_path, error);
    REQUIRE(partial);
    CHECK(partial->lines_not_read() == 1);
    REQUIRE(partial->problems().size() == 1);
    CHECK_THAT(partial->problems()[0],
               Catch::StartsWith(partial_path + ":" + std::to_string(suites.size() + 1) + ": "));
    analysis.tls_keys = &*partial;
    const auto missing = analyze_captures({file}, analysis);
    REQUIRE(missing.tls_sessions.size() == suites.size() + 1);
    CHECK(missing.tls_sessions[2].unreadable ==
          "no key log entry (CLIENT_RANDOM) for this session (its ClientHello random)");
    CHECK(missing.tls_sessions[2].radius_packets == 0);
    CHECK(missing.tls_sessions[1].radius_packets == 4);
    CHECK(missing.tls_sessions_not_decrypted == 1);
    CHECK(missing.tls_keylog_lines_not_read == 1);
    CHECK(capture_verdict(missing) == CaptureVerdict::incomplete);
    const auto text = to_text(missing);
    CHECK_THAT(text, Catch::Contains("key log: 1 session(s) not decrypted, 1 line(s) not read"));
    CHECK_THAT(text, Catch::Contains(partial_path + ":"));
  }
}

TEST_CASE("Key log lines: what is read, what is skipped and named", "[pcap][tls]") {
  const std::string random(64, 'a');
  const std::string master(96, '0');
  const std::string traffic(64, '1');
  const auto log = TlsKeyLog::parse("# comment\n"
                                    "CLIENT_RANDOM " +
                                        random + " " + master +
                                        "\r\n"
                                        "CLIENT_TRAFFIC_SECRET_0 " +
                                        random + " " + traffic +
                                        "\n"
                                        "CLIENT_RANDOM " +
                                        random + " " + traffic +
                                        "\n"
                                        "EXPORTER_SECRET " +
                                        random + " " + traffic +
                                        "\n"
                                        "CLIENT_RANDOM zz " +
                                        master + "\n\x01\x02 binary",
                                    "k.log");
  CHECK(log.sessions() == 1);
  ClientRandom key{};
  key.fill(0xaa);
  REQUIRE(log.find(key, "CLIENT_RANDOM") != nullptr);
  CHECK(log.find(key, "CLIENT_RANDOM")->size() == 48);
  CHECK(log.find(key, "CLIENT_TRAFFIC_SECRET_0") != nullptr);
  // EXPORTER_SECRET (line 5) is the format's own and not needed: counted, not a problem.
  CHECK(log.lines_not_read() == 3);
  CHECK(log.lines_not_needed() == 1);
  REQUIRE(log.problems().size() == 3);
  CHECK_THAT(log.problems()[0], Catch::StartsWith("k.log:4: a secret of 32 octets for "
                                                  "CLIENT_RANDOM"));
  CHECK_THAT(log.problems()[1], Catch::StartsWith("k.log:6: not a key log line"));
  CHECK(log.problems()[2] == "k.log:7: not a key log line: ?? binary");
  std::string error;
  CHECK_FALSE(TlsKeyLog::load("/nonexistent/keys.log", error));
  CHECK(error == "cannot read the TLS key log /nonexistent/keys.log");
  CHECK(cipher_suite_name(0xC02B) == "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256");
  CHECK(cipher_suite_name(0xABCD) == "0xABCD");
}

TEST_CASE("The committed TLS 1.2 RadSec capture decrypts with its key log as tshark reads it",
          "[pcap][tls][real-capture]") {
  // tests/captures/radsec-tls12.pcap (README there): acctlab's gateway sends the document-debug
  // scenario to acctlab serve over TLS 1.2, once per cipher suite.
  const std::string dir = std::string(ACCTLAB_SOURCE_DIR) + "/tests/captures/";
  const auto file = dir + "radsec-tls12.pcap";
  const auto keylog = dir + "radsec-tls12.keys";
  std::string error;
  const auto keys = TlsKeyLog::load(keylog, error);
  INFO(error);
  REQUIRE(keys);
  CHECK(keys->sessions() == 4);
  const auto ours = our_frames(file, 2083, *keys);
  CHECK(ours.size() >= 20);
  CHECK(ours == tshark_frames(file, 2083, keylog));

  auto secrets = ClientSecrets::parse("client lo {\n ipaddr = 127.0.0.0/8\n secret = radsec\n}\n",
                                      "clients.conf", error);
  REQUIRE(secrets);
  AnalysisOptions analysis;
  analysis.tls_keys = &*keys;
  analysis.secrets = &*secrets;
  const auto result = analyze_captures({file}, analysis);
  const std::vector<std::string> suites = {
      "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
      "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256"};
  REQUIRE(result.tls_sessions.size() == suites.size());
  for (std::size_t i = 0; i < suites.size(); ++i) {
    const auto& session = result.tls_sessions[i];
    INFO(suites[i] << ": " << session.unreadable);
    CHECK(session.version == "TLSv1.2");
    CHECK(session.cipher_suite == suites[i]);
    CHECK(session.unreadable.empty());
    CHECK(session.radius_packets == 10); // five records, each answered
  }
  CHECK(result.totals.exchanges == 20);
  CHECK(result.totals.request_authenticator_valid == 20);
  CHECK(result.totals.response_authenticator_valid == 20);
  CHECK(capture_verdict(result) == CaptureVerdict::complete);

  // Without the key log: the sessions and their suites, nothing decrypted, and the capture
  // incomplete (it holds RADIUS that was not read), each session named as the reason.
  analysis.tls_keys = nullptr;
  const auto closed = analyze_captures({file}, analysis);
  REQUIRE(closed.tls_sessions.size() == suites.size());
  CHECK(closed.tls_sessions[3].cipher_suite == suites[3]);
  CHECK(closed.tls_sessions[3].radius_packets == 0);
  CHECK(closed.tls_sessions_not_decrypted == suites.size());
  CHECK(capture_verdict(closed) == CaptureVerdict::incomplete);
  CHECK_THAT(to_text(closed), Catch::Contains("verdict: incomplete (4 RadSec session(s) not read: "
                                              "give their key log, --tls-keylog)"));
}

TEST_CASE("A capture through radsecproxy: both legs analysed and imported, the TLS one decrypted",
          "[pcap][tls][real-capture]") {
  // tests/captures/radsecproxy.pcap (README there): radclient -> radsecproxy 1.9 (UDP) -> acctlab
  // serve over TLS 1.3, the key log written by serve --tls-keylog.
  const std::string dir = std::string(ACCTLAB_SOURCE_DIR) + "/tests/captures/";
  const auto file = dir + "radsecproxy.pcap";
  std::string error;
  const auto keys = TlsKeyLog::load(dir + "radsecproxy.keys", error);
  INFO(error);
  REQUIRE(keys);
  CHECK(keys->lines_not_read() == 0);
  CHECK(keys->lines_not_needed() == 1); // OpenSSL's EXPORTER_SECRET
  CHECK(our_frames(file, 2083, *keys) == tshark_frames(file, 2083, dir + "radsecproxy.keys"));
  auto secrets = ClientSecrets::load(dir + "radsecproxy-clients.conf", error);
  REQUIRE(secrets);
  AnalysisOptions analysis;
  analysis.tls_keys = &*keys;
  analysis.secrets = &*secrets;
  const auto result = analyze_captures({file}, analysis);
  REQUIRE(result.tls_sessions.size() == 1);
  CHECK(result.tls_sessions[0].radius_packets == 8);
  CHECK(result.totals.exchanges == 8); // four on each leg
  CHECK(result.totals.request_authenticator_valid == 8);
  CHECK(result.totals.response_authenticator_valid == 8);
  CHECK(capture_verdict(result) == CaptureVerdict::complete);

  // The import reads the same stream: the decrypted leg is stored too (it was once left out while
  // the run still passed). Its four requests are the NAS's four records forwarded: stored once
  // (storage/record_key.hpp), the forwarded copies kept as packets with verdict 'duplicate'.
  const auto scratch = scratch_dir("radsecproxy-import");
  ImportOptions import;
  import.database = (scratch / "judged.db").string();
  const auto imported = import_captures({file}, analysis, import, {});
  REQUIRE(imported.import);
  CHECK(imported.import->packets == 16);
  CHECK(imported.import->records == 4);
  {
    acctlab::storage::Database db(import.database);
    CHECK(db.query_int64("SELECT count(*) FROM packets WHERE verdict = 'duplicate' AND dst_port "
                         "= 2083")
              .value_or(-1) == 4);
  }
  CHECK(imported.tls_sessions.at(0).radius_packets == 8);

  // check --pcap's reader: with the key log both legs; without it the TLS leg is named as not
  // read (the capture is incomplete, not a pass over half of it).
  const auto both = acctlab::conformance::load_trace_from_pcap({file}, {}, &*keys);
  CHECK(both.trace.packets.size() == 16);
  CHECK(both.trace.unread.empty());
  const auto half = acctlab::conformance::load_trace_from_pcap({file});
  CHECK(half.trace.packets.size() == 8);
  REQUIRE(half.trace.unread.size() == 1);
  CHECK(half.trace.unread[0].reason == "radsec_not_read");
  CHECK(half.trace.unread[0].frame == 1);
  CHECK_THAT(half.trace.unread[0].detail,
             Catch::Contains("127.0.0.2:44673 -> 127.0.0.1:2083 (TLSv1.3): 18 application "
                             "records not read: encrypted, and no --tls-keylog was given"));
}
