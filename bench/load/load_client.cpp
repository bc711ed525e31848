// Load generator for accounting servers: keeps W Accounting-Requests outstanding, each a
// realistic Cisco IPsec VPN record (Start, Interim-Updates, Stop per session, with the feature
// document's attributes), verifies every Accounting-Response's authenticator, and reports the
// acknowledged rate and latency percentiles.
//
//   acctlab_load --server 127.0.0.1:PORT [--secret S] [--window W] [--duration SECONDS]
//                [--requests N] [--interims K] [--timeout SECONDS] [--rate PER_SECOND]
//                [--ack-log FILE] [--json] [--user-name-always]
//
// --user-name-always puts User-Name in every record (IOS sends it only in the Start here):
// radsecproxy answers an Accounting-Request without User-Name itself and forwards nothing.
// --rate caps the offered load (a steady pace, for soak runs); --ack-log writes one line per
// verified answer, "ACCT-SESSION-ID STATUS-TYPE SESSION-TIME", the key of the acknowledged record,
// so a crash campaign can look every acknowledged record up in the server's database (answers
// that come after their request timed out count as "late", are logged too, and never as a bad
// authenticator of the request that reused the Identifier). Latency
// percentiles come from a uniform sample of at most 2^20 answers, so memory stays flat in long
// runs. SIGTERM or SIGINT ends the run early as the end of --duration would: nothing new is sent,
// the outstanding requests are answered or time out, and the report follows.

#include "bench/load/udp_batch.hpp"
#include "radius/authenticator.hpp"
#include "radius/packet_codec.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <poll.h>
#include <random>
#include <signal.h>
#include <string>
#include <unistd.h>
#include <vector>

using namespace acctlab;
using Clock = std::chrono::steady_clock;

namespace {

// SIGTERM or SIGINT: stop sending, wait for what is outstanding, report (and close --ack-log).
volatile sig_atomic_t stop_requested = 0;
extern "C" void on_stop_signal(int) {
  stop_requested = 1;
}

struct Options {
  std::string server = "127.0.0.1:1813";
  std::string secret = "testing123";
  std::size_t window = 256;
  double duration = 10;
  std::uint64_t requests = 0; // 0: until duration
  unsigned interims = 3;
  double timeout = 3;
  double rate = 0; // 0: as fast as the window allows
  std::string ack_log;
  bool json = false;
  bool user_name_always = false;
};

struct Slot {
  bool busy = false;
  radius::Authenticator authenticator{};
  Clock::time_point sent;
  std::uint64_t record = 0; // k of make_record
  // The request this Identifier carried before, when it timed out: its answer may still come
  // (a server restarting after a crash answers what it recovered), and must not read as a bad
  // authenticator of the request that reuses the Identifier.
  bool timed_out = false;
  radius::Authenticator timed_out_authenticator{};
  std::uint64_t timed_out_record = 0;
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

// Which session and phase record k of the run belongs to. Sessions advance in rounds of `ring`
// slots, so consecutive records of one session are `ring` requests apart: with ring > window, a
// session's Start is answered before its first Interim-Update leaves.
struct RecordKey {
  std::uint64_t session;
  unsigned phase;        // 0: Start, phases - 1: Stop, Interim-Updates between
  std::uint32_t status;  // Acct-Status-Type
  std::uint32_t seconds; // Acct-Session-Time (absent from the Start)
  char id[16];           // Acct-Session-Id
};

RecordKey record_key(std::uint64_t k, std::uint64_t ring, unsigned interims,
                     std::uint32_t run_base) {
  RecordKey key{};
  const unsigned phases = interims + 2;
  const std::uint64_t round = k / ring;
  key.session = (k % ring) + ring * (round / phases);
  key.phase = static_cast<unsigned>(round % phases);
  key.status = key.phase == 0 ? 1 : (key.phase == phases - 1 ? 2 : 3);
  key.seconds = key.phase * 60;
  std::snprintf(key.id, sizeof key.id, "%08X", static_cast<unsigned>(run_base + key.session));
  return key;
}

radius::Packet make_record(std::uint64_t k, std::uint64_t ring, unsigned interims,
                           std::uint32_t run_base, const Attributes& a,
                           bool user_name_always = false) {
  const RecordKey key = record_key(k, ring, interims, run_base);
  const std::uint64_t session = key.session;
  const unsigned phase = key.phase;
  const char* id = key.id;
  const std::uint32_t user = static_cast<std::uint32_t>(session % 100000);
  char user_name[32];
  std::snprintf(user_name, sizeof user_name, "user%u@cclient", user);
  char initiator[48];
  std::snprintf(initiator, sizeof initiator, "isakmp-initator-ip=192.0.2.%u",
                static_cast<unsigned>(session % 250 + 1));
  const std::uint32_t status = key.status;
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
    p.add_integer(a.session_time, key.seconds);
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
    } else if (option == "--rate") {
      o.rate = std::stod(value);
    } else if (option == "--ack-log") {
      o.ack_log = value;
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
                         "[--duration S] [--requests N] [--interims K] [--timeout S] [--rate R] "
                         "[--ack-log FILE] [--json] [--user-name-always]\n");
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

  std::FILE* ack_log = nullptr;
  if (!o.ack_log.empty()) {
    ack_log = std::fopen(o.ack_log.c_str(), "w");
    if (!ack_log) {
      std::perror(("acctlab_load: " + o.ack_log).c_str());
      return 2;
    }
  }

