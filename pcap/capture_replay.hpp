#pragma once
// `acctlab pcap replay`: sends a capture's Accounting-Requests to a server again, re-signed
// (RFC 2866 §3) with the secret the server shares with us, with a bounded window of outstanding
// requests and bounded retransmissions, and reports what came back.

#include "pcap/clients_file.hpp"
#include "pcap/ip_address.hpp"
#include "pcap/latency_histogram.hpp"
#include "radius/dictionary.hpp"

#include <boost/json/value.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace acctlab::capture {

struct ReplayOptions {
  Endpoint server; // an address literal and port; no name resolution
  /** Every request is re-signed with this secret and answers are verified with it. */
  std::optional<std::string> secret;
  /** Without secret: each request is re-signed, and its answer verified, with its NAS's secret
   * from this clients file (the NAS the capture shows sending it). */
  const ClientSecrets* secrets = nullptr;
  enum class Speed : std::uint8_t { original, max, rate } speed = Speed::max;
  double rate = 0;                         // requests per second, Speed::rate
  std::size_t window = 32;                 // requests outstanding at most (1..255)
  std::int64_t timeout_ns = 1'000'000'000; // per transmission
  unsigned retries = 2;                    // retransmissions after the first transmission
  double duplicate_window = 30;            // seconds; see docs/pcap.md
  std::vector<std::uint16_t> extra_ports;  // also RADIUS ports in the capture
  const radius::Dictionary* dictionary = nullptr;
  std::function<void(std::uint64_t done, std::uint64_t total)> progress;
};

struct ReplaySkip {
  std::string file;
  std::uint64_t frame = 0;
  std::string reason;
};

struct ReplayResult {
  std::string server;
  std::string secret_source; // "--secret" or "--secrets"
  std::string speed;
  std::uint64_t datagrams = 0;               // on RADIUS ports in the capture
  std::uint64_t accounting_requests = 0;     // in the capture
  std::uint64_t capture_retransmissions = 0; // identical requests, sent once
  std::uint64_t skipped = 0;                 // not sent: undecodable, no secret known
  std::vector<ReplaySkip> skips;             // the first 100, with file and frame
  std::uint64_t capture_issues = 0;          // the reader's (truncated files, bad frames...)
  std::uint64_t sent = 0;                    // distinct requests sent
  std::uint64_t transmissions = 0;           // including our retransmissions
  std::uint64_t retransmissions = 0;         // ours, after a timeout
  std::uint64_t answered = 0;
  std::uint64_t valid_answers = 0; // Response Authenticator verified (RFC 2866 §3)
  std::uint64_t invalid_answers = 0;
  std::uint64_t unexpected_answers = 0; // no outstanding request with that Identifier, or not
                                        // an Accounting-Response, or from elsewhere
  std::uint64_t unanswered = 0;
  LatencyHistogram latency; // latest transmission to a valid answer
  double seconds = 0;
  std::string error; // set when the replay could not run (socket, no readable capture)
};

/** Never throws for bad input; errors are in result.error and counted skips. */
ReplayResult replay_capture(const std::vector<std::string>& files, const ReplayOptions& options);

boost::json::value to_json(const ReplayResult& result);
std::string to_text(const ReplayResult& result);

} // namespace acctlab::capture
