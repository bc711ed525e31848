#include "pcap/capture_analysis.hpp"

#include "radius/packet_codec.hpp"

#include <algorithm>

namespace acctlab::capture {

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
  tracker_options.secrets = options.secrets;
  if (options.csv) {
    options.csv(ExchangeTracker::csv_header());
    tracker_options.csv = options.csv;
  }
  ExchangeTracker tracker(tracker_options, dict);

  AnalysisResult result;
  UdpDatagram datagram;
  while (stream.next(datagram)) {
    ++result.radius_datagrams;
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
  result.issue_counts = stream.issue_counts();
  result.issues = stream.issues();
  result.totals = tracker.totals();
  result.per_nas = tracker.per_nas();
  result.per_server = tracker.per_server();
  result.events = tracker.events();
  result.event_counts = tracker.event_counts();
  result.decode_errors = tracker.decode_errors();
  result.peak_open_exchanges = tracker.peak_open_exchanges();
  result.timeout_ns = options.timeout_ns;
  result.secrets_given = options.secrets != nullptr;
  return result;
}

} // namespace acctlab::capture
