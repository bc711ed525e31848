#include "client/ios_config.hpp"
#include "client/scenario.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <fstream>
#include <iterator>
#include <string>

using namespace acctlab::gateway;

namespace {

std::string scenario_path(const std::string& name) {
  return std::string(ACCTLAB_SOURCE_DIR) + "/client/scenarios/" + name;
}

const Diagnostic* find_diagnostic(const ConfigReadResult& r, int line) {
  for (const auto& d : r.diagnostics) {
    if (d.line == line) {
      return &d;
    }
  }
  return nullptr;
}

} // namespace

TEST_CASE("the document's ISAKMP-profile configuration loads with its typos as warnings",
          "[client][config]") {
  ConfigReadResult r = read_ios_config_file(scenario_path("doc-isakmp-profile.cfg"));
  for (const auto& d : r.diagnostics) {
    INFO(d.to_string());
    CHECK(d.severity == Diagnostic::Severity::warning);
  }
  REQUIRE(r.usable());
  const IosConfig& c = r.config;
  CHECK(c.hostname == "sheep");
  CHECK(c.aaa_new_model);
  REQUIRE(c.accounting_lists.size() == 1);
  CHECK(c.accounting_lists[0].name == "ipsecaaa");
  CHECK(c.accounting_lists[0].mode == AccountingList::Mode::start_stop);
  CHECK_FALSE(c.accounting_lists[0].broadcast);
  CHECK(c.update_periodic_minutes == 1u);
  CHECK(c.session_id_mode == "common");
  CHECK(c.radius_retransmit == 3);
  CHECK(c.vsa_send_accounting);
  REQUIRE(c.radius_hosts.size() == 1);
  CHECK(format_ipv4(c.radius_hosts[0].address) == "172.27.162.206");
  CHECK(c.radius_hosts[0].acct_port == 1646);
  CHECK(c.radius_hosts[0].key == "cisco123");
  REQUIRE(c.pools.size() == 1);
  CHECK(format_ipv4(c.pools[0].last) == "192.168.1.253");
  // The typos: "crypto iakmp client configuration group" (line 35) and "crypto-isakmp profile
  // groupA" (line 39) are not commands, so no profile exists and its sub-commands are orphans.
  const Diagnostic* iakmp = find_diagnostic(r, 35);
  REQUIRE(iakmp);
  CHECK(iakmp->message.find("unrecognised") != std::string::npos);
  const Diagnostic* profile = find_diagnostic(r, 39);
  REQUIRE(profile);
  CHECK(profile->text == "crypto-isakmp profile groupA");
  const Diagnostic* vrf = find_diagnostic(r, 40);
  REQUIRE(vrf);
  CHECK(vrf->message.find("outside its mode") != std::string::npos);
  CHECK(c.profiles.empty());
  // The dynamic map and the crypto map that uses it.
  REQUIRE(c.crypto_maps.size() == 2);
  CHECK(c.crypto_maps[0].dynamic_template);
  CHECK(c.crypto_maps[0].lifetime.seconds == 120u);
  CHECK(format_ipv4(c.crypto_maps[0].peers.at(0)) == "172.31.100.2");
  CHECK(c.crypto_maps[1].dynamic_map == "remotes");
  REQUIRE(c.crypto_interface());
  CHECK(c.crypto_interface()->name == "FastEthernet1/1");
  // Every line the model does not use is a warning with its line number.
  CHECK(find_diagnostic(r, 2)); // version 12.2
  CHECK(r.count(Diagnostic::Severity::warning) > 40);
  // With the profile line mistyped nothing names an accounting list: the reader says so.
  CHECK(resolve_accounting_list(c, nullptr, "test") == nullptr);
}

TEST_CASE("the document's configuration without profiles accounts via the crypto map",
          "[client][config]") {
  ConfigReadResult r = read_ios_config_file(scenario_path("doc-no-profile.cfg"));
  for (const auto& d : r.diagnostics) {
    INFO(d.to_string());
    CHECK(d.severity == Diagnostic::Severity::warning);
  }
  REQUIRE(r.usable());
  const IosConfig& c = r.config;
  REQUIRE(c.map_accounting_lists.size() == 1);
  CHECK(c.map_accounting_lists[0].first == "test");
  const AccountingList* list = resolve_accounting_list(c, nullptr, "test");
  REQUIRE(list);
  CHECK(list->name == "ipsecaaa");
  auto servers = accounting_servers(c, *list);
  REQUIRE(servers.size() == 1);
  CHECK(servers[0].acct_port == 1646);
  CHECK(servers[0].key == "cisco123");
  REQUIRE(c.crypto_maps.size() == 1);
  CHECK(c.crypto_maps[0].ipsec_isakmp);
  CHECK(c.crypto_maps[0].transform_sets == std::vector<std::string>{"esp-des-md5"});
  // Lines after 'end' are not read; the indented global commands are still global.
  CHECK(c.interfaces.size() == 4);
  CHECK(c.interface("FastEthernet1/1")->crypto_map == "test");
}

