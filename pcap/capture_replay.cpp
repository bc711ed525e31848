#include "pcap/capture_replay.hpp"

#include "pcap/capture_reader.hpp"
#include "radius/authenticator.hpp"
#include "radius/packet_codec.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <boost/json.hpp>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <unordered_map>

namespace acctlab::capture {
namespace {

constexpr std::size_t max_skips_kept = 100;

std::int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct Request {
  std::vector<std::uint8_t> raw;
  std::int64_t time_ns = 0;
  const std::string* secret = nullptr;
};

struct Key {
  Endpoint source;
  std::uint8_t identifier = 0;
  radius::Authenticator authenticator{};
  bool operator==(const Key&) const = default;
};
struct KeyHash {
  std::size_t operator()(const Key& key) const noexcept {
    std::uint64_t a = 0;
    std::memcpy(&a, key.authenticator.data(), sizeof a);
    return hash_value(key.source.address) ^ (std::size_t{key.source.port} << 8) ^ key.identifier ^
           (a * 0x9E3779B97F4A7C15ull);
  }
};

struct Outstanding {
  std::size_t request = 0;
  std::vector<std::uint8_t> wire;
  radius::Authenticator authenticator{};
  const std::string* secret = nullptr;
  std::int64_t last_sent_ns = 0;
  unsigned transmissions = 0;
  bool answered = false; // an answer came, but its authenticator did not verify
};

class Socket {
public:
  ~Socket() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  /** A UDP socket connected to server: the kernel then delivers only the server's datagrams. */
  bool open(const Endpoint& server, std::string& error) {
    sockaddr_storage address{};
    socklen_t length = 0;
    if (server.address.is_v4()) {
      auto* in = reinterpret_cast<sockaddr_in*>(&address);
      in->sin_family = AF_INET;
      in->sin_port = htons(server.port);
      std::memcpy(&in->sin_addr, server.address.octets.data(), 4);
      length = sizeof(sockaddr_in);
    } else if (server.address.is_v6()) {
      auto* in6 = reinterpret_cast<sockaddr_in6*>(&address);
      in6->sin6_family = AF_INET6;
      in6->sin6_port = htons(server.port);
      std::memcpy(&in6->sin6_addr, server.address.octets.data(), 16);
      length = sizeof(sockaddr_in6);
    } else {
      error = "no server address";
      return false;
    }
    fd_ = ::socket(address.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&address), length) != 0) {
      error = "cannot open a UDP socket to " + server.to_string() + ": " + std::strerror(errno);
      return false;
    }
    return true;
  }
  bool send(std::span<const std::uint8_t> data) {
    // ECONNREFUSED (an ICMP port unreachable from an earlier datagram) is not fatal: the request
    // then goes unanswered and is counted so.
    return ::send(fd_, data.data(), data.size(), 0) >= 0 || errno == ECONNREFUSED;
  }
  /** Waits up to timeout_ms for a datagram; returns its size, 0 for none, -1 on error. */
  long receive(std::vector<std::uint8_t>& buffer, int timeout_ms) {
    const long n = ::recv(fd_, buffer.data(), buffer.size(), 0);
    if (n >= 0) {
      return n;
    }
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ECONNREFUSED) {
      return -1;
    }
    pollfd p{fd_, POLLIN, 0};
    if (timeout_ms > 0 && ::poll(&p, 1, timeout_ms) > 0) {
      const long m = ::recv(fd_, buffer.data(), buffer.size(), 0);
      return m >= 0 ? m : (errno == EAGAIN || errno == ECONNREFUSED ? 0 : -1);
    }
    return 0;
  }

private:
  int fd_ = -1;
};

void skip(ReplayResult& result, const std::vector<std::string>& files, const UdpDatagram& d,
          std::string reason) {
  ++result.skipped;
  if (result.skips.size() < max_skips_kept) {
    result.skips.push_back({d.file_index < files.size() ? files[d.file_index] : std::string(),
                            d.frame, std::move(reason)});
  }
}

} // namespace

