#include "pcap/capture_reader.hpp"
#include "tests/pcap/capture_test_support.hpp"
#include "tests/pcap/radius_test_packets.hpp"

#include <catch2/catch.hpp>
#include <fstream>
#include <initializer_list>

using namespace acctlab::capture;
using namespace acctlab::capture::test;

namespace {

std::unique_ptr<PcapWriter> create(const std::filesystem::path& path,
                                   PcapWriter::Precision precision = PcapWriter::Precision::micro,
                                   std::uint32_t snaplen = 65535, std::uint32_t link_type = 1) {
  std::string error;
  auto writer = PcapWriter::create(path.string(), error, precision, snaplen, link_type);
  INFO(error);
  REQUIRE(writer);
  return writer;
}

std::string tshark(const std::filesystem::path& file, const std::string& args) {
  return run("tshark -n -r '" + file.string() + "' " + args + " 2>/dev/null");
}

// A mixed capture: RADIUS on every port over IPv4, IPv6 with extension headers, VLAN, QinQ,
// fragmented datagrams (IPv4 and IPv6), plus traffic that must be filtered out.
struct MixedCapture {
  std::size_t radius_datagrams = 0;
  std::size_t udp_datagrams = 0;
  std::vector<std::uint32_t> radius_tags; // in write order
};

MixedCapture write_mixed(PcapWriter& writer) {
  MixedCapture m;
  double t = 0;
  std::uint32_t tag = 1;
  auto put = [&](UdpFrameSpec spec, std::size_t size, bool radius) {
    spec.ip_id = tag;
    REQUIRE(writer.write_udp(spec, tagged_payload(tag, size)));
    ++m.udp_datagrams;
    if (radius) {
      ++m.radius_datagrams;
      m.radius_tags.push_back(tag);
    }
    ++tag;
  };
  for (int round = 0; round < 5; ++round) {
    for (std::uint16_t port : {1812, 1813, 1645, 1646}) {
      put(spec_v4(t += 0.01, port), 60 + round, true);
    }
    put(spec_v4(t += 0.01, 53), 40, false); // DNS: not ours
    auto v6 = spec_v6(t += 0.01);
    v6.ipv6_extensions = {0, 43, 60};
    put(v6, 120, true);
    auto vlan = spec_v4(t += 0.01);
    vlan.vlan_ids = {10};
    put(vlan, 90, true);
    auto qinq = spec_v6(t += 0.01);
    qinq.vlan_ids = {100, 20};
    put(qinq, 90, true);
    auto frag = spec_v4(t += 0.01);
    frag.fragment_size = 1000;
    put(frag, 2500, true);
    auto frag6 = spec_v6(t += 0.01);
    frag6.fragment_size = 600;
    frag6.vlan_ids = {7};
    put(frag6, 1500, true);
  }
  // A non-IP frame (ARP) and a TCP segment on port 1813.
  std::vector<std::uint8_t> arp(60, 0);
  arp[12] = 0x08;
  arp[13] = 0x06;
  REQUIRE(writer.write_frame(spec_v4(t += 0.01).timestamp_ns, arp));
  std::vector<std::vector<std::uint8_t>> frames;
  build_ethernet_frames(spec_v4(0), tagged_payload(0, 20), frames);
  frames[0][14 + 9] = 6;
  frames[0][14 + 10] = 0;
  frames[0][14 + 11] = 0;
  const auto sum = internet_checksum({frames[0].data() + 14, 20});
  frames[0][14 + 10] = static_cast<std::uint8_t>(sum >> 8);
  frames[0][14 + 11] = static_cast<std::uint8_t>(sum);
  REQUIRE(writer.write_frame(spec_v4(t += 0.01).timestamp_ns, frames[0]));
  return m;
}

} // namespace

