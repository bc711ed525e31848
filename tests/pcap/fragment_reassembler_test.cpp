#include "pcap/fragment_reassembler.hpp"
#include "tests/pcap/capture_test_support.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <map>

using namespace acctlab::capture;
using namespace acctlab::capture::test;

namespace {

struct Harness {
  std::map<IssueKind, int> issues;
  std::vector<std::uint64_t> issue_frames;
  FragmentReassembler reassembler;

  explicit Harness(ReassemblyLimits limits = {})
      : reassembler(limits, [this](IssueKind kind, FrameRef where, std::string_view) {
          ++issues[kind];
          issue_frames.push_back(where.frame);
        }) {}
};

// The fragments of one UDP datagram, parsed; each keeps its own packet buffer alive.
struct Fragments {
  std::vector<std::vector<std::uint8_t>> packets;
  std::vector<ParsedFrame> parsed;
};

Fragments fragment(const UdpFrameSpec& spec, const std::vector<std::uint8_t>& payload) {
  Fragments f;
  build_ip_packets(spec, payload, f.packets);
  for (auto& p : f.packets) {
    ParsedFrame parsed;
    REQUIRE(parse_frame(link_type::raw, p, parsed) == FrameKind::fragment);
    f.parsed.push_back(parsed);
  }
  return f;
}

std::vector<std::uint8_t> udp_data(IpAddress::Family family, std::span<const std::uint8_t> whole) {
  ParsedFrame out;
  REQUIRE(parse_reassembled(family, 17, whole, out) == FrameKind::udp);
  return {out.payload.begin(), out.payload.end()};
}

} // namespace

TEST_CASE("Fragments reassemble in any order, IPv4 and IPv6", "[pcap][reassembly]") {
  const auto payload = tagged_payload(77, 4000);
  for (bool v6 : {false, true}) {
    for (int order = 0; order < 3; ++order) {
      auto spec = v6 ? spec_v6(0) : spec_v4(0);
      spec.ip_id = 99;
      spec.fragment_size = 1000;
      auto f = fragment(spec, payload);
      REQUIRE(f.parsed.size() == 5);
      std::vector<std::size_t> idx{0, 1, 2, 3, 4};
      if (order == 1) {
        std::reverse(idx.begin(), idx.end());
      } else if (order == 2) {
        idx = {2, 0, 4, 1, 3};
      }
      Harness h;
      std::vector<std::uint8_t> result;
      for (std::size_t n = 0; n < idx.size(); ++n) {
        auto whole = h.reassembler.add(f.parsed[idx[n]], 1000 * n, {0, n + 1});
        if (n + 1 < idx.size()) {
          CHECK(whole.empty());
        } else {
          REQUIRE(!whole.empty());
          result = udp_data(f.parsed[0].source.family, whole);
        }
      }
      CHECK(result == payload);
      CHECK(h.issues.empty());
      CHECK(h.reassembler.pending_datagrams() == 0);
      CHECK(h.reassembler.buffered_bytes() == 0);
    }
  }
}

TEST_CASE("Exact duplicates are ignored but overlaps with other data drop the datagram",
          "[pcap][reassembly]") {
  auto spec = spec_v4(0);
  spec.fragment_size = 800;
  const auto payload = tagged_payload(5, 2000);
  auto f = fragment(spec, payload);
  REQUIRE(f.parsed.size() == 3);
  {
    Harness h;
    CHECK(h.reassembler.add(f.parsed[0], 0, {0, 1}).empty());
    CHECK(h.reassembler.add(f.parsed[0], 0, {0, 2}).empty());
    CHECK(h.reassembler.add(f.parsed[1], 0, {0, 3}).empty());
    auto whole = h.reassembler.add(f.parsed[2], 0, {0, 4});
    REQUIRE(!whole.empty());
    CHECK(udp_data(IpAddress::Family::v4, whole) == payload);
    CHECK(h.issues.empty());
  }
  {
    Harness h;
    auto changed = f.packets[1];
    changed.back() ^= 0xFF;
    ParsedFrame evil;
    REQUIRE(parse_frame(link_type::raw, changed, evil) == FrameKind::fragment);
    CHECK(h.reassembler.add(f.parsed[1], 0, {0, 1}).empty());
    CHECK(h.reassembler.add(evil, 0, {0, 2}).empty());
    CHECK(h.issues[IssueKind::fragment_overlap] == 1);
    // The rest of the datagram is ignored rather than reassembled from the surviving pieces.
    CHECK(h.reassembler.add(f.parsed[0], 0, {0, 3}).empty());
    CHECK(h.reassembler.add(f.parsed[2], 0, {0, 4}).empty());
    CHECK(h.issues.size() == 1);
  }
  {
    Harness h; // A fragment starting inside another one.
    ParsedFrame shifted = f.parsed[1];
    shifted.fragment_offset -= 8;
    CHECK(h.reassembler.add(f.parsed[0], 0, {0, 1}).empty());
    CHECK(h.reassembler.add(shifted, 0, {0, 2}).empty());
    CHECK(h.issues[IssueKind::fragment_overlap] == 1);
  }
}

