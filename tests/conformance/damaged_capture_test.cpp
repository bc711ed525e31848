// A damaged capture never passes. Each damaged file is made here from a real capture
// (tests/captures/strongswan-lifecycle.pcap: 16 frames of a strongSwan gateway and FreeRADIUS)
// as damage happens in the field: a file cut short mid-frame, frames cut by a snaplen, a pcapng
// file corrupt at its first block or at its first packet, a header and nothing else, a capture
// with no RADIUS, a datagram on a RADIUS port that is no RADIUS packet. `acctlab check --pcap`
// and `acctlab pcap analyze` run on each as a user runs them: both give the same exit status
// (docs/cli.md: 3 incomplete, 4 no accounting traffic), and both JSON reports list what was not
// read with file, frame, byte offset and reason, computed here from the file's own layout.

#include "tests/support/run_command.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

using Bytes = std::vector<std::uint8_t>;

const std::string captures = std::string(ACCTLAB_SOURCE_DIR) + "/tests/captures/";

Bytes read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

std::string write_bytes(const std::string& name, const Bytes& bytes) {
  const auto dir = std::filesystem::path(ACCTLAB_BINARY_DIR) / "test-scratch" / "damaged";
  std::filesystem::create_directories(dir);
  const auto path = (dir / (std::to_string(::getpid()) + "-" + name)).string();
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()),
             static_cast<std::streamsize>(bytes.size()));
  return path;
}

std::uint32_t le32(const Bytes& b, std::size_t at) {
  return b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (std::uint32_t{b[at + 3]} << 24);
}

void put_le32(Bytes& b, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) {
    b[at + i] = static_cast<std::uint8_t>(v >> (8 * i));
  }
}

/** One record of a classic little-endian pcap file: where it begins and what it holds. */
struct Record {
  std::size_t offset = 0;
  std::uint32_t seconds = 0;
  std::uint32_t micros = 0;
  std::uint32_t caplen = 0;
  std::uint32_t len = 0;
  Bytes data;
};

std::vector<Record> records_of(const Bytes& file) {
  REQUIRE(file.size() >= 24);
  REQUIRE(le32(file, 0) == 0xA1B2C3D4u); // the checked-in capture is microsecond, little-endian
  std::vector<Record> out;
  for (std::size_t at = 24; at + 16 <= file.size();) {
    Record r;
    r.offset = at;
    r.seconds = le32(file, at);
    r.micros = le32(file, at + 4);
    r.caplen = le32(file, at + 8);
    r.len = le32(file, at + 12);
    REQUIRE(at + 16 + r.caplen <= file.size());
    r.data.assign(file.begin() + at + 16, file.begin() + at + 16 + r.caplen);
    out.push_back(std::move(r));
    at += 16 + r.caplen;
  }
  return out;
}

Bytes pcap_of(const Bytes& header, const std::vector<Record>& records) {
  Bytes out(header.begin(), header.begin() + 24);
  for (const auto& r : records) {
    const std::size_t at = out.size();
    out.resize(at + 16);
    put_le32(out, at, r.seconds);
    put_le32(out, at + 4, r.micros);
    put_le32(out, at + 8, static_cast<std::uint32_t>(r.data.size()));
    put_le32(out, at + 12, r.len);
    out.insert(out.end(), r.data.begin(), r.data.end());
  }
  return out;
}

void append_block(Bytes& out, std::uint32_t type, const Bytes& body) {
  Bytes padded = body;
  padded.resize((body.size() + 3) / 4 * 4, 0);
  const auto total = static_cast<std::uint32_t>(12 + padded.size());
  const std::size_t at = out.size();
  out.resize(at + 8);
  put_le32(out, at, type);
  put_le32(out, at + 4, total);
  out.insert(out.end(), padded.begin(), padded.end());
  out.resize(out.size() + 4);
  put_le32(out, out.size() - 4, total);
}

/** The same frames as pcapng (RFC draft-ietf-opsawg-pcapng): a Section Header Block, one
 * Interface Description Block (Ethernet, microseconds), an Enhanced Packet Block per frame. */
Bytes pcapng_of(const std::vector<Record>& records) {
  Bytes out;
  Bytes shb(16, 0);
  put_le32(shb, 0, 0x1A2B3C4Du); // byte-order magic
  shb[4] = 1;                    // version 1.0
  for (int i = 8; i < 16; ++i) {
    shb[i] = 0xFF; // section length unknown
  }
  append_block(out, 0x0A0D0D0Au, shb);
  Bytes idb(8, 0);
  idb[0] = 1; // LINKTYPE_ETHERNET
  put_le32(idb, 4, 262144);
  append_block(out, 1, idb);
  for (const auto& r : records) {
    const std::uint64_t ts = std::uint64_t{r.seconds} * 1'000'000 + r.micros;
    Bytes epb(20, 0);
    put_le32(epb, 4, static_cast<std::uint32_t>(ts >> 32));
    put_le32(epb, 8, static_cast<std::uint32_t>(ts));
    put_le32(epb, 12, static_cast<std::uint32_t>(r.data.size()));
    put_le32(epb, 16, r.len);
    epb.insert(epb.end(), r.data.begin(), r.data.end());
    append_block(out, 6, epb);
  }
  return out;
}

