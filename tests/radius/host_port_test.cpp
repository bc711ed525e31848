#include "radius/host_port.hpp"

#include <catch2/catch.hpp>

using acctlab::radius::split_host_port;

TEST_CASE("HOST:PORT and [IPV6]:PORT split the same way for every option", "[radius][host]") {
  auto v4 = split_host_port("127.0.0.1:1813");
  REQUIRE(v4);
  CHECK(v4->host == "127.0.0.1");
  CHECK(v4->port == 1813);
  CHECK_FALSE(v4->bracketed);

  auto v6 = split_host_port("[::1]:0");
  REQUIRE(v6);
  CHECK(v6->host == "::1");
  CHECK(v6->port == 0);
  CHECK(v6->bracketed);

  auto name = split_host_port("localhost:9");
  REQUIRE(name);
  CHECK(name->host == "localhost");
}

TEST_CASE("The port may be left out only where a default is given", "[radius][host]") {
  CHECK_FALSE(split_host_port("127.0.0.1"));
  CHECK_FALSE(split_host_port("[::1]"));
  auto v4 = split_host_port("127.0.0.1", 2083);
  REQUIRE(v4);
  CHECK(v4->port == 2083);
  auto v6 = split_host_port("[::1]", 2083);
  REQUIRE(v6);
  CHECK(v6->host == "::1");
  CHECK(v6->port == 2083);
  auto given = split_host_port("[::1]:11812", 2083);
  REQUIRE(given);
  CHECK(given->port == 11812);
}

TEST_CASE("Malformed endpoints are refused with what is wrong", "[radius][host]") {
  const auto error = [](std::string_view text) {
    const auto split = split_host_port(text);
    REQUIRE_FALSE(split);
    return split.error();
  };
  CHECK(error("127.0.0.1:99999") == "bad port '99999'");
  CHECK(error("127.0.0.1:") == "bad port ''");
  CHECK(error("127.0.0.1:18x") == "bad port '18x'");
  CHECK(error("127.0.0.1:-1") == "bad port '-1'");
  CHECK(error(":80") == "no address before the port");
  CHECK(error("[]:80") == "no address before the port");
  CHECK(error("::1:80") == "write an IPv6 address as [ADDR]:PORT");
  CHECK(error("[::1:80").starts_with("expected ADDR:PORT"));
  CHECK(error("[::1]80").starts_with("expected ADDR:PORT"));
  CHECK(error("").starts_with("expected ADDR:PORT"));
}
