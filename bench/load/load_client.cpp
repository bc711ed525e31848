// Load generator for accounting servers: keeps W Accounting-Requests outstanding, each a
// realistic Cisco IPsec VPN record (Start, Interim-Updates, Stop per session, with the feature
// document's attributes), verifies every Accounting-Response's authenticator, and reports the
// acknowledged rate and latency percentiles.
//
//   acctlab_load --server 127.0.0.1:PORT [--secret S] [--window W] [--duration SECONDS]
//                [--requests N] [--interims K] [--timeout SECONDS] [--json] [--user-name-always]
//
// --user-name-always puts User-Name in every record (IOS sends it only in the Start here):
// radsecproxy answers an Accounting-Request without User-Name itself and forwards nothing.

#include "bench/load/udp_batch.hpp"
#include "radius/authenticator.hpp"
#include "radius/packet_codec.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <poll.h>
#include <random>
#include <string>
#include <unistd.h>
#include <vector>

using namespace acctlab;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  std::string server = "127.0.0.1:1813";
  std::string secret = "testing123";
  std::size_t window = 256;
  double duration = 10;
  std::uint64_t requests = 0; // 0: until duration
  unsigned interims = 3;
  double timeout = 3;
  bool json = false;
  bool user_name_always = false;
};

struct Slot {
  bool busy = false;
  radius::Authenticator authenticator{};
  Clock::time_point sent;
};

struct Channel {
  int fd = -1;
  std::vector<std::uint8_t> free_ids;
  std::array<Slot, 256> slots{};
  bench::Batch out;
};

// Binds attribute numbers by name once, as the rest of acctlab does.
struct Attributes {
  std::uint8_t user_name, nas_ip, nas_port, framed_ip, status_type, delay, session_id, session_time,
      in_octets, out_octets, in_packets, out_packets, terminate_cause, in_giga, out_giga;
  std::uint32_t cisco;
  std::uint32_t avpair, cisco_nas_port;
  explicit Attributes(const radius::Dictionary& d) {
    auto n = [&](const char* name) { return static_cast<std::uint8_t>(d.find(name)->number); };
    user_name = n("User-Name");
    nas_ip = n("NAS-IP-Address");
    nas_port = n("NAS-Port");
    framed_ip = n("Framed-IP-Address");
    status_type = n("Acct-Status-Type");
    delay = n("Acct-Delay-Time");
    session_id = n("Acct-Session-Id");
    session_time = n("Acct-Session-Time");
    in_octets = n("Acct-Input-Octets");
    out_octets = n("Acct-Output-Octets");
    in_packets = n("Acct-Input-Packets");
    out_packets = n("Acct-Output-Packets");
    terminate_cause = n("Acct-Terminate-Cause");
    in_giga = n("Acct-Input-Gigawords");
    out_giga = n("Acct-Output-Gigawords");
    cisco = d.find("Cisco-AVPair")->vendor;
    avpair = d.find("Cisco-AVPair")->number;
    cisco_nas_port = d.find("Cisco-NAS-Port")->number;
  }
};

// Record k of the run. Sessions advance in rounds of `ring` slots, so consecutive records of one
// session are `ring` requests apart: with ring > window, a session's Start is answered before its
// first Interim-Update leaves.
radius::Packet make_record(std::uint64_t k, std::uint64_t ring, unsigned interims,
                           std::uint32_t run_base, const Attributes& a,
                           bool user_name_always = false) {
  const unsigned phases = interims + 2;
  const std::uint64_t round = k / ring;
  const std::uint64_t session = (k % ring) + ring * (round / phases);
  const unsigned phase = static_cast<unsigned>(round % phases);
  char id[16];
  std::snprintf(id, sizeof id, "%08X", static_cast<unsigned>(run_base + session));
  const std::uint32_t user = static_cast<std::uint32_t>(session % 100000);
  char user_name[32];
  std::snprintf(user_name, sizeof user_name, "user%u@cclient", user);
  char initiator[48];
  std::snprintf(initiator, sizeof initiator, "isakmp-initator-ip=192.0.2.%u",
                static_cast<unsigned>(session % 250 + 1));
  const std::uint32_t status = phase == 0 ? 1 : (phase == phases - 1 ? 2 : 3);
  const std::uint64_t octets = std::uint64_t{phase} * 1'500'000'000ull;
  const std::uint32_t packets = phase * 1'000'000u;
  const std::array<std::uint8_t, 4> framed{198, 51, static_cast<std::uint8_t>(session >> 8),
                                           static_cast<std::uint8_t>(session)};
  const std::array<std::uint8_t, 4> nas{127, 0, 0, 1};

  radius::Packet p(radius::Code::accounting_request, 0);
  p.reserve(20, 256);
  p.add(a.session_id, std::string_view(id));
  if (status == 1) {
    p.add_vendor(a.cisco, a.avpair, std::string_view("isakmp-group-id=cclient"));
    p.add(a.framed_ip, framed);
  }
  p.add_vendor(a.cisco, a.avpair, std::string_view("vrf-id=cisco"));
  p.add_vendor(a.cisco, a.avpair, std::string_view(initiator));
  p.add_vendor(a.cisco, a.avpair, std::string_view("connect-progress=No Progress"));
  if (status == 1 || user_name_always) {
    p.add(a.user_name, std::string_view(user_name));
  }
  if (status != 1) {
    p.add_integer(a.session_time, phase * 60);
    p.add_integer(a.in_octets, static_cast<std::uint32_t>(octets));
    p.add_integer(a.out_octets, static_cast<std::uint32_t>(octets / 2));
    p.add_integer(a.in_packets, packets);
    p.add_integer(a.out_packets, packets / 2);
    // Interim-Updates carry the wraps too (RFC 2869 §5.1, §5.2): the counters pass 2^32 from
    // the third phase on, and `acctlab check --db` flags an update that drops them.
    p.add_integer(a.in_giga, static_cast<std::uint32_t>(octets >> 32));
    p.add_integer(a.out_giga, static_cast<std::uint32_t>((octets / 2) >> 32));
    if (status == 2) {
      p.add_integer(a.terminate_cause, 1);
      p.add_vendor(a.cisco, a.avpair, std::string_view("disc-cause-ext=No Reason"));
    }
  }
  p.add_integer(a.status_type, status);
  p.add_vendor(a.cisco, a.cisco_nas_port, std::string_view("FastEthernet0/0.1"));
  p.add_integer(a.nas_port, 0);
  p.add(a.nas_ip, nas);
  p.add_integer(a.delay, 0);
  return p;
}

