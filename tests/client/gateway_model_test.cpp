#include "client/gateway_model.hpp"
#include "client/scenario.hpp"

#include <catch2/catch.hpp>
#include <chrono>

using namespace acctlab::gateway;
using Kind = AccountingEvent::Kind;

namespace {

const char* base_config = R"(aaa new-model
aaa accounting network acc start-stop group radius
aaa accounting network late stop-only group radius
aaa accounting update periodic 1
crypto isakmp profile cisco
 vrf cisco
 match identity group cclient
 accounting acc
crypto isakmp profile quiet
 match identity group quiet
 accounting late
crypto isakmp profile none
 match identity group none
crypto dynamic-map dmap 10
 set security-association lifetime seconds 600
crypto map mymap 10 ipsec-isakmp dynamic dmap
radius-server host 10.1.1.4 auth-port 1645 acct-port 1646
radius-server key nsite
radius-server vsa send accounting
ip local pool addressA 10.13.13.1 10.13.13.3
interface FastEthernet0/0.1
 ip address 10.1.1.147 255.255.255.0
 crypto map mymap
)";

struct Fixture {
  Fixture() : read(read_ios_config(base_config)), model(read.config, {}, clock) {
    REQUIRE(read.usable());
  }
  PeerSpec peer(std::string name, std::string group, bool xauth = true) {
    PeerSpec p;
    p.name = std::move(name);
    p.initiator = {11, 1, 2, 2};
    p.identity = {IkeIdentity::Type::key_id, std::move(group)};
    if (xauth) {
      p.xauth_user = "joe@cclient";
    }
    p.pool = "addressA";
    return p;
  }
  void at(std::int64_t seconds) {
    clock.advance_to(Millis{seconds * 1000});
    model.on_time();
  }
  ConfigReadResult read;
  VirtualClock clock;
  GatewayModel model;
};

} // namespace

TEST_CASE("a session starts with the first SA pair and stops with the last", "[client][model]") {
  Fixture f;
  REQUIRE_FALSE(f.model.add_peer(f.peer("joe", "cclient")));
  // The document: the start comes after the IKE phases, so an SA pair needs an IKE SA.
  REQUIRE(f.model.sa_up("joe", "1"));
  REQUIRE_FALSE(f.model.connect("joe"));
  CHECK(f.model.take_events().empty());
  REQUIRE_FALSE(f.model.sa_up("joe", "1"));
  auto events = f.model.take_events();
  REQUIRE(events.size() == 1);
  CHECK(events[0].kind == Kind::start);
  CHECK(events[0].session_id == "00000001");
  // XAUTH took AAA context 1: the document's first record is RADIUS(00000002), session 1.
  CHECK(events[0].aaa_id == 2);
  CHECK(events[0].user_name == "joe@cclient");
  CHECK(events[0].vrf == "cisco");
  CHECK(events[0].interface == "FastEthernet0/0.1");
  REQUIRE(events[0].framed_ip);
  CHECK(format_ipv4(*events[0].framed_ip) == "10.13.13.1");
  CHECK(events[0].list->name == "acc");

  f.at(10);
  REQUIRE_FALSE(f.model.sa_up("joe", "2"));
  REQUIRE_FALSE(f.model.traffic("joe", "1", {4, 608}, {5, 700}));
  REQUIRE_FALSE(f.model.traffic("joe", "2", {1, 100}, {2, 200}));
  f.at(20);
  REQUIRE_FALSE(f.model.sa_down("joe", "1"));
  CHECK(f.model.take_events().empty()); // pair 2 still up: no record
  f.at(30);
  REQUIRE_FALSE(f.model.sa_down("joe", "2"));
  events = f.model.take_events();
  REQUIRE(events.size() == 1);
  CHECK(events[0].kind == Kind::stop);
  CHECK(events[0].session_time == 30);
  CHECK(events[0].input.packets == 5);
  CHECK(events[0].input.octets == 708);
  CHECK(events[0].output.packets == 7);
  CHECK(events[0].output.octets == 900);
  CHECK(events[0].reason == StopReason::sa_deleted);
  // The IKE SA is still up: a new pair is a new session with the next session id.
  REQUIRE_FALSE(f.model.sa_up("joe", "1"));
  events = f.model.take_events();
  REQUIRE(events.size() == 1);
  CHECK(events[0].session_id == "00000002");
}

