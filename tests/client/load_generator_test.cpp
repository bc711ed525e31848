#include "client/load_generator.hpp"
#include "tests/client/loopback_responder.hpp"

#include <catch2/catch.hpp>
#include <map>

using namespace acctlab::gateway;
using acctlab::test::find_attribute;
using acctlab::test::LoopbackResponder;
using acctlab::test::wire_attributes;

TEST_CASE("load mode keeps many requests in flight and verifies every answer", "[client][load]") {
  LoopbackResponder a("testing123");
  LoadOptions options;
  options.servers = {a.address()};
  options.secret = "testing123";
  options.peers = 50;
  options.window = 32;
  options.interims_per_session = 1;
  options.duration = Millis{300};
  options.timeout = Millis{2000};
  LoadResult r = run_load(options);
  REQUIRE(r.ok);
  CHECK(r.answered > 100);
  CHECK(r.answered == r.sent);
  CHECK(r.timeouts == 0);
  CHECK(r.bad_answers == 0);
  CHECK(r.sessions_stopped > 0);
  // What the responder saw: authentic requests; per session Start, Interim, Stop in order.
  std::map<std::string, std::vector<std::uint32_t>> sessions;
  auto got = a.received();
  CHECK(got.size() == r.sent);
  for (const auto& packet : got) {
    CHECK(packet.authentic);
    auto attributes = wire_attributes(packet.wire);
    const auto* id = find_attribute(attributes, 44);
    const auto* status = find_attribute(attributes, 40);
    REQUIRE(id);
    REQUIRE(status);
    sessions[id->text()].push_back(status->integer());
  }
  for (const auto& [id, statuses] : sessions) {
    INFO("session " << id);
    CHECK(statuses.front() == 1);
    for (std::size_t i = 1; i < statuses.size(); ++i) {
      CHECK(statuses[i] == (i == 1 ? 3u : 2u));
    }
  }
}

TEST_CASE("load mode counts timeouts when nobody answers", "[client][load]") {
  LoopbackResponder a("other-secret"); // requests do not verify: it stays silent
  LoadOptions options;
  options.servers = {a.address()};
  options.secret = "testing123";
  options.peers = 10;
  options.window = 8;
  options.duration = Millis{100};
  options.timeout = Millis{200};
  LoadResult r = run_load(options);
  REQUIRE(r.ok);
  CHECK(r.answered == 0);
  CHECK(r.timeouts == r.sent);
  CHECK(r.sent >= 8);
  LoadOptions bad = options;
  bad.servers = {"nowhere"};
  CHECK_FALSE(run_load(bad).ok);
}
