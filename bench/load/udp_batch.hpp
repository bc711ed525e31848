#pragma once
// Small helpers shared by the load generator and the no-work responder: address parsing and
// batched UDP I/O with recvmmsg/sendmmsg.

#include <array>
#include <cstdint>
#include <netinet/in.h>
#include <optional>
#include <string>
#include <sys/socket.h>

namespace acctlab::bench {

struct Endpoint {
  sockaddr_storage address{};
  socklen_t length = 0;
};

/** "127.0.0.1:1813" or "[::1]:1813"; nullopt when it does not parse. */
std::optional<Endpoint> parse_endpoint(const std::string& text);

inline constexpr std::size_t batch_size = 64;
inline constexpr std::size_t datagram_capacity = 4096;

/** Buffers for one recvmmsg/sendmmsg batch. */
struct Batch {
  std::array<std::array<std::uint8_t, datagram_capacity>, batch_size> data{};
  std::array<std::size_t, batch_size> size{};
  std::array<sockaddr_storage, batch_size> peer{};
  std::array<socklen_t, batch_size> peer_length{};
  std::size_t count = 0;
};

/** Receives up to batch_size datagrams without blocking; returns how many. */
std::size_t receive_batch(int fd, Batch& batch);
/** Sends batch.count datagrams to their peers (or to the connected peer when peer_length is 0). */
void send_batch(int fd, Batch& batch);

} // namespace acctlab::bench