TEST_CASE("rekeys make no record and keep the traffic of deleted SAs", "[client][model]") {
  Fixture f;
  REQUIRE_FALSE(f.model.add_peer(f.peer("joe", "cclient")));
  REQUIRE_FALSE(f.model.connect("joe"));
  REQUIRE_FALSE(f.model.sa_up("joe", "1"));
  f.model.take_events();
  REQUIRE_FALSE(f.model.traffic("joe", "1", {10, 1000}, {10, 2000}));
  REQUIRE_FALSE(f.model.rekey_ipsec("joe", "1"));
  REQUIRE_FALSE(f.model.rekey_ike("joe"));
  REQUIRE_FALSE(f.model.traffic("joe", "1", {1, 1}, {1, 1}));
  CHECK(f.model.take_events().empty());
  auto totals = f.model.session_totals("joe");
  REQUIRE(totals);
  CHECK(totals->first.octets == 1001);
  CHECK(totals->second.packets == 11);
  // The crypto map's 600 s lifetime rekeys the pair by itself, again without a record (the
  // interim at 60 s is the only kind of record that time makes).
  f.model.take_debug_lines();
  f.at(600);
  auto lines = f.model.take_debug_lines();
  CHECK(std::count(lines.begin(), lines.end(), "ISAKMP AAA: Updating Stats") >= 2);
  for (const auto& e : f.model.take_events()) {
    CHECK(e.kind == Kind::interim);
  }
  REQUIRE_FALSE(f.model.ike_delete("joe"));
  auto events = f.model.take_events();
  REQUIRE(events.size() == 1);
  CHECK(events[0].kind == Kind::stop);
  CHECK(events[0].reason == StopReason::ike_deleted);
  CHECK(events[0].input.octets == 1001);
}

TEST_CASE("interims every interval, counters are 64-bit", "[client][model]") {
  Fixture f;
  REQUIRE_FALSE(f.model.add_peer(f.peer("joe", "cclient")));
  REQUIRE_FALSE(f.model.connect("joe"));
  f.at(5);
  REQUIRE_FALSE(f.model.sa_up("joe", "1", SaLifetime{.seconds = 86400, .kilobytes = 1ull << 40}));
  f.model.take_events();
  std::uint64_t five_gib = 5ull << 30;
  REQUIRE_FALSE(f.model.traffic("joe", "1", {4000000, five_gib}, {10, 100}));
  std::vector<AccountingEvent> interims;
  for (int s = 6; s <= 5 + 3 * 60; ++s) {
    f.at(s);
    for (auto& e : f.model.take_events()) {
      interims.push_back(e);
    }
  }
  REQUIRE(interims.size() == 3);
  for (std::size_t i = 0; i < interims.size(); ++i) {
    CHECK(interims[i].kind == Kind::interim);
    CHECK(interims[i].session_time == 60 * (i + 1));
    CHECK(interims[i].input.octets == five_gib);
  }
}

TEST_CASE("stop-only, no accounting list, no XAUTH, dead peer", "[client][model]") {
  Fixture f;
  REQUIRE_FALSE(f.model.add_peer(f.peer("q", "quiet", false)));
  REQUIRE_FALSE(f.model.add_peer(f.peer("n", "none")));
  REQUIRE_FALSE(f.model.add_peer(f.peer("d", "cclient", false)));
  for (const char* p : {"q", "n", "d"}) {
    REQUIRE_FALSE(f.model.connect(p));
    REQUIRE_FALSE(f.model.sa_up(p, "1"));
  }
  auto events = f.model.take_events();
  REQUIRE(events.size() == 1); // only d's start: q is stop-only, n has no list
  CHECK(events[0].peer == "d");
  CHECK_FALSE(events[0].user_name);
  // AAA contexts: q's session 1, n's XAUTH 2 and session 3, d's session 4 (d has no XAUTH).
  CHECK(events[0].aaa_id == 4);
  f.at(200); // no interims for stop-only sessions
  for (const auto& e : f.model.take_events()) {
    CHECK(e.peer == "d");
  }
  REQUIRE_FALSE(f.model.dead_peer("d"));
  REQUIRE_FALSE(f.model.sa_down("q", "1"));
  REQUIRE_FALSE(f.model.sa_down("n", "1"));
  events = f.model.take_events();
  REQUIRE(events.size() == 2);
  CHECK(events[0].peer == "d");
  CHECK(events[0].reason == StopReason::dead_peer);
  CHECK(events[1].peer == "q");
  CHECK(events[1].list->name == "late");
  // The pool has three addresses; a fourth peer gets none.
  REQUIRE_FALSE(f.model.add_peer(f.peer("x", "cclient")));
  auto error = f.model.connect("x");
  REQUIRE(error);
  CHECK(error->message.find("exhausted") != std::string::npos);
  CHECK(f.model.connect("nobody")->message == "unknown peer 'nobody'");
}

