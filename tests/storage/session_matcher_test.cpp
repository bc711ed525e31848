// Tests radius/session_matcher.hpp (the pure matcher; it lives in the core, its owner keeps its
// tests with the storage that persists what it returns).
#include "radius/session_matcher.hpp"

#include <catch2/catch.hpp>

using namespace acctlab::radius;

namespace {

AccountingRecord make(AcctStatusType status, std::string session_id) {
  AccountingRecord record;
  record.status_type = static_cast<std::uint32_t>(status);
  record.session_id = std::move(session_id);
  record.nas_ip = Ipv4{192, 0, 2, 1};
  return record;
}

AccountingRecord with_counters(AccountingRecord record, std::uint64_t in, std::uint64_t out) {
  record.input_octets = in;
  record.output_octets = out;
  return record;
}

constexpr std::string_view nas = "192.0.2.1";

} // namespace

TEST_CASE("Start, Interim-Update and Stop make one closed session", "[storage][matcher]") {
  SessionMatcher matcher;
  auto start = make(AcctStatusType::start, "00000001");
  start.user_name = "joe@cclient";
  start.framed_ip = Ipv4{10, 13, 13, 1};
  start.cisco_avpairs.push_back({"isakmp-initator-ip", '=', "11.1.2.2"});
  auto r1 = matcher.feed(start, nas, 1000);
  REQUIRE(r1.session_id != 0);
  REQUIRE(r1.changed.size() == 1);
  CHECK(r1.changed[0].state == SessionState::open);
  CHECK(r1.changed[0].start_time == 1000);
  CHECK(r1.changed[0].peer == "11.1.2.2");
  CHECK(r1.changed[0].framed_ip == "10.13.13.1");
  CHECK(r1.changed[0].unique_id.size() == 32);
  CHECK(matcher.open_count() == 1);

  auto interim = with_counters(make(AcctStatusType::interim_update, "00000001"), 608, 700);
  auto r2 = matcher.feed(interim, nas, 1100);
  CHECK(r2.session_id == r1.session_id);
  CHECK(r2.changed[0].update_time == 1100);
  CHECK(r2.changed[0].input_octets == 608u);

  auto stop = with_counters(make(AcctStatusType::stop, "00000001"), 152608, (5ULL << 32) + 1);
  stop.terminate_cause = 1;
  auto r3 = matcher.feed(stop, nas, 1709);
  CHECK(r3.session_id == r1.session_id);
  const auto& closed = r3.changed.at(0);
  CHECK(closed.state == SessionState::closed);
  CHECK(closed.stop_time == 1709);
  CHECK(closed.output_octets == (5ULL << 32) + 1);
  CHECK(closed.terminate_cause == 1u);
  CHECK(closed.flags == 0);
  CHECK(closed.record_count == 3);
  CHECK(closed.user_name == "joe@cclient");
  CHECK(matcher.open_count() == 0);
}

TEST_CASE("Stop without Start is a closed session flagged no-start", "[storage][matcher]") {
  SessionMatcher matcher;
  auto stop = with_counters(make(AcctStatusType::stop, "00000002"), 1, 2);
  stop.session_time = 709;
  auto result = matcher.feed(stop, nas, 2000);
  REQUIRE(result.changed.size() == 1);
  const auto& session = result.changed[0];
  CHECK(session.state == SessionState::closed);
  CHECK(session.flags == flag_no_start);
  CHECK(session.start_time == 2000 - 709);
  CHECK(session_flags_text(session.flags) == "no-start");
}

TEST_CASE("Interim before Start opens a session flagged interim-before-start",
          "[storage][matcher]") {
  SessionMatcher matcher;
  auto result = matcher.feed(make(AcctStatusType::interim_update, "x"), nas, 10);
  REQUIRE(result.changed.size() == 1);
  CHECK(result.changed[0].state == SessionState::open);
  CHECK(result.changed[0].flags == flag_interim_before_start);
  // The late Start then joins it as a duplicate start rather than opening a second session.
  auto start = matcher.feed(make(AcctStatusType::start, "x"), nas, 11);
  CHECK(start.session_id == result.session_id);
  CHECK((start.changed[0].flags & flag_duplicate_start) != 0);
}