TEST_CASE("A mixed capture reads back as written, and tshark agrees", "[pcap][reader]") {
  const auto dir = scratch_dir("mixed");
  const auto file = dir / "mixed.pcap";
  auto writer = create(file);
  const auto written = write_mixed(*writer);
  REQUIRE(writer->close());

  DatagramStream stream({file.string()});
  const auto seen = read_all(stream);
  REQUIRE(seen.size() == written.radius_datagrams);
  for (std::size_t i = 0; i < seen.size(); ++i) {
    CHECK(seen[i].tag == written.radius_tags[i]);
    CHECK(seen[i].file_index == 0);
  }
  CHECK(stream.stats().frames == writer->frames_written());
  CHECK(stream.stats().udp == written.udp_datagrams);
  CHECK(stream.stats().not_ip == 1);
  CHECK(stream.stats().other_ip == 1);
  CHECK(stream.stats().reassembled == 10);
  CHECK(stream.issue_counts().total() == 0);
  REQUIRE(stream.files().size() == 1);
  CHECK(stream.files()[0].complete);
  CHECK(stream.files()[0].link_type == link_type::ethernet);

  // tshark: same frame count, the same number of whole UDP datagrams, each reassembled one in
  // the frame we report, and every IP and UDP checksum good.
  CHECK(count_lines(tshark(file, "-T fields -e frame.number")) == writer->frames_written());
  CHECK(count_lines(tshark(file, "-Y udp -T fields -e frame.number")) == written.udp_datagrams);
  std::string reassembled_frames;
  for (const auto& s : seen) {
    if (s.reassembled) {
      reassembled_frames += std::to_string(s.frame) + "\n";
    }
  }
  CHECK(tshark(file, "-Y 'udp && (ip.fragment || ipv6.fragment)' -T fields -e frame.number") ==
        reassembled_frames);
  const auto bad = tshark(file, "-o ip.check_checksum:TRUE -o udp.check_checksum:TRUE "
                                "-Y 'ip.checksum.status == 0 || udp.checksum.status == 0' "
                                "-T fields -e frame.number");
  CHECK(bad.empty());
  const auto good_udp = tshark(file, "-o udp.check_checksum:TRUE -Y 'udp.checksum.status == 1' "
                                     "-T fields -e frame.number");
  CHECK(count_lines(good_udp) == written.udp_datagrams);
}

TEST_CASE("pcapng (via editcap) and nanosecond pcap read the same datagrams", "[pcap][reader]") {
  const auto dir = scratch_dir("formats");
  const auto micro = dir / "micro.pcap";
  const auto nano = dir / "nano.pcap";
  MixedCapture written;
  {
    auto w = create(micro);
    written = write_mixed(*w);
  }
  {
    auto w = create(nano, PcapWriter::Precision::nano);
    auto spec = spec_v4(0.123456789);
    REQUIRE(w->write_udp(spec, tagged_payload(1, 30)));
  }
  const auto ng = dir / "mixed.pcapng";
  int rc = -1;
  run("editcap -F pcapng '" + micro.string() + "' '" + ng.string() + "' 2>&1", &rc);
  REQUIRE(rc == 0);
  CHECK(run("head -c 4 '" + ng.string() + "' | od -An -tx1") == " 0a 0d 0d 0a\n");

  DatagramStream a({micro.string()});
  DatagramStream b({ng.string()});
  const auto seen_a = read_all(a);
  const auto seen_b = read_all(b);
  REQUIRE(seen_a.size() == written.radius_datagrams);
  REQUIRE(seen_b.size() == seen_a.size());
  for (std::size_t i = 0; i < seen_a.size(); ++i) {
    CHECK(seen_b[i].tag == seen_a[i].tag);
    CHECK(seen_b[i].frame == seen_a[i].frame);
    CHECK(seen_b[i].timestamp_ns == seen_a[i].timestamp_ns);
  }
  CHECK(b.issue_counts().total() == 0);

  DatagramStream n({nano.string()});
  const auto seen_n = read_all(n);
  REQUIRE(seen_n.size() == 1);
  CHECK(seen_n[0].timestamp_ns == spec_v4(0.123456789).timestamp_ns);
  CHECK(seen_n[0].timestamp_ns % 1000 != 0); // the nanoseconds survived
}

TEST_CASE("A truncated file yields what it holds and says where it ends", "[pcap][reader]") {
  const auto dir = scratch_dir("truncated");
  const auto file = dir / "cut.pcap";
  {
    auto w = create(file);
    for (std::uint32_t i = 1; i <= 10; ++i) {
      REQUIRE(w->write_udp(spec_v4(i), tagged_payload(i, 100)));
    }
  }
  const auto size = std::filesystem::file_size(file);
  for (std::uintmax_t cut : {10u, 155u}) { // inside the last record's data; inside its header
    const auto shorter = dir / ("cut-" + std::to_string(cut) + ".pcap");
    std::filesystem::copy_file(file, shorter);
    std::filesystem::resize_file(shorter, size - cut);
    DatagramStream stream({shorter.string()});
    const auto seen = read_all(stream);
    CHECK(seen.size() == 9);
    REQUIRE(stream.issues().size() == 1);
    CHECK(stream.issues()[0].kind == IssueKind::file_truncated);
    CHECK(stream.issues()[0].frame == 10);
    CHECK_FALSE(stream.files()[0].complete);
    // tshark reads the same whole frames.
    CHECK(count_lines(tshark(shorter, "-T fields -e frame.number")) == seen.size());
  }
}

