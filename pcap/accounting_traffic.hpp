#pragma once
// Writes a synthetic capture of RADIUS accounting traffic (RFC 2866): NASes sending signed
// Accounting-Requests (Start, Interim-Update, Stop in turn, with the Cisco attributes the seed
// document shows) to one server, which answers with signed Accounting-Responses after a jittered
// latency. Some requests can be lost or answered only after one retransmission. The truth of
// what was written comes back, so tests and the benchmark can check the analyser against it.

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace acctlab::capture {

struct TrafficSpec {
  std::uint64_t exchanges = 1000;
  std::uint32_t nas_count = 8;
  std::string secret = "testing123";
  double requests_per_second = 5000; // capture time
  std::int64_t latency_ns = 800'000; // the server's base latency; jitter adds up to as much again
  double lost = 0.0;                 // fraction of requests never answered
  double retransmitted = 0.0;        // fraction answered only after one retransmission
  std::int64_t retransmit_after_ns = 3'000'000'000;
  std::uint64_t seed = 1;
  std::int64_t start_ns = 1'700'000'000'000'000'000; // time of the first request
  std::uint8_t first_nas = 10; // NASes are 198.51.100.<first_nas + i> (RFC 5737 addresses)
};

struct TrafficTruth {
  std::uint64_t frames = 0;
  std::uint64_t requests = 0; // transmissions, retransmissions included
  std::uint64_t responses = 0;
  std::uint64_t exchanges = 0;
  std::uint64_t answered = 0;
  std::uint64_t lost = 0;
  std::uint64_t retransmitted = 0;
  // Accounting-Request packets (retransmissions included): 1 Start, 2 Stop, 3 Interim-Update.
  std::array<std::uint64_t, 4> by_status_type{};
  std::int64_t min_latency_ns = 0;
  std::int64_t max_latency_ns = 0;
  std::int64_t first_ns = 0;
  std::int64_t last_ns = 0;
  /** Lost requests whose timeout (from their last transmission) ends before the last frame. */
  std::uint64_t lost_before(std::int64_t timeout_ns) const;
  std::vector<std::int64_t> lost_last_sent_ns;
};

/** Writes the capture (classic pcap, Ethernet, µs); false with error set if the file fails. */
bool write_accounting_capture(const std::string& path, const TrafficSpec& spec, TrafficTruth& truth,
                              std::string& error);

} // namespace acctlab::capture
