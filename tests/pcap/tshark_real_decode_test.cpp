// Our decoder against Wireshark's on traffic no one here wrote: every RADIUS packet of every
// capture in tests/captures (strongSwan, hostapd, FreeRADIUS as a proxy, radsecproxy's UDP leg,
// and whatever real NAS is added there later: the directory is read when the test runs) is
// decoded by acctlab's reader and decoder and by tshark's RADIUS dissector, and the two must
// agree frame by frame: code, Identifier, Length, each top-level attribute's type and length in
// order, each Vendor-Specific's Vendor-Id, each vendor sub-attribute's type and length, and the
// values the judge leans on most (Acct-Status-Type, Acct-Session-Id, User-Name,
// Acct-Input-Octets, Framed-IP-Address). Exits 77 (ctest: skipped) without tshark.

#include "pcap/capture_reader.hpp"
#include "radius/dictionary.hpp"
#include "radius/packet_codec.hpp"
#include "tests/support/run_command.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

using namespace acctlab;
namespace fs = std::filesystem;

namespace {

constexpr int skip_code = 77; // SKIP_RETURN_CODE in tests/pcap/CMakeLists.txt

/** One packet as both decoders describe it, in tshark's field syntax (lists joined by ','). */
struct Described {
  std::string header;     // code|identifier|length
  std::string types;      // top-level attribute types
  std::string lengths;    // top-level attribute lengths, header included
  std::string vendors;    // the Vendor-Id of each Vendor-Specific
  std::string sub_types;  // each vendor sub-attribute's type
  std::string sub_length; // and length, header included
  std::string values;     // status|session id|user name|input octets|framed ip
  bool operator==(const Described&) const = default;
};

std::ostream& operator<<(std::ostream& out, const Described& d) {
  return out << "header " << d.header << " types [" << d.types << "] lengths [" << d.lengths
             << "] vendors [" << d.vendors << "] vendor types [" << d.sub_types
             << "] vendor lengths [" << d.sub_length << "] values " << d.values;
}

void append(std::string& list, const std::string& item) {
  if (!list.empty()) {
    list += ',';
  }
  list += item;
}

std::uint32_t integer(std::span<const std::uint8_t> v) {
  return v.size() == 4 ? (std::uint32_t{v[0]} << 24) | (std::uint32_t{v[1]} << 16) |
                             (std::uint32_t{v[2]} << 8) | v[3]
                       : 0;
}

/** Printable ASCII as it is; anything else left out of the comparison (tshark escapes it). */
std::string printable(std::span<const std::uint8_t> v) {
  std::string text(v.begin(), v.end());
  const bool plain =
      std::all_of(text.begin(), text.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
  return plain ? text : "?";
}

Described ours(const radius::Packet& packet, std::size_t wire_length) {
  Described d;
  d.header = std::to_string(static_cast<int>(packet.code())) + "|" +
             std::to_string(packet.identifier()) + "|" + std::to_string(wire_length);
  std::string status, session, user, input, framed;
  const auto& attributes = packet.attributes();
  for (std::size_t i = 0; i < attributes.size();) {
    const auto& a = attributes[i];
    if (a.type == radius::vendor_specific_type && a.vendor != 0) {
      // One Vendor-Specific carries the run of sub-attributes of its group.
      std::size_t length = 2 + 4;
      std::size_t j = i;
      for (; j < attributes.size() && attributes[j].type == radius::vendor_specific_type &&
             attributes[j].vendor == a.vendor && attributes[j].vsa_group == a.vsa_group;
           ++j) {
        length += 2 + attributes[j].length;
        append(d.sub_types, std::to_string(attributes[j].vendor_type));
        append(d.sub_length, std::to_string(2 + attributes[j].length));
      }
      append(d.types, "26");
      append(d.lengths, std::to_string(length));
      append(d.vendors, std::to_string(a.vendor));
      i = j;
      continue;
    }
    append(d.types, std::to_string(a.type));
    append(d.lengths, std::to_string(2 + a.length));
    const auto value = packet.value(a);
    switch (a.type) {
      case 40:
        status = std::to_string(integer(value));
        break;
      case 44:
        session = printable(value);
        break;
      case 1:
        user = printable(value);
        break;
      case 42:
        input = std::to_string(integer(value));
        break;
      case 8:
        if (value.size() == 4) {
          framed = std::to_string(value[0]) + "." + std::to_string(value[1]) + "." +
                   std::to_string(value[2]) + "." + std::to_string(value[3]);
        }
        break;
      default:
        break;
    }
    ++i;
  }
  d.values = status + "|" + session + "|" + user + "|" + input + "|" + framed;
  return d;
}

std::vector<std::string> split(const std::string& line, char separator) {
  std::vector<std::string> parts;
  std::string part;
  std::istringstream in(line);
  while (std::getline(in, part, separator)) {
    parts.push_back(part);
  }
  if (!line.empty() && line.back() == separator) {
    parts.emplace_back();
  }
  return parts;
}

/** Frame number -> tshark's description of the frame's RADIUS packet. */
std::map<std::uint64_t, Described> theirs(const std::string& file) {
  const auto run = test::run_command(
      "tshark -r '" + file +
      "' -Y 'radius && !icmp && !icmpv6' -T fields -E separator='|' -E occurrence=a -E "
      "aggregator=, "
      "-e frame.number -e radius.code -e radius.id -e radius.length -e radius.avp.type "
      "-e radius.avp.length -e radius.avp.vendor_id -e radius.avp.vendor_type "
      "-e radius.avp.vendor_len -e radius.Acct_Status_Type -e radius.Acct_Session_Id "
      "-e radius.User_Name -e radius.Acct_Input_Octets -e radius.Framed-IP-Address 2>/dev/null");
  REQUIRE(run.status == 0);
  std::map<std::uint64_t, Described> frames;
  std::istringstream lines(run.output);
  std::string line;
  while (std::getline(lines, line)) {
    const auto f = split(line, '|');
    REQUIRE(f.size() == 14);
    Described d;
    d.header = f[1] + "|" + f[2] + "|" + f[3];
    d.types = f[4];
    d.lengths = f[5];
    d.vendors = f[6];
    d.sub_types = f[7];
    d.sub_length = f[8];
    const auto text = [](const std::string& s) {
      const bool plain =
          std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7f; }) &&
          s.find('\\') == std::string::npos;
      return plain ? s : "?";
    };
    d.values = f[9] + "|" + text(f[10]) + "|" + text(f[11]) + "|" + f[12] + "|" + f[13];
    frames[std::stoull(f[0])] = d;
  }
  return frames;
}

} // namespace

