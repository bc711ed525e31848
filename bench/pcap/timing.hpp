#pragma once
// Timing for the capture benchmarks: this process's CPU time (the machine is shared, so CPU time
// is the steadier measure) beside the wall clock.

#include <chrono>
#include <ctime>

namespace acctlab::bench {

inline double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

struct Timing {
  double cpu = 0;
  double wall = 0;
};

/** Runs work once and returns the CPU and wall seconds it took. */
template <class Work> Timing time_once(Work&& work) {
  const double cpu0 = process_cpu_seconds();
  const auto wall0 = std::chrono::steady_clock::now();
  work();
  return {process_cpu_seconds() - cpu0,
          std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count()};
}

} // namespace acctlab::bench
