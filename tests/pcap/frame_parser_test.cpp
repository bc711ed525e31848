#include "pcap/frame_parser.hpp"
#include "tests/pcap/capture_test_support.hpp"

#include <catch2/catch.hpp>

using namespace acctlab::capture;
using namespace acctlab::capture::test;

namespace {

std::vector<std::uint8_t> single_ip_packet(const UdpFrameSpec& spec,
                                           const std::vector<std::uint8_t>& payload) {
  std::vector<std::vector<std::uint8_t>> packets;
  build_ip_packets(spec, payload, packets);
  REQUIRE(packets.size() == 1);
  return packets[0];
}

std::vector<std::uint8_t> concat(std::vector<std::uint8_t> head,
                                 const std::vector<std::uint8_t>& tail) {
  head.insert(head.end(), tail.begin(), tail.end());
  return head;
}

void check_udp(const ParsedFrame& parsed, const UdpFrameSpec& spec,
               const std::vector<std::uint8_t>& payload) {
  REQUIRE(parsed.kind == FrameKind::udp);
  CHECK(parsed.source == spec.source.address);
  CHECK(parsed.destination == spec.destination.address);
  CHECK(parsed.source_port == spec.source.port);
  CHECK(parsed.destination_port == spec.destination.port);
  CHECK(std::vector<std::uint8_t>(parsed.payload.begin(), parsed.payload.end()) == payload);
}

} // namespace

TEST_CASE("Ethernet with no, one and two VLAN tags", "[pcap][frame]") {
  const auto payload = tagged_payload(7, 100);
  for (std::vector<std::uint16_t> tags :
       {std::vector<std::uint16_t>{}, {42}, {100, 200}, {1, 2, 3}}) {
    auto spec = spec_v4(0);
    spec.vlan_ids = tags;
    std::vector<std::vector<std::uint8_t>> frames;
    build_ethernet_frames(spec, payload, frames);
    ParsedFrame parsed;
    parse_frame(link_type::ethernet, frames[0], parsed);
    check_udp(parsed, spec, payload);
    CHECK(parsed.vlan_count == tags.size());
    for (std::size_t i = 0; i < std::min<std::size_t>(2, tags.size()); ++i) {
      CHECK(parsed.vlan_ids[i] == tags[i]);
    }
  }
}

TEST_CASE("Ethernet padding is not part of the datagram", "[pcap][frame]") {
  const auto payload = tagged_payload(9, 4); // 20 + 8 + 4 = 32 octets of IP: padded to 60
  auto spec = spec_v4(0);
  std::vector<std::vector<std::uint8_t>> frames;
  build_ethernet_frames(spec, payload, frames);
  CHECK(frames[0].size() == 60);
  ParsedFrame parsed;
  parse_frame(link_type::ethernet, frames[0], parsed);
  check_udp(parsed, spec, payload);
}

TEST_CASE("IPv6 with hop-by-hop, routing and destination options headers", "[pcap][frame]") {
  const auto payload = tagged_payload(11, 64);
  auto spec = spec_v6(0);
  spec.ipv6_extensions = {0, 43, 60};
  std::vector<std::vector<std::uint8_t>> frames;
  build_ethernet_frames(spec, payload, frames);
  ParsedFrame parsed;
  parse_frame(link_type::ethernet, frames[0], parsed);
  check_udp(parsed, spec, payload);
}

TEST_CASE("IPv4 options are skipped by IHL", "[pcap][frame]") {
  const auto payload = tagged_payload(12, 30);
  auto spec = spec_v4(0);
  auto packet = single_ip_packet(spec, payload);
  // Insert 8 octets of options (NOPs, then End of Option List) and fix IHL and Total Length.
  packet.insert(packet.begin() + 20, {1, 1, 1, 1, 1, 1, 1, 0});
  packet[0] = 0x47;
  const auto total = static_cast<std::uint16_t>(packet.size());
  packet[2] = static_cast<std::uint8_t>(total >> 8);
  packet[3] = static_cast<std::uint8_t>(total);
  ParsedFrame parsed;
  parse_frame(link_type::raw, packet, parsed);
  check_udp(parsed, spec, payload);
}

