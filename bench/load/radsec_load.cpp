// RadSec load generator: keeps W Accounting-Requests outstanding over C TLS connections
// (client/radsec_stream, OpenSSL), each a signed Start/Interim/Stop of its own session, verifies
// every answer's Response Authenticator, and reports acknowledged requests per second; then
// measures new connections (full mutual-TLS handshakes) per second.
//
//   acctlab_radsec_load --server 127.0.0.1:2083 --cert C --key K --ca CA [--secret radsec]
//                       [--connections 1] [--window 256] [--duration 5] [--handshakes 200]

#include "client/radsec_stream.hpp"
#include "radius/authenticator.hpp"
#include "radius/packet_codec.hpp"

#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <poll.h>
#include <string>
#include <vector>

using namespace acctlab;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 2083;
  gateway::RadsecConfig tls;
  std::string secret = "radsec";
  std::size_t connections = 1;
  std::size_t window = 256;
  double duration = 5;
  int handshakes = 200;
};

struct Connection {
  std::unique_ptr<gateway::RadsecStream> stream;
  std::array<radius::Authenticator, 256> authenticators{};
  std::array<bool, 256> busy{};
  std::uint8_t next_id = 0;
  std::size_t outstanding = 0;
  std::size_t quota = 0;
};

std::vector<std::uint8_t> make_request(std::uint8_t id, std::uint64_t n,
                                       const std::string& secret) {
  const auto& dict = radius::Dictionary::builtin();
  static const auto session_id = dict.find("Acct-Session-Id")->number;
  static const auto status = dict.find("Acct-Status-Type")->number;
  static const auto user = dict.find("User-Name")->number;
  static const auto nas = dict.find("NAS-Identifier")->number;
  static const auto delay = dict.find("Acct-Delay-Time")->number;
  radius::Packet packet(radius::Code::accounting_request, id);
  packet.add(session_id, "tls-load-" + std::to_string(n / 3));
  packet.add(user, std::string_view("load@radsec"));
  packet.add(nas, std::string_view("acctlab-radsec-load"));
  const std::uint32_t statuses[3] = {1, 3, 2}; // Start, Interim-Update, Stop
  packet.add_integer(status, statuses[n % 3]);
  packet.add_integer(delay, 0);
  auto wire = radius::encode_packet(packet, dict);
  radius::sign_request(wire, secret);
  return wire;
}

bool parse(int argc, char** argv, Options& o) {
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i];
    const std::string value = argv[i + 1];
    if (key == "--server") {
      const auto colon = value.rfind(':');
      o.host = value.substr(0, colon);
      o.port = static_cast<std::uint16_t>(std::stoul(value.substr(colon + 1)));
    } else if (key == "--cert") {
      o.tls.certificate = value;
    } else if (key == "--key") {
      o.tls.private_key = value;
    } else if (key == "--ca") {
      o.tls.ca = value;
    } else if (key == "--secret") {
      o.secret = value;
    } else if (key == "--connections") {
      o.connections = std::stoul(value);
    } else if (key == "--window") {
      o.window = std::stoul(value);
    } else if (key == "--duration") {
      o.duration = std::stod(value);
    } else if (key == "--handshakes") {
      o.handshakes = std::stoi(value);
    } else {
      return false;
    }
  }
  return o.connections > 0 && o.window >= o.connections;
}

} // namespace

int main(int argc, char** argv) {
  Options o;
  if (!parse(argc, argv, o)) {
    std::fprintf(stderr, "usage: acctlab_radsec_load --server HOST:PORT --cert C --key K --ca CA"
                         " [--secret S] [--connections C] [--window W] [--duration S]"
                         " [--handshakes N]\n");
    return 2;
  }
  std::vector<Connection> connections(o.connections);
  for (std::size_t i = 0; i < connections.size(); ++i) {
    std::string error;
    connections[i].stream =
        gateway::RadsecStream::connect(o.host, o.port, o.tls, std::chrono::seconds(10), error);
    if (!connections[i].stream) {
      std::fprintf(stderr, "connection %zu: %s\n", i, error.c_str());
      return 1;
    }
    // W spread over the connections, at most 255 each (one Identifier space per connection).
    connections[i].quota = std::min<std::size_t>(255, o.window / o.connections +
                                                          (i < o.window % o.connections ? 1 : 0));
  }
  std::uint64_t sent = 0;
  std::uint64_t acked = 0;
  std::uint64_t bad = 0;
  const auto start = Clock::now();
  const auto end = start + std::chrono::duration_cast<Clock::duration>(
                               std::chrono::duration<double>(o.duration));
  std::vector<pollfd> fds(connections.size());
  std::vector<std::uint8_t> batch;
  bool sending = true;
  // Bounded by the duration plus the drain (every answer or 10 s).
  const auto hard_end = end + std::chrono::seconds(10);
  while (Clock::now() < hard_end) {
    sending = sending && Clock::now() < end;
    std::size_t outstanding = 0;
    for (auto& c : connections) {
      batch.clear();
      while (sending && c.outstanding < c.quota) {
        const std::uint8_t id = c.next_id++;
        if (c.busy[id]) {
          continue;
        }
        auto wire = make_request(id, sent++, o.secret);
        std::copy(wire.begin() + 4, wire.begin() + 20, c.authenticators[id].begin());
        c.busy[id] = true;
        ++c.outstanding;
        batch.insert(batch.end(), wire.begin(), wire.end());
        if (batch.size() > 12000) {
          c.stream->write(batch);
          batch.clear();
        }
      }
      if (!batch.empty()) {
        c.stream->write(batch); // several packets per record, as the Length framing allows
      }
      outstanding += c.outstanding;
    }
    if (!sending && outstanding == 0) {
      break;
    }
    for (std::size_t i = 0; i < connections.size(); ++i) {
      fds[i] = {connections[i].stream->native_handle(), POLLIN, 0};
    }
    ::poll(fds.data(), fds.size(), 100);
    for (auto& c : connections) {
      std::vector<std::uint8_t> answer;
      while (c.stream->read_packet(answer, std::chrono::milliseconds(0)) ==
             gateway::RadsecStream::ReadStatus::packet) {
        const std::uint8_t id = answer[1];
        if (c.busy[id] &&
            radius::verify_response_authenticator(answer, c.authenticators[id], o.secret)) {
          c.busy[id] = false;
          --c.outstanding;
          ++acked;
        } else {
          ++bad;
        }
      }
    }
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("connections=%zu window=%zu sent=%llu acked=%llu bad=%llu seconds=%.2f "
              "acked_per_s=%.0f\n",
              o.connections, o.window, static_cast<unsigned long long>(sent),
              static_cast<unsigned long long>(acked), static_cast<unsigned long long>(bad), seconds,
              static_cast<double>(acked) / seconds);
  connections.clear();
  if (o.handshakes > 0) {
    const auto h_start = Clock::now();
    int made = 0;
    for (int i = 0; i < o.handshakes; ++i) {
      std::string error;
      if (gateway::RadsecStream::connect(o.host, o.port, o.tls, std::chrono::seconds(10), error)) {
        ++made;
      }
    }
    const double h_seconds = std::chrono::duration<double>(Clock::now() - h_start).count();
    std::printf("handshakes=%d seconds=%.2f handshakes_per_s=%.0f\n", made, h_seconds,
                made / h_seconds);
  }
  return acked == sent && bad == 0 ? 0 : 1;
}
