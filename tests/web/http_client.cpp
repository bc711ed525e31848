#include "tests/web/http_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

namespace acctlab::web::test {
namespace {

int connect_to(std::uint16_t port, std::chrono::milliseconds timeout) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) {
    throw std::runtime_error("socket");
  }
  timeval tv{};
  tv.tv_sec = static_cast<long>(timeout.count() / 1000);
  tv.tv_usec = static_cast<long>(timeout.count() % 1000 * 1000);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    throw std::runtime_error("connect");
  }
  return fd;
}

void send_all(int fd, const std::string& data) {
  std::size_t sent = 0;
  while (sent < data.size()) {
    const auto n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      return; // the server may close early (e.g. on an oversized request); read what it said
    }
    sent += static_cast<std::size_t>(n);
  }
}

HttpReply parse_reply(const std::string& raw) {
  HttpReply reply;
  const auto end = raw.find("\r\n\r\n");
  if (raw.size() < 12 || end == std::string::npos) {
    return reply;
  }
  reply.status = std::stoi(raw.substr(9, 3));
  std::size_t pos = raw.find("\r\n") + 2;
  while (pos < end) {
    const auto eol = raw.find("\r\n", pos);
    const auto line = raw.substr(pos, eol - pos);
    const auto colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      for (auto& c : name) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      }
      auto value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') {
        value.erase(0, 1);
      }
      reply.headers[name] = value;
    }
    pos = eol + 2;
  }
  reply.body = raw.substr(end + 4);
  return reply;
}

} // namespace

HttpReply http_raw(std::uint16_t port, const std::string& request,
                   std::chrono::milliseconds timeout) {
  const int fd = connect_to(port, timeout);
  send_all(fd, request);
  std::string raw;
  char buf[65536];
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (raw.size() < (64u << 20) && std::chrono::steady_clock::now() < deadline) {
    const auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      break;
    }
    raw.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return parse_reply(raw);
}

HttpReply http_get(std::uint16_t port, const std::string& target, const std::string& method) {
  return http_raw(port, method + " " + target +
                            " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
}

std::string read_events(std::uint16_t port, int count, std::chrono::milliseconds timeout,
                        const std::function<void()>& between) {
  const int fd = connect_to(port, std::chrono::milliseconds(200));
  send_all(fd, "GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n");
  std::string raw;
  char buf[4096];
  int seen = 0;
  bool ran_between = false;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (seen < count && std::chrono::steady_clock::now() < deadline) {
    const auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n == 0) {
      break;
    }
    if (n > 0) {
      raw.append(buf, static_cast<std::size_t>(n));
    }
    seen = 0;
    for (auto pos = raw.find("event: counters"); pos != std::string::npos;
         pos = raw.find("event: counters", pos + 1)) {
      if (raw.find("\n\n", pos) != std::string::npos) {
        ++seen;
      }
    }
    if (seen >= 1 && !ran_between && between) {
      ran_between = true;
      between();
    }
  }
  ::close(fd);
  return raw;
}

} // namespace acctlab::web::test
