#include "client/load_generator.hpp"

#include "client/accounting_packet.hpp"
#include "client/radius_transport.hpp"
#include "radius/authenticator.hpp"
#include "radius/dictionary.hpp"
#include "radius/packet_codec.hpp"

#include <arpa/inet.h>
#include <array>
#include <chrono>
#include <cstring>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace acctlab::gateway {
namespace {

// Load mode talks to the sockets directly: sendmmsg/recvmmsg move a batch of datagrams per
// system call, which is what lets one core offer 100k requests a second; Asio has no batch API.
constexpr std::size_t batch = 64;
constexpr std::size_t max_sockets = 256;

using SteadyClock = std::chrono::steady_clock;

struct Slot {
  bool busy = false;
  std::uint32_t peer = 0;
  SteadyClock::time_point sent;
  radius::Authenticator authenticator{};
  std::vector<std::uint8_t> wire;
};

struct Socket {
  int fd = -1;
  std::array<Slot, 256> slots;
  std::size_t busy = 0;
  std::uint8_t next_id = 0;
  std::size_t server = 0;
};

struct Peer {
  bool busy = false;
  std::uint32_t session = 0;
  std::uint32_t phase = 0; // 0 start, 1..k interim, k+1 stop
  AccountingEvent event;
};

bool to_sockaddr(const std::string& host, std::uint16_t port, sockaddr_storage& out,
                 socklen_t& size) {
  std::memset(&out, 0, sizeof out);
  auto* v4 = reinterpret_cast<sockaddr_in*>(&out);
  if (::inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    size = sizeof(sockaddr_in);
    return true;
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&out);
  if (::inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    size = sizeof(sockaddr_in6);
    return true;
  }
  return false;
}

std::string hex8(std::uint32_t value) {
  static const char digits[] = "0123456789ABCDEF";
  std::string out(8, '0');
  for (int i = 7; i >= 0; --i) {
    out[static_cast<std::size_t>(i)] = digits[value & 15];
    value >>= 4;
  }
  return out;
}

} // namespace

