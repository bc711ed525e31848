// Malformed-packet storm for the reliability campaign (bench/reliability/malformed-storm.sh): sends
// N mutated Accounting-Requests to a live server, one mutation cause per socket so the server's
// stored verdicts can be told apart by source port, and predicts each packet's verdict with an
// independent model of RFC 2865 §3's framing rules (Length within 20..4096 and within the
// datagram, every attribute at least 2 octets and inside Length):
//
//   bit-flip        1-3 random bits flipped past the Code octet, not re-signed
//                   -> malformed when the framing broke, else bad-authenticator
//   truncation      the datagram cut short of its Length (0..Length-1 octets) -> malformed
//   length-lie      Length rewritten to another value in 20..4096, not re-signed
//                   -> malformed, or bad-authenticator when it lands on an attribute boundary
//   attr-length     one attribute's Length set to 0 or 1, re-signed -> malformed
//   huge-length     Length 4097..65535, or Length past the datagram, or the last attribute
//                   claiming 255 octets, re-signed -> malformed
//   wrong-secret    a well-formed request signed with another secret -> bad-authenticator
//   unknown-source  a well-formed, correctly signed request from another address (e.g.
//                   127.0.0.2, no client) -> unknown-client
//
// None may be answered: every datagram that comes back on a storm socket is counted. Prints JSON:
// per cause its source address, packets sent and the predicted verdicts.
//
//   acctlab_storm --server 127.0.0.1:PORT [--secret S] [--count N] [--rate PER_SECOND]
//                 [--unknown-source 127.0.0.2] [--seed N]

#include "bench/load/udp_batch.hpp"
#include "radius/authenticator.hpp"
#include "radius/dictionary.hpp"
#include "radius/packet_codec.hpp"

#include <arpa/inet.h>
#include <array>
#include <chrono>
#include <cstdio>
#include <map>
#include <poll.h>
#include <random>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace acctlab;
using Clock = std::chrono::steady_clock;

namespace {

enum class Cause {
  bit_flip,
  truncation,
  length_lie,
  attr_length,
  huge_length,
  wrong_secret,
  unknown_source
};
constexpr std::array<const char*, 7> cause_names = {"bit-flip",      "truncation",  "length-lie",
                                                    "attr-length",   "huge-length", "wrong-secret",
                                                    "unknown-source"};

struct Options {
  std::string server = "127.0.0.1:1813";
  std::string secret = "testing123";
  std::uint64_t count = 1'000'000;
  double rate = 20'000;
  std::string unknown_source = "127.0.0.2";
  std::uint64_t seed = 1;
};

struct Stream {
  int fd = -1;
  std::string source;
  std::uint64_t sent = 0;
  std::uint64_t answered = 0; // must stay 0
  std::map<std::string, std::uint64_t> expected;
};

// RFC 2865 §3: the framing a receiver checks before anything else. Independent of radius/, so
// the storm's prediction does not share the server's code.
bool framing_ok(const std::vector<std::uint8_t>& d) {
  if (d.size() < 20) {
    return false;
  }
  const std::size_t length = (std::size_t{d[2]} << 8) | d[3];
  if (length < 20 || length > 4096 || length > d.size()) {
    return false;
  }
  std::size_t at = 20;
  while (at < length) {
    if (at + 2 > length) {
      return false;
    }
    const std::size_t attribute = d[at + 1];
    if (attribute < 2 || at + attribute > length) {
      return false;
    }
    at += attribute;
  }
  return d[0] == 4; // Accounting-Request: the only code an accounting port takes
}

void set_length(std::vector<std::uint8_t>& d, std::size_t length) {
  d[2] = static_cast<std::uint8_t>(length >> 8);
  d[3] = static_cast<std::uint8_t>(length);
}

// Offsets of the attributes of a well-formed packet.
std::vector<std::size_t> attribute_offsets(const std::vector<std::uint8_t>& d) {
  std::vector<std::size_t> offsets;
  for (std::size_t at = 20; at + 2 <= d.size() && d[at + 1] >= 2; at += d[at + 1]) {
    offsets.push_back(at);
  }
  return offsets;
}

struct Builder {
  const radius::Dictionary& dict = radius::Dictionary::builtin();
  std::uint8_t session_id = n("Acct-Session-Id"), status = n("Acct-Status-Type"),
               user = n("User-Name"), nas_ip = n("NAS-IP-Address"), delay = n("Acct-Delay-Time"),
               in_octets = n("Acct-Input-Octets");
  std::uint32_t cisco = dict.find("Cisco-AVPair")->vendor;
  std::uint32_t avpair = dict.find("Cisco-AVPair")->number;

