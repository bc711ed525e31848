// Throughput of `pcap analyze`'s pipeline on one core: read (libpcap, link layers, IP, UDP) →
// decode (radius::decode_packet) → pair (ExchangeTracker), with and without authenticator
// verification, plus the read-only and read+decode stages for the breakdown. Reports packets/s
// on CPU time of this process (the machine is shared) and wall time, and the peak RSS.
//
//   bench_pcap_analyze FILE.pcap [secret=testing123] [repeat=3]

#include "bench/pcap/timing.hpp"
#include "pcap/capture_analysis.hpp"
#include "radius/packet_codec.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <sys/resource.h>

using namespace acctlab::capture;

namespace {

struct Timing {
  double cpu = 1e300;
  double wall = 1e300;
  std::uint64_t packets = 0;
};

// The best of `repeat` runs (least disturbed by the other builders on the machine).
template <class Work> Timing measure(int repeat, Work&& work) {
  Timing best;
  for (int i = 0; i < repeat; ++i) {
    std::uint64_t packets = 0;
    const auto t = acctlab::bench::time_once([&] { packets = work(); });
    best.cpu = std::min(best.cpu, t.cpu);
    best.wall = std::min(best.wall, t.wall);
    best.packets = packets;
  }
  return best;
}

void print(const char* what, const Timing& t, double baseline_cpu) {
  const double rate = static_cast<double>(t.packets) / t.cpu;
  std::printf("%-44s %9llu packets  %6.3f s cpu  %6.3f s wall  %11.0f packets/s", what,
              static_cast<unsigned long long>(t.packets), t.cpu, t.wall, rate);
  if (baseline_cpu > 0) {
    std::printf("  (%.2fx the read-only time)", t.cpu / baseline_cpu);
  }
  std::printf("\n");
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s FILE.pcap [secret] [repeat]\n", argv[0]);
    return 2;
  }
  const std::string file = argv[1];
  const std::string secret = argc > 2 ? argv[2] : "testing123";
  const int repeat = argc > 3 ? std::atoi(argv[3]) : 3;
  const auto& dict = acctlab::radius::Dictionary::builtin();

  const Timing read = measure(repeat, [&] {
    DatagramStream stream({file});
    UdpDatagram d;
    std::uint64_t n = 0;
    std::uint64_t octets = 0;
    while (stream.next(d)) {
      ++n;
      octets += d.payload.size();
    }
    return n + (octets == 0 ? 0 : 0);
  });
  const Timing decode = measure(repeat, [&] {
    DatagramStream stream({file});
    UdpDatagram d;
    std::uint64_t n = 0;
    std::uint64_t attributes = 0;
    while (stream.next(d)) {
      auto packet = acctlab::radius::decode_packet(d.payload, dict);
      attributes += packet ? packet->attributes().size() : 0;
      ++n;
    }
    return n + (attributes == 0 ? 0 : 0);
  });
  AnalysisResult last;
  const Timing pair = measure(repeat, [&] {
    last = analyze_captures({file}, AnalysisOptions{});
    return last.radius_datagrams;
  });
  std::string error;
  auto secrets = ClientSecrets::parse("client all {\n ipaddr = 0.0.0.0/0\n secret = \"" + secret +
                                          "\"\n}\nclient all6 {\n ipaddr = ::/0\n secret = \"" +
                                          secret + "\"\n}\n",
                                      "bench", error);
  AnalysisOptions verify_options;
  verify_options.secrets = &*secrets;
  AnalysisResult verified;
  const Timing verify = measure(repeat, [&] {
    verified = analyze_captures({file}, verify_options);
    return verified.radius_datagrams;
  });

  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  std::printf("file %s: %llu frames, %llu exchanges, %llu linked, peak open exchanges %zu\n",
              file.c_str(), static_cast<unsigned long long>(last.stream.frames),
              static_cast<unsigned long long>(last.totals.exchanges),
              static_cast<unsigned long long>(last.totals.linked), last.peak_open_exchanges);
  print("read (libpcap + link/IP/UDP)", read, 0);
  print("read + decode", decode, read.cpu);
  print("read + decode + pair", pair, read.cpu);
  print("read + decode + pair + verify authenticators", verify, read.cpu);
  std::printf("authenticators: %llu request and %llu response valid, %llu invalid\n",
              static_cast<unsigned long long>(verified.totals.request_authenticator_valid),
              static_cast<unsigned long long>(verified.totals.response_authenticator_valid),
              static_cast<unsigned long long>(verified.totals.request_authenticator_invalid +
                                              verified.totals.response_authenticator_invalid));
  std::printf("peak RSS %ld MiB\n", usage.ru_maxrss / 1024);
  std::printf("RESULT pair=%.0f verify=%.0f\n", static_cast<double>(pair.packets) / pair.cpu,
              static_cast<double>(verify.packets) / verify.cpu);
  return 0;
}
