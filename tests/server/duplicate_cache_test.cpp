#include "server/duplicate_cache.hpp"

#include <catch2/catch.hpp>

using namespace acctlab::server;

namespace {
RequestKey key(std::uint8_t id, std::uint16_t port = 1646) {
  RequestKey k;
  k.source = *IpAddress::parse("127.0.0.1");
  k.port = port;
  k.identifier = id;
  k.authenticator.fill(id);
  return k;
}
} // namespace

TEST_CASE("RFC 5080 duplicate cache: pending, answered, expiry", "[server][dedup]") {
  DuplicateCache cache(30, 1000);
  CHECK(cache.find(key(1)) == nullptr);
  cache.insert(key(1), 100);
  auto* entry = cache.find(key(1));
  REQUIRE(entry);
  CHECK_FALSE(entry->answered);
  CHECK(cache.find(key(1, 1647)) == nullptr); // another source port is another request
  RequestKey other_auth = key(1);
  other_auth.authenticator[0] ^= 1;
  CHECK(cache.find(other_auth) == nullptr);

  cache.expire(1000); // pending entries stay however old
  REQUIRE(cache.find(key(1)));
  cache.answer(key(1), {5, 1, 0, 20});
  CHECK(cache.find(key(1))->answered);
  CHECK(cache.find(key(1))->response.size() == 4);

  cache.insert(key(2), 120);
  cache.answer(key(2), {5, 2, 0, 20});
  cache.expire(140); // key 1 (t=100) is past the 30 s window, key 2 is not
  CHECK(cache.find(key(1)) == nullptr);
  CHECK(cache.find(key(2)) != nullptr);
  cache.expire(151);
  CHECK(cache.size() == 0);
}

TEST_CASE("the duplicate cache keeps to its capacity", "[server][dedup]") {
  DuplicateCache cache(30, 10);
  for (int i = 0; i < 50; ++i) {
    cache.insert(key(static_cast<std::uint8_t>(i)), 100);
    cache.answer(key(static_cast<std::uint8_t>(i)), {5});
    cache.expire(100);
  }
  CHECK(cache.size() <= 10);
  CHECK(cache.find(key(49)) != nullptr);
}
