#pragma once
// The server's counters, read by the stats line and (later) the web viewer.

#include "server/log_entry.hpp"

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace acctlab::server {

struct CounterSnapshot {
  std::uint64_t received = 0;
  std::uint64_t accepted = 0; // valid Accounting-Requests queued for commit
  std::uint64_t answered = 0; // Accounting-Responses sent after their commit
  std::uint64_t duplicates = 0;
  std::uint64_t bad_authenticator = 0;
  std::uint64_t bad_message_authenticator = 0;
  std::uint64_t unknown_client = 0;
  std::uint64_t malformed = 0;
  std::uint64_t status_server = 0;
  std::uint64_t overload_drops = 0; // dropped because too many awaited their commit
  std::uint64_t refused = 0;        // dropped unanswered because the database refused their rows
  std::uint64_t stale_refused = 0;  // sessions the database refused to mark stale
  std::uint64_t send_errors = 0;
  std::uint64_t commit_batches = 0;
  std::uint64_t committed = 0;
  std::uint64_t commit_failures = 0;
  double commit_latency_avg_ms = 0;
  double commit_latency_max_ms = 0;
  std::uint64_t syncs = 0; // fdatasyncs that made commits durable (synchronous=full)
  double sync_latency_avg_ms = 0;
  double sync_latency_max_ms = 0;
  std::uint64_t max_batch = 0;
  std::uint64_t in_flight = 0;
  std::uint64_t open_sessions = 0;
  std::uint64_t tls_accepted = 0;         // TCP connections taken on the RadSec listeners
  std::uint64_t tls_refused = 0;          // unknown address or over a connection limit
  std::uint64_t tls_handshake_failed = 0; // certificate refused, wrong name, timeout, ...
  std::uint64_t tls_established = 0;
  std::uint64_t tls_open = 0; // established and not yet closed
  bool database_ok = true;

  /** One line: "received=... accepted=... ...". */
  std::string to_line() const;
  /** The same counters as log fields (numbers, and database as text). */
  std::vector<LogField> fields() const;
  /** The same counters as a JSON object (stored in runs.report when the server stops). */
  std::string to_json() const;
};

} // namespace acctlab::server
