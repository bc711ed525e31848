#pragma once
// `acctlab pcap analyze`: reads captures as one stream, decodes every datagram on a RADIUS port
// with the server's decoder, pairs requests and responses, and gathers what the report shows.

#include "pcap/capture_reader.hpp"
#include "pcap/clients_file.hpp"
#include "pcap/exchange_tracker.hpp"
#include "pcap/import_summary.hpp"
#include "radius/dictionary.hpp"
#include "radius/packet_codec.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace acctlab::capture {

struct AnalysisOptions {
  std::vector<std::uint16_t> extra_ports;
  std::int64_t timeout_ns = 5'000'000'000;
  std::int64_t duplicate_window_ns = 30'000'000'000; // TrackerOptions::duplicate_window_ns
  const ClientSecrets* secrets = nullptr;
  /** Receives the CSV text (header first, then one line per exchange) when set. */
  std::function<void(std::string_view)> csv;
  /** Called now and then with octets consumed and total, for a progress bar. */
  std::function<void(std::uint64_t done, std::uint64_t total)> progress;
  const radius::Dictionary* dictionary = nullptr; // builtin() when null
  ReassemblyLimits reassembly;
  /** RadSec: a key log (SSLKEYLOGFILE format) to decrypt TLS 1.3 and 1.2 sessions with. */
  const TlsKeyLog* tls_keys = nullptr;
  /** Sees every datagram on a RADIUS port with its decoding, after the tracker (the import). */
  std::function<void(const UdpDatagram&, const radius::DecodeResult<radius::Packet>&)> on_datagram;
};

struct AnalysisResult {
  std::vector<FileSummary> files;
  StreamStats stream;
  IssueCounts issue_counts;
  std::vector<Issue> issues;
  std::uint64_t radius_datagrams = 0; // datagrams on RADIUS ports that reached the decoder
  std::uint64_t decoded = 0;
  TrafficCounters totals;
  std::unordered_map<IpAddress, TrafficCounters> per_nas;
  std::unordered_map<Endpoint, TrafficCounters, EndpointHash> per_server;
  std::vector<Event> events;
  std::array<std::uint64_t, event_kind_count> event_counts{};
  std::array<std::uint64_t, 32> decode_errors{};
  std::size_t peak_open_exchanges = 0;
  std::int64_t timeout_ns = 0;
  std::int64_t duplicate_window_ns = 0;
  bool secrets_given = false;
  /** Capture time of the first and last datagram (unix seconds; 0 when there was none). */
  double first_time = 0;
  double last_time = 0;
  /** RadSec: TLS sessions on TCP 2083, what their handshakes said in clear. */
  std::vector<TlsSession> tls_sessions;
  std::uint64_t tls_sessions_not_kept = 0;
  /** With a key log: the sessions it left unread in part (each says why in `unreadable`), and
   * the key log's lines not read (the first ones named, FILE:LINE). */
  bool tls_keys_given = false;
  std::uint64_t tls_sessions_not_decrypted = 0;
  std::uint64_t tls_keylog_lines_not_read = 0;
  std::vector<std::string> tls_keylog_problems;
  /** Set when the traffic was imported into a database (import_captures). */
  std::optional<ImportSummary> import;
};

/** What a capture allows before any rule: a verdict needs the capture read whole (no issue:
 * every frame, every file to its end, every datagram on a RADIUS port a RADIUS packet, and with
 * a key log every RadSec session decrypted) and accounting traffic in it. */
enum class CaptureVerdict : std::uint8_t { complete, incomplete, no_accounting_traffic };
/** "complete", "incomplete", "no accounting traffic". */
std::string_view to_string(CaptureVerdict verdict) noexcept;
CaptureVerdict capture_verdict(const AnalysisResult& result);

/** Runs the whole analysis. Never throws for bad input: problems are in the result. */
AnalysisResult analyze_captures(const std::vector<std::string>& files,
                                const AnalysisOptions& options);

/** The same over a stream the caller built (a live capture); options' ports and reassembly
 * limits are the stream's business then. */
AnalysisResult analyze_stream(DatagramStream& stream, const AnalysisOptions& options);

} // namespace acctlab::capture
