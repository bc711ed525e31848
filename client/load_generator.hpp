#pragma once
// Load mode (`acctlab gateway --load`): many simulated peers cycling through sessions (Start,
// Interims, Stop, then a new session: churn) with many requests outstanding at once, as a load
// source for benchmarking accounting servers. Each request is a real, signed Accounting-Request
// built by the same code as the scenario records; each answer's Response Authenticator is
// verified. Runs on the real clock.

#include "client/clock.hpp"
#include "client/ios_config.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace acctlab::gateway {

struct LoadOptions {
  std::vector<std::string> servers; // HOST:PORT; requests go round-robin over them
  std::string secret;
  std::uint32_t peers = 10000;
  std::uint32_t window = 4096; // requests outstanding at most
  Millis duration{5000};
  Millis timeout{2000}; // an unanswered request counts as timed out (load mode does not retry)
  std::uint32_t interims_per_session = 2;
  Ipv4Address nas_ip{127, 0, 0, 1};
  bool send_vsa = true;
};

struct LoadResult {
  bool ok = true;
  std::string error;
  std::uint64_t sent = 0;
  std::uint64_t answered = 0; // verified Accounting-Responses
  std::uint64_t bad_answers = 0;
  std::uint64_t timeouts = 0;
  std::uint64_t sessions_started = 0;
  std::uint64_t sessions_stopped = 0;
  double seconds = 0;
  double answered_per_second() const { return seconds > 0 ? answered / seconds : 0; }
};

LoadResult run_load(const LoadOptions& options);

} // namespace acctlab::gateway
