// A real capture: tcpdump (started by the test) records RADIUS accounting exchanged over UDP on
// 127.0.0.1 between two sockets of this test; the analyser must find every exchange in it.

#include "pcap/capture_analysis.hpp"
#include "tests/pcap/capture_test_support.hpp"
#include "tests/pcap/radius_test_packets.hpp"

#include <arpa/inet.h>
#include <catch2/catch.hpp>
#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <netinet/in.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

using namespace acctlab::capture;
using namespace acctlab::capture::test;

namespace {

struct Socket {
  int fd = -1;
  std::uint16_t port = 0;
  Socket() {
    fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    socklen_t len = sizeof addr;
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    port = ntohs(addr.sin_port);
  }
  ~Socket() { ::close(fd); }
  void send_to(std::uint16_t to, const std::vector<std::uint8_t>& data) const {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(to);
    REQUIRE(::sendto(fd, data.data(), data.size(), 0, reinterpret_cast<sockaddr*>(&addr),
                     sizeof addr) == static_cast<ssize_t>(data.size()));
  }
  std::vector<std::uint8_t> receive() const {
    pollfd p{fd, POLLIN, 0};
    REQUIRE(::poll(&p, 1, 2000) == 1); // bounded: two seconds
    std::vector<std::uint8_t> buffer(4096);
    const auto n = ::recv(fd, buffer.data(), buffer.size(), 0);
    REQUIRE(n > 0);
    buffer.resize(static_cast<std::size_t>(n));
    return buffer;
  }
};

} // namespace

TEST_CASE("A tcpdump capture of loopback RADIUS traffic is analysed", "[pcap][analysis][tcpdump]") {
  const auto dir = scratch_dir("tcpdump");
  const auto file = dir / "lo.pcap";
  const auto log = dir / "tcpdump.log";
  Socket server;
  Socket client;

  // tcpdump -U writes each packet as it comes; its "listening on" line says it is ready.
  const std::string filter = "udp port " + std::to_string(server.port);
  const std::string file_arg = file.string();
  std::vector<std::string> args = {"tcpdump", "-i", "lo", "--immediate-mode", "-B",  "8192",
                                   "-U",      "-n", "-w", file_arg,           filter};
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
  REQUIRE(posix_spawnp(&pid, "tcpdump", &actions, nullptr, argv.data(), environ) == 0);
  posix_spawn_file_actions_destroy(&actions);
  bool listening = false;
  for (int i = 0; i < 100 && !listening; ++i) { // at most ten seconds
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    std::ifstream in(log);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    listening = text.find("listening on") != std::string::npos;
  }
  if (!listening) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
  REQUIRE(listening);
  // "listening on" comes just before tcpdump enters its capture loop; let it get there.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));

  // Twelve exchanges; request 5 is retransmitted before its answer, request 11 is never answered.
  constexpr int exchanges = 12;
  for (int i = 0; i < exchanges; ++i) {
    // Paced: this machine's packet socket drops bursts tcpdump has not yet read.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const auto request =
        accounting_request(static_cast<std::uint8_t>(i), 1 + i % 2, "loop-" + std::to_string(i));
    client.send_to(server.port, request);
    auto received = server.receive();
    REQUIRE(received == request);
    if (i == 5) {
      client.send_to(server.port, request);
      REQUIRE(server.receive() == request);
    }
    if (i != 11) {
      server.send_to(client.port, response_to(received));
      REQUIRE(client.receive().size() == 20);
    }
  }
  // Wait (at most five seconds) until tcpdump has written all 24 datagrams, then stop it as a
  // user would.
  for (int i = 0; i < 50; ++i) {
    DatagramStream partial({file.string()}, StreamOptions{{server.port}});
    UdpDatagram d;
    std::size_t seen = 0;
    while (partial.next(d)) {
      ++seen;
    }
    if (seen >= 2 * exchanges) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ::kill(pid, SIGINT);
  int status = 0;
  ::waitpid(pid, &status, 0);

  std::string error;
  auto secrets = ClientSecrets::parse("client lo {\n ipaddr = 127.0.0.1\n secret = testing123\n}\n",
                                      "inline", error);
  REQUIRE(secrets);
  AnalysisOptions options;
  options.extra_ports = {server.port};
  options.secrets = &*secrets;
  const auto r = analyze_captures({file.string()}, options);
  REQUIRE(r.files.size() == 1);
  CHECK(r.files[0].link_type == link_type::ethernet);
  CHECK(r.issue_counts.total() == 0);
  CHECK(r.stream.udp_matched == 2 * exchanges); // 13 requests, 11 answers
  const auto& t = r.totals;
  CHECK(t.requests == exchanges + 1);
  CHECK(t.responses == exchanges - 1);
  CHECK(t.exchanges == exchanges);
  CHECK(t.linked == exchanges - 1);
  CHECK(t.retransmissions == 1);
  CHECK(t.unanswered_at_end == 1);
  CHECK(t.request_authenticator_valid == exchanges);
  CHECK(t.response_authenticator_valid == exchanges - 1);
  CHECK(t.latency.count() == exchanges - 1);
  CHECK(t.latency.max_ns() < 2'000'000'000);
  // tshark, told the port is RADIUS, sees the same packets.
  const auto tshark_count = count_lines(run("tshark -n -r '" + file.string() +
                                            "' -d udp.port==" + std::to_string(server.port) +
                                            ",radius -Y radius -T fields -e radius.code "
                                            "2>/dev/null"));
  CHECK(tshark_count == 2 * exchanges);
}
