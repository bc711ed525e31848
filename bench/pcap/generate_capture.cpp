// Writes a synthetic accounting capture for the benchmark and for trying the analyser:
//   bench_pcap_generate OUT.pcap [exchanges=1000000] [lost=0.01] [retransmitted=0.01] [nas=16]
// Prints the truth (what the analyser should find) as one line.

#include "pcap/accounting_traffic.hpp"

#include <cstdio>
#include <cstdlib>
#include <string>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s OUT.pcap [exchanges] [lost] [retransmitted] [nas]\n", argv[0]);
    return 2;
  }
  acctlab::capture::TrafficSpec spec;
  spec.exchanges = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1'000'000;
  spec.lost = argc > 3 ? std::atof(argv[3]) : 0.01;
  spec.retransmitted = argc > 4 ? std::atof(argv[4]) : 0.01;
  spec.nas_count = argc > 5 ? static_cast<std::uint32_t>(std::atoi(argv[5])) : 16;
  spec.requests_per_second = 20000;
  acctlab::capture::TrafficTruth truth;
  std::string error;
  if (!acctlab::capture::write_accounting_capture(argv[1], spec, truth, error)) {
    std::fprintf(stderr, "bench_pcap_generate: %s: %s\n", argv[1], error.c_str());
    return 1;
  }
  std::printf("frames %llu requests %llu responses %llu exchanges %llu answered %llu lost %llu "
              "(%llu before the 5 s timeout) retransmitted %llu\n",
              static_cast<unsigned long long>(truth.frames),
              static_cast<unsigned long long>(truth.requests),
              static_cast<unsigned long long>(truth.responses),
              static_cast<unsigned long long>(truth.exchanges),
              static_cast<unsigned long long>(truth.answered),
              static_cast<unsigned long long>(truth.lost),
              static_cast<unsigned long long>(truth.lost_before(5'000'000'000)),
              static_cast<unsigned long long>(truth.retransmitted));
  return 0;
}
