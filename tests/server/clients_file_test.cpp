#include "server/clients_file.hpp"

#include <catch2/catch.hpp>

using namespace acctlab::server;

TEST_CASE("clients.conf in FreeRADIUS format", "[server][clients]") {
  const auto parsed = parse_clients(R"(
# lab NASes
client gw1 {
    ipaddr = 192.0.2.1/32
    secret = "cisco 123"
    shortname = gateway-one
    require_message_authenticator = yes
    profile = cisco-ios-ipsec
    nas_type = cisco          # accepted, unused
    limit {
        max_connections = 16
    }
}
client lab { ipaddr = 192.0.2.0/24  secret = labsecret }
client v6 {
    ipv6addr = 2001:db8::/32
    secret = six
}
client 198.51.100.7 {
    secret = bare
}
)",
                                    "clients.conf");
  REQUIRE(parsed);
  const auto& list = *parsed;
  REQUIRE(list.clients().size() == 4);
  const auto& gw1 = list.clients()[0];
  CHECK(gw1.secret == "cisco 123");
  CHECK(gw1.shortname == "gateway-one");
  CHECK(gw1.require_message_authenticator);
  CHECK(gw1.profile == "cisco-ios-ipsec");
  CHECK(gw1.line == 3);
  CHECK(list.clients()[1].shortname == "lab");

  // Longest prefix wins.
  CHECK(list.match(*IpAddress::parse("192.0.2.1"))->name == "gw1");
  CHECK(list.match(*IpAddress::parse("192.0.2.77"))->name == "lab");
  CHECK(list.match(*IpAddress::parse("192.0.3.1")) == nullptr);
  CHECK(list.match(*IpAddress::parse("2001:db8:1::5"))->name == "v6");
  CHECK(list.match(*IpAddress::parse("2001:db9::5")) == nullptr);
  CHECK(list.match(*IpAddress::parse("198.51.100.7"))->secret == "bare");
  // An IPv4-mapped IPv6 source (dual-stack socket) matches the IPv4 client.
  CHECK(list.match(*IpAddress::parse("::ffff:192.0.2.1"))->name == "gw1");
}

TEST_CASE("clients.conf errors name the file and line", "[server][clients]") {
  struct Case {
    const char* text;
    int line;
    const char* message_part;
  };
  const Case cases[] = {
      {"client a {\n  ipaddr = 192.0.2.1\n}\n", 1, "no secret"},
      {"client a {\n  secret = x\n}\n", 1, "no ipaddr"},
      {"client a {\n  ipaddr = 192.0.2.300\n  secret = x\n}\n", 2, "bad ipaddr"},
      {"client a {\n  ipaddr = 192.0.2.1/33\n  secret = x\n}\n", 2, "bad ipaddr"},
      {"client a {\n  ipv6addr = 192.0.2.1\n  secret = x\n}\n", 2, "bad ipv6addr"},
      {"client a {\n  ipaddr = 192.0.2.1\n  secret = x\n", 1, "no closing"},
      {"\n\nserver x {\n}\n", 3, "expected 'client"},
      {"client a {\n ipaddr = 192.0.2.1\n secret = x\n require_message_authenticator = maybe\n}", 4,
       "yes or no"},
      {"client a { ipaddr = 192.0.2.1 secret = x }\nclient a { ipaddr = 192.0.2.2 secret = y }\n",
       2, "duplicate client"},
      {"client a {\n  secret = \"unterminated\n}\n", 2, "unterminated"},
      {"client a {\n  secret\n}\n", 2, "expected '='"},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    const auto parsed = parse_clients(c.text, "bad.conf");
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().file == "bad.conf");
    CHECK(parsed.error().line == c.line);
    CHECK_THAT(parsed.error().message, Catch::Contains(c.message_part));
    CHECK_THAT(parsed.error().to_string(), Catch::StartsWith("bad.conf:"));
  }
}

TEST_CASE("a missing clients file is an error with its path", "[server][clients]") {
  const auto loaded = load_clients_file("/nonexistent/clients.conf");
  REQUIRE_FALSE(loaded);
  CHECK(loaded.error().file == "/nonexistent/clients.conf");
}

TEST_CASE("the built-in clients allow only loopback", "[server][clients]") {
  const auto list = ClientList::local_default();
  CHECK(list.match(*IpAddress::parse("127.0.0.1"))->secret == "testing123");
  CHECK(list.match(*IpAddress::parse("::1"))->secret == "testing123");
  CHECK(list.match(*IpAddress::parse("127.0.0.2")) == nullptr);
  CHECK(list.match(*IpAddress::parse("192.0.2.1")) == nullptr);
}

TEST_CASE("addresses print as they parse", "[server][clients]") {
  for (const char* text : {"0.0.0.0", "255.255.255.255", "192.0.2.1", "198.51.100.10",
                           "9.90.99.100", "127.0.0.1", "::1", "2001:db8::7"}) {
    INFO(text);
    const auto address = IpAddress::parse(text);
    REQUIRE(address);
    CHECK(address->to_string() == text);
  }
  // Every octet value, in each position.
  for (unsigned v = 0; v < 256; ++v) {
    const auto o = static_cast<std::uint8_t>(v);
    const auto address = IpAddress::v4({o, 1, o, o});
    const auto expected = std::to_string(v) + ".1." + std::to_string(v) + "." + std::to_string(v);
    REQUIRE(address.to_string() == expected);
  }
}