  std::uint64_t next = 0, answered = 0, bad = 0, lost = 0, unexpected = 0, late = 0;
  auto log_ack = [&](std::uint64_t record) {
    if (ack_log) {
      const auto key = record_key(record, ring, o.interims, run_base);
      std::fprintf(ack_log, "%s %u %u\n", key.id, key.status, key.seconds);
    }
  };
  // A uniform sample of the latencies (Vitter's algorithm R): exact up to its size, flat after.
  constexpr std::size_t latency_sample = 1 << 20;
  std::vector<std::uint32_t> latencies_us;
  latencies_us.reserve(latency_sample);
  std::uint64_t latencies_seen = 0;
  double latency_max_ms = 0;
  std::vector<pollfd> polls(channels.size());
  const auto start = Clock::now();
  const auto send_until = start + std::chrono::duration<double>(o.duration);
  const auto timeout =
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.timeout));
  auto last_sweep = start;
  auto last_send = start;
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
  bench::Batch in;

  std::size_t in_flight = 0;
  for (;;) {
    const auto now = Clock::now();
    const bool sending =
        !stop_requested && now < send_until && (o.requests == 0 || next < o.requests);
    // With --rate, the requests due by now: a steady pace, never a catch-up burst larger than
    // the window.
    const std::uint64_t due =
        o.rate > 0 ? static_cast<std::uint64_t>(std::chrono::duration<double>(now - start).count() *
                                                o.rate) +
                         1
                   : UINT64_MAX;
    if (!sending && in_flight == 0) {
      break;
    }
    // Nothing more is sent: what is still outstanding a timeout after the last send is lost.
    if (!sending &&
        now > std::min(std::chrono::time_point_cast<Clock::duration>(send_until), last_send) +
                  timeout + std::chrono::seconds(1)) {
      lost += in_flight;
      break;
    }
    if (sending) {
      // Refill the whole window before waiting: every free Identifier goes out now, in as many
      // sendmmsg batches as it takes (one batch per wake-up left the window part-empty for up to
      // the poll timeout whenever more than a batch was answered at once).
      for (auto& channel : channels) {
        while (!channel.free_ids.empty() && (o.requests == 0 || next < o.requests) && next < due) {
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
          slot.record = next - 1;
          std::memcpy(slot.authenticator.data(), wire.data() + 4, 16);
          slot.sent = Clock::now();
          last_send = slot.sent;
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
            if (slot.timed_out && response[0] == 5 &&
                radius::verify_response_authenticator(response, slot.timed_out_authenticator,
                                                      o.secret)) {
              // The answer to a request already counted lost: acknowledged all the same.
              ++late;
              slot.timed_out = false;
              log_ack(slot.timed_out_record);
              continue;
            }
            if (!slot.busy) {
              ++unexpected; // a duplicate, or an answer to nothing this client sent
              continue;
            }
            if (response[0] != 5 ||
                !radius::verify_response_authenticator(response, slot.authenticator, o.secret)) {
              ++bad;
            } else {
              ++answered;
              const auto us = static_cast<std::uint32_t>(
                  std::chrono::duration_cast<std::chrono::microseconds>(received - slot.sent)
                      .count());
              latency_max_ms = std::max(latency_max_ms, us / 1000.0);
              if (latencies_us.size() < latency_sample) {
                latencies_us.push_back(us);
              } else if (const auto j = random() % (latencies_seen + 1); j < latency_sample) {
                latencies_us[j] = us;
              }
              ++latencies_seen;
              log_ack(slot.record);
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
            slot.timed_out = true;
            slot.timed_out_authenticator = slot.authenticator;
            slot.timed_out_record = slot.record;
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
  const double max = latency_max_ms;
  if (ack_log && std::fclose(ack_log) != 0) {
    std::perror("acctlab_load: --ack-log");
    return 2;
  }
  if (o.json) {
    std::printf("{\"sent\":%llu,\"answered\":%llu,\"bad_authenticator\":%llu,\"lost\":%llu,"
                "\"unexpected\":%llu,\"late\":%llu,\"seconds\":%.3f,\"rate\":%.0f,\"p50_ms\":%.3f,"
                "\"p99_ms\":%.3f,\"max_ms\":%.3f,\"window\":%zu}\n",
                static_cast<unsigned long long>(next), static_cast<unsigned long long>(answered),
                static_cast<unsigned long long>(bad), static_cast<unsigned long long>(lost),
                static_cast<unsigned long long>(unexpected), static_cast<unsigned long long>(late),
                elapsed, rate, p50, p99, max, o.window);
  } else {
    std::printf(
        "sent %llu, answered %llu (bad authenticator %llu, lost %llu, unexpected %llu, late %llu) "
        "in %.2f s: %.0f acknowledged/s; latency p50 %.3f ms, p99 %.3f ms, max %.3f ms "
        "(window %zu)\n",
        static_cast<unsigned long long>(next), static_cast<unsigned long long>(answered),
        static_cast<unsigned long long>(bad), static_cast<unsigned long long>(lost),
        static_cast<unsigned long long>(unexpected), static_cast<unsigned long long>(late), elapsed,
        rate, p50, p99, max, o.window);
  }
  for (auto& channel : channels) {
    close(channel.fd);
  }
  return bad == 0 && lost == 0 ? 0 : 1;
}