TEST_CASE("Linux cooked v1 and v2, raw IP and loopback link layers", "[pcap][frame]") {
  const auto payload = tagged_payload(13, 50);
  for (bool v6 : {false, true}) {
    const auto spec = v6 ? spec_v6(0) : spec_v4(0);
    const auto packet = single_ip_packet(spec, payload);
    const std::uint8_t proto_hi = v6 ? 0x86 : 0x08;
    const std::uint8_t proto_lo = v6 ? 0xDD : 0x00;
    ParsedFrame parsed;

    // SLL: packet type, ARPHRD_ETHER, address length 6, address (8), protocol.
    auto sll = concat({0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, proto_hi, proto_lo}, packet);
    parse_frame(link_type::linux_sll, sll, parsed);
    check_udp(parsed, spec, payload);

    // SLL2: protocol, reserved, ifindex, ARPHRD_ETHER, packet type, address length, address.
    auto sll2 =
        concat({proto_hi, proto_lo, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0}, packet);
    parse_frame(link_type::linux_sll2, sll2, parsed);
    check_udp(parsed, spec, payload);

    for (int dlt : {link_type::raw, link_type::raw_bsd, v6 ? link_type::ipv6 : link_type::ipv4}) {
      parse_frame(dlt, packet, parsed);
      check_udp(parsed, spec, payload);
    }
    // The wrong fixed-version link type refuses the packet.
    parse_frame(v6 ? link_type::ipv4 : link_type::ipv6, packet, parsed);
    CHECK(parsed.kind == FrameKind::invalid);

    // Loopback: AF_INET 2; AF_INET6 as Linux (10), BSDs (24, 28) and Darwin (30); both orders.
    std::vector<std::uint32_t> families =
        v6 ? std::vector<std::uint32_t>{10, 24, 28, 30} : std::vector<std::uint32_t>{2};
    for (auto family : families) {
      const auto f = static_cast<std::uint8_t>(family);
      for (int dlt : {link_type::null, link_type::loop}) {
        // The frames must outlive the checks: the parsed payload points into them.
        const auto little = concat({f, 0, 0, 0}, packet);
        parse_frame(dlt, little, parsed);
        check_udp(parsed, spec, payload);
        const auto big = concat({0, 0, 0, f}, packet);
        parse_frame(dlt, big, parsed);
        check_udp(parsed, spec, payload);
      }
    }
  }
}

TEST_CASE("Non-IP, non-UDP and unknown link layers are told apart", "[pcap][frame]") {
  ParsedFrame parsed;
  std::vector<std::uint8_t> arp(60, 0);
  arp[12] = 0x08;
  arp[13] = 0x06;
  CHECK(parse_frame(link_type::ethernet, arp, parsed) == FrameKind::not_ip);

  auto spec = spec_v4(0);
  auto packet = single_ip_packet(spec, tagged_payload(1, 10));
  packet[9] = 6; // TCP
  CHECK(parse_frame(link_type::raw, packet, parsed) == FrameKind::other_ip);
  CHECK(parse_frame(147, packet, parsed) == FrameKind::not_ip); // DLT_USER0
  CHECK_FALSE(link_type_supported(147));
  CHECK(link_type_supported(link_type::linux_sll2));
}

TEST_CASE("Fragments are reported with offset, flag and identification", "[pcap][frame]") {
  const auto payload = tagged_payload(21, 3000);
  for (bool v6 : {false, true}) {
    auto spec = v6 ? spec_v6(0) : spec_v4(0);
    spec.ip_id = 0x1234;
    spec.fragment_size = 1400;
    std::vector<std::vector<std::uint8_t>> packets;
    build_ip_packets(spec, payload, packets);
    REQUIRE(packets.size() == 3);
    for (std::size_t i = 0; i < packets.size(); ++i) {
      ParsedFrame parsed;
      REQUIRE(parse_frame(link_type::raw, packets[i], parsed) == FrameKind::fragment);
      CHECK(parsed.fragment_id == 0x1234);
      CHECK(parsed.fragment_offset == i * 1400);
      CHECK(parsed.more_fragments == (i < 2));
      CHECK(parsed.protocol == 17);
    }
  }
}

TEST_CASE("Malformed lengths are invalid, never read beyond the frame", "[pcap][frame]") {
  auto spec = spec_v4(0);
  auto packet = single_ip_packet(spec, tagged_payload(3, 40));
  ParsedFrame parsed;

  auto bad_ihl = packet;
  bad_ihl[0] = 0x44;
  CHECK(parse_frame(link_type::raw, bad_ihl, parsed) == FrameKind::invalid);
  CHECK(parsed.issue == IssueKind::ip_header_invalid);

  auto short_total = packet;
  short_total[2] = 0;
  short_total[3] = 10;
  CHECK(parse_frame(link_type::raw, short_total, parsed) == FrameKind::invalid);
  CHECK(parsed.issue == IssueKind::ip_length_invalid);
  CHECK_FALSE(parsed.beyond_capture);

  auto long_udp = packet;
  long_udp[20 + 5] = 200; // UDP Length beyond the IP payload
  CHECK(parse_frame(link_type::raw, long_udp, parsed) == FrameKind::invalid);
  CHECK(parsed.issue == IssueKind::udp_length_invalid);

  auto short_udp = packet;
  short_udp[20 + 4] = 0;
  short_udp[20 + 5] = 7;
  CHECK(parse_frame(link_type::raw, short_udp, parsed) == FrameKind::invalid);
  CHECK(parsed.issue == IssueKind::udp_length_invalid);

  auto v6spec = spec_v6(0);
  v6spec.ipv6_extensions = {0};
  auto v6 = single_ip_packet(v6spec, tagged_payload(3, 40));
  v6[41] = 200; // hop-by-hop length far beyond the payload
  CHECK(parse_frame(link_type::raw, v6, parsed) == FrameKind::invalid);
  CHECK(parsed.issue == IssueKind::ipv6_extension_invalid);
}

