// How fast the conformance engine judges a trace, against the floor every door pays anyway:
// decoding each datagram and building its AccountingRecord. The trace: N Cisco IPsec sessions
// (Start, Interim-Update, Stop, each answered), signed with testing123, interleaved in time.
//
// Usage: bench_conformance_check [SESSIONS] [REPEATS]

#include "conformance/analysis.hpp"
#include "conformance/catalog.hpp"
#include "conformance/engine.hpp"
#include "conformance/profile.hpp"
#include "radius/accounting_record.hpp"
#include "radius/authenticator.hpp"
#include "radius/packet_codec.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <memory>
#include <string>

using namespace acctlab;
using namespace acctlab::conformance;

namespace {

constexpr const char* secret = "testing123";

radius::Octets signed_request(const radius::Dictionary& dict, std::uint8_t id, std::uint32_t status,
                              int session, std::uint32_t seconds) {
  radius::Packet packet(radius::Code::accounting_request, id);
  char sid[16];
  std::snprintf(sid, sizeof sid, "%08d", session);
  packet.add(44, std::string_view(sid));
  const std::string peer = "isakmp-initiator-ip=11." + std::to_string(session / 250 % 250) + "." +
                           std::to_string(session % 250) + ".2";
  packet.add_vendor(9, 1, std::string_view(peer));
  packet.add_vendor(9, 1, std::string_view("vrf-id=cisco"));
  if (status == 1) {
    const std::uint8_t framed[4] = {10, 13, static_cast<std::uint8_t>(session / 250 % 250),
                                    static_cast<std::uint8_t>(session % 250)};
    packet.add(8, framed);
    packet.add(1, std::string_view("joe@cclient"));
    packet.add_vendor(9, 1, std::string_view("isakmp-group-id=cclient"));
  } else {
    packet.add_integer(46, seconds);
    packet.add_integer(42, seconds * 1000);
    packet.add_integer(43, seconds * 900);
    packet.add_integer(47, seconds * 10);
    packet.add_integer(48, seconds * 9);
  }
  if (status == 2) {
    packet.add_integer(49, 1);
  }
  packet.add_integer(40, status);
  packet.add_integer(5, 0);
  const std::uint8_t nas[4] = {10, 1, 1, 147};
  packet.add(4, nas);
  packet.add_integer(41, 0);
  auto wire = radius::encode_packet(packet, dict);
  radius::sign_request(wire, secret);
  return wire;
}

Trace make_trace(const radius::Dictionary& dict, int sessions) {
  Trace trace;
  trace.default_secret = secret;
  trace.interim_interval = 60;
  const std::pair<std::uint32_t, std::uint32_t> shape[] = {{1, 0}, {3, 60}, {2, 90}};
  for (int phase = 0; phase < 3; ++phase) {
    for (int s = 0; s < sessions; ++s) {
      const auto [status, seconds] = shape[phase];
      const double time = s * 0.001 + seconds;
      const auto id = static_cast<std::uint8_t>(s * 3 + phase);
      const std::string client = "127.0.0.1:" + std::to_string(40000 + s % 1000);
      auto wire = signed_request(dict, id, status, s, seconds);
      radius::Authenticator request{};
      std::copy(wire.begin() + 4, wire.begin() + 20, request.begin());
      trace.packets.push_back({time, Direction::to_server, client, "127.0.0.1:1813", wire});
      auto reply =
          radius::encode_packet(radius::Packet(radius::Code::accounting_response, id), dict);
      radius::sign_response(reply, request, secret);
      trace.packets.push_back(
          {time + 0.002, Direction::from_server, "127.0.0.1:1813", client, reply});
    }
  }
  return trace;
}

// CPU time of this process: the machine is shared, so wall time says more about the others.
double seconds_of(const std::function<void()>& work) {
  const auto start = std::clock();
  work();
  return static_cast<double>(std::clock() - start) / CLOCKS_PER_SEC;
}

} // namespace

int main(int argc, char** argv) {
  const int sessions = argc > 1 ? std::atoi(argv[1]) : 20000;
  const int repeats = argc > 2 ? std::atoi(argv[2]) : 3;
  const auto& dict = radius::Dictionary::builtin();
  auto profile = load_profile("cisco-ios-ipsec", dict);
  if (!profile) {
    std::fprintf(stderr, "%s\n", profile.error().to_string().c_str());
    return 1;
  }
  const auto trace = make_trace(dict, sessions);
  double baseline = 1e9;
  double full = 1e9;
  std::size_t findings = 0;
  for (int r = 0; r < repeats; ++r) {
    baseline = std::min(baseline, seconds_of([&] {
                          std::size_t records = 0;
                          for (const auto& packet : trace.packets) {
                            auto decoded = radius::decode_packet(packet.raw, dict);
                            if (decoded && decoded->code() == radius::Code::accounting_request) {
                              records +=
                                  radius::make_accounting_record(*decoded, dict).session_id.size();
                            }
                          }
                          if (records == 0) {
                            std::abort();
                          }
                        }));
    full = std::min(full, seconds_of([&] {
                      const auto verdict = check_trace(trace, *profile, dict);
                      findings = verdict.findings.size();
                    }));
  }
  const double packets = static_cast<double>(trace.packets.size());
  std::printf("%zu packets (%d sessions), best of %d; findings %zu\n", trace.packets.size(),
              sessions, repeats, findings);
  std::printf("per CPU-second: decode + AccountingRecord (baseline) %10.0f packets/s  1.00\n",
              packets / baseline);
  std::printf("per CPU-second: check_trace, %3zu rules                 %10.0f packets/s  %.3f\n",
              rules_for(*profile).size(), packets / full, baseline / full);
  // Where the time goes: the analysis, then the slowest rules.
  const Analysis* analysis = nullptr;
  std::unique_ptr<Analysis> holder;
  const double analysis_time = seconds_of([&] {
    holder = std::make_unique<Analysis>(trace, *profile, dict);
    analysis = holder.get();
  });
  std::vector<std::pair<double, std::string>> costs;
  for (const auto& rule : rules_for(*profile)) {
    FindingSink sink;
    costs.emplace_back(seconds_of([&] { rule.check(rule, *analysis, sink); }), rule.id);
  }
  std::sort(costs.rbegin(), costs.rend());
  std::printf("analysis: %.3f s; slowest rules:", analysis_time);
  for (std::size_t i = 0; i < 6 && i < costs.size(); ++i) {
    std::printf(" %s %.3f s;", costs[i].second.c_str(), costs[i].first);
  }
  std::printf("\n");
  return findings == 0 ? 0 : 1;
}