TEST_CASE("profiles, identities and accounting list resolution", "[client][config]") {
  const char* text = R"(hostname gw
aaa new-model
aaa accounting network acc start-stop broadcast group radius
aaa accounting network late stop-only group pair
aaa group server radius pair
 server 10.1.1.4 auth-port 1645 acct-port 1646
 server 10.1.1.5
aaa accounting update periodic 5
aaa session-id unique
crypto isakmp profile cisco
 vrf cisco
 match identity group cclient
 match identity host domain vpn.com
 client authentication list cisco-client
 isakmp authorization list cisco-client
 client configuration address respond
 accounting acc
crypto isakmp profile other accounting late
 match identity address 10.53.0.0 255.255.0.0
 match identity user domain example.net
crypto isakmp profile plain
 match identity user alice@example.org
crypto dynamic-map dmap 10
 set transform-set aswan
 set isakmp-profile cisco
 set security-association lifetime kilobytes 1000
crypto map mymap client-accounting-list late
crypto map mymap 10 ipsec-isakmp dynamic dmap
radius-server host 10.1.1.4 auth-port 1645 acct-port 1646
radius-server host 10.1.1.5 acct-port 1813 key per host secret
radius-server key nsite
radius-server timeout 2
radius-server vsa send accounting
radius-server attribute 55 include-in-acct-req
interface FastEthernet 0/0.1
 ip address 10.1.1.147 255.255.255.0
 crypto map mymap
)";
  ConfigReadResult r = read_ios_config(text);
  for (const auto& d : r.diagnostics) {
    INFO(d.to_string());
  }
  REQUIRE(r.usable());
  const IosConfig& c = r.config;
  CHECK(c.session_id_mode == "unique");
  CHECK(c.update_periodic_minutes == 5u);
  CHECK(c.radius_timeout_seconds == 2);
  CHECK(c.event_timestamp);
  CHECK_FALSE(read_ios_config("radius-server key k\n").config.event_timestamp);
  CHECK_FALSE(read_ios_config("radius-server attribute 55 sometimes\n").usable());
  REQUIRE(c.profiles.size() == 3);
  CHECK(c.profiles[0].vrf == "cisco");
  CHECK(c.profiles[0].identities.size() == 2);
  CHECK(c.profiles[0].client_configuration_address == "respond");
  CHECK(c.profiles[1].accounting_list == "late");
  CHECK(c.interface("FastEthernet0/0.1")->crypto_map == "mymap");

  auto profile_of = [&](IkeIdentity::Type type, std::string value) {
    return match_profile(c, IkeIdentity{type, std::move(value)});
  };
  CHECK(profile_of(IkeIdentity::Type::key_id, "cclient").profile == &c.profiles[0]);
  CHECK(profile_of(IkeIdentity::Type::fqdn, "gw.VPN.com").profile == &c.profiles[0]);
  CHECK(profile_of(IkeIdentity::Type::ipv4_address, "10.53.7.9").profile == &c.profiles[1]);
  CHECK(profile_of(IkeIdentity::Type::ipv4_address, "10.54.7.9").profile == nullptr);
  CHECK(profile_of(IkeIdentity::Type::user_fqdn, "bob@example.net").profile == &c.profiles[1]);
  CHECK(profile_of(IkeIdentity::Type::key_id, "vpn.com").profile == nullptr);

  // The profile's accounting list wins; a profile without one falls back to the crypto map's
  // client accounting list; without both there is no accounting.
  CHECK(resolve_accounting_list(c, &c.profiles[0], "mymap")->name == "acc");
  CHECK(resolve_accounting_list(c, &c.profiles[2], "mymap")->name == "late");
  CHECK(resolve_accounting_list(c, &c.profiles[2], "nomap") == nullptr);
  CHECK(resolve_accounting_list(c, nullptr, "mymap")->name == "late");

  const AccountingList* acc = c.accounting_list("acc");
  REQUIRE(acc);
  CHECK(acc->broadcast);
  auto all = accounting_servers(c, *acc);
  REQUIRE(all.size() == 2);
  CHECK(all[0].key == "nsite");
  CHECK(all[1].acct_port == 1813);
  CHECK(all[1].key == "per host secret");
  const AccountingList* late = c.accounting_list("late");
  REQUIRE(late);
  CHECK(late->mode == AccountingList::Mode::stop_only);
  auto pair = accounting_servers(c, *late);
  REQUIRE(pair.size() == 2);
  CHECK(pair[1].acct_port == 1813);
}