TEST_CASE("Duplicate Start is flagged on the open session", "[storage][matcher]") {
  SessionMatcher matcher;
  auto first = matcher.feed(make(AcctStatusType::start, "s"), nas, 1);
  auto second = matcher.feed(make(AcctStatusType::start, "s"), nas, 2);
  CHECK(second.session_id == first.session_id);
  CHECK(second.changed[0].flags == flag_duplicate_start);
  CHECK(second.changed[0].start_time == 1);
  CHECK(matcher.open_count() == 1);
}

TEST_CASE("Records after Stop never reopen the session", "[storage][matcher]") {
  SessionMatcher matcher;
  auto opened = matcher.feed(make(AcctStatusType::start, "s"), nas, 1);
  matcher.feed(with_counters(make(AcctStatusType::stop, "s"), 100, 200), nas, 50);
  auto late = matcher.feed(with_counters(make(AcctStatusType::interim_update, "s"), 5, 5), nas, 60);
  CHECK(late.session_id == opened.session_id);
  REQUIRE(late.changed.size() == 1);
  CHECK(late.changed[0].state == SessionState::closed);
  CHECK(late.changed[0].flags == flag_after_stop);
  CHECK(late.changed[0].input_octets == 100u); // the Stop's final counters stand
  CHECK(late.changed[0].stop_time == 50);
  CHECK(matcher.open_count() == 0);
}

TEST_CASE("Counters missing never zero stored ones, backwards counters are flagged",
          "[storage][matcher]") {
  SessionMatcher matcher;
  matcher.feed(make(AcctStatusType::start, "s"), nas, 1);
  matcher.feed(with_counters(make(AcctStatusType::interim_update, "s"), 1000, 2000), nas, 2);
  auto bare = matcher.feed(make(AcctStatusType::interim_update, "s"), nas, 3);
  CHECK(bare.changed[0].input_octets == 1000u);
  CHECK(bare.changed[0].output_octets == 2000u);
  CHECK(bare.changed[0].flags == 0);
  auto stop = matcher.feed(make(AcctStatusType::stop, "s"), nas, 4);
  CHECK(stop.changed[0].input_octets == 1000u);
  CHECK(stop.changed[0].state == SessionState::closed);

  SessionMatcher other;
  other.feed(make(AcctStatusType::start, "t"), nas, 1);
  other.feed(with_counters(make(AcctStatusType::interim_update, "t"), 1000, 2000), nas, 2);
  auto back =
      other.feed(with_counters(make(AcctStatusType::interim_update, "t"), 999, 2000), nas, 3);
  CHECK(back.changed[0].flags == flag_counters_backwards);
}

TEST_CASE("Accounting-On and Accounting-Off close every open session of that NAS only",
          "[storage][matcher]") {
  for (auto status : {AcctStatusType::accounting_on, AcctStatusType::accounting_off}) {
    SessionMatcher matcher;
    matcher.feed(with_counters(make(AcctStatusType::start, "a"), 0, 0), nas, 1);
    matcher.feed(with_counters(make(AcctStatusType::interim_update, "a"), 77, 88), nas, 5);
    matcher.feed(make(AcctStatusType::start, "b"), nas, 2);
    matcher.feed(make(AcctStatusType::start, "a"), "198.51.100.7", 3);
    AccountingRecord on;
    on.status_type = static_cast<std::uint32_t>(status);
    auto result = matcher.feed(on, nas, 10);
    CHECK(result.session_id == 0);
    REQUIRE(result.changed.size() == 2);
    for (const auto& session : result.changed) {
      CHECK(session.state == SessionState::closed);
      CHECK(session.key.nas == nas);
      CHECK(session.stop_time == 10);
      CHECK(session.terminate_cause == 11u); // NAS-Reboot
      if (session.key.session_id == "a") {
        CHECK(session.input_octets == 77u); // usage kept
      }
    }
    CHECK(matcher.open_count() == 1);
    CHECK(matcher.find_open({"198.51.100.7", "a"}) != nullptr);
  }
}

