#include "server/udp_sender.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <netinet/udp.h>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103 // linux/udp.h; older libc headers lack it
#endif

namespace acctlab::server {
namespace {

// The kernel's UDP_MAX_SEGMENTS has been 64 since segmentation came (128 from 6.9): stay below.
constexpr std::size_t max_segments = 64;
constexpr std::size_t control_words = CMSG_SPACE(sizeof(std::uint16_t)) / sizeof(std::uint64_t);
static_assert(CMSG_SPACE(sizeof(std::uint16_t)) % sizeof(std::uint64_t) == 0);

bool same_peer(const Datagram& a, const Datagram& b) {
  return a.peer_length == b.peer_length && std::memcmp(a.peer, b.peer, a.peer_length) == 0;
}

bool refuses_segmentation(int error) {
  return error == EIO || error == EINVAL || error == EOPNOTSUPP || error == ENOPROTOOPT;
}

} // namespace

std::size_t UdpSender::send(int fd, std::span<const Datagram> datagrams) {
  return send_messages(fd, datagrams, segmentation_);
}

std::size_t UdpSender::send_messages(int fd, std::span<const Datagram> datagrams, bool segment) {
  plan_.clear();
  for (std::size_t i = 0; i < datagrams.size();) {
    std::size_t end = i + 1;
    while (segment && end < datagrams.size() && end - i < max_segments &&
           datagrams[end].size == datagrams[i].size && same_peer(datagrams[end], datagrams[i])) {
      ++end;
    }
    plan_.push_back({i, end - i});
    i = end;
  }
  headers_.assign(plan_.size(), mmsghdr{});
  vectors_.resize(datagrams.size());
  controls_.assign(plan_.size() * control_words, 0);
  for (std::size_t m = 0; m < plan_.size(); ++m) {
    const auto [first, count] = plan_[m];
    for (std::size_t i = first; i < first + count; ++i) {
      vectors_[i] = {const_cast<std::uint8_t*>(datagrams[i].data), datagrams[i].size};
    }
    auto& header = headers_[m].msg_hdr;
    header.msg_iov = &vectors_[first];
    header.msg_iovlen = count;
    header.msg_name = const_cast<sockaddr_storage*>(datagrams[first].peer);
    header.msg_namelen = datagrams[first].peer_length;
    if (count > 1) {
      header.msg_control = &controls_[m * control_words];
      header.msg_controllen = CMSG_SPACE(sizeof(std::uint16_t));
      cmsghdr* control = CMSG_FIRSTHDR(&header);
      control->cmsg_level = SOL_UDP;
      control->cmsg_type = UDP_SEGMENT;
      control->cmsg_len = CMSG_LEN(sizeof(std::uint16_t));
      const auto size = static_cast<std::uint16_t>(datagrams[first].size);
      std::memcpy(CMSG_DATA(control), &size, sizeof size);
    }
  }

  std::size_t failed = 0;
  std::size_t next = 0;
  for (int attempt = 0; attempt < 64 && next < plan_.size(); ++attempt) {
    const int n = sendmmsg(fd, headers_.data() + next, static_cast<unsigned>(plan_.size() - next),
                           MSG_DONTWAIT);
    if (n > 0) {
      for (std::size_t m = next; m < next + static_cast<std::size_t>(n); ++m) {
        segmented_sends_ += plan_[m].count > 1 ? 1 : 0;
      }
      next += static_cast<std::size_t>(n);
      continue;
    }
    const int error = errno;
    if (n < 0 && (error == EAGAIN || error == EWOULDBLOCK || error == EINTR)) {
      continue;
    }
    if (n < 0 && plan_[next].count > 1 && refuses_segmentation(error)) {
      // This kernel or device will not segment: send the rest one by one from now on.
      segmentation_ = false;
      const std::size_t first = plan_[next].first;
      return failed + send_messages(fd, datagrams.subspan(first), false);
    }
    // A peer that vanished (ICMP errors surface here) must not stop the others' answers.
    failed += plan_[next].count;
    ++next;
  }
  for (std::size_t m = next; m < plan_.size(); ++m) {
    failed += plan_[m].count;
  }
  return failed;
}

} // namespace acctlab::server
