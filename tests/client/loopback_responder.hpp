#pragma once
// A tiny RADIUS accounting server for the gateway tests: a real UDP socket on loopback (port 0)
// and a thread that records every datagram, checks its Request Authenticator and answers with an
// Accounting-Response signed by the core's sign_response. Raw-byte helpers read what arrived.

#include "radius/authenticator.hpp"
#include "tests/support/loopback_socket.hpp"

#include <arpa/inet.h>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <netinet/in.h>
#include <poll.h>
#include <stdexcept>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace acctlab::test {

struct Received {
  std::vector<std::uint8_t> wire;
  bool authentic = false; // the Request Authenticator verified with the responder's secret
};

class LoopbackResponder {
public:
  explicit LoopbackResponder(std::string secret, bool v6 = false, std::string answer_secret = {})
      : secret_(std::move(secret)),
        answer_secret_(answer_secret.empty() ? secret_ : std::move(answer_secret)), v6_(v6) {
    const auto socket = bind_loopback(SOCK_DGRAM, v6);
    if (socket.fd < 0) {
      throw std::runtime_error("LoopbackResponder: cannot bind a UDP socket on loopback");
    }
    fd_ = socket.fd;
    port_ = socket.port;
    thread_ = std::thread([this] { loop(); });
  }
  ~LoopbackResponder() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  LoopbackResponder(const LoopbackResponder&) = delete;
  LoopbackResponder& operator=(const LoopbackResponder&) = delete;

  std::string address() const { return (v6_ ? "[::1]:" : "127.0.0.1:") + std::to_string(port_); }
  std::uint16_t port() const { return port_; }
  std::vector<Received> received() const {
    std::lock_guard lock(mutex_);
    return received_;
  }

private:
  void loop() {
    // Bounded by the stop flag, checked every 20 ms.
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) {
        continue;
      }
      std::uint8_t buffer[4096];
      sockaddr_storage from{};
      socklen_t from_size = sizeof from;
      ssize_t n =
          ::recvfrom(fd_, buffer, sizeof buffer, 0, reinterpret_cast<sockaddr*>(&from), &from_size);
      if (n < 20) {
        continue;
      }
      Received r;
      r.wire.assign(buffer, buffer + n);
      r.authentic = radius::verify_request_authenticator(r.wire, secret_);
      {
        std::lock_guard lock(mutex_);
        received_.push_back(r);
      }
      if (!r.authentic || r.wire[0] != 4) {
        continue; // RFC 2866 §3: a request that does not verify is silently discarded
      }
      std::vector<std::uint8_t> answer(20);
      answer[0] = 5; // Accounting-Response
      answer[1] = r.wire[1];
      answer[3] = 20;
      radius::Authenticator request{};
      std::memcpy(request.data(), r.wire.data() + 4, 16);
      radius::sign_response(answer, request, answer_secret_);
      ::sendto(fd_, answer.data(), answer.size(), 0, reinterpret_cast<sockaddr*>(&from), from_size);
    }
  }

  std::string secret_;
  std::string answer_secret_;
  bool v6_ = false;
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  mutable std::mutex mutex_;
  std::vector<Received> received_;
};

/** One attribute as it sits on the wire; a Cisco VSA is listed as its sub-attribute. */
struct WireAttribute {
  std::uint8_t type = 0;
  std::uint32_t vendor = 0;
  std::uint8_t vendor_type = 0;
  std::size_t length = 0;     // the attribute's Length octet (the VSA's for a vendor one)
  std::size_t sub_length = 0; // the sub-attribute's length
  std::vector<std::uint8_t> value;

  std::string text() const { return std::string(value.begin(), value.end()); }
  std::uint32_t integer() const {
    return value.size() == 4 ? std::uint32_t{value[0]} << 24 | std::uint32_t{value[1]} << 16 |
                                   std::uint32_t{value[2]} << 8 | value[3]
                             : 0xFFFFFFFFu;
  }
};

inline std::vector<WireAttribute> wire_attributes(const std::vector<std::uint8_t>& wire) {
  std::vector<WireAttribute> out;
  std::size_t i = 20;
  while (i + 2 <= wire.size()) {
    WireAttribute a;
    a.type = wire[i];
    a.length = wire[i + 1];
    if (a.length < 2 || i + a.length > wire.size()) {
      break;
    }
    if (a.type == 26 && a.length >= 8) {
      a.vendor = std::uint32_t{wire[i + 2]} << 24 | std::uint32_t{wire[i + 3]} << 16 |
                 std::uint32_t{wire[i + 4]} << 8 | wire[i + 5];
      a.vendor_type = wire[i + 6];
      a.sub_length = wire[i + 7];
      a.value.assign(wire.begin() + static_cast<long>(i + 8),
                     wire.begin() + static_cast<long>(i + a.length));
    } else {
      a.value.assign(wire.begin() + static_cast<long>(i + 2),
                     wire.begin() + static_cast<long>(i + a.length));
    }
    std::size_t step = a.length;
    out.push_back(std::move(a));
    i += step;
  }
  return out;
}

inline const WireAttribute* find_attribute(const std::vector<WireAttribute>& list,
                                           std::uint8_t type) {
  for (const auto& a : list) {
    if (a.type == type && a.vendor == 0) {
      return &a;
    }
  }
  return nullptr;
}

/** The value of the first Cisco AV pair "name=value", or "" when absent. */
inline std::string avpair(const std::vector<WireAttribute>& list, const std::string& name) {
  for (const auto& a : list) {
    if (a.vendor == 9 && a.vendor_type == 1) {
      std::string t = a.text();
      if (t.rfind(name + "=", 0) == 0) {
        return t.substr(name.size() + 1);
      }
    }
  }
  return "";
}

} // namespace acctlab::test