TEST_CASE("Every packet of every real capture decodes as tshark decodes it", "[pcap][tshark]") {
  if (test::run_command("tshark -v >/dev/null 2>&1").status != 0) {
    std::cout << "SKIPPED: tshark is not installed (apt-get install tshark)" << std::endl;
    std::exit(skip_code);
  }
  const auto& dict = radius::Dictionary::builtin();
  std::vector<std::string> files;
  for (const auto& entry :
       fs::directory_iterator(std::string(ACCTLAB_SOURCE_DIR) + "/tests/captures")) {
    if (entry.path().extension() == ".pcap" || entry.path().extension() == ".pcapng") {
      files.push_back(entry.path().string());
    }
  }
  std::sort(files.begin(), files.end());
  REQUIRE(files.size() >= 10);
  std::size_t compared = 0;
  std::size_t vendor_specific = 0;
  for (const auto& file : files) {
    {
      const auto expected = theirs(file);
      capture::DatagramStream stream({file});
      capture::UdpDatagram datagram;
      std::map<std::uint64_t, Described> seen;
      while (stream.next(datagram)) {
        // tshark reads a UDP segmentation offload super-datagram as its first packet only
        // (tests/captures/README.md): the later segments have no frame of their own there.
        if (datagram.segment > 1 || !radius::could_be_radius(datagram.payload)) {
          continue;
        }
        const std::size_t length = (std::size_t{datagram.payload[2]} << 8) | datagram.payload[3];
        const auto wire = datagram.payload.first(std::min(length, datagram.payload.size()));
        auto packet = radius::decode_packet(wire, dict);
        INFO(file << " frame " << datagram.frame);
        REQUIRE(packet);
        seen[datagram.frame] = ours(*packet, wire.size());
      }
      // Frames tshark does not call RADIUS (TLS records of a RadSec leg, another protocol on a
      // RADIUS port number) are ours to leave out too; each one it does call RADIUS we read,
      // but for the RADIUS packet an ICMP error quotes (a closed port's answer), which is no
      // packet sent to anyone.
      for (const auto& [frame, d] : expected) {
        INFO(file << " frame " << frame);
        const auto found = seen.find(frame);
        REQUIRE(found != seen.end());
        CHECK(found->second == d);
        ++compared;
        vendor_specific += d.vendors.empty() ? 0 : 1;
      }
      CHECK(seen.size() == expected.size());
    }
  }
  // The comparison must have had something to compare, vendor attributes included.
  CHECK(compared >= 100);
  CHECK(vendor_specific > 0);
}
