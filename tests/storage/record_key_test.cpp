#include "storage/record_key.hpp"
#include "storage/record_writer.hpp"

#include <catch2/catch.hpp>

using namespace acctlab::storage;

TEST_CASE("the same record has one key, Acct-Delay-Time is not part of it", "[storage][key]") {
  RecordInput stop;
  stop.nas_key = "192.0.2.1";
  stop.record.session_id = "s1";
  stop.record.status_type = 2;
  stop.record.session_time = 60;
  stop.record.input_octets = 1000;
  auto retransmitted = stop;
  retransmitted.record.delay_time = 3;
  CHECK(record_idempotency_text(stop) == record_idempotency_text(retransmitted));
  auto later = stop;
  later.record.session_time = 61;
  CHECK(record_idempotency_text(stop) != record_idempotency_text(later));
  auto timestamped = stop;
  timestamped.record.event_timestamp = 1700000000;
  CHECK(record_idempotency_text(stop) != record_idempotency_text(timestamped));
  CHECK(RecentRecords::key_of("a") == RecentRecords::key_of("a"));
  CHECK_FALSE(RecentRecords::key_of("a") == RecentRecords::key_of("b"));
}

TEST_CASE("recent records: the event-time window, then retention and capacity by arrival",
          "[storage][key]") {
  RecentRecords recent(120, 3);
  const auto a = RecentRecords::key_of("a");
  const auto b = RecentRecords::key_of("b");
  recent.remember(a, 1000, 5000, 1);
  CHECK(recent.find(a, 1000) == 1);
  CHECK(recent.find(a, 1030) == 1); // within the window of 30 s
  CHECK_FALSE(recent.find(a, 1031));
  CHECK_FALSE(recent.find(b, 1000));
  // Event times far from the arrival (a replayed capture) do not age an entry: arrival does.
  recent.remember(b, 10, 5100, 2);
  CHECK(recent.find(a, 1000) == 1);
  recent.remember(RecentRecords::key_of("c"), 20, 5121, 3); // a arrived 121 s before
  CHECK_FALSE(recent.find(a, 1000));
  CHECK(recent.find(b, 10) == 2);
  // The key stored again: the newer packet is named; the older element does not remove it.
  recent.remember(b, 10, 5122, 4);
  CHECK(recent.find(b, 10) == 4);
  // Capacity 3: the oldest go first.
  recent.remember(RecentRecords::key_of("d"), 30, 5123, 5);
  recent.remember(RecentRecords::key_of("e"), 40, 5124, 6);
  CHECK(recent.size() <= 3);
  CHECK(recent.find(RecentRecords::key_of("e"), 40) == 6);
  CHECK_FALSE(recent.find(RecentRecords::key_of("c"), 20));
}
