#include "radius/accounting_record.hpp"
#include "radius/text_form.hpp"

#include <arpa/inet.h>
#include <catch2/catch.hpp>

using namespace acctlab::radius;

TEST_CASE("AccountingRecord: typed view of a Cisco IPsec Stop", "[radius][record]") {
  auto packet = parse_packet_text(R"(Accounting-Request id=19 {
    Acct-Session-Id = "00000002"
    Cisco-AVPair = "isakmp-initator-ip=11.1.1.2"
    Cisco-AVPair = "audit-optional*yes"
    Acct-Session-Time = 709
    Acct-Input-Octets = 152608
    Acct-Input-Gigawords = 2
    Acct-Output-Gigawords = 1
    Acct-Terminate-Cause = 0
    Acct-Status-Type = Stop
    Cisco-NAS-Port = "FastEthernet0/0.1"
    NAS-IP-Address = 100.1.1.147
    Acct-Delay-Time = 3
    NAS-Port = 0x0001
  })",
                                  Dictionary::builtin());
  REQUIRE(packet);
  const auto record = make_accounting_record(*packet, Dictionary::builtin());
  CHECK(record.status_type == 2u);
  CHECK(record.session_id == "00000002");
  CHECK(record.session_time == 709u);
  CHECK(record.input_octets == (2ull << 32) + 152608);
  CHECK(record.output_octets == (1ull << 32));
  CHECK_FALSE(record.input_packets.has_value());
  CHECK(record.terminate_cause == 0u);
  CHECK(record.delay_time == 3u);
  CHECK(record.nas_identity() == "100.1.1.147");
  CHECK(record.cisco_nas_port == "FastEthernet0/0.1");
  REQUIRE(record.avpair("isakmp-initator-ip"));
  CHECK(*record.avpair("isakmp-initator-ip") == "11.1.1.2");
  REQUIRE(record.cisco_avpairs.size() == 2);
  CHECK(record.cisco_avpairs[1].separator == '*');
  CHECK_FALSE(record.nas_port.has_value()); // two octets: not an integer, noted
  REQUIRE(record.notes.size() == 1);
  CHECK(record.notes[0].find("NAS-Port") != std::string::npos);
}

TEST_CASE("Cisco AV pair syntax", "[radius][record]") {
  CHECK(parse_cisco_avpair("vrf-id=cisco")->value == "cisco");
  CHECK(parse_cisco_avpair("ip:addr-pool*pool1")->separator == '*');
  CHECK(parse_cisco_avpair("ip:addr-pool*pool1")->name == "ip:addr-pool");
  CHECK_FALSE(parse_cisco_avpair("novalue").has_value());
  CHECK_FALSE(parse_cisco_avpair("=x").has_value());
}

TEST_CASE("IPv4 addresses print as inet_ntop prints them", "[radius][record]") {
  // Every octet value in every position, against the C library's formatting.
  for (unsigned position = 0; position < 4; ++position) {
    for (unsigned value = 0; value < 256; ++value) {
      Ipv4 address{10, 1, 1, 147};
      address[position] = static_cast<std::uint8_t>(value);
      char expected[INET_ADDRSTRLEN];
      REQUIRE(inet_ntop(AF_INET, address.data(), expected, sizeof expected));
      INFO("position " << position << " value " << value);
      REQUIRE(to_string(address) == expected);
    }
  }
  CHECK(to_string(Ipv4{255, 255, 255, 255}) == "255.255.255.255");
  CHECK(to_string(Ipv4{0, 0, 0, 0}) == "0.0.0.0");
}

TEST_CASE("AccountingRecord: the first Class, as FreeRADIUS prints octets", "[radius][record]") {
  auto packet = parse_packet_text(R"(Accounting-Request id=20 {
    Acct-Session-Id = "00000003"
    Acct-Status-Type = Start
    Class = 0x6163637401
    Class = 0x7365636f6e64
  })",
                                  Dictionary::builtin());
  REQUIRE(packet);
  CHECK(make_accounting_record(*packet, Dictionary::builtin()).class_text == "0x6163637401");
  auto without = parse_packet_text(R"(Accounting-Request id=21 {
    Acct-Session-Id = "00000003"
    Acct-Status-Type = Start
  })",
                                   Dictionary::builtin());
  REQUIRE(without);
  CHECK_FALSE(make_accounting_record(*without, Dictionary::builtin()).class_text.has_value());
}
