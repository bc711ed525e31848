#include "bench/load/udp_batch.hpp"

#include <arpa/inet.h>
#include <cstring>

namespace acctlab::bench {

std::optional<Endpoint> parse_endpoint(const std::string& text) {
  Endpoint endpoint;
  std::string host;
  std::string port;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return std::nullopt;
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos) {
      return std::nullopt;
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  const int port_number = std::atoi(port.c_str());
  if (port_number <= 0 || port_number > 65535) {
    return std::nullopt;
  }
  auto* v4 = reinterpret_cast<sockaddr_in*>(&endpoint.address);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&endpoint.address);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<std::uint16_t>(port_number));
    endpoint.length = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<std::uint16_t>(port_number));
    endpoint.length = sizeof(sockaddr_in6);
  } else {
    return std::nullopt;
  }
  return endpoint;
}

std::size_t receive_batch(int fd, Batch& batch) {
  std::array<mmsghdr, batch_size> messages{};
  std::array<iovec, batch_size> vectors{};
  for (std::size_t i = 0; i < batch_size; ++i) {
    vectors[i] = {batch.data[i].data(), datagram_capacity};
    messages[i].msg_hdr.msg_iov = &vectors[i];
    messages[i].msg_hdr.msg_iovlen = 1;
    messages[i].msg_hdr.msg_name = &batch.peer[i];
    messages[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
  }
  const int received = recvmmsg(fd, messages.data(), batch_size, MSG_DONTWAIT, nullptr);
  batch.count = received > 0 ? static_cast<std::size_t>(received) : 0;
  for (std::size_t i = 0; i < batch.count; ++i) {
    batch.size[i] = messages[i].msg_len;
    batch.peer_length[i] = messages[i].msg_hdr.msg_namelen;
  }
  return batch.count;
}

void send_batch(int fd, Batch& batch) {
  std::array<mmsghdr, batch_size> messages{};
  std::array<iovec, batch_size> vectors{};
  for (std::size_t i = 0; i < batch.count; ++i) {
    vectors[i] = {batch.data[i].data(), batch.size[i]};
    messages[i].msg_hdr.msg_iov = &vectors[i];
    messages[i].msg_hdr.msg_iovlen = 1;
    if (batch.peer_length[i]) {
      messages[i].msg_hdr.msg_name = &batch.peer[i];
      messages[i].msg_hdr.msg_namelen = batch.peer_length[i];
    }
  }
  std::size_t sent = 0;
  // A full socket buffer makes sendmmsg send fewer; retry the rest a bounded number of times.
  for (int attempt = 0; attempt < 1000 && sent < batch.count; ++attempt) {
    const int n =
        sendmmsg(fd, messages.data() + sent, static_cast<unsigned>(batch.count - sent), 0);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
    }
  }
  batch.count = 0;
}

} // namespace acctlab::bench