TEST_CASE("Every prefix of a frame is handled: truncation is beyond the capture", "[pcap][frame]") {
  auto spec = spec_v6(0);
  spec.vlan_ids = {5, 6};
  spec.ipv6_extensions = {0, 60};
  std::vector<std::vector<std::uint8_t>> frames;
  build_ethernet_frames(spec, tagged_payload(4, 80), frames);
  const auto& frame = frames[0];
  for (std::size_t n = 0; n < frame.size(); ++n) {
    ParsedFrame parsed;
    const auto kind = parse_frame(link_type::ethernet, {frame.data(), n}, parsed);
    INFO("prefix " << n);
    REQUIRE(kind == FrameKind::invalid);
    CHECK(parsed.beyond_capture);
  }
}

TEST_CASE("Every single-octet change of a frame is handled", "[pcap][frame]") {
  auto spec = spec_v4(0);
  spec.vlan_ids = {5};
  std::vector<std::vector<std::uint8_t>> frames;
  build_ethernet_frames(spec, tagged_payload(4, 60), frames);
  std::size_t udp = 0;
  for (std::size_t i = 0; i < frames[0].size(); ++i) {
    for (int v : {0x00, 0x45, 0x81, 0xFF}) {
      auto frame = frames[0];
      frame[i] = static_cast<std::uint8_t>(v);
      ParsedFrame parsed;
      if (parse_frame(link_type::ethernet, frame, parsed) == FrameKind::udp) {
        ++udp;
        // Whatever survived must lie inside the frame.
        CHECK(parsed.payload.data() >= frame.data());
        CHECK(parsed.payload.data() + parsed.payload.size() <= frame.data() + frame.size());
      }
    }
  }
  CHECK(udp > 0);
}

TEST_CASE("ICMP Port Unreachable names the quoted datagram's ports", "[pcap][frame]") {
  // A RADIUS-sized payload to port 1813, quoted whole (as Linux quotes it), quoted minimally
  // (RFC 792: the IP header and 8 octets), and in the ways that make it no Port Unreachable.
  const auto payload = tagged_payload(7, 40);
  const auto spec = spec_v4(0);
  const auto datagram = single_ip_packet(spec, payload);
  const std::vector<std::uint8_t> header{3, 3, 0, 0, 0, 0, 0, 0}; // type 3, code 3
  PortUnreachable out; // its span points into the message: each one is kept in a variable
  const auto whole = concat(header, datagram);
  REQUIRE(parse_port_unreachable(1, whole, out));
  CHECK(out.sender == spec.source);
  CHECK(out.receiver == spec.destination);
  CHECK(std::vector<std::uint8_t>(out.quoted_payload.begin(), out.quoted_payload.end()) == payload);

  const std::vector<std::uint8_t> minimal(datagram.begin(), datagram.begin() + 20 + 8);
  const auto minimal_message = concat(header, minimal);
  REQUIRE(parse_port_unreachable(1, minimal_message, out));
  CHECK(out.receiver.port == 1813);
  CHECK(out.quoted_payload.empty());

  const std::vector<std::uint8_t> short_quote(datagram.begin(), datagram.begin() + 20 + 7);
  CHECK_FALSE(parse_port_unreachable(1, concat(header, short_quote), out));
  auto host_unreachable = concat(header, datagram);
  host_unreachable[1] = 1;
  CHECK_FALSE(parse_port_unreachable(1, host_unreachable, out));
  CHECK_FALSE(parse_port_unreachable(58, concat(header, datagram), out)); // ICMPv6's numbering
  auto tcp = concat(header, datagram);
  tcp[8 + 9] = 6;
  CHECK_FALSE(parse_port_unreachable(1, tcp, out));
  auto later_fragment = concat(header, datagram);
  later_fragment[8 + 7] = 1; // fragment offset 8: no UDP header in it
  CHECK_FALSE(parse_port_unreachable(1, later_fragment, out));

  // ICMPv6 (RFC 4443 §3.1: type 1, code 4) quoting an IPv6 datagram.
  const auto spec6 = spec_v6(0);
  const auto datagram6 = single_ip_packet(spec6, payload);
  const std::vector<std::uint8_t> header6{1, 4, 0, 0, 0, 0, 0, 0};
  const auto whole6 = concat(header6, datagram6);
  REQUIRE(parse_port_unreachable(58, whole6, out));
  CHECK(out.sender == spec6.source);
  CHECK(out.receiver == spec6.destination);
  CHECK(out.quoted_payload.size() == payload.size());

  // Every prefix of either is handled without reading past it.
  for (const auto* message : {&whole, &whole6}) {
    const std::uint8_t protocol = (*message)[0] == 3 ? 1 : 58;
    for (std::size_t n = 0; n <= message->size(); ++n) {
      const std::vector<std::uint8_t> prefix(message->begin(), message->begin() + n);
      PortUnreachable p;
      if (parse_port_unreachable(protocol, prefix, p)) {
        CHECK(p.quoted_payload.data() >= prefix.data());
        CHECK(p.quoted_payload.data() + p.quoted_payload.size() <= prefix.data() + prefix.size());
      }
    }
  }
}
