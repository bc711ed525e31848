#pragma once
// A fixed-bucket latency histogram (commit and fdatasync times), cheap enough to add to on every
// commit and copied whole by WriterStats; the server exposes it as a Prometheus histogram.

#include <array>
#include <cstddef>
#include <cstdint>

namespace acctlab::storage {

struct LatencyHistogram {
  /** Upper bounds in seconds: 50 µs (a commit on tmpfs) to 2.5 s (a disk in trouble). */
  static constexpr std::array<double, 15> bounds{0.00005, 0.0001, 0.00025, 0.0005, 0.001,
                                                 0.0025,  0.005,  0.01,    0.025,  0.05,
                                                 0.1,     0.25,   0.5,     1.0,    2.5};
  /** Per bucket, not cumulative; the last counts what exceeded every bound. */
  std::array<std::uint64_t, bounds.size() + 1> counts{};
  std::uint64_t count = 0;
  double sum_seconds = 0;

  void add(double seconds) {
    std::size_t i = 0;
    while (i < bounds.size() && seconds > bounds[i]) {
      ++i;
    }
    ++counts[i];
    ++count;
    sum_seconds += seconds;
  }
};

} // namespace acctlab::storage