double percentile(std::vector<std::uint32_t>& samples, double q) {
  if (samples.empty()) {
    return 0;
  }
  const auto index = static_cast<std::size_t>(q * static_cast<double>(samples.size() - 1));
  std::nth_element(samples.begin(), samples.begin() + static_cast<std::ptrdiff_t>(index),
                   samples.end());
  return samples[index] / 1000.0;
}

bool parse(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string option = argv[i];
    if (option == "--json") {
      o.json = true;
      continue;
    }
    if (option == "--user-name-always") {
      o.user_name_always = true;
      continue;
    }
    if (i + 1 >= argc) {
      return false;
    }
    const std::string value = argv[++i];
    if (option == "--server") {
      o.server = value;
    } else if (option == "--secret") {
      o.secret = value;
    } else if (option == "--window") {
      o.window = std::clamp<std::size_t>(std::stoul(value), 1, 65536);
    } else if (option == "--duration") {
      o.duration = std::stod(value);
    } else if (option == "--requests") {
      o.requests = std::stoull(value);
    } else if (option == "--interims") {
      o.interims = static_cast<unsigned>(std::stoul(value));
    } else if (option == "--timeout") {
      o.timeout = std::stod(value);
    } else {
      return false;
    }
  }
  return true;
}

} // namespace

