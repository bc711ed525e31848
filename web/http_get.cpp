#include "web/http_get.hpp"

#include <arpa/inet.h>
#include <cctype>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

namespace acctlab::web {
namespace {

constexpr std::size_t max_reply = 64u << 20;

/** Connected socket or -1 with the reason in error. */
int connect_to(std::string address, std::uint16_t port, std::chrono::milliseconds timeout,
               std::string& error) {
  if (address == "localhost") {
    address = "127.0.0.1"; // the one name parse_listen accepts
  }
  sockaddr_storage storage{};
  socklen_t length = 0;
  int family = AF_INET;
  if (auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
      ::inet_pton(AF_INET, address.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    length = sizeof *v4;
  } else if (auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
             ::inet_pton(AF_INET6, address.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    length = sizeof *v6;
    family = AF_INET6;
  } else {
    error = "not an IP address: " + address;
    return -1;
  }
  const int fd = ::socket(family, SOCK_STREAM, 0);
  if (fd < 0) {
    error = "socket failed";
    return -1;
  }
  timeval tv{};
  tv.tv_sec = static_cast<long>(timeout.count() / 1000);
  tv.tv_usec = static_cast<long>(timeout.count() % 1000 * 1000);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&storage), length) != 0) {
    ::close(fd);
    error = "cannot connect to " + address + ":" + std::to_string(port);
    return -1;
  }
  return fd;
}

} // namespace

HttpGetResult http_get(const std::string& address, std::uint16_t port, const std::string& target,
                       std::chrono::milliseconds timeout) {
  using Clock = std::chrono::steady_clock;
  HttpGetResult result;
  const auto begin = Clock::now();
  const int fd = connect_to(address, port, timeout, result.error);
  if (fd < 0) {
    return result;
  }
  const bool v6 = address.find(':') != std::string::npos;
  const std::string request = "GET " + target +
                              " HTTP/1.1\r\nHost: " + (v6 ? "[" + address + "]" : address) + ":" +
                              std::to_string(port) + "\r\nConnection: close\r\n\r\n";
  std::size_t sent = 0;
  while (sent < request.size()) {
    const auto n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      break;
    }
    sent += static_cast<std::size_t>(n);
  }
  std::string raw;
  char buffer[65536];
  // The server closes after the answer (Connection: close); each recv is bounded by the socket
  // timeout and the whole exchange by the deadline.
  const auto deadline = begin + timeout;
  while (raw.size() < max_reply && Clock::now() < deadline) {
    const auto n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) {
      break;
    }
    raw.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  result.milliseconds = std::chrono::duration<double, std::milli>(Clock::now() - begin).count();

  const auto end = raw.find("\r\n\r\n");
  if (raw.size() < 12 || raw.compare(0, 5, "HTTP/") != 0 || end == std::string::npos ||
      !std::isdigit(static_cast<unsigned char>(raw[9]))) {
    result.error = raw.empty() ? "no answer" : "malformed answer";
    return result;
  }
  result.status = std::atoi(raw.c_str() + 9);
  for (std::size_t pos = raw.find("\r\n") + 2; pos < end;) {
    const auto eol = raw.find("\r\n", pos);
    std::string line = raw.substr(pos, eol - pos);
    pos = eol + 2;
    const auto colon = line.find(':');
    if (colon == std::string::npos) {
      continue;
    }
    std::string name = line.substr(0, colon);
    for (auto& c : name) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    if (name == "content-type") {
      const auto value = line.find_first_not_of(' ', colon + 1);
      result.content_type = value == std::string::npos ? "" : line.substr(value);
    }
  }
  result.body = raw.substr(end + 4);
  return result;
}

} // namespace acctlab::web