TEST_CASE("Invalid fragments are counted and dropped", "[pcap][reassembly]") {
  auto spec = spec_v4(0);
  spec.fragment_size = 800;
  auto f = fragment(spec, tagged_payload(5, 2000));
  {
    Harness h;
    ParsedFrame misaligned = f.parsed[0];
    misaligned.payload = misaligned.payload.first(801);
    h.reassembler.add(misaligned, 0, {0, 7});
    CHECK(h.issues[IssueKind::fragment_invalid] == 1);
    CHECK(h.issue_frames == std::vector<std::uint64_t>{7});
  }
  {
    Harness h;
    ParsedFrame beyond = f.parsed[2];
    beyond.fragment_offset = 65528;
    h.reassembler.add(beyond, 0, {0, 1});
    CHECK(h.issues[IssueKind::fragment_invalid] == 1);
  }
  {
    Harness h; // Two different ends.
    ParsedFrame other_end = f.parsed[2];
    other_end.fragment_offset += 8;
    h.reassembler.add(f.parsed[2], 0, {0, 1});
    h.reassembler.add(other_end, 0, {0, 2});
    CHECK(h.issues[IssueKind::fragment_invalid] == 1);
  }
}

TEST_CASE("Incomplete datagrams time out in capture time", "[pcap][reassembly]") {
  ReassemblyLimits limits;
  limits.timeout_ns = 5'000'000'000;
  Harness h(limits);
  auto spec = spec_v4(0);
  spec.fragment_size = 800;
  auto f = fragment(spec, tagged_payload(5, 2000));
  h.reassembler.add(f.parsed[0], 0, {0, 1});
  h.reassembler.expire(4'000'000'000);
  CHECK(h.reassembler.pending_datagrams() == 1);
  h.reassembler.expire(6'000'000'000);
  CHECK(h.reassembler.pending_datagrams() == 0);
  CHECK(h.reassembler.buffered_bytes() == 0);
  CHECK(h.issues[IssueKind::fragment_timeout] == 1);
  CHECK(h.issue_frames == std::vector<std::uint64_t>{1});
  // The late fragments start a new datagram that never completes; finish() reports it.
  h.reassembler.add(f.parsed[1], 7'000'000'000, {0, 2});
  h.reassembler.finish();
  CHECK(h.issues[IssueKind::fragment_timeout] == 2);
}

TEST_CASE("Memory stays within the datagram and octet limits", "[pcap][reassembly]") {
  ReassemblyLimits limits;
  limits.max_datagrams = 4;
  limits.max_bytes = 5000;
  Harness h(limits);
  std::vector<Fragments> all;
  for (std::uint32_t id = 0; id < 10; ++id) {
    auto spec = spec_v4(0);
    spec.ip_id = id;
    spec.fragment_size = 1200;
    all.push_back(fragment(spec, tagged_payload(id, 3000)));
  }
  // First fragments of ten datagrams: only four may wait at once.
  for (std::uint32_t id = 0; id < 10; ++id) {
    h.reassembler.add(all[id].parsed[0], id, {0, id + 1});
    CHECK(h.reassembler.pending_datagrams() <= 4);
    CHECK(h.reassembler.buffered_bytes() <= 5000);
  }
  CHECK(h.issues[IssueKind::fragment_evicted] == 6);
  // The newest datagram still completes.
  h.reassembler.add(all[9].parsed[1], 20, {0, 20});
  auto whole = h.reassembler.add(all[9].parsed[2], 21, {0, 21});
  REQUIRE(!whole.empty());
  CHECK(udp_data(IpAddress::Family::v4, whole) == tagged_payload(9, 3000));
  CHECK(h.reassembler.buffered_bytes() <= 5000);
}
