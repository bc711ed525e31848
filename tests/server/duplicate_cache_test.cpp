#include "server/duplicate_cache.hpp"

#include <catch2/catch.hpp>

using namespace acctlab::server;

namespace {
RequestKey key(std::uint8_t id, std::uint16_t port = 1646, std::uint8_t auth = 0) {
  RequestKey k;
  k.source = *IpAddress::parse("127.0.0.1");
  k.port = port;
  k.identifier = id;
  k.authenticator.fill(static_cast<std::uint8_t>(id ^ auth));
  return k;
}
const std::vector<std::uint8_t> response{5, 1, 0, 20};
} // namespace

TEST_CASE("RFC 5080 duplicate cache: pending, answered, expiry", "[server][dedup]") {
  DuplicateCache cache(30, 1000);
  CHECK(cache.find(key(1)) == nullptr);
  cache.insert(key(1), 100);
  auto* entry = cache.find(key(1));
  REQUIRE(entry);
  CHECK_FALSE(entry->answered);
  CHECK(cache.find(key(1, 1647)) == nullptr);       // another source port is another request
  CHECK(cache.find(key(1, 1646, 0x80)) == nullptr); // another authenticator too

  cache.expire(1000); // pending entries stay however old
  REQUIRE(cache.find(key(1)));
  cache.answer(key(1), response);
  CHECK(cache.find(key(1))->answered);
  CHECK(cache.find(key(1))->response == response);

  cache.insert(key(2), 120);
  cache.answer(key(2), response);
  cache.expire(140); // key 1 (t=100) is past the 30 s window, key 2 is not
  CHECK(cache.find(key(1)) == nullptr);
  CHECK(cache.find(key(2)) != nullptr);
  CHECK(cache.size() == 1);
  cache.expire(151);
  CHECK(cache.size() == 0);
  CHECK(cache.sources() == 0);
}

TEST_CASE("a new request on the same Identifier takes the slot over", "[server][dedup]") {
  DuplicateCache cache(30, 1000);
  cache.insert(key(7), 100);
  cache.insert(key(7, 1646, 0x55), 101); // the NAS reused Identifier 7 for a new request
  CHECK(cache.find(key(7)) == nullptr);
  REQUIRE(cache.find(key(7, 1646, 0x55)) != nullptr);
  // The first request's commit finishing later must not answer the newer one.
  CHECK(cache.answer(key(7), response) == nullptr);
  CHECK_FALSE(cache.find(key(7, 1646, 0x55))->answered);
  CHECK(cache.answer(key(7, 1646, 0x55), response) != nullptr);
  CHECK(cache.size() == 1);
  cache.erase(key(7, 1646, 0x55));
  CHECK(cache.size() == 0);
  CHECK(cache.find(key(7, 1646, 0x55)) == nullptr);
}

TEST_CASE("the duplicate cache does not grow with the number of requests", "[server][dedup]") {
  DuplicateCache cache(30, 1000);
  // 100,000 requests from one source port within the window: at most 256 are remembered, and
  // each of the last 256 is still recognised.
  for (int i = 0; i < 100000; ++i) {
    const auto k = key(static_cast<std::uint8_t>(i), 1646, static_cast<std::uint8_t>(i >> 8));
    cache.insert(k, 100);
    cache.answer(k, response);
  }
  CHECK(cache.size() == 256);
  CHECK(cache.sources() == 1);
  for (int i = 100000 - 256; i < 100000; ++i) {
    const auto k = key(static_cast<std::uint8_t>(i), 1646, static_cast<std::uint8_t>(i >> 8));
    REQUIRE(cache.find(k) != nullptr);
  }
}

TEST_CASE("the duplicate cache keeps to its number of sources", "[server][dedup]") {
  DuplicateCache cache(30, 10);
  for (int i = 0; i < 50; ++i) {
    const auto k = key(1, static_cast<std::uint16_t>(2000 + i));
    cache.insert(k, 100 + i);
    cache.answer(k, response);
    cache.expire(100 + i);
  }
  CHECK(cache.sources() <= 10);
  CHECK(cache.find(key(1, 2049)) != nullptr); // the most recent source stays
  CHECK(cache.find(key(1, 2000)) == nullptr); // the least recent went first

  // Sources with a request awaiting its commit are never dropped.
  DuplicateCache pending(30, 2);
  for (int i = 0; i < 5; ++i) {
    pending.insert(key(1, static_cast<std::uint16_t>(3000 + i)), 100);
  }
  pending.expire(100);
  CHECK(pending.sources() == 5);
  for (int i = 0; i < 5; ++i) {
    CHECK(pending.find(key(1, static_cast<std::uint16_t>(3000 + i))) != nullptr);
  }
}
