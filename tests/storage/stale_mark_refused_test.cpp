// A stale mark the database refuses (storage/commit_failure.hpp): a trigger in a real SQLite file
// or a PostgreSQL database refuses to make one session stale. The writer says so once, with the
// session and the database's message, counts it, does not try it again at every expiry check,
// still marks the other sessions stale, and answers the requests that arrive meanwhile at once.

#include "storage/pg_connection.hpp"
#include "storage/pg_schema.hpp"
#include "storage/record_writer.hpp"
#include "storage/schema.hpp"
#include "storage/sqlite.hpp"
#include "tests/support/test_engine.hpp"
#include "writer_test_item.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

using namespace acctlab;
using namespace acctlab::storage;
using radius::AcctStatusType;
using test::item;

namespace {

class Collector {
public:
  void add(std::vector<Completion>&& completions) {
    std::lock_guard lock(mutex_);
    completed_ += completions.size();
    changed_.notify_all();
  }
  void event(const WriterEvent& event) {
    std::lock_guard lock(mutex_);
    events_.push_back(event);
    changed_.notify_all();
  }
  bool wait_for(std::size_t count, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return completed_ >= count; });
  }
  /** Events whose message holds text. */
  std::vector<WriterEvent> events_with(const std::string& text) {
    std::lock_guard lock(mutex_);
    std::vector<WriterEvent> out;
    for (const auto& e : events_) {
      if (e.message.find(text) != std::string::npos) {
        out.push_back(e);
      }
    }
    return out;
  }

private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::size_t completed_ = 0;
  std::vector<WriterEvent> events_;
};

std::string state_of(const std::string& database, const std::string& session_id) {
  const std::string sql = "SELECT state FROM sessions WHERE acct_session_id = '" + session_id + "'";
  if (is_postgres_uri(database)) {
    PgConnection db(database);
    const auto result = db.query(sql);
    return result.rows() > 0 ? result.text(0, 0) : std::string();
  }
  Database db(database);
  auto query = db.prepare(sql);
  return query.step() ? query.column_text(0) : std::string();
}

} // namespace

TEST_CASE("A stale mark the database refuses is told once, counted, not retried at every check, "
          "and holds back no answer",
          "[storage][refused][stale]") {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("acctlab-stale-refused-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto database = acctlab::test::fresh_database((dir / "acct.db").string(), "stale_refused");

  std::atomic<double> now{1000};
  WriterOptions options;
  options.open.busy_timeout_ms = 2000;
  options.retry_initial = std::chrono::milliseconds(10);
  options.retry_max = std::chrono::milliseconds(50);
  options.pg_connections = 1;
  options.expire_every = std::chrono::milliseconds(50);
  options.clock = [&now] { return now.load(); };
  Collector collector;
  auto writer = open_writer(
      database, options, [&](std::vector<Completion>&& c) { collector.add(std::move(c)); },
      [&](const WriterEvent& e) { collector.event(e); });
  writer->submit(item(AcctStatusType::start, "S", 1, 1000));
  writer->submit(item(AcctStatusType::start, "K", 2, 1000));
  REQUIRE(collector.wait_for(2, std::chrono::seconds(10)));

  // The database refuses to make session S stale, as an administrator's rule would.
  if (is_postgres_uri(database)) {
    PgConnection db(database);
    db.exec("CREATE FUNCTION refuse_stale() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RAISE "
            "EXCEPTION ''stale mark refused by the test''; END'");
    db.exec("CREATE TRIGGER refuse_stale BEFORE UPDATE ON sessions FOR EACH ROW WHEN "
            "(NEW.state = 'stale' AND NEW.acct_session_id = 'S') EXECUTE FUNCTION "
            "refuse_stale()");
  } else {
    Database db(database);
    db.exec("CREATE TRIGGER refuse_stale BEFORE UPDATE ON sessions WHEN NEW.state = 'stale' AND "
            "NEW.acct_session_id = 'S' BEGIN SELECT RAISE(ABORT, 'stale mark refused by the "
            "test'); END");
  }

  // Both sessions are silent for longer than 3 x 600 s: the next checks make them stale.
  now = 1000 + 3 * 600 + 10;
  std::this_thread::sleep_for(std::chrono::milliseconds(400)); // about 8 checks
  const auto failures = writer->stats().failures;
  // A request meanwhile is answered at once, not after some retry of the mark.
  const auto sent = std::chrono::steady_clock::now();
  writer->submit(item(AcctStatusType::start, "A", 3, now.load()));
  REQUIRE(collector.wait_for(3, std::chrono::seconds(5)));
  CHECK(std::chrono::steady_clock::now() - sent < std::chrono::seconds(1));
  std::this_thread::sleep_for(std::chrono::milliseconds(400)); // about 8 more checks

  // Told once, with the session and the database's reason; counted; never tried again.
  const auto told = collector.events_with("stale mark refused by the test");
  CHECK(told.size() == 1);
  for (const auto& event : told) {
    CHECK(event.kind == WriterEvent::Kind::stale_refused);
    CHECK(event.acct_session_id == "S");
    CHECK(event.nas == "192.0.2.1");
  }
  const auto stats = writer->stats();
  CHECK(stats.stale_refused == 1);
  CHECK(stats.failures == failures);
  CHECK(stats.healthy);

  // The other session is stale; S stays as the database keeps it.
  CHECK(state_of(database, "K") == "stale");
  CHECK(state_of(database, "S") == "open");
  CHECK(state_of(database, "A") == "open");
  writer->stop();
  writer.reset();
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
}
