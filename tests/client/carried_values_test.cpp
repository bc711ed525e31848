// Names from the IOS configuration and the scenario that travel inside attributes: each is read
// up to the most its attribute holds (the record encodes and decodes with the name intact) and
// refused one octet beyond, on its line. The limits are written out from the RFCs so that the
// tests do not borrow the code's own arithmetic: a standard attribute holds 253 octets (RFC 2865
// §5); a Cisco sub-attribute 255 - 2 (Vendor-Specific type, length) - 4 (Vendor-Id) - 2 (its own
// type, length) = 247 (RFC 2865 §5.26), of which an AV pair's "name=" takes its share.

#include "client/accounting_packet.hpp"
#include "client/gateway_model.hpp"
#include "client/scenario.hpp"
#include "radius/dictionary.hpp"
#include "radius/packet_codec.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

using namespace acctlab::gateway;
namespace radius = acctlab::radius;

namespace {

constexpr std::size_t user_name_room = 253;
constexpr std::size_t cisco_room = 247;
constexpr std::size_t group_id_room = cisco_room - 16;  // "isakmp-group-id="
constexpr std::size_t phase1_id_room = cisco_room - 17; // "isakmp-phase1-id="
constexpr std::size_t vrf_id_room = cisco_room - 7;     // "vrf-id="

// Line 4: vrf, line 5: match identity, line 12: interface.
std::string config(const std::string& vrf, const std::string& match, const std::string& iface) {
  return "aaa new-model\n"
         "aaa accounting network acc start-stop group radius\n"
         "crypto isakmp profile p\n"
         " vrf " +
         vrf +
         "\n"
         " match identity " +
         match +
         "\n"
         " accounting acc\n"
         "crypto dynamic-map dmap 10\n"
         "crypto map mymap 10 ipsec-isakmp dynamic dmap\n"
         "radius-server host 10.1.1.4 auth-port 1645 acct-port 1646\n"
         "radius-server key nsite\n"
         "radius-server vsa send accounting\n"
         "interface " +
         iface +
         "\n"
         " ip address 10.1.1.147 255.255.255.0\n"
         " crypto map mymap\n";
}

std::string plain_config() {
  return config("cisco", "group cclient", "FastEthernet0/0.1");
}

/** A name of exactly size octets that ends with tail (so that domains can be matched). */
std::string name_of(std::size_t size, const std::string& tail = "") {
  return std::string(size - tail.size(), 'n') + tail;
}

/** The Start the gateway builds for the scenario's first peer, through the wire and back. */
radius::Packet start_on_the_wire(const std::string& config_text, const std::string& scenario_text) {
  ConfigReadResult read = read_ios_config(config_text);
  for (const auto& d : read.diagnostics) {
    UNSCOPED_INFO(d.to_string());
  }
  REQUIRE(read.usable());
  auto scenario = parse_scenario(scenario_text);
  if (!scenario) {
    FAIL(scenario.error().to_string());
  }
  REQUIRE(scenario->peers.size() >= 1);
  VirtualClock clock;
  GatewayModel model(read.config, {}, clock);
  const PeerSpec& spec = scenario->peers.back();
  REQUIRE_FALSE(model.add_peer(spec));
  REQUIRE_FALSE(model.connect(spec.name));
  REQUIRE_FALSE(model.sa_up(spec.name, "1"));
  auto events = model.take_events();
  REQUIRE(events.size() == 1);
  REQUIRE(events[0].kind == AccountingEvent::Kind::start);
  PacketOptions options;
  options.nas_ip = {10, 1, 1, 147};
  options.send_vsa = read.config.vsa_send_accounting;
  const auto& dict = radius::Dictionary::builtin();
  auto wire = radius::try_encode_packet(build_accounting_request(events[0], options, 0), dict);
  if (!wire) {
    FAIL(wire.error().message());
  }
  auto decoded = radius::decode_packet(*wire, dict);
  REQUIRE(decoded);
  return std::move(decoded).value();
}

std::vector<std::string> values(const radius::Packet& packet, std::uint32_t vendor,
                                std::uint32_t type) {
  std::vector<std::string> out;
  for (const auto& a : packet.attributes()) {
    if (a.vendor == vendor && (vendor ? a.vendor_type : a.type) == type) {
      auto v = packet.value(a);
      out.emplace_back(v.begin(), v.end());
    }
  }
  return out;
}

std::vector<std::string> avpairs(const radius::Packet& p) {
  return values(p, 9, 1);
}

bool contains(const std::vector<std::string>& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

/** The error the configuration has on line (it must have one, and so be unusable). */
Diagnostic config_error(const std::string& text, int line) {
  ConfigReadResult read = read_ios_config(text);
  CHECK_FALSE(read.usable());
  for (const auto& d : read.diagnostics) {
    if (d.severity == Diagnostic::Severity::error && d.line == line) {
      return d;
    }
    UNSCOPED_INFO(d.to_string());
  }
  FAIL("no error on line " << line);
  return {};
}

const char* peer_line = "peer joe initiator 11.1.2.2 identity ";

} // namespace

TEST_CASE("a configured vrf name fits vrf-id up to 240 octets", "[client][config][limits]") {
  const std::string vrf = name_of(vrf_id_room);
  radius::Packet start = start_on_the_wire(config(vrf, "group cclient", "Fa0/0"),
                                           std::string(peer_line) + "group cclient\n");
  CHECK(contains(avpairs(start), "vrf-id=" + vrf));

  Diagnostic d = config_error(config(vrf + "v", "group cclient", "Fa0/0"), 4);
  CHECK_THAT(d.message,
             Catch::StartsWith("vrf name is 241 octets; Cisco-AVPair holds at most 247"));
  CHECK_THAT(d.message, Catch::Contains("\"vrf-id=\" takes 7 of them (at most 240 for the value)"));
}

TEST_CASE("a configured interface name fits cisco-nas-port up to 247 octets",
          "[client][config][limits]") {
  const std::string iface = name_of(cisco_room);
  radius::Packet start = start_on_the_wire(config("cisco", "group cclient", iface),
                                           std::string(peer_line) + "group cclient\n");
  CHECK(values(start, 9, 2) == std::vector<std::string>{iface});

  ConfigReadResult read = read_ios_config(config("cisco", "group cclient", iface + "i") +
                                          "ip local pool addressA 10.13.13.1 10.13.13.3\n");
  CHECK_FALSE(read.usable());
  // One error, on the interface line: its sub-commands (lines 13, 14) add nothing, and the
  // global command after them is read as usual.
  for (const auto& d : read.diagnostics) {
    UNSCOPED_INFO(d.to_string());
  }
  CHECK(read.config.pools.size() == 1);
  REQUIRE(read.diagnostics.size() == 1);
  CHECK(read.diagnostics[0].line == 12);
  CHECK(read.diagnostics[0].severity == Diagnostic::Severity::error);
  CHECK(read.diagnostics[0].message ==
        "interface name is 248 octets; Cisco-NAS-Port holds at most 247");
  CHECK(read.config.interfaces.empty());
}

TEST_CASE("match identity values fit the AV pair the matched peer's identity goes into",
          "[client][config][limits]") {
  struct Case {
    std::string kind;     // after "match identity"
    std::string what;     // as the error names it
    std::string identity; // the scenario's identity type
    std::size_t room;
    std::string prefix;
    std::string tail; // the value ends with it (domains are matched by their tail)
  };
  const std::vector<Case> cases = {
      {"group", "match identity group name", "group", group_id_room, "isakmp-group-id=", ""},
      {"host", "match identity host name", "fqdn", phase1_id_room, "isakmp-phase1-id=", ".com"},
      {"host domain", "match identity host domain", "fqdn", phase1_id_room,
       "isakmp-phase1-id=", ".com"},
      {"user", "match identity user name", "user-fqdn", phase1_id_room,
       "isakmp-phase1-id=", "@x.com"},
      {"user domain", "match identity user domain", "user-fqdn", phase1_id_room,
       "isakmp-phase1-id=", "x.com"},
  };
  for (const auto& c : cases) {
    SECTION(c.kind) {
      // The longest value matches a peer whose identity is that value, and the Start carries it.
      const std::string value = name_of(c.room, c.tail);
      radius::Packet start =
          start_on_the_wire(config("cisco", c.kind + " " + value, "Fa0/0"),
                            std::string(peer_line) + c.identity + " " + value + "\n");
      CHECK(contains(avpairs(start), c.prefix + value));
      CHECK(contains(avpairs(start), "vrf-id=cisco")); // the profile matched

      const std::string refused = config("cisco", c.kind + " n" + value, "Fa0/0");
      Diagnostic d = config_error(refused, 5);
      CHECK_THAT(d.message, Catch::StartsWith(c.what + " is " + std::to_string(c.room + 1) +
                                              " octets; Cisco-AVPair holds at most 247"));
      CHECK_THAT(d.message, Catch::Contains("(at most " + std::to_string(c.room) + " for"));
      // The profile is left without one: its own error says why.
      CHECK_THAT(config_error(refused, 3).message,
                 Catch::Contains("has no usable 'match identity' (each was refused)"));
    }
  }
}

TEST_CASE("a scenario's identities fit isakmp-group-id and isakmp-phase1-id",
          "[client][scenario][limits]") {
  struct Case {
    std::string type;
    std::string what;
    std::size_t room;
    std::string prefix;
  };
  const std::vector<Case> cases = {
      {"group", "group identity", group_id_room, "isakmp-group-id="},
      {"fqdn", "fqdn identity", phase1_id_room, "isakmp-phase1-id="},
      {"user-fqdn", "user-fqdn identity", phase1_id_room, "isakmp-phase1-id="},
  };
  for (const auto& c : cases) {
    SECTION(c.type) {
      const std::string value = name_of(c.room);
      // No profile matches these; the crypto map's client accounting list accounts them.
      radius::Packet start = start_on_the_wire(
          plain_config() + "exit\ncrypto map mymap client accounting list acc\n",
          "# the longest\n" + std::string(peer_line) + c.type + " " + value + "\n");
      CHECK(contains(avpairs(start), c.prefix + value));

      auto refused = parse_scenario("# one octet more\n\n" + std::string(peer_line) + c.type + " " +
                                    value + "i xauth joe\nconnect joe\n");
      REQUIRE_FALSE(refused);
      CHECK(refused.error().line == 3);
      CHECK_THAT(refused.error().message,
                 Catch::StartsWith(c.what + " is " + std::to_string(c.room + 1) +
                                   " octets; Cisco-AVPair holds at most 247"));
      CHECK_THAT(refused.error().to_string("x.scn"), Catch::StartsWith("x.scn:3: " + c.what));
    }
  }
}

TEST_CASE("a scenario's XAUTH user fits User-Name up to 253 octets", "[client][scenario][limits]") {
  const std::string user = name_of(user_name_room);
  radius::Packet start = start_on_the_wire(
      plain_config(), std::string(peer_line) + "group cclient xauth " + user + "\n");
  CHECK(values(start, 0, 1) == std::vector<std::string>{user});

  auto refused =
      parse_scenario("\n" + std::string(peer_line) + "group cclient xauth " + user + "u\n");
  REQUIRE_FALSE(refused);
  CHECK(refused.error().line == 2);
  CHECK(refused.error().message == "xauth user name is 254 octets; User-Name holds at most 253");
}

TEST_CASE("a scenario's interface fits cisco-nas-port up to 247 octets",
          "[client][scenario][limits]") {
  const std::string iface = name_of(cisco_room);
  radius::Packet start = start_on_the_wire(
      plain_config(), std::string(peer_line) + "group cclient interface " + iface + "\n");
  CHECK(values(start, 9, 2) == std::vector<std::string>{iface});

  auto refused =
      parse_scenario(std::string(peer_line) + "group cclient interface " + iface + "i\n");
  REQUIRE_FALSE(refused);
  CHECK(refused.error().line == 1);
  CHECK(refused.error().message ==
        "interface name is 248 octets; Cisco-NAS-Port holds at most 247");
}

TEST_CASE("a peers line is checked peer by peer: {n} makes later names longer",
          "[client][scenario][limits]") {
  // u1..u9 have 252 + 1 octets of user name; u10 has 254.
  const std::string user = name_of(user_name_room - 1);
  const std::string line =
      "peers u 9 initiator 11.2.0.1 identity group cclient xauth " + user + "{n} pool addressA\n";
  const std::string pool = "exit\nip local pool addressA 10.13.13.1 10.13.13.99\n";
  radius::Packet start = start_on_the_wire(plain_config() + pool, line);
  CHECK(values(start, 0, 1) == std::vector<std::string>{user + "9"});

  std::string ten = line;
  ten.replace(ten.find(" 9 "), 3, " 10 ");
  auto refused = parse_scenario("slot A\n" + ten + "connect u[1-10]\n");
  REQUIRE_FALSE(refused);
  CHECK(refused.error().line == 2);
  CHECK(refused.error().message ==
        "peer u10: xauth user name is 254 octets; User-Name holds at most 253");
}
