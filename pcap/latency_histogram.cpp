#include "pcap/latency_histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace acctlab::capture {

namespace {
constexpr std::uint64_t exact_below = 128; // microseconds below this get a bucket each
constexpr unsigned sub_bits = 6;           // 64 sub-buckets per power of two above that
} // namespace

std::size_t LatencyHistogram::bucket_of(std::uint64_t us) {
  if (us < exact_below) {
    return static_cast<std::size_t>(us);
  }
  const unsigned msb = 63u - static_cast<unsigned>(std::countl_zero(us)); // >= 7
  const unsigned shift = msb - sub_bits;
  const std::uint64_t sub = (us >> shift) - (1u << sub_bits);
  return static_cast<std::size_t>(exact_below + (msb - 7) * (1u << sub_bits) + sub);
}

std::uint64_t LatencyHistogram::bucket_middle_us(std::size_t bucket) {
  if (bucket < exact_below) {
    return bucket;
  }
  const std::size_t above = bucket - exact_below;
  const unsigned msb = static_cast<unsigned>(above >> sub_bits) + 7;
  const std::uint64_t sub = above & ((1u << sub_bits) - 1);
  const unsigned shift = msb - sub_bits;
  const std::uint64_t low = ((1u << sub_bits) + sub) << shift;
  return low + ((std::uint64_t{1} << shift) >> 1);
}

void LatencyHistogram::add(std::int64_t latency_ns) {
  if (latency_ns < 0) {
    latency_ns = 0; // reordered capture: the response was stamped before its request
  }
  if (count_ == 0) {
    min_ns_ = max_ns_ = latency_ns;
  } else {
    min_ns_ = std::min(min_ns_, latency_ns);
    max_ns_ = std::max(max_ns_, latency_ns);
  }
  ++count_;
  sum_ns_ += static_cast<double>(latency_ns);
  const std::size_t bucket = bucket_of(static_cast<std::uint64_t>(latency_ns) / 1000);
  if (bucket >= buckets_.size()) {
    buckets_.resize(bucket + 1, 0);
  }
  ++buckets_[bucket];
}

std::int64_t LatencyHistogram::quantile_ns(double p) const {
  if (count_ == 0) {
    return 0;
  }
  const auto rank = static_cast<std::uint64_t>(
      std::max(1.0, std::ceil(std::clamp(p, 0.0, 1.0) * static_cast<double>(count_))));
  std::uint64_t seen = 0;
  for (std::size_t b = 0; b < buckets_.size(); ++b) {
    seen += buckets_[b];
    if (seen >= rank) {
      const auto ns = static_cast<std::int64_t>(bucket_middle_us(b) * 1000 + 500);
      return std::clamp(ns, min_ns_, max_ns_);
    }
  }
  return max_ns_;
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
  if (other.count_ == 0) {
    return;
  }
  if (count_ == 0) {
    min_ns_ = other.min_ns_;
    max_ns_ = other.max_ns_;
  } else {
    min_ns_ = std::min(min_ns_, other.min_ns_);
    max_ns_ = std::max(max_ns_, other.max_ns_);
  }
  count_ += other.count_;
  sum_ns_ += other.sum_ns_;
  if (other.buckets_.size() > buckets_.size()) {
    buckets_.resize(other.buckets_.size(), 0);
  }
  for (std::size_t b = 0; b < other.buckets_.size(); ++b) {
    buckets_[b] += other.buckets_[b];
  }
}

} // namespace acctlab::capture
