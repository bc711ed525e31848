// An independent decoder agrees with ours: packets our encoder produced are written into a pcap,
// and tshark's RADIUS dissector must show the same attribute values and, given the secret,
// accept our authenticators (and reject them under a wrong secret).

#include "radius/authenticator.hpp"
#include "radius/packet_codec.hpp"
#include "radius/text_form.hpp"
#include "tests/support/run_command.hpp"

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using namespace acctlab::radius;
using acctlab::test::lines_of;
namespace fs = std::filesystem;

namespace {

// Classic pcap with LINKTYPE_RAW (101): IPv4 + UDP over loopback, UDP checksum 0 (allowed).
class PcapFile {
public:
  explicit PcapFile(const fs::path& path) : out_(path, std::ios::binary) {
    put32(0xa1b2c3d4);
    put16(2);
    put16(4);
    put32(0);
    put32(0);
    put32(65535);
    put32(101);
  }
  void add(const Octets& payload, std::uint16_t src_port, std::uint16_t dst_port, int second) {
    // The client is 127.0.0.1, the server 127.0.0.2; the server's port is 1813.
    const std::uint8_t src_host = src_port == 1813 ? 2 : 1;
    Octets ip{0x45, 0, 0,   0, 0, 1,        0x40, 0, 64, 17,
              0,    0, 127, 0, 0, src_host, 127,  0, 0,  static_cast<std::uint8_t>(3 - src_host)};
    const std::size_t total = 20 + 8 + payload.size();
    ip[2] = static_cast<std::uint8_t>(total >> 8);
    ip[3] = static_cast<std::uint8_t>(total);
    std::uint32_t sum = 0;
    for (std::size_t i = 0; i < 20; i += 2) {
      sum += (ip[i] << 8) | ip[i + 1];
    }
    while (sum >> 16) {
      sum = (sum & 0xFFFF) + (sum >> 16);
    }
    ip[10] = static_cast<std::uint8_t>(~sum >> 8);
    ip[11] = static_cast<std::uint8_t>(~sum);
    const std::size_t udp_length = 8 + payload.size();
    Octets udp{static_cast<std::uint8_t>(src_port >> 8),
               static_cast<std::uint8_t>(src_port),
               static_cast<std::uint8_t>(dst_port >> 8),
               static_cast<std::uint8_t>(dst_port),
               static_cast<std::uint8_t>(udp_length >> 8),
               static_cast<std::uint8_t>(udp_length),
               0,
               0};
    put32(static_cast<std::uint32_t>(1700000000 + second));
    put32(0);
    put32(static_cast<std::uint32_t>(total));
    put32(static_cast<std::uint32_t>(total));
    out_.write(reinterpret_cast<const char*>(ip.data()), 20);
    out_.write(reinterpret_cast<const char*>(udp.data()), 8);
    out_.write(reinterpret_cast<const char*>(payload.data()),
               static_cast<std::streamsize>(payload.size()));
  }

private:
  void put32(std::uint32_t v) { out_.write(reinterpret_cast<const char*>(&v), 4); }
  void put16(std::uint16_t v) { out_.write(reinterpret_cast<const char*>(&v), 2); }
  std::ofstream out_;
};

std::string run(const std::string& command) {
  return acctlab::test::run_command(command).output;
}

} // namespace

