#pragma once
// UdpSender: the server's answers leave through here, many per system call. Consecutive answers
// to the same peer with the same length (a NAS's burst of Accounting-Responses, 20 octets each)
// go out as one UDP GSO send (UDP_SEGMENT, Linux 4.18+): the stack is crossed once and the
// datagrams are cut from one buffer, each still its own datagram on the wire. Everything else
// goes through sendmmsg, one message per answer. A kernel or device that refuses segmentation
// turns it off for good and the answers go out one by one.

#include <cstddef>
#include <cstdint>
#include <span>
#include <sys/socket.h>
#include <vector>

namespace acctlab::server {

struct Datagram {
  const sockaddr_storage* peer = nullptr;
  socklen_t peer_length = 0;
  const std::uint8_t* data = nullptr;
  std::size_t size = 0;
};

class UdpSender {
public:
  /** Sends every datagram on the non-blocking socket fd, in order; returns how many could not be
   * sent (a peer that vanished, a full buffer that stayed full). */
  std::size_t send(int fd, std::span<const Datagram> datagrams);

  bool segmentation_enabled() const { return segmentation_; }
  /** Sends that carried more than one datagram (for tests and the stats). */
  std::uint64_t segmented_sends() const { return segmented_sends_; }

private:
  struct Message {
    std::size_t first = 0; // index into the datagrams
    std::size_t count = 0;
  };
  std::size_t send_messages(int fd, std::span<const Datagram> datagrams, bool segment);

  bool segmentation_ = true;
  std::uint64_t segmented_sends_ = 0;
  std::vector<Message> plan_;
  std::vector<mmsghdr> headers_;
  std::vector<iovec> vectors_;
  std::vector<std::uint64_t> controls_; // one CMSG_SPACE(sizeof(uint16_t)) slot per message
};

} // namespace acctlab::server
