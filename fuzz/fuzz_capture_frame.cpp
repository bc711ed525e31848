// libFuzzer target: arbitrary bytes through the link-layer / IP / UDP parser, the ICMP Port
// Unreachable reader and the fragment reassembler. The first two octets choose the link type; the
// rest is the frame.

#include "pcap/fragment_reassembler.hpp"
#include "pcap/frame_parser.hpp"

#include <cstddef>
#include <cstdint>
#include <span>

namespace {

constexpr int link_types[] = {
    acctlab::capture::link_type::ethernet,   acctlab::capture::link_type::linux_sll,
    acctlab::capture::link_type::linux_sll2, acctlab::capture::link_type::raw,
    acctlab::capture::link_type::null,       acctlab::capture::link_type::loop,
    acctlab::capture::link_type::ipv4,       acctlab::capture::link_type::ipv6,
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace acctlab::capture;
  if (size < 2) {
    return 0;
  }
  // One reassembler for the whole run, small limits: fragments of different inputs meet.
  static FragmentReassembler reassembler(ReassemblyLimits{8, 64 * 1024, 1'000'000'000});
  static std::int64_t clock_ns = 0;
  const int dlt = link_types[data[0] % std::size(link_types)];
  const std::span<const std::uint8_t> frame(data + 2, size - 2);
  ParsedFrame parsed;
  const FrameKind kind = parse_frame(dlt, frame, parsed);
  volatile std::uint8_t sink = 0;
  if (kind == FrameKind::udp) {
    for (auto b : parsed.payload) {
      sink = sink ^ b; // touch every payload octet so ASan checks the span
    }
  } else if (kind == FrameKind::other_ip) {
    PortUnreachable quoted;
    if (parse_port_unreachable(parsed.protocol, parsed.payload, quoted)) {
      for (auto b : quoted.quoted_payload) {
        sink = sink ^ b;
      }
    }
  } else if (kind == FrameKind::fragment) {
    clock_ns += 100'000'000 * (data[1] & 0x0F);
    const auto whole = reassembler.add(parsed, clock_ns, {0, 1});
    if (!whole.empty()) {
      ParsedFrame inner = parsed;
      if (parse_reassembled(parsed.source.family, parsed.protocol, whole, inner) ==
          FrameKind::udp) {
        for (auto b : inner.payload) {
          sink = sink ^ b;
        }
      }
    }
  }
  return 0;
}