struct Reports {
  int check_status = -1;
  int analyze_status = -1;
  boost::json::object check;
  boost::json::object analyze;
};

Reports run_both(const std::string& file) {
  Reports r;
  const auto check = acctlab::test::run_command(
      std::string(ACCTLAB_BINARY_DIR) + "/acctlab check --pcap " + file + " --secrets " + captures +
      "clients.conf --report json 2>/dev/null");
  const auto analyze = acctlab::test::run_command(
      std::string(ACCTLAB_BINARY_DIR) + "/acctlab pcap analyze " + file + " --secrets " + captures +
      "clients.conf --report json 2>/dev/null");
  r.check_status = check.status;
  r.analyze_status = analyze.status;
  INFO(check.output);
  INFO(analyze.output);
  r.check = boost::json::parse(check.output).as_object();
  r.analyze = boost::json::parse(analyze.output).as_object();
  return r;
}

struct Part {
  std::string reason;
  std::uint64_t frame = 0;
  std::uint64_t offset = 0;
  bool operator==(const Part&) const = default;
};

std::ostream& operator<<(std::ostream& out, const Part& p) {
  return out << p.reason << " frame " << p.frame << " offset " << p.offset;
}

/** The `unread` list of a report, checking each names the file. */
std::vector<Part> unread_of(const boost::json::object& report, const std::string& file) {
  std::vector<Part> parts;
  for (const auto& value : report.at("unread").as_array()) {
    const auto& item = value.as_object();
    CHECK(item.at("file").as_string() == file.c_str());
    CHECK(!item.at("detail").as_string().empty());
    parts.push_back({std::string(item.at("reason").as_string()),
                     item.at("frame").to_number<std::uint64_t>(),
                     item.at("offset").to_number<std::uint64_t>()});
  }
  return parts;
}

/** Both commands agree: the same verdict, status and list of what was not read. */
void require_verdict(const std::string& file, const std::string& verdict, int status,
                     const std::vector<Part>& expected) {
  const auto r = run_both(file);
  INFO(file);
  CHECK(r.check.at("verdict") == verdict.c_str());
  // Without --db, analyze judges nothing: a whole capture is "complete" where check says pass.
  CHECK(r.analyze.at("verdict") == (verdict == "pass" ? "complete" : verdict.c_str()));
  CHECK(r.check_status == status);
  CHECK(r.analyze_status == status);
  CHECK(unread_of(r.check, file) == expected);
  CHECK(unread_of(r.analyze, file) == expected);
}

} // namespace