ReplayResult replay_capture(const std::vector<std::string>& files, const ReplayOptions& options) {
  ReplayResult result;
  result.server = options.server.to_string();
  result.secret_source = options.secret ? "--secret" : "--secrets";
  result.speed = options.speed == ReplayOptions::Speed::original ? "original"
                 : options.speed == ReplayOptions::Speed::max    ? "max"
                                                              : std::to_string(options.rate) + "/s";
  if (!options.secret && !options.secrets) {
    result.error = "no secret: give --secret, or --secrets with the NASes' clients file";
    return result;
  }

  // 1. The requests to send, in capture order, without the capture's own retransmissions.
  std::vector<Request> requests;
  {
    StreamOptions stream_options;
    stream_options.extra_ports = options.extra_ports;
    DatagramStream stream(files, stream_options);
    std::unordered_map<Key, std::int64_t, KeyHash> seen;
    std::deque<std::pair<Key, std::int64_t>> order;
    const auto window_ns = static_cast<std::int64_t>(options.duplicate_window * 1e9);
    UdpDatagram datagram;
    while (stream.next(datagram)) {
      ++result.datagrams;
      const auto payload = datagram.payload;
      if (payload.empty() ||
          payload[0] != static_cast<std::uint8_t>(radius::Code::accounting_request)) {
        continue; // answers and other codes are not replayed
      }
      ++result.accounting_requests;
      if (const auto failure = radius::check_framing(payload)) {
        skip(result, files, datagram, "not a RADIUS packet: " + failure->message());
        continue;
      }
      const std::size_t length = (std::size_t{payload[2]} << 8) | payload[3];
      const std::string* secret = options.secret ? &*options.secret : nullptr;
      if (!secret) {
        const auto* client = options.secrets->find(datagram.source.address);
        if (!client) {
          skip(result, files, datagram,
               "no client in the secrets file for " + datagram.source.address.to_string());
          continue;
        }
        secret = &client->secret;
      }
      while (!order.empty() && datagram.timestamp_ns - order.front().second > window_ns) {
        const auto it = seen.find(order.front().first);
        if (it != seen.end() && it->second == order.front().second) {
          seen.erase(it);
        }
        order.pop_front();
      }
      Key key{datagram.source, payload[1], {}};
      std::copy_n(payload.begin() + 4, 16, key.authenticator.begin());
      if (!seen.try_emplace(key, datagram.timestamp_ns).second) {
        // RFC 5080 §2.2.2: the same request again is the NAS retransmitting it; the server
        // would answer it from its duplicate cache, so it is sent once.
        ++result.capture_retransmissions;
        continue;
      }
      order.emplace_back(key, datagram.timestamp_ns);
      requests.push_back(
          {std::vector<std::uint8_t>(payload.begin(), payload.begin() + static_cast<long>(length)),
           datagram.timestamp_ns, secret});
    }
    result.capture_issues = stream.issue_counts().total();
    bool any_read = false;
    for (const auto& file : stream.files()) {
      any_read = any_read || file.link_type >= 0;
    }
    if (!any_read) {
      result.error = "no capture could be read";
      return result;
    }
  }

  // 2. Send them with at most `window` outstanding, each under an Identifier of ours.
  Socket socket;
  if (!socket.open(options.server, result.error)) {
    return result;
  }
  const std::size_t window = std::clamp<std::size_t>(options.window, 1, 255);
  std::vector<Outstanding> slots(256);
  std::vector<bool> busy(256, false);
  // Identifiers are reused oldest-freed first, so a late answer to a given-up request is
  // unlikely to meet a new request under its Identifier.
  std::deque<std::uint8_t> free_ids;
  for (int id = 0; id < 256; ++id) {
    free_ids.push_back(static_cast<std::uint8_t>(id));
  }
  std::size_t outstanding = 0;
  std::size_t next = 0;
  const std::int64_t start_ns = steady_ns();
  const std::int64_t first_capture_ns = requests.empty() ? 0 : requests.front().time_ns;
  std::vector<std::uint8_t> buffer(4096);
  std::uint64_t last_progress = 0;

  const auto due_ns = [&](std::size_t index) -> std::int64_t {
    switch (options.speed) {
      case ReplayOptions::Speed::original:
        return start_ns + (requests[index].time_ns - first_capture_ns);
      case ReplayOptions::Speed::rate:
        return start_ns +
               static_cast<std::int64_t>(static_cast<double>(index) / options.rate * 1e9);
      case ReplayOptions::Speed::max:
        break;
    }
    return start_ns;
  };
  const auto transmit = [&](Outstanding& slot, std::int64_t now) {
    if (!socket.send(slot.wire)) {
      return false;
    }
    slot.last_sent_ns = now;
    ++slot.transmissions;
    ++result.transmissions;
    return true;
  };
  const auto release = [&](std::uint8_t id) {
    busy[id] = false;
    free_ids.push_back(id);
    --outstanding;
  };

  while (next < requests.size() || outstanding > 0) {
    std::int64_t now = steady_ns();
    while (next < requests.size() && outstanding < window && due_ns(next) <= now) {
      const std::uint8_t id = free_ids.front();
      free_ids.pop_front();
      auto& slot = slots[id];
      slot = Outstanding{};
      slot.request = next;
      slot.secret = requests[next].secret;
      slot.wire = requests[next].raw;
      slot.wire[1] = id;
      // RFC 2866 §3: the Request Authenticator covers the Identifier and the secret; a
      // Message-Authenticator, if the NAS sent one, is recomputed first.
      radius::sign_request(slot.wire, *slot.secret);
      std::copy_n(slot.wire.begin() + 4, 16, slot.authenticator.begin());
      if (!transmit(slot, now)) {
        result.error = std::string("send failed: ") + std::strerror(errno);
        return result;
      }
      busy[id] = true;
      ++outstanding;
      ++result.sent;
      ++next;
    }
    // Timeouts: retransmit the same datagram (same Identifier and authenticator, RFC 5080
    // §2.2.1) up to `retries` times, then give up on it.
    std::int64_t wake_ns =
        next < requests.size() && outstanding < window ? due_ns(next) : now + 100'000'000;
    for (std::size_t id = 0; id < 256; ++id) {
      if (!busy[id]) {
        continue;
      }
      auto& slot = slots[id];
      if (now - slot.last_sent_ns >= options.timeout_ns) {
        if (slot.transmissions <= options.retries) {
          ++result.retransmissions;
          if (!transmit(slot, now)) {
            result.error = std::string("send failed: ") + std::strerror(errno);
            return result;
          }
        } else {
          ++(slot.answered ? result.answered : result.unanswered);
          release(static_cast<std::uint8_t>(id));
          continue;
        }
      }
      wake_ns = std::min(wake_ns, slot.last_sent_ns + options.timeout_ns);
    }
    if (next >= requests.size() && outstanding == 0) {
      break;
    }
    const int wait_ms = static_cast<int>(
        std::clamp<std::int64_t>((wake_ns - steady_ns() + 999'999) / 1'000'000, 0, 100));
    for (long n = socket.receive(buffer, wait_ms); n != 0; n = socket.receive(buffer, 0)) {
      if (n < 0) {
        result.error = std::string("receive failed: ") + std::strerror(errno);
        return result;
      }
      const std::span<const std::uint8_t> answer(buffer.data(), static_cast<std::size_t>(n));
      if (n < 20 || answer[0] != static_cast<std::uint8_t>(radius::Code::accounting_response) ||
          !busy[answer[1]]) {
        ++result.unexpected_answers;
        continue;
      }
      const std::uint8_t id = answer[1];
      auto& slot = slots[id];
      if (!radius::verify_response_authenticator(answer, slot.authenticator, *slot.secret)) {
        // RFC 2865 §3: an answer that does not verify is discarded; the request waits on.
        ++result.invalid_answers;
        slot.answered = true;
        continue;
      }
      const auto received = steady_ns();
      result.latency.add(received - slot.last_sent_ns);
      ++result.answered;
      ++result.valid_answers;
      release(id);
    }
    if (options.progress && result.sent - last_progress >= 1024) {
      last_progress = result.sent;
      options.progress(result.sent, requests.size());
    }
  }
  if (options.progress) {
    options.progress(requests.size(), requests.size());
  }
  result.seconds = static_cast<double>(steady_ns() - start_ns) / 1e9;
  return result;
}

namespace {

double ms(std::int64_t ns) {
  return static_cast<double>(ns) / 1e6;
}

} // namespace

boost::json::value to_json(const ReplayResult& r) {
  boost::json::object o;
  o["server"] = r.server;
  o["secret_from"] = r.secret_source;
  o["speed"] = r.speed;
  o["capture"] = {{"datagrams", r.datagrams},
                  {"accounting_requests", r.accounting_requests},
                  {"retransmissions", r.capture_retransmissions},
                  {"skipped", r.skipped},
                  {"issues", r.capture_issues}};
  boost::json::array skips;
  for (const auto& s : r.skips) {
    skips.push_back({{"file", s.file}, {"frame", s.frame}, {"reason", s.reason}});
  }
  o["skips"] = std::move(skips);
  o["sent"] = r.sent;
  o["transmissions"] = r.transmissions;
  o["retransmissions"] = r.retransmissions;
  o["answered"] = r.answered;
  o["valid_answers"] = r.valid_answers;
  o["invalid_answers"] = r.invalid_answers;
  o["unexpected_answers"] = r.unexpected_answers;
  o["unanswered"] = r.unanswered;
  boost::json::object latency{{"count", r.latency.count()}};
  if (r.latency.count() != 0) {
    latency["min"] = ms(r.latency.min_ns());
    latency["median"] = ms(r.latency.quantile_ns(0.5));
    latency["p99"] = ms(r.latency.quantile_ns(0.99));
    latency["max"] = ms(r.latency.max_ns());
  }
  o["latency_ms"] = std::move(latency);
  o["seconds"] = r.seconds;
  if (!r.error.empty()) {
    o["error"] = r.error;
  }
  return o;
}

std::string to_text(const ReplayResult& r) {
  std::string out;
  char line[512];
  const auto add = [&](const char* format, auto... args) {
    const int n = std::snprintf(line, sizeof line, format, args...);
    if (n > 0) {
      out.append(line, std::min<std::size_t>(static_cast<std::size_t>(n), sizeof line - 1));
    }
  };
  using ull = unsigned long long;
  add("replay to %s (secret from %s, speed %s)\n", r.server.c_str(), r.secret_source.c_str(),
      r.speed.c_str());
  if (!r.error.empty()) {
    add("error: %s\n", r.error.c_str());
  }
  add("capture: %llu Accounting-Requests, %llu retransmissions sent once, %llu skipped, %llu "
      "capture issues\n",
      ull(r.accounting_requests), ull(r.capture_retransmissions), ull(r.skipped),
      ull(r.capture_issues));
  for (const auto& s : r.skips) {
    add("  %s frame %llu: %s\n", s.file.c_str(), ull(s.frame), s.reason.c_str());
  }
  add("sent %llu requests in %llu transmissions (%llu retransmitted after a timeout), %.2f s\n",
      ull(r.sent), ull(r.transmissions), ull(r.retransmissions), r.seconds);
  add("answered %llu, valid Response Authenticators %llu, invalid %llu, unanswered %llu, "
      "unexpected answers %llu\n",
      ull(r.answered), ull(r.valid_answers), ull(r.invalid_answers), ull(r.unanswered),
      ull(r.unexpected_answers));
  if (r.latency.count() != 0) {
    add("latency ms: min %.3f, median %.3f, p99 %.3f, max %.3f\n", ms(r.latency.min_ns()),
        ms(r.latency.quantile_ns(0.5)), ms(r.latency.quantile_ns(0.99)), ms(r.latency.max_ns()));
  }
  if (r.error.empty() && r.accounting_requests == 0) {
    add("nothing to replay: no Accounting-Request on the capture's RADIUS ports (1812, 1813, "
        "1645, 1646 and each --port; %llu datagrams on them); if the NAS used another port, add "
        "--port N\n",
        ull(r.datagrams));
  } else if (r.sent != 0 && r.answered == 0) {
    add("no request was answered: the server drops requests whose Request Authenticator does not "
        "verify (RFC 2866 §3); does it share this secret with this host, and is it listening on "
        "%s?\n",
        r.server.c_str());
  } else if (r.invalid_answers != 0) {
    add("%llu answers did not verify: the server signs them with another secret than ours\n",
        ull(r.invalid_answers));
  }
  return out;
}

} // namespace acctlab::capture