  std::uint8_t n(const char* name) const {
    return static_cast<std::uint8_t>(dict.find(name)->number);
  }

  // A well-formed Start or Interim-Update of session "storm-K", signed with secret. Its session
  // ids start with "storm-", so the database can be asked whether any of them became a record.
  std::vector<std::uint8_t> make(std::uint64_t k, std::uint8_t identifier,
                                 const std::string& secret) const {
    radius::Packet p(radius::Code::accounting_request, identifier);
    char id[32];
    std::snprintf(id, sizeof id, "storm-%08llX", static_cast<unsigned long long>(k));
    p.add(session_id, std::string_view(id));
    p.add_integer(status, k % 2 ? 3 : 1);
    p.add(user, std::string_view("storm@cclient"));
    p.add_vendor(cisco, avpair, std::string_view("isakmp-group-id=cclient"));
    if (k % 2) {
      p.add_integer(in_octets, static_cast<std::uint32_t>(k));
    }
    const std::array<std::uint8_t, 4> nas{127, 0, 0, 1};
    p.add(nas_ip, nas);
    p.add_integer(delay, 0);
    auto wire = radius::encode_packet(p, dict);
    std::vector<std::uint8_t> out(wire.begin(), wire.end());
    radius::sign_request(out, secret);
    return out;
  }
};

int open_socket(const std::string& source, const bench::Endpoint& server) {
  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  sockaddr_in local{};
  local.sin_family = AF_INET;
  if (fd < 0 || inet_pton(AF_INET, source.c_str(), &local.sin_addr) != 1 ||
      bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0 ||
      connect(fd, reinterpret_cast<const sockaddr*>(&server.address), server.length) != 0) {
    std::perror(("acctlab_storm: socket from " + source).c_str());
    return -1;
  }
  const int buffer = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer);
  return fd;
}

std::string local_name(int fd) {
  sockaddr_in local{};
  socklen_t size = sizeof local;
  getsockname(fd, reinterpret_cast<sockaddr*>(&local), &size);
  char address[INET_ADDRSTRLEN] = "";
  inet_ntop(AF_INET, &local.sin_addr, address, sizeof address);
  return std::string(address) + ":" + std::to_string(ntohs(local.sin_port));
}

void drain(Stream& stream) {
  std::array<std::uint8_t, 4096> buffer;
  while (recv(stream.fd, buffer.data(), buffer.size(), 0) >= 0) {
    ++stream.answered;
  }
}

bool parse(int argc, char** argv, Options& o) {
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string option = argv[i], value = argv[i + 1];
    if (option == "--server") {
      o.server = value;
    } else if (option == "--secret") {
      o.secret = value;
    } else if (option == "--count") {
      o.count = std::stoull(value);
    } else if (option == "--rate") {
      o.rate = std::stod(value);
    } else if (option == "--unknown-source") {
      o.unknown_source = value;
    } else if (option == "--seed") {
      o.seed = std::stoull(value);
    } else {
      return false;
    }
  }
  return argc % 2 == 1;
}

} // namespace