LoadResult run_load(const LoadOptions& options) {
  LoadResult result;
  auto fail = [&](std::string message) {
    result.ok = false;
    result.error = std::move(message);
    return result;
  };
  if (options.servers.empty()) {
    return fail("--load needs at least one --server");
  }
  if (options.peers == 0 || options.window == 0) {
    return fail("--peers and --window must be at least 1");
  }
  std::vector<sockaddr_storage> destinations;
  std::vector<socklen_t> sizes;
  for (const std::string& text : options.servers) {
    auto parsed = parse_host_port(text);
    sockaddr_storage address{};
    socklen_t size = 0;
    if (!parsed || !to_sockaddr(parsed->first, parsed->second, address, size)) {
      return fail("--server '" + text + "': expected HOST:PORT or [V6]:PORT");
    }
    destinations.push_back(address);
    sizes.push_back(size);
  }

  std::size_t socket_count = std::min<std::size_t>(max_sockets, (options.window + 255) / 256);
  socket_count = std::max(socket_count, destinations.size());
  std::vector<Socket> sockets(socket_count);
  for (std::size_t i = 0; i < sockets.size(); ++i) {
    Socket& s = sockets[i];
    s.server = i % destinations.size();
    s.fd = ::socket(destinations[s.server].ss_family, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    if (s.fd < 0) {
      for (auto& open : sockets) {
        if (open.fd >= 0) {
          ::close(open.fd);
        }
      }
      return fail("cannot open a UDP socket: " + std::string(std::strerror(errno)));
    }
    int buffer = 4 << 20;
    ::setsockopt(s.fd, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
    ::setsockopt(s.fd, SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer);
  }

  std::vector<Peer> peers(options.peers);
  for (std::uint32_t i = 0; i < options.peers; ++i) {
    AccountingEvent& e = peers[i].event;
    e.user_name = "u" + std::to_string(i + 1) + "@load";
    e.initiator = {11, static_cast<std::uint8_t>(i >> 16), static_cast<std::uint8_t>(i >> 8),
                   static_cast<std::uint8_t>(i)};
    e.framed_ip = Ipv4Address{10, static_cast<std::uint8_t>(i >> 16),
                              static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i)};
    e.identity = {IkeIdentity::Type::key_id, "load"};
    e.vrf = "load";
    e.interface = "FastEthernet0/0.1";
  }
  PacketOptions packet_options;
  packet_options.nas_ip = options.nas_ip;
  packet_options.send_vsa = options.send_vsa;
  const radius::Dictionary& dict = radius::Dictionary::builtin();
  std::uint32_t session_ids = 0;
  std::uint32_t next_peer = 0;
  std::size_t outstanding = 0;

  auto begin = SteadyClock::now();
  auto end = begin + options.duration;

  // Builds the next record of the next idle peer into slot; false when every peer is busy.
  auto prepare = [&](Slot& slot, std::uint8_t identifier, SteadyClock::time_point now) {
    for (std::uint32_t tries = 0; tries < options.peers; ++tries) {
      std::uint32_t index = next_peer;
      next_peer = (next_peer + 1) % options.peers;
      Peer& p = peers[index];
      if (p.busy) {
        continue;
      }
      AccountingEvent& e = p.event;
      if (p.phase == 0) {
        ++result.sessions_started;
        p.session = ++session_ids;
        e.session_id = hex8(p.session);
        e.input = {};
        e.output = {};
        e.kind = AccountingEvent::Kind::start;
      } else {
        e.kind = p.phase > options.interims_per_session ? AccountingEvent::Kind::stop
                                                        : AccountingEvent::Kind::interim;
        e.input += Counters{100, 150000};
        e.output += Counters{80, 9000};
      }
      e.session_time = p.phase * 60;
      radius::Packet packet = build_accounting_request(e, packet_options, 0);
      packet.set_identifier(identifier);
      slot.wire = radius::encode_packet(packet, dict);
      radius::sign_request(slot.wire, options.secret);
      std::memcpy(slot.authenticator.data(), slot.wire.data() + 4, 16);
      slot.peer = index;
      slot.sent = now;
      slot.busy = true;
      p.busy = true;
      return true;
    }
    return false;
  };

  std::array<mmsghdr, batch> messages{};
  std::array<iovec, batch> vectors{};
  std::array<std::array<std::uint8_t, 4096>, batch> buffers{};
  std::array<sockaddr_storage, batch> sources{};
  auto last_sweep = begin;
  std::vector<pollfd> polls(sockets.size());

  // Bounded by the duration, then by the timeout while the last answers drain.
  while (true) {
    auto now = SteadyClock::now();
    bool sending = now < end;
    if (!sending && (outstanding == 0 || now >= end + options.timeout)) {
      break;
    }
    // Send: fill each socket's free Identifiers up to the window, a batch per system call.
    for (Socket& s : sockets) {
      if (!sending) {
        break;
      }
      std::size_t n = 0;
      while (n < batch && s.busy < 256 && outstanding < options.window) {
        std::uint8_t id = s.next_id;
        while (s.slots[id].busy) {
          ++id;
        }
        s.next_id = static_cast<std::uint8_t>(id + 1);
        if (!prepare(s.slots[id], id, now)) {
          break;
        }
        ++s.busy;
        ++outstanding;
        vectors[n] = {s.slots[id].wire.data(), s.slots[id].wire.size()};
        messages[n] = {};
        messages[n].msg_hdr.msg_iov = &vectors[n];
        messages[n].msg_hdr.msg_iovlen = 1;
        messages[n].msg_hdr.msg_name = &destinations[s.server];
        messages[n].msg_hdr.msg_namelen = sizes[s.server];
        ++n;
      }
      std::size_t done = 0;
      while (done < n) {
        int sent = ::sendmmsg(s.fd, messages.data() + done, static_cast<unsigned>(n - done), 0);
        if (sent <= 0) {
          break; // the socket buffer is full: the unsent ones time out and are counted
        }
        done += static_cast<std::size_t>(sent);
      }
      result.sent += done;
    }
    // Receive: wait briefly for any socket, then drain each in batches.
    for (std::size_t i = 0; i < sockets.size(); ++i) {
      polls[i] = {sockets[i].fd, POLLIN, 0};
    }
    int ready =
        ::poll(polls.data(), polls.size(), outstanding >= options.window || !sending ? 1 : 0);
    for (std::size_t si = 0; ready > 0 && si < sockets.size(); ++si) {
      if (!(polls[si].revents & POLLIN)) {
        continue;
      }
      Socket& s = sockets[si];
      while (true) {
        for (std::size_t i = 0; i < batch; ++i) {
          vectors[i] = {buffers[i].data(), buffers[i].size()};
          messages[i] = {};
          messages[i].msg_hdr.msg_iov = &vectors[i];
          messages[i].msg_hdr.msg_iovlen = 1;
          messages[i].msg_hdr.msg_name = &sources[i];
          messages[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
        }
        int received = ::recvmmsg(s.fd, messages.data(), batch, MSG_DONTWAIT, nullptr);
        if (received <= 0) {
          break;
        }
        for (int i = 0; i < received; ++i) {
          std::span<const std::uint8_t> wire(buffers[static_cast<std::size_t>(i)].data(),
                                             messages[static_cast<std::size_t>(i)].msg_len);
          if (wire.size() < radius::header_size) {
            ++result.bad_answers;
            continue;
          }
          Slot& slot = s.slots[wire[1]];
          std::size_t length = std::size_t{wire[2]} << 8 | wire[3];
          if (!slot.busy || length < radius::header_size || length > wire.size() ||
              wire[0] != static_cast<std::uint8_t>(radius::Code::accounting_response) ||
              !radius::verify_response_authenticator(wire.first(length), slot.authenticator,
                                                     options.secret)) {
            ++result.bad_answers;
            continue;
          }
          slot.busy = false;
          --s.busy;
          --outstanding;
          ++result.answered;
          Peer& p = peers[slot.peer];
          p.busy = false;
          if (p.event.kind == AccountingEvent::Kind::stop) {
            ++result.sessions_stopped;
            p.phase = 0; // churn: the peer comes back as a new session
          } else {
            ++p.phase;
          }
        }
        if (static_cast<std::size_t>(received) < batch) {
          break;
        }
      }
    }
    // Timeouts, swept every 10 ms: the slot is freed and the peer tries its record again.
    now = SteadyClock::now();
    if (now - last_sweep >= std::chrono::milliseconds(10)) {
      last_sweep = now;
      for (Socket& s : sockets) {
        for (Slot& slot : s.slots) {
          if (slot.busy && now - slot.sent >= options.timeout) {
            slot.busy = false;
            --s.busy;
            --outstanding;
            ++result.timeouts;
            peers[slot.peer].busy = false;
          }
        }
      }
    }
  }
  result.seconds = std::chrono::duration<double>(SteadyClock::now() - begin).count();
  for (Socket& s : sockets) {
    result.timeouts += s.busy; // still unanswered when the drain time ran out
    ::close(s.fd);
  }
  return result;
}

} // namespace acctlab::gateway