TEST_CASE("scenario parsing", "[client][scenario]") {
  auto s = parse_scenario(R"(# What it shows
# second line
# config: lab.cfg
slot A
slot B
peers u 3 initiator 11.2.0.1 identity group cclient xauth u{n}@cclient pool addressA
peer joe initiator 11.1.2.2 identity user-fqdn joe@example.com address 10.13.13.1
connect u[1-3]
sa-up joe p2 lifetime 120s 4608000kb
traffic joe p2 in 4 608 out 5GiB 1
rekey joe ipsec p2
rekey u2 ike
advance 90s
server B drop-answers
dead u3
)");
  REQUIRE(s);
  CHECK(s->comments.size() == 3);
  CHECK(s->config_hint == "lab.cfg");
  CHECK(scenario_config_path("client/scenarios/x.scn", *s) == "client/scenarios/lab.cfg");
  CHECK(s->slots == std::vector<std::string>{"A", "B"});
  REQUIRE(s->peers.size() == 4);
  CHECK(s->peers[2].xauth_user == "u3@cclient");
  CHECK(format_ipv4(s->peers[2].initiator) == "11.2.0.3");
  CHECK(s->peers[3].identity.type == IkeIdentity::Type::user_fqdn);
  REQUIRE(s->steps.size() == 8);
  CHECK(s->steps[0].peers.size() == 3);
  CHECK(s->steps[1].pair == "p2");
  CHECK(s->steps[1].lifetime.seconds == 120u);
  CHECK(s->steps[1].lifetime.kilobytes == 4608000u);
  CHECK(s->steps[2].output.packets == 5ull << 30);
  CHECK(s->steps[3].op == ScenarioStep::Op::rekey_ipsec);
  CHECK(s->steps[4].op == ScenarioStep::Op::rekey_ike);
  CHECK(s->steps[5].duration == Millis{90000});
  CHECK(s->steps[6].op == ScenarioStep::Op::server_drop_answers);

  for (auto [text, line] : std::initializer_list<std::pair<const char*, int>>{
           {"connect nobody\n", 1},
           {"peer a initiator 1.2.3.4 identity group g\nadvance soon\n", 2},
           {"peer a initiator 1.2.3.4\n", 1},
           {"\n\nserver Z down\n", 3},
           {"peers u 0 initiator 1.2.3.4 identity group g\n", 1},
           {"peer a initiator 1.2.3.4 identity group g\ntraffic a in 1\n", 2},
           {"peer a initiator 1.2.3.4 identity group g\nconnect a[2-1]\n", 2},
           {"frobnicate\n", 1},
           {"\nconnect\n", 2}}) {
    auto bad = parse_scenario(text);
    REQUIRE_FALSE(bad);
    CHECK(bad.error().line == line);
  }
}

TEST_CASE("fuzz: big peer declarations and ranges stay cheap and bounded", "[client][scenario]") {
  // fuzz/fuzz_scenario.cpp: one `peers u 100000` line compared each new name with every earlier
  // one (5e9 comparisons, a minute under the sanitizers); two such lines took four times that.
  const auto started = std::chrono::steady_clock::now();
  auto big = parse_scenario("peers u 100000 initiator 11.2.0.1 identity group g\n"
                            "peers v 100000 initiator 11.4.0.1 identity group g\n"
                            "connect u[1-100000]\n");
  const auto elapsed = std::chrono::steady_clock::now() - started;
  REQUIRE(big);
  CHECK(big->peers.size() == 200000);
  REQUIRE(big->steps.size() == 1);
  CHECK(big->steps[0].peers.size() == 100000);
  CHECK(big->steps[0].peers.back() == "u100000");
  CHECK(elapsed < std::chrono::seconds(10)); // about 0.2 s; quadratic was minutes

  // A range ending at 2^32-1 stops there instead of wrapping round to u0.
  auto edge = parse_scenario("peer u4294967295 initiator 1.2.3.4 identity group g\n"
                             "peer u0 initiator 1.2.3.5 identity group g\n"
                             "connect u[4294967295-4294967295]\n");
  REQUIRE(edge);
  CHECK(edge->steps.at(0).peers == std::vector<std::string>{"u4294967295"});

  // Steps may name a million peers in all; a 4 KiB file of ranges asked for gigabytes.
  auto many = parse_scenario("peer u1 initiator 1.2.3.4 identity group g\n"
                             "connect u[1-1]\n"
                             "connect u[1-1000000]\n");
  REQUIRE_FALSE(many);
  CHECK(many.error().line == 3);
  CHECK_THAT(many.error().message, Catch::Contains("at most 1000000"));

  // Smaller limits (the fuzz target's) hold at each of the three places.
  const ScenarioLimits small{.peers_per_line = 10, .peers = 15, .peer_references = 12};
  auto line = parse_scenario("peers u 11 initiator 1.2.3.4 identity group g\n", small);
  REQUIRE_FALSE(line);
  CHECK_THAT(line.error().message, Catch::Contains("COUNT must be 1-10"));
  auto declared = parse_scenario("peers u 10 initiator 1.2.3.4 identity group g\n"
                                 "peers v 6 initiator 1.2.4.4 identity group g\n",
                                 small);
  REQUIRE_FALSE(declared);
  CHECK(declared.error().line == 2);
  CHECK_THAT(declared.error().message, Catch::Contains("at most 15 peers"));
  auto named = parse_scenario("peers u 10 initiator 1.2.3.4 identity group g\n"
                              "connect u[1-10]\n"
                              "connect u[1-2]\n"
                              "connect u[3-3]\n",
                              small);
  REQUIRE_FALSE(named);
  CHECK(named.error().line == 4);
  CHECK_THAT(named.error().message, Catch::Contains("at most 12 peers"));
}