int main(int argc, char** argv) {
  Options o;
  if (!parse(argc, argv, o) || o.rate <= 0) {
    std::fprintf(stderr, "usage: acctlab_storm --server HOST:PORT [--secret S] [--count N] "
                         "[--rate R] [--unknown-source ADDR] [--seed N]\n");
    return 2;
  }
  const auto server = bench::parse_endpoint(o.server);
  if (!server || server->address.ss_family != AF_INET) {
    std::fprintf(stderr, "acctlab_storm: --server must be an IPv4 HOST:PORT\n");
    return 2;
  }
  std::vector<Stream> streams(cause_names.size());
  for (std::size_t c = 0; c < streams.size(); ++c) {
    const bool unknown = static_cast<Cause>(c) == Cause::unknown_source;
    streams[c].fd = open_socket(unknown ? o.unknown_source : "127.0.0.1", *server);
    if (streams[c].fd < 0) {
      return 1;
    }
    streams[c].source = local_name(streams[c].fd);
  }
  const Builder builder;
  std::mt19937_64 random(o.seed);
  auto below = [&](std::uint64_t n) { return n ? random() % n : 0; };

  const auto start = Clock::now();
  std::uint64_t send_errors = 0;
  for (std::uint64_t i = 0; i < o.count; ++i) {
    // A steady pace: wait until packet i is due.
    const auto due = start + std::chrono::duration_cast<Clock::duration>(
                                 std::chrono::duration<double>(static_cast<double>(i) / o.rate));
    if (Clock::now() < due) {
      std::this_thread::sleep_until(due);
    }
    const auto cause = static_cast<Cause>(i % streams.size());
    auto& stream = streams[static_cast<std::size_t>(cause)];
    const auto identifier = static_cast<std::uint8_t>(i);
    std::vector<std::uint8_t> d =
        builder.make(i, identifier, cause == Cause::wrong_secret ? "not-" + o.secret : o.secret);
    const auto attributes = attribute_offsets(d);
    bool signed_well = cause == Cause::unknown_source;
    switch (cause) {
      case Cause::bit_flip: {
        // Distinct bits: a bit flipped twice would send the valid packet itself.
        const std::size_t bits = (d.size() - 1) * 8;
        const std::uint64_t first = below(bits);
        std::uint64_t second = below(bits - 1), third = below(bits - 2);
        second += second >= first ? 1 : 0;
        third += third >= std::min(first, second) ? 1 : 0;
        third += third >= std::max(first, second) ? 1 : 0;
        const std::array<std::uint64_t, 3> chosen{first, second, third};
        for (std::uint64_t f = 0, flips = 1 + below(3); f < flips; ++f) {
          d[1 + chosen[f] / 8] ^= static_cast<std::uint8_t>(1u << (chosen[f] % 8));
        }
        break;
      }
      case Cause::truncation:
        d.resize(below(d.size()));
        break;
      case Cause::length_lie: {
        // Any value in 20..4096 but the true one.
        std::size_t length = 20 + below(4096 - 20);
        length += length >= d.size() ? 1 : 0;
        set_length(d, length);
        break;
      }
      case Cause::attr_length:
        d[attributes[below(attributes.size())] + 1] = static_cast<std::uint8_t>(below(2));
        radius::sign_request(d, o.secret);
        signed_well = true;
        break;
      case Cause::huge_length:
        switch (below(3)) {
          case 0:
            set_length(d, 4097 + below(65535 - 4097 + 1));
            break;
          case 1:
            set_length(d, d.size() + 1 + below(4096 - d.size()));
            break;
          default:
            d[attributes.back() + 1] = 255;
            radius::sign_request(d, o.secret);
            signed_well = true;
            break;
        }
        break;
      case Cause::wrong_secret:
      case Cause::unknown_source:
        break;
    }
    std::string expected;
    if (cause == Cause::unknown_source) {
      expected = "unknown-client";
    } else if (!framing_ok(d)) {
      expected = "malformed";
    } else if (signed_well) {
      expected = "ok"; // never for these causes; the server must still prove it
    } else {
      expected = "bad-authenticator";
    }
    if (send(stream.fd, d.data(), d.size(), 0) != static_cast<ssize_t>(d.size())) {
      ++send_errors;
      continue;
    }
    ++stream.sent;
    ++stream.expected[expected];
    if ((i & 1023) == 0) {
      for (auto& s : streams) {
        drain(s);
      }
    }
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  // Anything the server would answer has arrived within a second after the last packet.
  std::this_thread::sleep_for(std::chrono::seconds(1));
  std::uint64_t sent = 0, answered = 0;
  std::printf("{\"seconds\":%.3f,\"send_errors\":%llu,\"causes\":{", seconds,
              static_cast<unsigned long long>(send_errors));
  for (std::size_t c = 0; c < streams.size(); ++c) {
    auto& s = streams[c];
    drain(s);
    sent += s.sent;
    answered += s.answered;
    std::printf("%s\"%s\":{\"source\":\"%s\",\"sent\":%llu,\"answered\":%llu,\"expected\":{",
                c ? "," : "", cause_names[c], s.source.c_str(),
                static_cast<unsigned long long>(s.sent),
                static_cast<unsigned long long>(s.answered));
    bool first = true;
    for (const auto& [verdict, n] : s.expected) {
      std::printf("%s\"%s\":%llu", first ? "" : ",", verdict.c_str(),
                  static_cast<unsigned long long>(n));
      first = false;
    }
    std::printf("}}");
    close(s.fd);
  }
  std::printf("},\"sent\":%llu,\"answered\":%llu}\n", static_cast<unsigned long long>(sent),
              static_cast<unsigned long long>(answered));
  return answered == 0 && send_errors == 0 ? 0 : 1;
}