TEST_CASE("tshark decodes our packets the same and accepts our authenticators",
          "[radius][tshark]") {
  REQUIRE(fs::exists("/usr/bin/tshark")); // scripts/setup.sh installs it
  const auto& dict = Dictionary::builtin();
  const char* requests[] = {
      R"(Accounting-Request id=4 { Acct-Session-Id = "00000001", Cisco-AVPair = "isakmp-group-id=cclient", Framed-IP-Address = 10.13.13.1, Cisco-AVPair = "vrf-id=cisco", User-Name = "joe@cclient", Acct-Status-Type = Start, Cisco-NAS-Port = "FastEthernet0/0.1", NAS-Port = 0, NAS-IP-Address = 10.1.1.147, Acct-Delay-Time = 0 })",
      R"(Accounting-Request id=22 { Acct-Session-Id = "00000003", Cisco-AVPair = "vrf-id=cisco", Acct-Session-Time = 109, Acct-Input-Octets = 608, Acct-Input-Gigawords = 7, Acct-Status-Type = Interim-Update, NAS-IP-Address = 100.1.1.147, Acct-Delay-Time = 5 })",
      R"(Accounting-Request id=19 { Acct-Session-Id = "00000002", User-Name = "bob", Acct-Terminate-Cause = Idle-Timeout, Acct-Status-Type = Stop, NAS-IP-Address = 192.0.2.7, Acct-Delay-Time = 0, Message-Authenticator = 0x00000000000000000000000000000000 })",
  };
  const fs::path dir = fs::temp_directory_path() / ("acctlab-tshark-" + std::to_string(getpid()));
  fs::create_directories(dir);
  const auto pcap = dir / "ours.pcap";
  std::vector<Packet> sent;
  {
    PcapFile file(pcap);
    int second = 0;
    for (const char* text : requests) {
      auto packet = parse_packet_text(text, dict);
      REQUIRE(packet);
      auto wire = encode_packet(*packet, dict);
      sign_request(wire, "testing123");
      file.add(wire, 40000, 1813, second++);
      sent.push_back(*decode_packet(wire, dict));
      Packet response(Code::accounting_response, packet->identifier());
      auto response_wire = encode_packet(response, dict);
      Authenticator request_auth{};
      std::copy_n(wire.begin() + 4, 16, request_auth.begin());
      sign_response(response_wire, request_auth, "testing123");
      file.add(response_wire, 1813, 40000, second++);
    }
  }
  const std::string fields =
      " -T fields -E separator='|' -E occurrence=a -E aggregator=';' -e radius.code -e radius.id "
      "-e radius.Acct_Session_Id -e radius.User_Name -e radius.Framed-IP-Address "
      "-e radius.NAS_IP_Address -e radius.Cisco_AVPair -e radius.Cisco_NAS_Port "
      "-e radius.Acct_Status_Type -e radius.Acct_Input_Octets -e radius.Acct_Input_Gigawords "
      "-e radius.Acct_Terminate_Cause -e radius.authenticator.valid -e "
      "radius.authenticator.invalid";
  auto with_secret = [&](const std::string& secret) {
    return lines_of(run("tshark -r " + pcap.string() + " -o radius.shared_secret:" + secret +
                        " -o radius.validate_authenticator:TRUE" + fields + " 2>/dev/null"));
  };
  const auto good = with_secret("testing123");
  REQUIRE(good.size() == 6);
  CHECK(good[0] == "4|4|00000001|joe@cclient|10.13.13.1|10.1.1.147|isakmp-group-id=cclient;vrf-id="
                   "cisco|FastEthernet0/0.1|1|||||");
  CHECK(good[2] == "4|22|00000003|||100.1.1.147|vrf-id=cisco||3|608|7|||");
  CHECK(good[4].starts_with("4|19|00000002|bob||192.0.2.7|||2|||4|"));
  // Responses: tshark recomputes each Response Authenticator from the request and the secret
  // (fields authenticator.valid and .invalid).
  for (int i : {1, 3, 5}) {
    INFO(good[i]);
    CHECK(good[i].ends_with("|1|0"));
  }
  const auto bad = with_secret("wrong-secret");
  REQUIRE(bad.size() == 6);
  for (int i : {1, 3, 5}) {
    INFO(bad[i]);
    CHECK(bad[i].ends_with("|0|1"));
  }
  // And our own decoder, on the same octets, agrees with what we sent.
  CHECK(sent[1].find(AttrKey{0, 52}) != nullptr);
  fs::remove_all(dir);
}

