#include "pcap/frame_parser.hpp"

namespace acctlab::capture {
namespace {

using Bytes = std::span<const std::uint8_t>;

inline std::uint16_t be16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}
inline std::uint32_t be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         p[3];
}
inline std::uint32_t le32(const std::uint8_t* p) {
  return (std::uint32_t{p[3]} << 24) | (std::uint32_t{p[2]} << 16) | (std::uint32_t{p[1]} << 8) |
         p[0];
}

constexpr std::uint16_t ethertype_ipv4 = 0x0800;
constexpr std::uint16_t ethertype_ipv6 = 0x86DD;
constexpr std::uint16_t ethertype_vlan = 0x8100;     // IEEE 802.1Q C-tag
constexpr std::uint16_t ethertype_qinq = 0x88A8;     // IEEE 802.1ad S-tag
constexpr std::uint16_t ethertype_qinq_old = 0x9100; // pre-standard QinQ, still in the field
constexpr std::size_t max_vlan_tags = 8;
constexpr std::size_t max_ipv6_extension_headers = 16;
constexpr std::uint8_t ip_proto_udp = 17;

FrameKind fail(ParsedFrame& out, IssueKind issue, bool beyond_capture = false) {
  out.kind = FrameKind::invalid;
  out.issue = issue;
  out.beyond_capture = beyond_capture;
  return out.kind;
}

FrameKind done(ParsedFrame& out, FrameKind kind) {
  out.kind = kind;
  return kind;
}

FrameKind parse_udp_header(Bytes data, ParsedFrame& out) {
  if (data.size() < 8) {
    return fail(out, IssueKind::udp_header_truncated);
  }
  const std::uint16_t length = be16(data.data() + 4);
  // RFC 768: Length covers header and data, so it is at least 8; a Length beyond the IP payload
  // means the datagram is malformed (the IP layer already bounded it by what was captured).
  if (length < 8 || length > data.size()) {
    return fail(out, IssueKind::udp_length_invalid);
  }
  out.source_port = be16(data.data());
  out.destination_port = be16(data.data() + 2);
  out.payload = data.subspan(8, length - 8u);
  return done(out, FrameKind::udp);
}

// Walks an IPv6 extension-header chain starting at next_header (RFC 8200 §4) to UDP.
FrameKind walk_ipv6_chain(std::uint8_t next_header, Bytes data, ParsedFrame& out,
                          bool fragments_allowed) {
  for (std::size_t n = 0; n <= max_ipv6_extension_headers; ++n) {
    switch (next_header) {
      case ip_proto_udp:
        return parse_udp_header(data, out);
      case 0:   // Hop-by-Hop Options
      case 43:  // Routing
      case 60:  // Destination Options
      case 135: // Mobility (RFC 6275)
      case 139: // HIP (RFC 7401)
      case 140: // Shim6 (RFC 5533)
      {
        if (data.size() < 2) {
          return fail(out, IssueKind::ipv6_extension_invalid);
        }
        const std::size_t length = (std::size_t{data[1]} + 1) * 8;
        if (length > data.size()) {
          return fail(out, IssueKind::ipv6_extension_invalid);
        }
        next_header = data[0];
        data = data.subspan(length);
        break;
      }
      case 51: { // Authentication Header, RFC 4302 §2.2: length in 4-octet units minus 2
        if (data.size() < 2) {
          return fail(out, IssueKind::ipv6_extension_invalid);
        }
        const std::size_t length = (std::size_t{data[1]} + 2) * 4;
        if (length > data.size()) {
          return fail(out, IssueKind::ipv6_extension_invalid);
        }
        next_header = data[0];
        data = data.subspan(length);
        break;
      }
      case 44: { // Fragment, RFC 8200 §4.5
        if (data.size() < 8 || !fragments_allowed) {
          return fail(out, IssueKind::ipv6_extension_invalid);
        }
        const std::uint16_t offset_field = be16(data.data() + 2);
        const std::uint32_t offset = offset_field & 0xFFF8u;
        const bool more = (offset_field & 1u) != 0;
        const std::uint32_t identification = be32(data.data() + 4);
        next_header = data[0];
        data = data.subspan(8);
        if (offset == 0 && !more) {
          // RFC 6946: an atomic fragment is processed as a whole packet.
          fragments_allowed = false;
          break;
        }
        out.fragment_id = identification;
        out.fragment_offset = offset;
        out.more_fragments = more;
        out.protocol = next_header;
        out.payload = data;
        // Only UDP (possibly behind Destination Options) is worth the reassembler's memory.
        return done(out, next_header == ip_proto_udp || next_header == 60 ? FrameKind::fragment
                                                                          : FrameKind::other_ip);
      }
      default:                      // No Next Header (59), ESP, TCP, ICMPv6, ...
        out.protocol = next_header; // TCP's segment goes to the RadSec session tracker
        out.payload = data;
        return done(out, FrameKind::other_ip);
    }
  }
  return fail(out, IssueKind::ipv6_extension_invalid);
}

