#include "conformance/trace.hpp"

#include <catch2/catch.hpp>

using namespace acctlab::conformance;

TEST_CASE("trace text round-trips", "[conformance][trace]") {
  const auto parsed =
      parse_trace("# acctlab trace\nsecret testing123\nsecret 10.0.0.9 other\n"
                  "interim-interval 60\nresponses absent\n"
                  "packet 1.5 to-server 127.0.0.1:4000 127.0.0.1:1813 0401001400000000"
                  "000000000000000000000000 file=a.pcap frame=7 id=3\n");
  REQUIRE(parsed);
  CHECK(parsed->packets.size() == 1);
  CHECK(parsed->packets[0].frame == 7u);
  CHECK(parsed->packets[0].packet_id == 3);
  CHECK(*parsed->packets[0].file == "a.pcap");
  CHECK_FALSE(parsed->responses_recorded);
  CHECK(*parsed->secret_for("127.0.0.1:4000") == "testing123");
  CHECK(*parsed->secret_for("10.0.0.9:4000") == "other");
  const auto again = parse_trace(format_trace(*parsed));
  REQUIRE(again);
  CHECK(format_trace(*again) == format_trace(*parsed));
}

TEST_CASE("trace errors name the line", "[conformance][trace]") {
  auto bad = parse_trace("secret x\npacket 1 sideways a b 00\n");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().to_string() == "line 2: direction must be to-server, from-server or unknown");
  bad = parse_trace("packet 1 to-server a b 0\n");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().to_string() == "line 1: bad hex octets");
  CHECK(host_part("[::1]:1813") == "::1");
  CHECK(host_part("127.0.0.1:1813") == "127.0.0.1");
}
