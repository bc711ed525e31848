#include "server/udp_sender.hpp"

#include <arpa/inet.h>
#include <catch2/catch.hpp>
#include <cstring>
#include <netinet/in.h>
#include <poll.h>
#include <unistd.h>
#include <vector>

using acctlab::server::Datagram;
using acctlab::server::UdpSender;

namespace {

struct Socket {
  int fd = -1;
  sockaddr_storage address{};
  socklen_t length = sizeof(sockaddr_in);

  explicit Socket(int family = AF_INET) {
    fd = ::socket(family, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    if (family == AF_INET6) {
      auto* in6 = reinterpret_cast<sockaddr_in6*>(&address);
      in6->sin6_family = AF_INET6;
      in6->sin6_addr = in6addr_loopback;
      length = sizeof(sockaddr_in6);
    } else {
      auto* in = reinterpret_cast<sockaddr_in*>(&address);
      in->sin_family = AF_INET;
      in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    }
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), length) == 0);
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0);
  }
  ~Socket() { ::close(fd); }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  /** Every datagram that arrives within the time limit, each as it came off the wire. */
  std::vector<std::vector<std::uint8_t>> receive(std::size_t expected) const {
    std::vector<std::vector<std::uint8_t>> got;
    for (int round = 0; round < 200 && got.size() < expected; ++round) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 10) <= 0) {
        continue;
      }
      std::uint8_t buffer[2048];
      ssize_t n;
      while ((n = ::recv(fd, buffer, sizeof buffer, 0)) >= 0) {
        got.emplace_back(buffer, buffer + n);
      }
    }
    return got;
  }
};

std::vector<std::uint8_t> payload(std::size_t size, std::uint8_t tag) {
  std::vector<std::uint8_t> bytes(size);
  for (std::size_t i = 0; i < size; ++i) {
    bytes[i] = static_cast<std::uint8_t>(tag + i);
  }
  return bytes;
}

/** count answers of one length, each with its own bytes. */
std::vector<std::vector<std::uint8_t>> burst(int count, std::size_t size) {
  std::vector<std::vector<std::uint8_t>> answers;
  for (int i = 0; i < count; ++i) {
    answers.push_back(payload(size, static_cast<std::uint8_t>(i)));
  }
  return answers;
}

/** The answers as datagrams to one socket (they must outlive the datagrams). */
std::vector<Datagram> addressed(const Socket& to,
                                const std::vector<std::vector<std::uint8_t>>& answers) {
  std::vector<Datagram> datagrams;
  for (const auto& bytes : answers) {
    datagrams.push_back({&to.address, to.length, bytes.data(), bytes.size()});
  }
  return datagrams;
}

} // namespace

TEST_CASE("answers leave as separate datagrams, in order, segmented where they can be",
          "[server][udp]") {
  Socket sender, a, b;
  // A NAS's burst (100 equal answers to a), answers to another peer, a different length, and a
  // burst longer than one segmented send may carry.
  struct Planned {
    const Socket* to;
    std::vector<std::uint8_t> bytes;
  };
  std::vector<Planned> plan;
  for (int i = 0; i < 100; ++i) {
    plan.push_back({&a, payload(20, static_cast<std::uint8_t>(i))});
  }
  for (int i = 0; i < 3; ++i) {
    plan.push_back({&b, payload(38, static_cast<std::uint8_t>(200 + i))});
  }
  plan.push_back({&a, payload(21, 150)});
  for (int i = 0; i < 5; ++i) {
    plan.push_back({&a, payload(20, static_cast<std::uint8_t>(160 + i))});
  }
  std::vector<Datagram> datagrams;
  for (const auto& p : plan) {
    datagrams.push_back({&p.to->address, p.to->length, p.bytes.data(), p.bytes.size()});
  }

  UdpSender udp;
  CHECK(udp.send(sender.fd, datagrams) == 0);

  std::vector<std::vector<std::uint8_t>> want_a, want_b;
  for (const auto& p : plan) {
    (p.to == &a ? want_a : want_b).push_back(p.bytes);
  }
  CHECK(a.receive(want_a.size()) == want_a);
  CHECK(b.receive(want_b.size()) == want_b);
  if (udp.segmentation_enabled()) {
    // 100 equal answers to a take two sends (at most 64 each), b's three one, a's last five one.
    CHECK(udp.segmented_sends() == 4);
  } else {
    WARN("this kernel refused UDP segmentation; answers went out one by one");
  }
}

TEST_CASE("a sender with nothing to send sends nothing", "[server][udp]") {
  Socket sender;
  UdpSender udp;
  CHECK(udp.send(sender.fd, {}) == 0);
  CHECK(udp.segmented_sends() == 0);
}

TEST_CASE("a socket that refuses segmentation gets its answers one by one", "[server][udp]") {
  // Linux refuses a UDP_SEGMENT send on a socket without checksums (SO_NO_CHECK) with EINVAL,
  // as it refuses one on an IPsec-transformed route with EIO: the sender must fall back.
  Socket sender, a;
  const int no_check = 1;
  REQUIRE(::setsockopt(sender.fd, SOL_SOCKET, SO_NO_CHECK, &no_check, sizeof no_check) == 0);
  const auto want = burst(10, 20);
  const auto datagrams = addressed(a, want);
  UdpSender udp;
  CHECK(udp.send(sender.fd, datagrams) == 0);
  CHECK_FALSE(udp.segmentation_enabled());
  CHECK(a.receive(want.size()) == want);
  // From now on everything goes out one by one, and still arrives.
  CHECK(udp.send(sender.fd, datagrams) == 0);
  CHECK(a.receive(want.size()) == want);
  CHECK(udp.segmented_sends() == 0);
}

TEST_CASE("answers to an IPv6 NAS are segmented the same way", "[server][udp]") {
  Socket sender(AF_INET6), nas(AF_INET6);
  const auto want = burst(30, 20);
  const auto datagrams = addressed(nas, want);
  UdpSender udp;
  CHECK(udp.send(sender.fd, datagrams) == 0);
  CHECK(nas.receive(want.size()) == want);
  if (udp.segmentation_enabled()) {
    CHECK(udp.segmented_sends() == 1);
  }
}