FrameKind parse_ipv4(Bytes data, ParsedFrame& out) {
  if (data.size() < 20) {
    return fail(out, IssueKind::ip_header_invalid, true);
  }
  const std::uint8_t* h = data.data();
  if ((h[0] >> 4) != 4) {
    return fail(out, IssueKind::ip_header_invalid);
  }
  const std::size_t header_length = std::size_t{h[0] & 0x0Fu} * 4; // RFC 791: IHL, with options
  if (header_length < 20) {
    return fail(out, IssueKind::ip_header_invalid);
  }
  if (header_length > data.size()) {
    return fail(out, IssueKind::ip_header_invalid, true);
  }
  const std::size_t total_length = be16(h + 2);
  if (total_length < header_length) {
    return fail(out, IssueKind::ip_length_invalid);
  }
  if (total_length > data.size()) {
    return fail(out, IssueKind::ip_length_invalid, true);
  }
  out.source = IpAddress::v4(h + 12);
  out.destination = IpAddress::v4(h + 16);
  const std::uint8_t protocol = h[9];
  const std::uint16_t flags_offset = be16(h + 6);
  const bool more = (flags_offset & 0x2000u) != 0;
  const std::uint32_t offset = (flags_offset & 0x1FFFu) * 8u;
  const Bytes payload = data.subspan(header_length, total_length - header_length);
  if (more || offset != 0) {
    if (protocol != ip_proto_udp) {
      return done(out, FrameKind::other_ip);
    }
    out.fragment_id = be16(h + 4);
    out.fragment_offset = offset;
    out.more_fragments = more;
    out.protocol = protocol;
    out.payload = payload;
    return done(out, FrameKind::fragment);
  }
  if (protocol != ip_proto_udp) {
    out.protocol = protocol; // TCP's segment goes to the RadSec session tracker
    out.payload = payload;
    return done(out, FrameKind::other_ip);
  }
  return parse_udp_header(payload, out);
}

FrameKind parse_ipv6(Bytes data, ParsedFrame& out) {
  if (data.size() < 40) {
    return fail(out, IssueKind::ip_header_invalid, true);
  }
  const std::uint8_t* h = data.data();
  if ((h[0] >> 4) != 6) {
    return fail(out, IssueKind::ip_header_invalid);
  }
  const std::size_t payload_length = be16(h + 4);
  if (40 + payload_length > data.size()) {
    return fail(out, IssueKind::ip_length_invalid, true);
  }
  out.source = IpAddress::v6(h + 8);
  out.destination = IpAddress::v6(h + 24);
  return walk_ipv6_chain(h[6], data.subspan(40, payload_length), out, true);
}

FrameKind parse_ip(Bytes data, ParsedFrame& out) {
  if (data.empty()) {
    return fail(out, IssueKind::ip_header_invalid, true);
  }
  switch (data[0] >> 4) {
    case 4:
      return parse_ipv4(data, out);
    case 6:
      return parse_ipv6(data, out);
    default:
      return fail(out, IssueKind::ip_header_invalid);
  }
}

// Dispatches on an EtherType, peeling 802.1Q / 802.1ad tags (IEEE 802.1Q §9.6) first.
FrameKind parse_ethertype(std::uint16_t type, Bytes data, ParsedFrame& out) {
  std::size_t tags = 0;
  while (type == ethertype_vlan || type == ethertype_qinq || type == ethertype_qinq_old) {
    if (data.size() < 4) {
      return fail(out, IssueKind::link_header_truncated, true);
    }
    if (++tags > max_vlan_tags) {
      return done(out, FrameKind::not_ip);
    }
    if (out.vlan_count < 2) {
      out.vlan_ids[out.vlan_count] = be16(data.data()) & 0x0FFFu;
    }
    ++out.vlan_count;
    type = be16(data.data() + 2);
    data = data.subspan(4);
  }
  if (type < 0x0600) {
    // IEEE 802.3 length field: only LLC/SNAP with a zero OUI carries an EtherType (RFC 1042).
    if (data.size() >= 8 && data[0] == 0xAA && data[1] == 0xAA && data[2] == 0x03 && data[3] == 0 &&
        data[4] == 0 && data[5] == 0) {
      type = be16(data.data() + 6);
      data = data.subspan(8);
    } else {
      return done(out, FrameKind::not_ip);
    }
  }
  switch (type) {
    case ethertype_ipv4:
      return parse_ipv4(data, out);
    case ethertype_ipv6:
      return parse_ipv6(data, out);
    default:
      return done(out, FrameKind::not_ip);
  }
}

