#pragma once
// Decodes one captured frame down to UDP: link layer (Ethernet with 802.1Q/802.1ad tags, Linux
// cooked v1/v2, raw IP, BSD loopback), IPv4 (with options), IPv6 (with extension headers), UDP.
// Pure and allocation-free: the result points into the frame. Fragments are reported for the
// reassembler rather than decoded.

#include "pcap/capture_issue.hpp"
#include "pcap/ip_address.hpp"

#include <cstdint>
#include <span>

namespace acctlab::capture {

/** libpcap DLT values this parser decodes (Linux numbering; LINKTYPE_LOOP is 108 here). */
namespace link_type {
inline constexpr int null = 0;           // DLT_NULL: 4-octet address family, capturer's byte order
inline constexpr int ethernet = 1;       // DLT_EN10MB
inline constexpr int raw = 12;           // DLT_RAW as libpcap maps LINKTYPE_RAW (101) on Linux
inline constexpr int raw_bsd = 14;       // DLT_RAW on BSDs, seen in old files
inline constexpr int raw_linktype = 101; // LINKTYPE_RAW, should a reader pass it through
inline constexpr int loop = 108;         // DLT_LOOP: 4-octet address family, network byte order
inline constexpr int linux_sll = 113;    // DLT_LINUX_SLL
inline constexpr int ipv4 = 228;         // DLT_IPV4
inline constexpr int ipv6 = 229;         // DLT_IPV6
inline constexpr int linux_sll2 = 276;   // DLT_LINUX_SLL2
} // namespace link_type

/** True for the link types parse_frame understands. */
bool link_type_supported(int dlt) noexcept;

enum class FrameKind : std::uint8_t {
  udp,      // a whole UDP datagram: payload is its data
  fragment, // an IP fragment of a UDP datagram: payload is the fragment's data
  other_ip, // IP but not UDP (or a fragment of something else)
  not_ip,   // ARP, LLDP and the like
  invalid,  // see ParsedFrame::issue
};

struct ParsedFrame {
  FrameKind kind = FrameKind::invalid;
  IssueKind issue = IssueKind::link_header_truncated; // when kind == invalid
  // True when the IP or UDP length pointed beyond the captured octets: with a snaplen-cut frame
  // this is cut_by_snaplen rather than a malformed packet.
  bool beyond_capture = false;

  std::uint8_t vlan_count = 0;        // tags seen (more than two are skipped but counted)
  std::uint16_t vlan_ids[2] = {0, 0}; // outer first

  IpAddress source;
  IpAddress destination;
  std::uint16_t source_port = 0;      // udp only
  std::uint16_t destination_port = 0; // udp only

  // Fragment fields (kind == fragment).
  std::uint32_t fragment_id = 0;     // IPv4 Identification or IPv6 Fragment Identification
  std::uint32_t fragment_offset = 0; // in octets
  bool more_fragments = false;
  // The transport (or, for IPv6, next) header the fragment carries; for other_ip, the transport
  // protocol, with payload its header and data (TCP for the RadSec session tracker).
  std::uint8_t protocol = 0;

  std::span<const std::uint8_t> payload;
};

/** Decodes one frame captured with the given DLT. Never throws; invalid input gives kind invalid.
 */
FrameKind parse_frame(int dlt, std::span<const std::uint8_t> frame, ParsedFrame& out) noexcept;

/**
 * Decodes a reassembled datagram's payload: protocol is ParsedFrame::protocol of its fragments
 * (for IPv6, further extension headers may precede UDP). Addresses in out are left as they are.
 */
FrameKind parse_reassembled(IpAddress::Family family, std::uint8_t protocol,
                            std::span<const std::uint8_t> payload, ParsedFrame& out) noexcept;

/**
 * An ICMP error saying a UDP datagram's destination port was closed: Destination Unreachable,
 * Port Unreachable (RFC 792: type 3, code 3; RFC 4443: type 1, code 4), and the datagram it
 * quotes (RFC 792 quotes its IP header and at least 8 octets, RFC 1812 §4.3.2.3 and RFC 4443
 * as much as fits: the UDP header and the start of the payload).
 */
struct PortUnreachable {
  Endpoint sender;                              // of the quoted datagram
  Endpoint receiver;                            // its closed port
  std::span<const std::uint8_t> quoted_payload; // the UDP payload octets the error quotes
};

/**
 * Reads an ICMP or ICMPv6 message (other_ip's payload, protocol 1 or 58) as a Port Unreachable
 * for a UDP datagram; false for any other message or a quote too short to name both ports.
 * Never throws: a malformed quote is simply not one.
 */
bool parse_port_unreachable(std::uint8_t protocol, std::span<const std::uint8_t> icmp,
                            PortUnreachable& out) noexcept;

} // namespace acctlab::capture
