#pragma once
// Latency statistics in bounded memory: exact count, min, max and mean, and a log-linear histogram
// (64 sub-buckets per power of two, so percentiles are within 1.6 %) in microseconds.

#include <cstdint>
#include <vector>

namespace acctlab::capture {

class LatencyHistogram {
public:
  void add(std::int64_t latency_ns);

  std::uint64_t count() const { return count_; }
  std::int64_t min_ns() const { return count_ ? min_ns_ : 0; }
  std::int64_t max_ns() const { return count_ ? max_ns_ : 0; }
  double mean_ns() const { return count_ ? sum_ns_ / static_cast<double>(count_) : 0.0; }
  /** The p-quantile (0 < p <= 1), from the histogram, clamped to [min, max]; 0 when empty. */
  std::int64_t quantile_ns(double p) const;

  void merge(const LatencyHistogram& other);

private:
  static std::size_t bucket_of(std::uint64_t us);
  static std::uint64_t bucket_middle_us(std::size_t bucket);

  std::uint64_t count_ = 0;
  std::int64_t min_ns_ = 0;
  std::int64_t max_ns_ = 0;
  double sum_ns_ = 0;
  std::vector<std::uint64_t> buckets_; // grown to the largest bucket seen
};

} // namespace acctlab::capture
