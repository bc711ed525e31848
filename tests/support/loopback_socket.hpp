#pragma once
// A socket bound to loopback on a port the kernel picks (port 0), for tests and benchmarks: they
// use only loopback and never a fixed port (the system's freeradius may hold 1812/1813). Plain
// POSIX and header-only, so a benchmark can include it without linking anything of the tests.

#include <arpa/inet.h>
#include <cstdint>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace acctlab::test {

struct LoopbackSocket {
  int fd = -1; // -1 when the socket could not be made or bound
  std::uint16_t port = 0;
};

/** A socket of `type` (SOCK_DGRAM, SOCK_STREAM) bound to 127.0.0.1, or ::1 when v6, on a free
 * port; the caller closes fd. */
inline LoopbackSocket bind_loopback(int type = SOCK_DGRAM, bool v6 = false) {
  sockaddr_in v4_address{};
  v4_address.sin_family = AF_INET;
  v4_address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sockaddr_in6 v6_address{};
  v6_address.sin6_family = AF_INET6;
  v6_address.sin6_addr = in6addr_loopback;
  auto* address =
      v6 ? reinterpret_cast<sockaddr*>(&v6_address) : reinterpret_cast<sockaddr*>(&v4_address);
  socklen_t length = v6 ? sizeof v6_address : sizeof v4_address;
  LoopbackSocket out;
  const int fd = ::socket(v6 ? AF_INET6 : AF_INET, type, 0);
  if (fd < 0) {
    return out;
  }
  if (::bind(fd, address, length) != 0 || ::getsockname(fd, address, &length) != 0) {
    ::close(fd);
    return out;
  }
  out.fd = fd;
  out.port = ntohs(v6 ? v6_address.sin6_port : v4_address.sin_port);
  return out;
}

/** A port that was free on 127.0.0.1 a moment ago, for a child process to bind (another process
 * may take it first: callers that can, keep the socket from bind_loopback instead); 0 on
 * failure. */
inline std::uint16_t free_loopback_port(int type = SOCK_DGRAM) {
  const auto socket = bind_loopback(type);
  if (socket.fd >= 0) {
    ::close(socket.fd);
  }
  return socket.port;
}

} // namespace acctlab::test
