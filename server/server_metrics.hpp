#pragma once
// The server's metrics for Prometheus: the stats line's counters, commit and fdatasync latency
// histograms, per-NAS requests and drops, the database's state, in the text exposition format
// (version 0.0.4) that /metrics serves. No Asio here.

#include "server/server_counters.hpp"
#include "storage/latency_histogram.hpp"

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace acctlab::server {

/**
 * Datagrams and drops per NAS. The NAS label is the client's shortname from the clients file, so
 * the set is the administrator's; sources that match no client share the label "unknown", and past
 * max_labels NASes (a clients file of whole prefixes) the rest share "other": a scrape's size
 * never grows with traffic. Thread-safe.
 */
class NasCounters {
public:
  static constexpr std::string_view unknown_label = "unknown";
  static constexpr std::string_view other_label = "other";

  explicit NasCounters(std::size_t max_labels = 256) : max_labels_(max_labels) {}

  /** A datagram from this NAS (unknown_label for a source that matches no client). */
  void request(std::string_view nas);
  /** A datagram dropped unanswered, by cause (the verdict: "bad-authenticator", "overload"...). */
  void drop(std::string_view nas, std::string_view cause);

  struct Row {
    std::string nas;
    std::uint64_t requests = 0;
    std::map<std::string, std::uint64_t> drops; // by cause
  };
  /** Every NAS seen, sorted by label. */
  std::vector<Row> snapshot() const;

private:
  Row& row(std::string_view nas); // with mutex_ held

  std::size_t max_labels_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Row> rows_;
};

struct MetricsSnapshot {
  CounterSnapshot counters;
  storage::LatencyHistogram commit_latency;
  storage::LatencyHistogram sync_latency;
  std::uint64_t checkpoints = 0;
  std::uint64_t queued = 0;         // items waiting for the commit thread
  std::int64_t database_bytes = -1; // -1: unknown
  std::int64_t wal_bytes = -1;
  std::vector<NasCounters::Row> nas;
};

/** The snapshot in the Prometheus text format, with acctlab_build_info{version, commit}. */
std::string format_prometheus(const MetricsSnapshot& metrics, std::string_view version,
                              std::string_view commit);

/** Escapes a label value for the text format: backslash, double quote and newline. */
std::string prometheus_label_value(std::string_view value);

} // namespace acctlab::server
