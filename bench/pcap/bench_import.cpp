// Import throughput (`acctlab pcap analyze --db`): the same file analysed only, then imported
// into a fresh SQLite database through the server's group-commit writer (packets, records,
// sessions), then imported and judged by the conformance rules. Rates are packets per second of
// wall time (the import runs a commit thread beside the reader) with the process's CPU time
// shown; the ratio is against the analyse-only rate measured in the same run.
//
//   bench_pcap_import FILE.pcap DB_DIR [secret=testing123] [judge=1]

#include "bench/pcap/timing.hpp"
#include "conformance/pcap_trace.hpp"
#include "conformance/profile.hpp"
#include "pcap/capture_analysis.hpp"
#include "pcap/capture_import.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <string>
#include <sys/resource.h>
#include <utility>

using namespace acctlab;
using namespace acctlab::capture;

namespace {

using bench::Timing;

template <class Work> Timing measure(Work&& work) {
  return bench::time_once(std::forward<Work>(work));
}

void print(const char* what, std::uint64_t packets, const Timing& t, double baseline_rate) {
  const double rate = static_cast<double>(packets) / t.wall;
  std::printf("%-40s %9llu packets  %7.3f s wall  %7.3f s cpu  %10.0f packets/s", what,
              static_cast<unsigned long long>(packets), t.wall, t.cpu, rate);
  if (baseline_rate > 0) {
    std::printf("  (%.3f of analyse-only)", rate / baseline_rate);
  }
  std::printf("\n");
}

void remove_db(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::filesystem::remove(path + suffix);
  }
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s FILE.pcap DB_DIR [secret] [judge=1]\n", argv[0]);
    return 2;
  }
  const std::string file = argv[1];
  const std::string dir = argv[2];
  const std::string secret = argc > 3 ? argv[3] : "testing123";
  const bool judge = argc > 4 ? std::atoi(argv[4]) != 0 : true;
  const auto& dict = radius::Dictionary::builtin();
  std::string error;
  auto secrets = ClientSecrets::parse("client all4 {\n ipaddr = 0.0.0.0/0\n secret = " + secret +
                                          "\n shortname = bench\n}\n",
                                      "bench", error);
  if (!secrets) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return 1;
  }
  AnalysisOptions analysis;
  analysis.secrets = &*secrets;
  analysis.dictionary = &dict;

  AnalysisResult analysed;
  const auto analyse = measure([&] { analysed = analyze_captures({file}, analysis); });
  const auto packets = analysed.radius_datagrams;
  const double baseline = static_cast<double>(packets) / analyse.wall;
  print("analyse only (decode, pair, verify)", packets, analyse, 0);

  const std::string db = dir + "/bench-import.db";
  remove_db(db);
  ImportOptions import;
  import.database = db;
  AnalysisResult imported;
  const auto plain = measure([&] { imported = import_captures({file}, analysis, import, {}); });
  print("analyse + import into SQLite", packets, plain, baseline);
  const auto& summary = *imported.import;
  std::printf("  stored %llu packets, %llu records, %llu sessions (%llu closed, %llu stale, %llu "
              "open)\n",
              static_cast<unsigned long long>(summary.packets),
              static_cast<unsigned long long>(summary.records),
              static_cast<unsigned long long>(summary.sessions.opened),
              static_cast<unsigned long long>(summary.sessions.closed),
              static_cast<unsigned long long>(summary.sessions.stale),
              static_cast<unsigned long long>(summary.sessions.open));
  double judged_rate = 0;
  if (judge) {
    remove_db(db);
    auto profile = conformance::load_profile("cisco-ios-ipsec", dict);
    if (!profile) {
      std::fprintf(stderr, "profile: %s\n", profile.error().to_string().c_str());
      return 1;
    }
    const auto run_judge = conformance::make_import_judge(
        conformance::ProfileSet(std::move(profile).value()), &dict, &*secrets, {});
    const auto judged =
        measure([&] { imported = import_captures({file}, analysis, import, run_judge); });
    print("analyse + import + conformance rules", packets, judged, baseline);
    judged_rate = static_cast<double>(packets) / judged.wall;
    std::printf("  %zu findings stored\n", imported.import->conformance->findings_stored);
  }
  remove_db(db);
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  std::printf("peak RSS %ld MiB\n", usage.ru_maxrss / 1024);
  std::printf("RESULT analyse=%.0f import=%.0f judged=%.0f\n", baseline,
              static_cast<double>(packets) / plain.wall, judged_rate);
  return 0;
}
