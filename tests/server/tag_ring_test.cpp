#include "server/tag_ring.hpp"

#include <catch2/catch.hpp>
#include <string>

using acctlab::server::TagRing;

TEST_CASE("tags find their values, in and out of order", "[server][tag-ring]") {
  TagRing<std::string> ring;
  const auto a = ring.push("a");
  const auto b = ring.push("b");
  const auto c = ring.push("c");
  CHECK(a != 0);
  CHECK(b == a + 1);
  CHECK(c == b + 1);
  CHECK(ring.size() == 3);
  REQUIRE(ring.find(b));
  CHECK(*ring.find(b) == "b");
  ring.erase(b); // out of order
  CHECK(ring.find(b) == nullptr);
  CHECK(*ring.find(a) == "a");
  CHECK(ring.size() == 2);
  ring.erase(a);
  ring.erase(a); // twice is harmless
  CHECK(ring.size() == 1);
  CHECK(*ring.find(c) == "c");
  CHECK(ring.find(0) == nullptr);
  CHECK(ring.find(c + 1) == nullptr);
  ring.erase(c);
  CHECK(ring.size() == 0);
  // Tags keep growing after the ring emptied: an old tag never finds a new value.
  const auto d = ring.push("d");
  CHECK(d == c + 1);
  CHECK(ring.find(a) == nullptr);
  CHECK(*ring.find(d) == "d");
}

TEST_CASE("a ring completed in order stays small", "[server][tag-ring]") {
  TagRing<int> ring;
  std::uint64_t oldest = ring.push(0);
  for (int i = 1; i < 100000; ++i) {
    ring.push(i);
    if (i >= 256) {
      REQUIRE(ring.find(oldest));
      CHECK(*ring.find(oldest) == static_cast<int>(oldest - 1));
      ring.erase(oldest++);
    }
  }
  CHECK(ring.size() == 256);
}