TEST_CASE("tshark decodes the tunnel, RFC 5176, RFC 4818 and vendor attributes as we do",
          "[radius][tshark]") {
  REQUIRE(fs::exists("/usr/bin/tshark"));
  const auto& dict = Dictionary::builtin();
  // RFC 2868 §3 tags on integers and text, an untagged Tunnel-Client-Endpoint (first octet
  // above 0x1F), and one attribute of each vendor file.
  const char* requests[] = {
      R"(Accounting-Request id=31 { Acct-Session-Id = "00000031", Acct-Status-Type = Start, Tunnel-Type:1 = VLAN, Tunnel-Medium-Type:1 = IEEE-802, Tunnel-Private-Group-Id:1 = "100", Tunnel-Client-Endpoint = "192.0.2.1", Tunnel-Server-Endpoint:5 = "198.51.100.2", Delegated-IPv6-Prefix = 2001:db8:1200::/40 })",
      R"(Accounting-Request id=32 { Acct-Session-Id = "00000032", Acct-Status-Type = Interim-Update, Error-Cause = Session-Context-Not-Found, MS-CHAP-Challenge = 0x00112233445566778899aabbccddeeff, MS-Acct-Auth-Type = EAP, Aruba-User-Role = "employee", Airespace-Wlan-Id = 3, Meraki-Device-Name = "MR36", Juniper-Local-User-Name = "remote-admin", Fortinet-Group-Name = "vpn-users" })",
  };
  const fs::path dir =
      fs::temp_directory_path() / ("acctlab-tshark-dict-" + std::to_string(getpid()));
  fs::create_directories(dir);
  const auto pcap = dir / "ours.pcap";
  std::vector<std::string> ours;
  {
    PcapFile file(pcap);
    int second = 0;
    for (const char* text : requests) {
      auto packet = parse_packet_text(text, dict);
      INFO((packet ? "" : packet.error().message));
      REQUIRE(packet);
      auto wire = encode_packet(*packet, dict);
      sign_request(wire, "testing123");
      file.add(wire, 40000, 1813, second++);
      auto decoded = decode_packet(wire, dict);
      REQUIRE(decoded);
      ours.push_back(
          render_packet(*decoded, dict, {.show_authenticator = false, .one_line = true}));
    }
  }
  // Our own decoder gives back what was written, tags included.
  CHECK(ours[0].find("Tunnel-Type:1 = VLAN, Tunnel-Medium-Type:1 = IEEE-802, "
                     "Tunnel-Private-Group-Id:1 = \"100\", Tunnel-Client-Endpoint = \"192.0.2.1\", "
                     "Tunnel-Server-Endpoint:5 = \"198.51.100.2\", "
                     "Delegated-IPv6-Prefix = 2001:db8:1200::/40") != std::string::npos);
  CHECK(ours[1].find("Error-Cause = Session-Context-Not-Found, MS-CHAP-Challenge = "
                     "0x00112233445566778899aabbccddeeff, MS-Acct-Auth-Type = EAP, "
                     "Aruba-User-Role = \"employee\", Airespace-Wlan-Id = 3, "
                     "Meraki-Device-Name = \"MR36\", Juniper-Local-User-Name = \"remote-admin\", "
                     "Fortinet-Group-Name = \"vpn-users\"") != std::string::npos);

  // tshark prints integers as numbers, text without its tag octet, octets as hex.
  const std::string fields =
      " -T fields -E separator='|' -E occurrence=a -e radius.id -e radius.Tunnel_Type "
      "-e radius.Tunnel_Type.tag -e radius.Tunnel_Medium_Type -e radius.Tunnel_Medium_Type.tag "
      "-e radius.Tunnel_Private_Group_Id -e radius.Tunnel_Private_Group_Id.tag "
      "-e radius.Tunnel_Client_Endpoint -e radius.Tunnel_Server_Endpoint "
      "-e radius.Tunnel_Server_Endpoint.tag -e radius.Delegated_IPv6_Prefix "
      "-e radius.Error_Cause -e radius.MS_CHAP_Challenge -e radius.MS_Acct_Auth_Type "
      "-e radius.Aruba_User_Role -e radius.Airespace_Wlan_Id -e radius.Meraki_Device_Name "
      "-e radius.Juniper_Local_User_Name -e radius.Fortinet_Group_Name";
  const auto lines = lines_of(run("tshark -r " + pcap.string() + fields + " 2>/dev/null"));
  REQUIRE(lines.size() == 2);
  INFO(lines[0]);
  INFO(lines[1]);
  // Tags as tshark prints them (0x01); Delegated-IPv6-Prefix as its raw octets: the reserved
  // octet, the length 40 (0x28), then the 16-octet prefix our encoder writes.
  CHECK(lines[0] == "31|13|0x01|6|0x01|100|0x01|192.0.2.1|198.51.100.2|0x05|"
                    "002820010db8120000000000000000000000||||||||");
  CHECK(lines[1] == "32|||||||||||503|00112233445566778899aabbccddeeff|5|employee|3|MR36|"
                    "remote-admin|vpn-users");
  fs::remove_all(dir);
}
