#include "client/accounting_packet.hpp"
#include "radius/accounting_record.hpp"
#include "radius/authenticator.hpp"
#include "radius/dictionary.hpp"
#include "radius/packet_codec.hpp"

#include <catch2/catch.hpp>

using namespace acctlab;
using namespace acctlab::gateway;

namespace {

AccountingEvent stop_event() {
  AccountingEvent e;
  e.kind = AccountingEvent::Kind::stop;
  e.session_id = "0000002A";
  e.user_name = "joe@cclient";
  e.framed_ip = Ipv4Address{10, 13, 13, 1};
  e.initiator = {11, 1, 2, 2};
  e.identity = {IkeIdentity::Type::key_id, "cclient"};
  e.vrf = "cisco";
  e.interface = "FastEthernet0/0.1";
  e.session_time = 709;
  e.input = {5000001, (5ull << 30) + 100};
  e.output = {1004, 152608};
  e.reason = StopReason::dead_peer;
  return e;
}

} // namespace

TEST_CASE("the attribute numbers agree with the shipped dictionary", "[client][packet]") {
  // The gateway names its attributes with constants; the dictionary is the reference.
  const radius::Dictionary& dict = radius::Dictionary::builtin();
  for (auto [name, number] : std::initializer_list<std::pair<const char*, std::uint32_t>>{
           {"User-Name", attr::user_name},
           {"NAS-IP-Address", attr::nas_ip_address},
           {"NAS-Port", attr::nas_port},
           {"Framed-IP-Address", attr::framed_ip_address},
           {"Acct-Status-Type", attr::acct_status_type},
           {"Acct-Delay-Time", attr::acct_delay_time},
           {"Acct-Input-Octets", attr::acct_input_octets},
           {"Acct-Output-Octets", attr::acct_output_octets},
           {"Acct-Session-Id", attr::acct_session_id},
           {"Acct-Session-Time", attr::acct_session_time},
           {"Acct-Input-Packets", attr::acct_input_packets},
           {"Acct-Output-Packets", attr::acct_output_packets},
           {"Acct-Terminate-Cause", attr::acct_terminate_cause},
           {"Acct-Input-Gigawords", attr::acct_input_gigawords},
           {"Acct-Output-Gigawords", attr::acct_output_gigawords}}) {
    INFO(name);
    const radius::AttributeDef* def = dict.find(name);
    REQUIRE(def);
    CHECK(def->vendor == 0);
    CHECK(def->number == number);
  }
  for (auto [name, number] : std::initializer_list<std::pair<const char*, std::uint32_t>>{
           {"Cisco-AVPair", attr::cisco_avpair}, {"Cisco-NAS-Port", attr::cisco_nas_port}}) {
    const radius::AttributeDef* def = dict.find(name);
    REQUIRE(def);
    CHECK(def->vendor == attr::cisco_vendor);
    CHECK(def->number == number);
  }
}

TEST_CASE("the core decodes what the gateway builds", "[client][packet]") {
  const radius::Dictionary& dict = radius::Dictionary::builtin();
  PacketOptions options;
  options.nas_ip = {10, 1, 1, 147};
  options.send_vsa = true;
  radius::Packet packet = build_accounting_request(stop_event(), options, 7);
  packet.set_identifier(19);
  auto wire = radius::encode_packet(packet, dict);
  radius::sign_request(wire, "nsite");
  CHECK(radius::verify_request_authenticator(wire, "nsite"));
  auto decoded = radius::decode_packet(wire, dict);
  REQUIRE(decoded);
  radius::AccountingRecord r = radius::make_accounting_record(*decoded, dict);
  CHECK(r.notes.empty());
  CHECK(r.status_type == 2u);
  CHECK(r.session_id == "0000002A");
  CHECK(r.delay_time == 7u);
  CHECK(r.session_time == 709u);
  CHECK(r.input_octets == (5ull << 30) + 100);
  CHECK(r.output_octets == 152608u);
  CHECK(r.input_packets == 5000001u);
  CHECK(r.terminate_cause == 2u);
  CHECK(r.cisco_nas_port == "FastEthernet0/0.1");
  REQUIRE(r.avpair("disc-cause-ext"));
  CHECK(*r.avpair("disc-cause-ext") == "Lost Carrier");
  CHECK(r.nas_identity() == "10.1.1.147");
  // Interim and Stop do not repeat User-Name or Framed-IP-Address (the document's listings).
  CHECK_FALSE(r.user_name);
  CHECK_FALSE(r.framed_ip);
}

TEST_CASE("without 'radius-server vsa send accounting' no VSA is sent", "[client][packet]") {
  PacketOptions options;
  options.send_vsa = false;
  for (auto kind : {AccountingEvent::Kind::start, AccountingEvent::Kind::interim,
                    AccountingEvent::Kind::stop}) {
    AccountingEvent e = stop_event();
    e.kind = kind;
    radius::Packet packet = build_accounting_request(e, options, 0);
    for (const auto& a : packet.attributes()) {
      CHECK(a.type != radius::vendor_specific_type);
    }
    CHECK(packet.find({0, attr::acct_session_id}));
    CHECK(packet.find({0, attr::nas_ip_address}));
  }
  // Start with VSAs but a peer identified by FQDN: isakmp-phase1-id instead of the group.
  AccountingEvent e = stop_event();
  e.kind = AccountingEvent::Kind::start;
  e.identity = {IkeIdentity::Type::fqdn, "gw.vpn.com"};
  options.send_vsa = true;
  radius::Packet packet = build_accounting_request(e, options, 0);
  const radius::Dictionary& dict = radius::Dictionary::builtin();
  auto decoded = radius::decode_packet(radius::encode_packet(packet, dict), dict);
  REQUIRE(decoded);
  radius::AccountingRecord r = radius::make_accounting_record(*decoded, dict);
  REQUIRE(r.avpair("isakmp-phase1-id"));
  CHECK(*r.avpair("isakmp-phase1-id") == "gw.vpn.com");
  CHECK_FALSE(r.avpair("isakmp-group-id"));
  CHECK(r.user_name == "joe@cclient");
}