int main(int argc, char** argv) {
  Options o;
  if (!parse(argc, argv, o)) {
    std::fprintf(stderr, "usage: acctlab_load --server HOST:PORT [--secret S] [--window W] "
                         "[--duration S] [--requests N] [--interims K] [--timeout S] [--json] "
                         "[--user-name-always]\n");
    return 2;
  }
  auto endpoint = bench::parse_endpoint(o.server);
  if (!endpoint) {
    std::fprintf(stderr, "acctlab_load: bad --server %s\n", o.server.c_str());
    return 2;
  }
  const auto& dict = radius::Dictionary::builtin();
  const Attributes attributes(dict);

  // 250 outstanding per socket at most: the Identifier is one octet.
  const std::size_t per_channel = 250;
  std::vector<Channel> channels((o.window + per_channel - 1) / per_channel);
  for (std::size_t c = 0; c < channels.size(); ++c) {
    auto& channel = channels[c];
    channel.fd = socket(endpoint->address.ss_family, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    const int buffer = 4 << 20;
    setsockopt(channel.fd, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
    if (connect(channel.fd, reinterpret_cast<sockaddr*>(&endpoint->address), endpoint->length)) {
      std::perror("acctlab_load: connect");
      return 1;
    }
    const std::size_t share = std::min(per_channel, o.window - c * per_channel);
    for (std::size_t id = 0; id < share; ++id) {
      channel.free_ids.push_back(static_cast<std::uint8_t>(id));
    }
  }
  std::mt19937 random(std::random_device{}());
  const std::uint32_t run_base = random() & 0x7FFF0000u;
  const std::uint64_t ring = std::max<std::uint64_t>(4 * o.window, 1024);

  std::uint64_t next = 0, answered = 0, bad = 0, lost = 0, unexpected = 0;
  std::vector<std::uint32_t> latencies_us;
  latencies_us.reserve(1 << 20);
  std::vector<pollfd> polls(channels.size());
  const auto start = Clock::now();
  const auto send_until = start + std::chrono::duration<double>(o.duration);
  const auto timeout =
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.timeout));
  auto last_sweep = start;
  bench::Batch in;

  std::size_t in_flight = 0;
  for (;;) {
    const auto now = Clock::now();
    const bool sending = now < send_until && (o.requests == 0 || next < o.requests);
    if (!sending && in_flight == 0) {
      break;
    }
    if (!sending && now > send_until + timeout + std::chrono::seconds(1)) {
      lost += in_flight;
      break;
    }
    if (sending) {
      // Refill the whole window before waiting: every free Identifier goes out now, in as many
      // sendmmsg batches as it takes (one batch per wake-up left the window part-empty for up to
      // the poll timeout whenever more than a batch was answered at once).
      for (auto& channel : channels) {
        while (!channel.free_ids.empty() && (o.requests == 0 || next < o.requests)) {
          if (channel.out.count == bench::batch_size) {
            bench::send_batch(channel.fd, channel.out);
          }
          const std::uint8_t id = channel.free_ids.back();
          channel.free_ids.pop_back();
          auto packet =
              make_record(next++, ring, o.interims, run_base, attributes, o.user_name_always);
          packet.set_identifier(id);
          auto wire = radius::encode_packet(packet, dict);
          radius::sign_request(wire, o.secret);
          auto& slot = channel.slots[id];
          slot.busy = true;
          std::memcpy(slot.authenticator.data(), wire.data() + 4, 16);
          slot.sent = Clock::now();
          std::memcpy(channel.out.data[channel.out.count].data(), wire.data(), wire.size());
          channel.out.size[channel.out.count] = wire.size();
          channel.out.peer_length[channel.out.count] = 0;
          ++channel.out.count;
          ++in_flight;
        }
        bench::send_batch(channel.fd, channel.out);
      }
    }
    for (std::size_t c = 0; c < channels.size(); ++c) {
      polls[c] = {channels[c].fd, POLLIN, 0};
    }
    if (poll(polls.data(), polls.size(), 1) > 0) {
      for (std::size_t c = 0; c < channels.size(); ++c) {
        if (!(polls[c].revents & POLLIN)) {
          continue;
        }
        auto& channel = channels[c];
        while (bench::receive_batch(channel.fd, in) > 0) {
          const auto received = Clock::now();
          for (std::size_t i = 0; i < in.count; ++i) {
            const std::span<const std::uint8_t> response(in.data[i].data(), in.size[i]);
            if (response.size() < 20) {
              ++unexpected;
              continue;
            }
            auto& slot = channel.slots[response[1]];
            if (!slot.busy) {
              ++unexpected; // late answer after a timeout, or a duplicate
              continue;
            }
            if (response[0] != 5 ||
                !radius::verify_response_authenticator(response, slot.authenticator, o.secret)) {
              ++bad;
            } else {
              ++answered;
              latencies_us.push_back(static_cast<std::uint32_t>(
                  std::chrono::duration_cast<std::chrono::microseconds>(received - slot.sent)
                      .count()));
            }
            slot.busy = false;
            channel.free_ids.push_back(response[1]);
            --in_flight;
          }
        }
      }
    }
    if (now - last_sweep > std::chrono::milliseconds(100)) {
      last_sweep = now;
      for (auto& channel : channels) {
        for (std::size_t id = 0; id < channel.slots.size(); ++id) {
          auto& slot = channel.slots[id];
          if (slot.busy && now - slot.sent > timeout) {
            slot.busy = false;
            channel.free_ids.push_back(static_cast<std::uint8_t>(id));
            --in_flight;
            ++lost;
          }
        }
      }
    }
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  const double rate = static_cast<double>(answered) / elapsed;
  const double p50 = percentile(latencies_us, 0.50);
  const double p99 = percentile(latencies_us, 0.99);
  const double max = latencies_us.empty()
                         ? 0
                         : *std::max_element(latencies_us.begin(), latencies_us.end()) / 1000.0;
  if (o.json) {
    std::printf("{\"sent\":%llu,\"answered\":%llu,\"bad_authenticator\":%llu,\"lost\":%llu,"
                "\"unexpected\":%llu,\"seconds\":%.3f,\"rate\":%.0f,\"p50_ms\":%.3f,"
                "\"p99_ms\":%.3f,\"max_ms\":%.3f,\"window\":%zu}\n",
                static_cast<unsigned long long>(next), static_cast<unsigned long long>(answered),
                static_cast<unsigned long long>(bad), static_cast<unsigned long long>(lost),
                static_cast<unsigned long long>(unexpected), elapsed, rate, p50, p99, max,
                o.window);
  } else {
    std::printf("sent %llu, answered %llu (bad authenticator %llu, lost %llu, unexpected %llu) "
                "in %.2f s: %.0f acknowledged/s; latency p50 %.3f ms, p99 %.3f ms, max %.3f ms "
                "(window %zu)\n",
                static_cast<unsigned long long>(next), static_cast<unsigned long long>(answered),
                static_cast<unsigned long long>(bad), static_cast<unsigned long long>(lost),
                static_cast<unsigned long long>(unexpected), elapsed, rate, p50, p99, max,
                o.window);
  }
  for (auto& channel : channels) {
    close(channel.fd);
  }
  return bad == 0 && lost == 0 ? 0 : 1;
}