TEST_CASE("A corrupt record is reported and other files go on", "[pcap][reader]") {
  const auto dir = scratch_dir("corrupt");
  const auto bad = dir / "bad.pcap";
  const auto good = dir / "good.pcap";
  {
    auto w = create(bad);
    REQUIRE(w->write_udp(spec_v4(1), tagged_payload(1, 50)));
    REQUIRE(w->write_udp(spec_v4(2), tagged_payload(2, 50)));
  }
  {
    auto w = create(good);
    REQUIRE(w->write_udp(spec_v4(1.5), tagged_payload(3, 50)));
  }
  // Second record's captured length (offset 24 + 16 + frame + 8) becomes absurd.
  {
    std::fstream f(bad, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(24 + 8);
    std::uint32_t caplen = 0;
    f.read(reinterpret_cast<char*>(&caplen), 4);
    f.seekp(24 + 16 + caplen + 8);
    const std::uint32_t absurd = 0x7FFFFFF0;
    f.write(reinterpret_cast<const char*>(&absurd), 4);
  }
  const auto missing = dir / "missing.pcap";
  const auto text = dir / "text.pcap";
  std::ofstream(text) << "not a capture\n";
  DatagramStream stream({bad.string(), missing.string(), text.string(), good.string()});
  const auto seen = read_all(stream);
  REQUIRE(seen.size() == 2);
  CHECK(seen[0].tag == 1);
  CHECK(seen[1].tag == 3);
  CHECK(seen[1].file_index == 3);
  CHECK(stream.issue_counts()[IssueKind::file_corrupt] == 1);
  CHECK(stream.issue_counts()[IssueKind::file_open_failed] == 2);
  const auto& issues = stream.issues();
  REQUIRE(issues.size() == 3);
  CHECK(issues[0].file_index == 1);
  CHECK(issues[1].file_index == 2);
  CHECK(issues[2].kind == IssueKind::file_corrupt);
  CHECK(issues[2].file_index == 0);
  CHECK(issues[2].frame == 2);
  CHECK_FALSE(issues[2].detail.empty());
}

TEST_CASE("A datagram cut by the snaplen is reported with its frame", "[pcap][reader]") {
  const auto dir = scratch_dir("snaplen");
  const auto file = dir / "snap.pcap";
  {
    auto w = create(file, PcapWriter::Precision::micro, 200);
    REQUIRE(w->write_udp(spec_v4(1), tagged_payload(1, 100))); // fits
    REQUIRE(w->write_udp(spec_v4(2), tagged_payload(2, 400))); // cut
    REQUIRE(w->write_udp(spec_v4(3), tagged_payload(3, 150))); // fits
    REQUIRE(w->write_udp(spec_v6(4), tagged_payload(4, 300))); // cut
  }
  DatagramStream stream({file.string()});
  const auto seen = read_all(stream);
  REQUIRE(seen.size() == 2);
  CHECK(seen[0].tag == 1);
  CHECK(seen[1].tag == 3);
  CHECK(stream.issue_counts()[IssueKind::cut_by_snaplen] == 2);
  REQUIRE(stream.issues().size() == 2);
  CHECK(stream.issues()[0].frame == 2);
  CHECK(stream.issues()[1].frame == 4);
  // tshark sees the same two frames as shorter on the wire than captured.
  CHECK(tshark(file, "-Y 'frame.cap_len < frame.len' -T fields -e frame.number") == "2\n4\n");
}

TEST_CASE("Several files are one stream in time order, stable by file order", "[pcap][reader]") {
  const auto dir = scratch_dir("merge");
  const auto a = dir / "a.pcap";
  const auto b = dir / "b.pcap";
  {
    auto w = create(a);
    for (double t : {1.0, 3.0, 5.0, 5.0}) {
      REQUIRE(w->write_udp(spec_v4(t), tagged_payload(static_cast<std::uint32_t>(t * 10), 30)));
    }
  }
  {
    auto w = create(b, PcapWriter::Precision::nano);
    for (double t : {0.5, 3.0, 4.0, 6.0}) {
      REQUIRE(
          w->write_udp(spec_v4(t), tagged_payload(100 + static_cast<std::uint32_t>(t * 10), 30)));
    }
  }
  DatagramStream stream({a.string(), b.string()});
  const auto seen = read_all(stream);
  std::vector<std::uint32_t> tags;
  std::vector<std::uint64_t> frames;
  for (const auto& s : seen) {
    tags.push_back(s.tag);
    frames.push_back(s.frame);
  }
  CHECK(tags == std::vector<std::uint32_t>{105, 10, 30, 130, 140, 50, 50, 160});
  CHECK(frames == std::vector<std::uint64_t>{1, 1, 2, 2, 3, 3, 4, 4});
  for (std::size_t i = 1; i < seen.size(); ++i) {
    CHECK(seen[i - 1].timestamp_ns <= seen[i].timestamp_ns);
  }
}

TEST_CASE("Cooked, raw and loopback link types read through libpcap", "[pcap][reader]") {
  const auto dir = scratch_dir("linktypes");
  const auto payload = tagged_payload(42, 80);
  std::vector<std::string> files;
  struct Case {
    std::uint32_t linktype;
    std::vector<std::uint8_t> header;
  };
  for (bool v6 : {false, true}) {
    const std::uint8_t hi = v6 ? 0x86 : 0x08;
    const std::uint8_t lo = v6 ? 0xDD : 0x00;
    const std::uint8_t af = v6 ? 24 : 2; // BSD's AF_INET6, which tshark knows
    const std::vector<Case> cases = {
        {113, {0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, hi, lo}},
        {276, {hi, lo, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0}},
        {101, {}},
        {v6 ? 229u : 228u, {}},
        {0, {af, 0, 0, 0}},
        {108, {0, 0, 0, af}},
    };
    for (const auto& c : cases) {
      const auto file = dir / ("lt" + std::to_string(c.linktype) + (v6 ? "v6" : "v4") + ".pcap");
      const auto spec = v6 ? spec_v6(1) : spec_v4(1);
      {
        auto w = create(file, PcapWriter::Precision::micro, 65535, c.linktype);
        std::vector<std::vector<std::uint8_t>> packets;
        build_ip_packets(spec, payload, packets);
        auto frame = c.header;
        frame.insert(frame.end(), packets[0].begin(), packets[0].end());
        REQUIRE(w->write_frame(spec.timestamp_ns, frame));
      }
      DatagramStream stream({file.string()});
      UdpDatagram d;
      INFO("linktype " << c.linktype << (v6 ? " IPv6" : " IPv4"));
      REQUIRE(stream.next(d));
      CHECK(d.source == spec.source);
      CHECK(d.destination == spec.destination);
      CHECK(payload_tag(d.payload) == 42);
      CHECK(d.payload.size() == payload.size());
      CHECK_FALSE(stream.next(d));
      CHECK(stream.issue_counts().total() == 0);
      files.push_back(file.string());
    }
  }
  // tshark finds the same UDP datagram in each (one run over the files merged into one pcapng,
  // which keeps each file's link type).
  std::string list;
  for (const auto& f : files) {
    list += " '" + f + "'";
  }
  const auto merged = dir / "all.pcapng";
  int rc = -1;
  run("mergecap -w '" + merged.string() + "'" + list + " 2>&1", &rc);
  REQUIRE(rc == 0);
  std::string expected;
  for (std::size_t i = 0; i < files.size(); ++i) {
    expected += "1813\n";
  }
  CHECK(tshark(merged, "-Y udp -T fields -e udp.dstport") == expected);
  const auto unknown = dir / "user0.pcap";
  {
    auto w = create(unknown, PcapWriter::Precision::micro, 65535, 147);
    REQUIRE(w->write_frame(0, payload));
  }
  DatagramStream stream({unknown.string()});
  UdpDatagram d;
  CHECK_FALSE(stream.next(d));
  CHECK(stream.issue_counts()[IssueKind::unsupported_link_type] == 1);
}

TEST_CASE("The port filter takes RADIUS ports plus --port, or every port", "[pcap][reader]") {
  const auto dir = scratch_dir("ports");
  const auto file = dir / "ports.pcap";
  {
    auto w = create(file);
    std::uint32_t tag = 1;
    for (std::uint16_t port : {1812, 18130, 53, 1646}) {
      REQUIRE(w->write_udp(spec_v4(tag, port), tagged_payload(tag, 20)));
      ++tag;
    }
    auto reply = spec_v4(5);
    std::swap(reply.source, reply.destination);
    reply.destination.port = 18130;
    REQUIRE(w->write_udp(reply, tagged_payload(5, 20)));
  }
  auto tags = [&](StreamOptions options) {
    DatagramStream stream({file.string()}, options);
    std::vector<std::uint32_t> out;
    for (const auto& s : read_all(stream)) {
      out.push_back(s.tag);
    }
    return out;
  };
  CHECK(tags({}) == std::vector<std::uint32_t>{1, 4, 5}); // 5 comes from port 1813
  StreamOptions extra;
  extra.extra_ports = {18130};
  CHECK(tags(extra) == std::vector<std::uint32_t>{1, 2, 4, 5});
  StreamOptions all;
  all.all_udp = true;
  CHECK(tags(all) == std::vector<std::uint32_t>{1, 2, 3, 4, 5});
}

TEST_CASE("A UDP segmentation offload super-datagram is read as the RADIUS packets it holds",
          "[pcap][reader]") {
  // acctlab serve answers a burst to one NAS with UDP_SEGMENT; a capture on the sending host
  // records the unsegmented whole (tests/captures/hostapd-8021x-outage.pcap has one on loopback).
  const auto a = accounting_request(4, 2, "s1");
  const auto b = accounting_request(5, 2, "s1");
  const auto answer_a = response_to(a);
  const auto answer_b = response_to(b);
  const auto joined = [](std::initializer_list<const acctlab::radius::Octets*> parts) {
    acctlab::radius::Octets out;
    for (const auto* part : parts) {
      out.insert(out.end(), part->begin(), part->end());
    }
    return out;
  };
  CHECK(udp_gso_segments(joined({&answer_a, &answer_b})) == std::vector<std::size_t>{20, 20});
  CHECK(udp_gso_segments(answer_a).empty()); // one packet
  // Padding after a Length (RFC 2865 §3) is no packet, even when it is as long as one.
  acctlab::radius::Octets padded = answer_a;
  padded.resize(40, 0);
  CHECK(udp_gso_segments(padded).empty());
  // The parts are gso_size each but the last, which may be shorter and never longer.
  const auto shorter = joined({&a, &a, &answer_a});
  CHECK(udp_gso_segments(shorter) == std::vector<std::size_t>{a.size(), a.size(), 20});
  CHECK(udp_gso_segments(joined({&answer_a, &a})).empty());
  CHECK(udp_gso_segments(joined({&a, &answer_a, &a})).empty());
  // A cut packet at the end is no segment either.
  auto cut = joined({&answer_a, &answer_b});
  cut.pop_back();
  CHECK(udp_gso_segments(cut).empty());

  // Through the stream: two answers in one datagram come out as two, same frame, in order.
  const auto dir = scratch_dir("gso");
  const auto file = dir / "gso.pcap";
  {
    auto w = create(file);
    auto request = spec_v4(1);
    REQUIRE(w->write_udp(request, a));
    REQUIRE(w->write_udp(request, b));
    auto reply = spec_v4(2);
    std::swap(reply.source, reply.destination);
    REQUIRE(w->write_udp(reply, joined({&answer_a, &answer_b})));
  }
  DatagramStream stream({file.string()});
  std::vector<std::pair<std::uint64_t, std::uint16_t>> seen; // frame, segment
  std::vector<std::uint8_t> identifiers;
  UdpDatagram d;
  for (int i = 0; i < 10 && stream.next(d); ++i) {
    seen.emplace_back(d.frame, d.segment);
    identifiers.push_back(d.payload[1]);
    CHECK(d.payload.size() == (d.frame == 3 ? 20u : a.size()));
  }
  CHECK(seen ==
        std::vector<std::pair<std::uint64_t, std::uint16_t>>{{1, 0}, {2, 0}, {3, 1}, {3, 2}});
  CHECK(identifiers == std::vector<std::uint8_t>{4, 5, 4, 5});
  CHECK(stream.stats().gso_datagrams == 1);
  CHECK(stream.stats().gso_packets == 2);
}