// DLT_NULL and DLT_LOOP: a 4-octet address family. DLT_NULL uses the capturing host's byte order
// and DLT_LOOP network order, but files with the other order exist; family values are below
// 65536, so the order is recognisable.
FrameKind parse_loopback(Bytes frame, ParsedFrame& out) {
  if (frame.size() < 4) {
    return fail(out, IssueKind::link_header_truncated, true);
  }
  std::uint32_t family = le32(frame.data());
  if (family > 0xFFFFu) {
    family = be32(frame.data());
  }
  switch (family) {
    case 2: // AF_INET everywhere
      return parse_ipv4(frame.subspan(4), out);
    case 10: // AF_INET6: Linux
    case 24: // NetBSD, OpenBSD, BSD/OS
    case 28: // FreeBSD, DragonFly
    case 30: // Darwin
      return parse_ipv6(frame.subspan(4), out);
    default:
      return done(out, FrameKind::not_ip);
  }
}

} // namespace

bool link_type_supported(int dlt) noexcept {
  switch (dlt) {
    case link_type::null:
    case link_type::ethernet:
    case link_type::raw:
    case link_type::raw_bsd:
    case link_type::raw_linktype:
    case link_type::loop:
    case link_type::linux_sll:
    case link_type::ipv4:
    case link_type::ipv6:
    case link_type::linux_sll2:
      return true;
    default:
      return false;
  }
}

FrameKind parse_frame(int dlt, std::span<const std::uint8_t> frame, ParsedFrame& out) noexcept {
  out.vlan_count = 0;
  out.beyond_capture = false;
  out.payload = {};
  out.protocol = 0;
  switch (dlt) {
    case link_type::ethernet:
      if (frame.size() < 14) {
        return fail(out, IssueKind::link_header_truncated, true);
      }
      return parse_ethertype(be16(frame.data() + 12), frame.subspan(14), out);
    case link_type::linux_sll: // 16-octet header, protocol last
      if (frame.size() < 16) {
        return fail(out, IssueKind::link_header_truncated, true);
      }
      return parse_ethertype(be16(frame.data() + 14), frame.subspan(16), out);
    case link_type::linux_sll2: // 20-octet header, protocol first
      if (frame.size() < 20) {
        return fail(out, IssueKind::link_header_truncated, true);
      }
      return parse_ethertype(be16(frame.data()), frame.subspan(20), out);
    case link_type::raw:
    case link_type::raw_bsd:
    case link_type::raw_linktype:
      return parse_ip(frame, out);
    case link_type::ipv4:
      return parse_ipv4(frame, out);
    case link_type::ipv6:
      return parse_ipv6(frame, out);
    case link_type::null:
    case link_type::loop:
      return parse_loopback(frame, out);
    default:
      return done(out, FrameKind::not_ip);
  }
}

FrameKind parse_reassembled(IpAddress::Family family, std::uint8_t protocol,
                            std::span<const std::uint8_t> payload, ParsedFrame& out) noexcept {
  out.beyond_capture = false;
  out.payload = {};
  if (family == IpAddress::Family::v6) {
    return walk_ipv6_chain(protocol, payload, out, false);
  }
  if (protocol != ip_proto_udp) {
    return done(out, FrameKind::other_ip);
  }
  return parse_udp_header(payload, out);
}

bool parse_port_unreachable(std::uint8_t protocol, Bytes icmp, PortUnreachable& out) noexcept {
  // 4 octets of type, code and checksum, 4 unused (RFC 792, RFC 4443 §3.1), then the quote.
  if (icmp.size() < 8) {
    return false;
  }
  Bytes quote = icmp.subspan(8);
  if (protocol == 1 && icmp[0] == 3 && icmp[1] == 3) {
    if (quote.size() < 20 || (quote[0] >> 4) != 4) {
      return false;
    }
    const std::size_t header_length = std::size_t{quote[0] & 0x0Fu} * 4;
    const bool first_fragment = (be16(quote.data() + 6) & 0x1FFFu) == 0;
    if (header_length < 20 || quote[9] != ip_proto_udp || !first_fragment ||
        quote.size() < header_length + 8) {
      return false;
    }
    out.sender.address = IpAddress::v4(quote.data() + 12);
    out.receiver.address = IpAddress::v4(quote.data() + 16);
    quote = quote.subspan(header_length);
  } else if (protocol == 58 && icmp[0] == 1 && icmp[1] == 4) {
    // The fixed IPv6 header with UDP next; a datagram behind extension headers is not followed.
    if (quote.size() < 40 + 8 || (quote[0] >> 4) != 6 || quote[6] != ip_proto_udp) {
      return false;
    }
    out.sender.address = IpAddress::v6(quote.data() + 8);
    out.receiver.address = IpAddress::v6(quote.data() + 24);
    quote = quote.subspan(40);
  } else {
    return false;
  }
  out.sender.port = be16(quote.data());
  out.receiver.port = be16(quote.data() + 2);
  // The UDP Length bounds the payload; the quote may hold less of it (or pad beyond it).
  const std::size_t udp_length = be16(quote.data() + 4);
  const std::size_t payload = udp_length >= 8 ? udp_length - 8 : 0;
  out.quoted_payload = quote.subspan(8, std::min(payload, quote.size() - 8));
  return true;
}

} // namespace acctlab::capture