TEST_CASE("broken configurations are errors with their line", "[client][config]") {
  SECTION("a profile without match identity is incomplete") {
    auto r = read_ios_config("aaa new-model\ncrypto isakmp profile empty\n vrf x\n");
    REQUIRE_FALSE(r.usable());
    REQUIRE(r.count(Diagnostic::Severity::error) == 1);
    const Diagnostic* d = find_diagnostic(r, 2);
    REQUIRE(d);
    CHECK(d->severity == Diagnostic::Severity::error);
    CHECK(d->message.find("no 'match identity'") != std::string::npos);
  }
  SECTION("two profiles matching the same identity make the configuration invalid") {
    auto r = read_ios_config("crypto isakmp profile a\n match identity group g\n"
                             "crypto isakmp profile b\n match identity host h.example\n"
                             " match identity group g\n");
    REQUIRE_FALSE(r.usable());
    const Diagnostic* d = find_diagnostic(r, 5);
    REQUIRE(d);
    CHECK(d->severity == Diagnostic::Severity::error);
    CHECK(d->message.find("'a' (line 2) and 'b'") != std::string::npos);
    // At run time, a peer whose identity both match is refused with the same reason.
    auto m = match_profile(r.config, IkeIdentity{IkeIdentity::Type::key_id, "g"});
    CHECK(m.profile == nullptr);
    CHECK_FALSE(m.error.empty());
  }
  SECTION("malformed arguments of modelled commands") {
    auto r = read_ios_config("hostname ok\naaa accounting update periodic never\n"
                             "radius-server retransmit 1000\nradius-server host 10.1.1\n"
                             "aaa accounting network acc sometimes group radius\n"
                             "crypto map m 0 ipsec-isakmp\n");
    REQUIRE(r.count(Diagnostic::Severity::error) == 5);
    for (int line = 2; line <= 6; ++line) {
      const Diagnostic* d = find_diagnostic(r, line);
      REQUIRE(d);
      CHECK(d->severity == Diagnostic::Severity::error);
      CHECK(d->to_string().rfind("line " + std::to_string(line) + ": error: ", 0) == 0);
    }
  }
  SECTION("binary junk and overlong lines never crash") {
    std::string junk(5000, '\x01');
    junk += "\n\xff\xfe crypto map\n aaa\nradius-server\ninterface\nmatch identity\n";
    auto r = read_ios_config(junk);
    CHECK(r.diagnostics.size() >= 5);
  }
  SECTION("an unreadable file is an error at line 0") {
    auto r = read_ios_config_file("/nonexistent/router.cfg");
    REQUIRE_FALSE(r.usable());
    CHECK(r.diagnostics[0].line == 0);
  }
}

TEST_CASE("mutated configurations and scenarios never crash the readers", "[client][config]") {
  // Every prefix (in steps) and deterministic single-byte mutations of the document's
  // configuration and of a scenario: each read ends with a result, never a crash or a throw,
  // and every diagnostic points inside the text.
  std::ifstream config_file(scenario_path("doc-isakmp-profile.cfg"));
  std::string config((std::istreambuf_iterator<char>(config_file)), {});
  std::ifstream scenario_file(scenario_path("churn.scn"));
  std::string scenario((std::istreambuf_iterator<char>(scenario_file)), {});
  REQUIRE(config.size() > 1000);
  REQUIRE(scenario.size() > 100);
  auto lines = [](const std::string& text) {
    return static_cast<int>(std::count(text.begin(), text.end(), '\n')) + 1;
  };
  std::uint32_t seed = 12345;
  auto next = [&seed] {
    seed = seed * 1103515245u + 12345u;
    return seed >> 8;
  };
  for (std::size_t cut = 0; cut < config.size(); cut += 37) {
    auto r = read_ios_config(std::string_view(config).substr(0, cut));
    for (const auto& d : r.diagnostics) {
      CHECK(d.line <= lines(config));
    }
  }
  for (int i = 0; i < 3000; ++i) {
    std::string text = i % 2 ? config : scenario;
    text[next() % text.size()] = static_cast<char>(next() & 0xFF);
    if (i % 2) {
      auto r = read_ios_config(text);
      for (const auto& d : r.diagnostics) {
        CHECK(d.line <= lines(text));
      }
    } else {
      auto s = parse_scenario(text);
      if (!s) {
        CHECK(s.error().line >= 1);
        CHECK(s.error().line <= lines(text));
      }
    }
  }
}
