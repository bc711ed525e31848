#include "pcap/capture_analysis.hpp"

#include "radius/packet_codec.hpp"

#include <algorithm>

namespace acctlab::capture {

std::string_view to_string(CaptureVerdict verdict) noexcept {
  switch (verdict) {
    case CaptureVerdict::complete:
      return "complete";
    case CaptureVerdict::incomplete:
      return "incomplete";
    case CaptureVerdict::no_accounting_traffic:
      return "no accounting traffic";
  }
  return "incomplete";
}

CaptureVerdict capture_verdict(const AnalysisResult& result) {
  // With a key log, a RadSec session left unread holds RADIUS traffic the verdict did not see.
  const bool whole = result.issue_counts.total() == 0 && result.tls_sessions_not_decrypted == 0 &&
                     std::all_of(result.files.begin(), result.files.end(),
                                 [](const FileSummary& file) { return file.complete; });
  if (!whole) {
    return CaptureVerdict::incomplete;
  }
  const auto accounting =
      result.totals.by_code[static_cast<std::size_t>(radius::Code::accounting_request)] +
      result.totals.by_code[static_cast<std::size_t>(radius::Code::accounting_response)];
  return accounting == 0 ? CaptureVerdict::no_accounting_traffic : CaptureVerdict::complete;
}

AnalysisResult analyze_captures(const std::vector<std::string>& files,
                                const AnalysisOptions& options) {
  StreamOptions stream_options;
  stream_options.extra_ports = options.extra_ports;
  stream_options.reassembly = options.reassembly;
  stream_options.tls_keys = options.tls_keys;
  DatagramStream stream(files, stream_options);
  return analyze_stream(stream, options);
}

AnalysisResult analyze_stream(DatagramStream& stream, const AnalysisOptions& options) {
  const radius::Dictionary& dict =
      options.dictionary ? *options.dictionary : radius::Dictionary::builtin();

  TrackerOptions tracker_options;
  tracker_options.timeout_ns = options.timeout_ns;
  tracker_options.duplicate_window_ns = options.duplicate_window_ns;
  tracker_options.secrets = options.secrets;
  if (options.csv) {
    options.csv(ExchangeTracker::csv_header());
    tracker_options.csv = options.csv;
  }
  ExchangeTracker tracker(tracker_options, dict);

  AnalysisResult result;
  std::vector<Issue> not_radius; // datagrams on a RADIUS port that are not RADIUS
  std::uint64_t not_radius_count = 0;
  UdpDatagram datagram;
  while (stream.next(datagram)) {
    ++result.radius_datagrams;
    if (!radius::could_be_radius(datagram.payload)) {
      // Another protocol on a RADIUS port, or noise: a capture issue, neither a packet nor a
      // decode error of some NAS's (and never an "Access-Request id 0").
      if (not_radius_count++ < 10000) {
        not_radius.push_back(
            Issue{IssueKind::not_radius, datagram.file_index, datagram.frame,
                  not_radius_detail(datagram.source.to_string(), datagram.destination.to_string(),
                                    datagram.payload),
                  datagram.offset});
      }
      continue;
    }
    auto packet = radius::decode_packet(datagram.payload, dict);
    if (packet) {
      ++result.decoded;
      tracker.on_packet(datagram, *packet);
    } else {
      tracker.on_decode_error(datagram, packet.error());
    }
    if (options.on_datagram) {
      options.on_datagram(datagram, packet);
    }
    const double time = static_cast<double>(datagram.timestamp_ns) / 1e9;
    if (result.radius_datagrams == 1) {
      result.first_time = time;
    }
    result.last_time = std::max(result.last_time, time);
    if (options.progress && (result.radius_datagrams & 0xFFFF) == 0) {
      options.progress(stream.bytes_consumed(), stream.bytes_total());
    }
  }
  tracker.finish();
  if (options.progress) {
    options.progress(stream.bytes_total(), stream.bytes_total());
  }

  result.files = stream.files();
  result.stream = stream.stats();
  result.tls_sessions = stream.tls_sessions().sessions();
  result.tls_sessions_not_kept = stream.tls_sessions().sessions_not_kept();
  if (options.tls_keys) {
    result.tls_keys_given = true;
    result.tls_keylog_lines_not_read = options.tls_keys->lines_not_read();
    result.tls_keylog_problems = options.tls_keys->problems();
  }
  // With a key log or without: RADIUS inside a session not read is traffic the verdict missed.
  result.tls_sessions_not_decrypted = static_cast<std::uint64_t>(
      std::count_if(result.tls_sessions.begin(), result.tls_sessions.end(), radius_not_read));
  result.issue_counts = stream.issue_counts();
  result.issue_counts.counts[static_cast<std::size_t>(IssueKind::not_radius)] += not_radius_count;
  result.issues = stream.issues();
  result.issues.insert(result.issues.end(), not_radius.begin(), not_radius.end());
  result.totals = tracker.totals();
  result.per_nas = tracker.per_nas();
  result.per_server = tracker.per_server();
  result.events = tracker.events();
  result.event_counts = tracker.event_counts();
  result.decode_errors = tracker.decode_errors();
  result.peak_open_exchanges = tracker.peak_open_exchanges();
  result.timeout_ns = options.timeout_ns;
  result.duplicate_window_ns = options.duplicate_window_ns;
  result.secrets_given = options.secrets != nullptr;
  return result;
}

} // namespace acctlab::capture
