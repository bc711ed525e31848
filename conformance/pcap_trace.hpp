#pragma once
// The capture door: RADIUS datagrams read from pcap/pcapng files (through the pcap module's
// DatagramStream: link layers, VLANs, IPv4/IPv6, reassembled fragments) become a Trace whose
// packets carry their file and frame number, so findings point at Wireshark's frame numbers.

#include "conformance/trace.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace acctlab::conformance {

struct PcapTraceResult {
  Trace trace;
  std::uint64_t frames = 0;
  std::uint64_t issues = 0;        // frames the reader could not use (counted by the pcap module)
  std::vector<std::string> errors; // files that did not open or ended in an error
};

/** Reads every datagram on a RADIUS port (1812, 1813, 1645, 1646 and extra_ports). */
PcapTraceResult load_trace_from_pcap(const std::vector<std::string>& files,
                                     const std::vector<std::uint16_t>& extra_ports = {});

} // namespace acctlab::conformance
