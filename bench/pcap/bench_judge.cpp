// The import's judge alone, on a database a capture was already imported into (`acctlab pcap
// analyze FILE --db DB --no-check`): judges the run in parts of PART packets (0: the whole run
// in memory) and prints the wall time, the process's peak RSS and what it stored. Run it on a
// copy of the database: the findings are stored under the run.
//
//   bench_pcap_judge DB RUN_ID [PART=8192] [secret=testing123]

#include "conformance/pcap_trace.hpp"
#include "conformance/profile.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <sys/resource.h>

using namespace acctlab;

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s DB RUN_ID [PART=8192] [secret=testing123]\n", argv[0]);
    return 2;
  }
  const std::string db = argv[1];
  const std::int64_t run_id = std::atoll(argv[2]);
  conformance::RunJudgeOptions options;
  options.part_packets = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : options.part_packets;
  const std::string secret = argc > 4 ? argv[4] : "testing123";
  const auto& dict = radius::Dictionary::builtin();
  std::string error;
  auto secrets = capture::ClientSecrets::parse(
      "client all4 {\n ipaddr = 0.0.0.0/0\n secret = " + secret + "\n shortname = bench\n}\n",
      "bench", error);
  auto profile = conformance::load_profile("cisco-ios-ipsec", dict);
  if (!secrets || !profile) {
    std::fprintf(stderr, "%s\n", secrets ? profile.error().to_string().c_str() : error.c_str());
    return 1;
  }
  conformance::RunJudgeStats stats;
  options.stats = &stats;
  const auto wall0 = std::chrono::steady_clock::now();
  const auto judged =
      conformance::judge_imported_run(db, run_id, &*secrets, *profile, dict, {}, options);
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  if (!judged) {
    std::fprintf(stderr, "%s\n", judged.error().c_str());
    return 1;
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  std::printf("part %zu: %zu packets in %zu part(s), largest %zu; %zu findings (%s); %.2f s wall; "
              "peak RSS %ld MiB\n",
              options.part_packets, stats.packets, stats.parts, stats.largest_part,
              judged->findings_stored, judged->verdict.c_str(), wall, usage.ru_maxrss / 1024);
  return 0;
}
