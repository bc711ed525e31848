#include "conformance/pcap_trace.hpp"

#include "pcap/capture_reader.hpp"

#include <algorithm>

namespace acctlab::conformance {

PcapTraceResult load_trace_from_pcap(const std::vector<std::string>& files,
                                     const std::vector<std::uint16_t>& extra_ports) {
  PcapTraceResult result;
  capture::StreamOptions options;
  options.extra_ports = extra_ports;
  capture::DatagramStream stream(files, options);
  capture::UdpDatagram datagram;
  const auto is_server_port = [&](std::uint16_t port) {
    return std::find(std::begin(capture::radius_ports), std::end(capture::radius_ports), port) !=
               std::end(capture::radius_ports) ||
           std::find(extra_ports.begin(), extra_ports.end(), port) != extra_ports.end();
  };
  while (stream.next(datagram)) {
    TracePacket packet;
    packet.time = static_cast<double>(datagram.timestamp_ns) / 1e9;
    packet.source = datagram.source.to_string();
    packet.destination = datagram.destination.to_string();
    // The server side is the one on a RADIUS port; when both are, the analysis decides by code.
    const bool to_server = is_server_port(datagram.destination.port);
    const bool from_server = is_server_port(datagram.source.port);
    packet.direction = to_server == from_server ? Direction::unknown
                       : to_server              ? Direction::to_server
                                                : Direction::from_server;
    packet.raw.assign(datagram.payload.begin(), datagram.payload.end());
    packet.file = datagram.file_index < files.size() ? files[datagram.file_index] : std::string();
    packet.frame = datagram.frame;
    result.trace.packets.push_back(std::move(packet));
  }
  result.frames = stream.stats().frames;
  result.issues = stream.issues().size();
  for (const auto& summary : stream.files()) {
    if (!summary.complete) {
      result.errors.push_back(summary.path +
                              (summary.link_type < 0 ? ": cannot open" : ": ends in an error"));
    }
  }
  return result;
}

} // namespace acctlab::conformance