TEST_CASE("Accounting-On/Off close sessions with the Acct-Terminate-Cause the NAS sent in it",
          "[storage][matcher]") {
  for (auto status : {AcctStatusType::accounting_on, AcctStatusType::accounting_off}) {
    SessionMatcher matcher;
    matcher.feed(make(AcctStatusType::start, "a"), nas, 1);
    auto interim = make(AcctStatusType::interim_update, "b");
    matcher.feed(make(AcctStatusType::start, "b"), nas, 1);
    interim.terminate_cause = 2; // a cause on an Interim is not why the session ended
    matcher.feed(interim, nas, 2);
    AccountingRecord off;
    off.status_type = static_cast<std::uint32_t>(status);
    off.terminate_cause = 7; // Admin-Reboot
    auto result = matcher.feed(off, nas, 10);
    REQUIRE(result.changed.size() == 2);
    for (const auto& session : result.changed) {
      CHECK(session.terminate_cause == 7u);
    }
  }
}

TEST_CASE("Stale after 3x the interval, judged from the last record", "[storage][matcher]") {
  SessionMatcher matcher(MatcherOptions{.default_interim_interval = 100});
  auto start = make(AcctStatusType::start, "s");
  start.interim_interval = 60;
  matcher.feed(start, nas, 1000);
  matcher.feed(with_counters(make(AcctStatusType::interim_update, "s"), 5, 6), nas, 1150);
  matcher.feed(make(AcctStatusType::start, "d"), nas, 1000); // default interval 100
  CHECK(matcher.expire(1000 + 300).size() == 0);             // "d": exactly 3x is not beyond
  auto stale = matcher.expire(1000 + 301);
  REQUIRE(stale.size() == 1);
  CHECK(stale[0].key.session_id == "d");
  CHECK(matcher.expire(1150 + 180).empty()); // "s" judged from its interim, not its Start
  stale = matcher.expire(1150 + 181);
  REQUIRE(stale.size() == 1);
  CHECK(stale[0].state == SessionState::stale);
  CHECK(stale[0].input_octets == 5u); // usage kept
  // A stale session that speaks again continues; its Stop closes it.
  auto stop = matcher.feed(make(AcctStatusType::stop, "s"), nas, 2000);
  CHECK(stop.session_id == stale[0].id);
  CHECK(stop.changed[0].state == SessionState::closed);
  CHECK(stop.changed[0].input_octets == 5u);
  CHECK((stop.changed[0].flags & flag_no_start) == 0);
}

TEST_CASE("Acct-Session-Id reuse after a closed session opens a new session",
          "[storage][matcher]") {
  SessionMatcher matcher;
  auto first = matcher.feed(make(AcctStatusType::start, "00000001"), nas, 1);
  matcher.feed(make(AcctStatusType::stop, "00000001"), nas, 2);
  auto second = matcher.feed(make(AcctStatusType::start, "00000001"), nas, 3);
  CHECK(second.session_id != first.session_id);
  CHECK(second.changed[0].unique_id != first.changed[0].unique_id);
  CHECK(second.changed[0].flags == 0);
  CHECK(second.changed[0].state == SessionState::open);
}

TEST_CASE("Restored sessions continue matching and ids continue", "[storage][matcher]") {
  SessionMatcher first;
  auto opened = first.feed(make(AcctStatusType::start, "s"), nas, 1);
  SessionMatcher second;
  second.restore(opened.changed[0]);
  auto stop = second.feed(make(AcctStatusType::stop, "s"), nas, 2);
  CHECK(stop.session_id == opened.session_id);
  CHECK(stop.changed[0].flags == 0);
  auto next = second.feed(make(AcctStatusType::start, "t"), nas, 3);
  CHECK(next.session_id > opened.session_id);
}

TEST_CASE("Records without a status or session id join no session", "[storage][matcher]") {
  SessionMatcher matcher;
  AccountingRecord bare;
  CHECK(matcher.feed(bare, nas, 1).changed.empty());
  auto no_id = make(AcctStatusType::start, "");
  CHECK(matcher.feed(no_id, nas, 1).session_id == 0);
  CHECK(session_flags_from_text("no-start,after-stop") == (flag_no_start | flag_after_stop));
}