TEST_CASE("A damaged capture never passes: check --pcap and pcap analyze agree on what was not "
          "read",
          "[conformance][capture-edges][cli]") {
  const auto original = read_bytes(captures + "strongswan-lifecycle.pcap");
  const auto records = records_of(original);
  REQUIRE(records.size() == 16);

  SECTION("the capture as recorded passes") {
    const auto file = write_bytes("whole.pcap", original);
    require_verdict(file, "pass", 0, {});
  }

  SECTION("a file that ends in the middle of a frame") {
    // Cut 40 octets into frame 7's data: frames 1-6 are whole, frame 7's record is not.
    const auto& cut_in = records[6];
    const Bytes truncated(original.begin(), original.begin() + cut_in.offset + 16 + 40);
    const auto file = write_bytes("truncated.pcap", truncated);
    require_verdict(file, "incomplete", 3, {{"file_truncated", 7, cut_in.offset}});

    // The text and JUnit reports say the same.
    const auto text = acctlab::test::run_acctlab("check --pcap " + file + " --secrets " + captures +
                                                 "clients.conf");
    CHECK(text.status == 3);
    CHECK(text.output.find("not read: 1 parts of the capture") != std::string::npos);
    CHECK(text.output.find(file + " frame 7 (offset " + std::to_string(cut_in.offset) +
                           "): file_truncated") != std::string::npos);
    CHECK(text.output.find("verdict: INCOMPLETE") != std::string::npos);
    const auto junit = acctlab::test::run_acctlab("check --pcap " + file + " --secrets " +
                                                  captures + "clients.conf --report junit");
    CHECK(junit.status == 3);
    CHECK(junit.output.find("<testsuite name=\"capture\" tests=\"1\" failures=\"1\">") !=
          std::string::npos);
    CHECK(junit.output.find(file + " frame 7 offset " + std::to_string(cut_in.offset) +
                            ": file_truncated") != std::string::npos);
  }

  SECTION("frames cut by the snaplen") {
    // A snaplen of 150 keeps every answer (62-octet frames) and cuts every request.
    auto cut = records;
    Bytes header(original.begin(), original.begin() + 24);
    put_le32(header, 16, 150);
    std::vector<std::uint64_t> cut_frames;
    for (std::size_t i = 0; i < cut.size(); ++i) {
      if (cut[i].data.size() > 150) {
        cut[i].data.resize(150);
        cut_frames.push_back(i + 1);
      }
    }
    REQUIRE(cut_frames.size() == 8);
    const auto bytes = pcap_of(header, cut);
    const auto layout = records_of(bytes);
    std::vector<Part> expected;
    for (const auto frame : cut_frames) {
      expected.push_back({"cut_by_snaplen", frame, layout[frame - 1].offset});
    }
    require_verdict(write_bytes("snaplen.pcap", bytes), "incomplete", 3, expected);
  }

  SECTION("pcapng: whole, corrupt at its first block, corrupt at its first packet") {
    const auto pcapng = pcapng_of(records);
    require_verdict(write_bytes("whole.pcapng", pcapng), "pass", 0, {});

    auto bad_header = pcapng;
    put_le32(bad_header, 8, 0xDEADBEEFu); // the Section Header Block's byte-order magic
    require_verdict(write_bytes("bad-header.pcapng", bad_header), "incomplete", 3,
                    {{"file_open_failed", 0, 0}});

    // The first Enhanced Packet Block follows the SHB (28 octets) and the IDB (20): its length
    // field says 8, less than a block header and trailer.
    auto bad_packet = pcapng;
    REQUIRE(le32(bad_packet, 48) == 6u);
    put_le32(bad_packet, 52, 8);
    require_verdict(write_bytes("bad-packet.pcapng", bad_packet), "incomplete", 3,
                    {{"file_corrupt", 1, 48}});
  }

  SECTION("a header and nothing else") {
    const Bytes header(original.begin(), original.begin() + 24);
    require_verdict(write_bytes("header-only.pcap", header), "no accounting traffic", 4, {});
  }

  SECTION("a capture with no RADIUS at all") {
    // The same frames between ports no RADIUS uses (UDP ports at Ethernet 14 + IPv4 20).
    auto moved = records;
    for (auto& r : moved) {
      REQUIRE(r.data[23] == 17); // IPv4 protocol UDP
      for (const std::size_t at : {34u, 36u}) {
        r.data[at] = 0x27;
        r.data[at + 1] = 0x0F; // port 9999
      }
    }
    const auto bytes = pcap_of(Bytes(original.begin(), original.begin() + 24), moved);
    require_verdict(write_bytes("no-radius.pcap", bytes), "no accounting traffic", 4, {});
  }

  SECTION("a datagram on a RADIUS port that is not RADIUS") {
    // Frame 3 keeps its ports but its first octet (the RADIUS Code) becomes 99.
    auto changed = records;
    changed[2].data[42] = 99;
    const auto bytes = pcap_of(Bytes(original.begin(), original.begin() + 24), changed);
    const auto file = write_bytes("not-radius.pcap", bytes);
    require_verdict(file, "incomplete", 3, {{"not_radius", 3, records[2].offset}});
    // Not a malformed packet of the NAS's: no PKT-MALFORMED, no "Access-Request id 0".
    const auto text = acctlab::test::run_acctlab("check --pcap " + file + " --secrets " + captures +
                                                 "clients.conf");
    CHECK(text.output.find("PKT-MALFORMED") == std::string::npos);
    CHECK(text.output.find("code 99 is not a RADIUS code") != std::string::npos);
    const auto analyzed = acctlab::test::run_acctlab("pcap analyze " + file);
    CHECK(analyzed.output.find("id 0") == std::string::npos);
    CHECK(analyzed.output.find("not_radius: 1") != std::string::npos);
  }

  SECTION("a file that does not exist is bad usage for both") {
    const auto missing = std::string(ACCTLAB_BINARY_DIR) + "/test-scratch/no-such.pcap";
    CHECK(acctlab::test::run_acctlab("check --pcap " + missing).status == 2);
    CHECK(acctlab::test::run_acctlab("pcap analyze " + missing).status == 2);
  }
}

TEST_CASE("Bad arguments exit 2 with CLI11's message in every subcommand", "[cli]") {
  for (const char* arguments :
       {"check --no-such-option", "check --interim-interval abc --trace x", "pcap analyze",
        "pcap analyze x.pcap --report yaml", "conform --no-such-option", "rules --bogus",
        "no-such-command", "check --pcap x.pcap --fail-on everyone"}) {
    const auto run = acctlab::test::run_acctlab(arguments);
    INFO(arguments << ": " << run.output);
    CHECK(run.status == 2);
    CHECK(run.output.find("Run with --help for more information.") != std::string::npos);
  }
  CHECK(acctlab::test::run_acctlab("check --help").status == 0);
  CHECK(acctlab::test::run_acctlab("--version").status == 0);
}
