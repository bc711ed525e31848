#include "storage/record_writer.hpp"
#include "storage/session_store.hpp"
#include "storage_test_util.hpp"
#include "tests/support/pg_cluster.hpp"
#include "writer_test_item.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <condition_variable>
#include <mutex>
#include <unistd.h>

using namespace acctlab;
using namespace acctlab::storage;
using radius::AcctStatusType;
using test::item;

namespace {

class Collector {
public:
  void add(std::vector<Completion>&& completions) {
    std::lock_guard lock(mutex_);
    for (auto& completion : completions) {
      completions_.push_back(completion);
    }
    changed_.notify_all();
  }
  void event(const WriterEvent& event) {
    std::lock_guard lock(mutex_);
    events_.push_back(event);
    changed_.notify_all();
  }
  bool wait_for(std::size_t count, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return completions_.size() >= count; });
  }
  std::vector<Completion> completions() {
    std::lock_guard lock(mutex_);
    return completions_;
  }
  std::vector<WriterEvent> events() {
    std::lock_guard lock(mutex_);
    return events_;
  }

private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Completion> completions_;
  std::vector<WriterEvent> events_;
};

WriterOptions fast_options() {
  WriterOptions options;
  options.open.busy_timeout_ms = 50;
  options.retry_initial = std::chrono::milliseconds(10);
  options.retry_max = std::chrono::milliseconds(50);
  return options;
}

/** One row of a query as "a|b|c", on whichever engine holds the data: the cluster when there is
 * one, else the SQLite file at database. */
std::string first_row(test::PgCluster* cluster, const std::string& database,
                      const std::string& sql) {
  if (cluster) {
    return cluster->psql(sql);
  }
  std::string out;
  Database db(database);
  auto query = db.prepare(sql);
  if (query.step()) {
    for (int c = 0; c < query.column_count(); ++c) {
      out += (c ? "|" : "") + query.column_text(c);
    }
  }
  return out;
}

} // namespace

TEST_CASE("the writer stores packets, records and sessions, then completes, on either engine",
          "[storage][writer]") {
  // One suite for both engines: open_writer picks the engine from the --db value, and the rows
  // are read back with SQL both engines run (each renders radacct's times in its own type).
  const std::string engine = GENERATE(as<std::string>{}, "sqlite", "postgresql");
  test::TempDir dir;
  std::unique_ptr<test::PgCluster> cluster;
  std::string database = dir.file("acct.db");
  if (engine == "postgresql") {
    if (!test::PgCluster::available()) {
      WARN("PostgreSQL 15 is not installed: the postgresql run of this test is skipped");
      return;
    }
    cluster = std::make_unique<test::PgCluster>();
    database = cluster->uri();
  }
  Collector collector;
  {
    auto writer = open_writer(database, fast_options(),
                              [&](std::vector<Completion>&& c) { collector.add(std::move(c)); });
    // Class (RFC 2865 §5.25) on the Start, another on the Interim-Update: the first stays.
    auto start = item(AcctStatusType::start, "00000001", 1, 1000);
    start.record->record.class_text = "0x61636374";
    writer->submit(std::move(start));
    auto interim = item(AcctStatusType::interim_update, "00000001", 2, 1100, 608);
    interim.record->record.class_text = "0x6f74686572";
    writer->submit(std::move(interim));
    WriteItem bad;
    bad.packet.raw = {1, 2, 3};
    bad.packet.src_addr = "198.51.100.9";
    bad.packet.verdict = Verdict::unknown_client;
    bad.packet.reason = "no client matches 198.51.100.9";
    bad.nas = "198.51.100.9";
    writer->submit(std::move(bad));
    writer->submit(item(AcctStatusType::stop, "00000001", 3, 1709, 152608));
    REQUIRE(collector.wait_for(3, std::chrono::seconds(10)));
    writer->stop();
  }
  const auto completions = collector.completions();
  REQUIRE(completions.size() == 3);
  CHECK(completions[0].tag == 1);
  CHECK(completions[2].tag == 3);
  CHECK(completions[0].session_id == completions[2].session_id);

  const auto row = [&](const std::string& sql) { return first_row(cluster.get(), database, sql); };
  CHECK(row("SELECT count(*) FROM packets") == "4");
  CHECK(row("SELECT count(*) FROM packets WHERE verdict = 'unknown-client'") == "1");
  CHECK(row("SELECT count(*) FROM records") == "3");
  CHECK(row("SELECT count(*) FROM records WHERE session_row IS NULL") == "0");
  const auto id = std::to_string(completions[0].session_id);
  CHECK(row("SELECT state, input_octets, record_count, flags FROM sessions WHERE id = " + id) ==
        "closed|152608|3|");
  const std::string times = cluster ? "1970-01-01 00:16:40+00|1970-01-01 00:28:29+00"
                                    : "1970-01-01 00:16:40|1970-01-01 00:28:29";
  CHECK(row("SELECT acctsessionid, username, acctstarttime, acctstoptime, acctinputoctets FROM "
            "radacct") == "00000001|joe@cclient|" + times + "|152608");
  CHECK(row("SELECT class FROM radacct") == "0x61636374");
  CHECK(row("SELECT count(*) FROM radacct AS r JOIN sessions AS s ON s.unique_id = "
            "r.acctuniqueid WHERE s.id = " +
            id) == "1");
  CHECK(row("SELECT requests, accepted FROM nas WHERE identity = '192.0.2.1'") == "3|3");
  CHECK(row("SELECT unknown_client, requests FROM nas WHERE identity = '198.51.100.9'") == "1|1");
}

TEST_CASE("a copy of a stored record is stored once and answered, on either engine",
          "[storage][writer]") {
  // radiusplugin resends an unchanged Stop from a new source port (tests/captures/
  // openvpn-radius-outage.pcap): the server's duplicate cache, keyed on the source port, cannot
  // see it is a copy. The record's key (storage/record_key.hpp) does, on both engines: the copy
  // is kept as a packet with verdict 'duplicate' naming the stored one, answered, and not
  // applied to the session twice. The same within one batch, and across batches; a record of
  // the same key more than the window later is a record of its own.
  const std::string engine = GENERATE(as<std::string>{}, "sqlite", "postgresql");
  const bool one_batch = GENERATE(true, false);
  test::TempDir dir;
  std::unique_ptr<test::PgCluster> cluster;
  std::string database = dir.file("acct.db");
  if (engine == "postgresql") {
    if (!test::PgCluster::available()) {
      WARN("PostgreSQL 15 is not installed: the postgresql run of this test is skipped");
      return;
    }
    cluster = std::make_unique<test::PgCluster>();
    database = cluster->uri();
  }
  INFO(engine << (one_batch ? ", one batch" : ", batch by batch"));
  Collector collector;
  {
    auto writer = open_writer(database, fast_options(),
                              [&](std::vector<Completion>&& c) { collector.add(std::move(c)); });
    std::vector<WriteItem> items;
    items.push_back(item(AcctStatusType::start, "ovpn-1", 1, 1000));
    items.push_back(item(AcctStatusType::stop, "ovpn-1", 2, 1010, 5000));
    auto copy = item(AcctStatusType::stop, "ovpn-1", 3, 1011, 5000); // 1 s later, new port
    copy.packet.src_port = 40001;
    items.push_back(std::move(copy));
    // The key again 100 s later (the NAS reused the session id with the same figures): a record.
    items.push_back(item(AcctStatusType::stop, "ovpn-1", 4, 1110, 5000));
    std::size_t submitted = 0;
    for (auto& i : items) {
      writer->submit(std::move(i));
      ++submitted;
      if (!one_batch) {
        REQUIRE(collector.wait_for(submitted, std::chrono::seconds(10)));
      }
    }
    REQUIRE(collector.wait_for(4, std::chrono::seconds(10)));
    writer->stop();
  }
  auto completions = collector.completions();
  REQUIRE(completions.size() == 4); // every copy answered
  std::sort(completions.begin(), completions.end(),
            [](const Completion& a, const Completion& b) { return a.tag < b.tag; });
  const auto row = [&](const std::string& sql) { return first_row(cluster.get(), database, sql); };
  const auto stored_stop = std::to_string(completions[1].packet_id);
  CHECK(row("SELECT verdict, reason FROM packets WHERE id = " +
            std::to_string(completions[2].packet_id)) ==
        "duplicate|the same record is stored as packet " + stored_stop);
  CHECK(row("SELECT count(*) FROM records") == "3");
  CHECK(row("SELECT count(*) FROM packets WHERE verdict = 'duplicate'") == "1");
  const auto id = std::to_string(completions[0].session_id);
  // The Start, the Stop, and the key's record of 100 s later, after the Stop: three, not four.
  CHECK(row("SELECT state, record_count, flags FROM sessions WHERE id = " + id) ==
        "closed|3|after-stop");
}

TEST_CASE("under load the log is checkpointed off the commit thread and every link holds",
          "[storage][writer][checkpoint]") {
  test::TempDir dir;
  const auto path = dir.file("acct.db");
  Collector collector;
  constexpr std::uint64_t sessions = 500;
  WriterStats stats;
  {
    auto options = fast_options();
    options.checkpoint_pages = 16;
    RecordWriter writer(path, options,
                        [&](std::vector<Completion>&& c) { collector.add(std::move(c)); });
    std::uint64_t tag = 0;
    for (std::uint64_t s = 0; s < sessions; ++s) {
      const auto id = "load-" + std::to_string(s);
      std::vector<WriteItem> batch;
      batch.push_back(item(AcctStatusType::start, id, ++tag, 1000.0 + static_cast<double>(s)));
      batch.push_back(item(AcctStatusType::interim_update, id, ++tag, 1100, 1000 + s));
      batch.push_back(item(AcctStatusType::stop, id, ++tag, 1200, 2000 + s));
      writer.submit(batch);
    }
    REQUIRE(collector.wait_for(3 * sessions, std::chrono::seconds(20)));
    writer.stop();
    stats = writer.stats();
  }
  CHECK(stats.checkpoints > 0);
  // synchronous=FULL by default: every batch was made durable by the syncer before its
  // completions went out, some batches sharing one fdatasync.
  CHECK(stats.syncs > 0);
  CHECK(stats.syncs <= stats.batches);
  Database db(path);
  CHECK(db.query_int64("SELECT count(*) FROM records") == 3 * sessions);
  CHECK(db.query_int64("SELECT count(*) FROM sessions WHERE state = 'closed' AND "
                       "record_count = 3") == sessions);
  // The viewer's session tallies and search rows agree with the sessions (the writer updates
  // only usage columns when nothing the session triggers watch changed).
  CHECK(db.query_int64("SELECT count(*) FROM (SELECT nas_key, state, count(*) AS n FROM sessions "
                       "GROUP BY 1, 2 EXCEPT SELECT nas_key, state, sessions FROM session_tally "
                       "WHERE sessions > 0)") == 0);
  CHECK(db.query_int64("SELECT sum(sessions) FROM session_tally") == sessions);
  CHECK(db.query_int64("SELECT count(*) FROM session_find") == sessions);
  // The writer skips per-row foreign key lookups; what it wrote must satisfy them all the same.
  CHECK(db.query_int64("SELECT count(*) FROM pragma_foreign_key_check") == 0);
  auto integrity = db.prepare("PRAGMA integrity_check");
  REQUIRE(integrity.step());
  CHECK(integrity.column_text(0) == "ok");
}

TEST_CASE("the open-session index is rebuilt from the database at start", "[storage][writer]") {
  test::TempDir dir;
  const auto path = dir.file("acct.db");
  Collector first;
  {
    RecordWriter writer(path, fast_options(),
                        [&](std::vector<Completion>&& c) { first.add(std::move(c)); });
    writer.submit(item(AcctStatusType::start, "A", 1, 10));
    writer.submit(item(AcctStatusType::start, "B", 2, 10));
    writer.submit(item(AcctStatusType::stop, "B", 3, 20));
    REQUIRE(first.wait_for(3, std::chrono::seconds(5)));
  }
  Collector second;
  RecordWriter writer(path, fast_options(),
                      [&](std::vector<Completion>&& c) { second.add(std::move(c)); });
  CHECK(writer.stats().open_sessions == 1);
  writer.submit(item(AcctStatusType::stop, "A", 4, 30));
  writer.submit(item(AcctStatusType::interim_update, "B", 5, 31));
  writer.submit(item(AcctStatusType::start, "B", 6, 32));
  REQUIRE(second.wait_for(3, std::chrono::seconds(5)));
  writer.stop();
  const auto old = first.completions();
  const auto now = second.completions();
  CHECK(now[0].session_id == old[0].session_id); // Stop joins the Start stored before restart
  CHECK(now[1].session_id == old[1].session_id); // after-stop joins the closed session
  CHECK(now[2].session_id > old[1].session_id);  // id reuse opens a new session
  Database db(path);
  CHECK(load_session(db, old[0].session_id)->flags == 0);
  CHECK(load_session(db, old[1].session_id)->flags == radius::flag_after_stop);
  CHECK(db.query_int64("SELECT count(DISTINCT acctuniqueid) FROM radacct") == 3);
}

TEST_CASE("a locked database delays completions until it is writable again, batches group",
          "[storage][writer]") {
  test::TempDir dir;
  const auto path = dir.file("acct.db");
  Collector collector;
  auto options = fast_options();
  options.max_batch = 1000; // no slicing: this is about grouping
  RecordWriter writer(
      path, options, [&](std::vector<Completion>&& c) { collector.add(std::move(c)); },
      [&](const WriterEvent& e) { collector.event(e); });
  Database blocker(path);
  blocker.exec("BEGIN IMMEDIATE"); // holds the write lock, as another writer would
  constexpr std::size_t count = 200;
  for (std::uint64_t i = 1; i <= count; ++i) {
    writer.submit(item(AcctStatusType::start, "S" + std::to_string(i), i, 100));
  }
  CHECK_FALSE(collector.wait_for(1, std::chrono::milliseconds(400)));
  CHECK_FALSE(writer.stats().healthy);
  REQUIRE(collector.events().size() == 1);
  CHECK(collector.events()[0].kind == WriterEvent::Kind::commit_failed);
  blocker.exec("ROLLBACK");
  REQUIRE(collector.wait_for(count, std::chrono::seconds(5)));
  writer.stop();
  const auto stats = writer.stats();
  CHECK(stats.healthy);
  CHECK(stats.batches <= 2); // what queued during the outage went in together
  CHECK(stats.items == count);
  REQUIRE(collector.events().size() == 2);
  CHECK(collector.events()[1].kind == WriterEvent::Kind::recovered);
  Database db(path);
  CHECK(db.query_int64("SELECT count(*) FROM records") == static_cast<std::int64_t>(count));
  CHECK(db.query_int64("SELECT count(*) FROM sessions WHERE state = 'open'") ==
        static_cast<std::int64_t>(count));
}

TEST_CASE("a burst longer than max_batch is committed in slices, in arrival order",
          "[storage][writer]") {
  test::TempDir dir;
  const auto path = dir.file("acct.db");
  Collector collector;
  auto options = fast_options();
  options.max_batch = 3;
  RecordWriter writer(path, options,
                      [&](std::vector<Completion>&& c) { collector.add(std::move(c)); });
  Database blocker(path);
  blocker.exec("BEGIN IMMEDIATE"); // everything below queues up behind the lock
  constexpr std::uint64_t count = 10;
  std::vector<WriteItem> burst;
  for (std::uint64_t i = 1; i <= count; ++i) {
    // One session: a Start, then Interim-Updates whose counters grow with the tag.
    burst.push_back(item(i == 1 ? AcctStatusType::start : AcctStatusType::interim_update, "S1", i,
                         100.0 + static_cast<double>(i), 1000 * i));
  }
  writer.submit(burst);
  CHECK_FALSE(collector.wait_for(1, std::chrono::milliseconds(200)));
  blocker.exec("ROLLBACK");
  REQUIRE(collector.wait_for(count, std::chrono::seconds(5)));
  writer.stop();
  const auto stats = writer.stats();
  CHECK(stats.items == count);
  CHECK(stats.max_batch <= 3);
  CHECK(stats.batches >= 4); // ten items, at most three per transaction
  const auto completions = collector.completions();
  REQUIRE(completions.size() == count);
  for (std::uint64_t i = 0; i < count; ++i) {
    CHECK(completions[i].tag == i + 1);
    if (i > 0) {
      CHECK(completions[i].packet_id > completions[i - 1].packet_id);
    }
  }
  Database db(path);
  CHECK(db.query_int64("SELECT count(*) FROM records") == static_cast<std::int64_t>(count));
  auto session = load_session(db, completions.back().session_id);
  REQUIRE(session);
  CHECK(session->record_count == count);
  CHECK(session->input_octets == 1000 * count); // the last slice's snapshot is the one stored
}

TEST_CASE("stale sessions are marked by the writer's periodic check", "[storage][writer]") {
  test::TempDir dir;
  const auto path = dir.file("acct.db");
  Collector collector;
  auto options = fast_options();
  options.expire_every = std::chrono::milliseconds(20);
  options.matcher.default_interim_interval = 10;
  options.clock = [] { return 1000.0; };
  RecordWriter writer(path, options,
                      [&](std::vector<Completion>&& c) { collector.add(std::move(c)); });
  writer.submit(item(AcctStatusType::start, "old", 1, 900, 42));  // 100 s quiet > 3 x 10
  writer.submit(item(AcctStatusType::start, "fresh", 2, 995, 1)); // 5 s quiet
  REQUIRE(collector.wait_for(2, std::chrono::seconds(5)));
  Database db(path);
  std::optional<std::int64_t> stale;
  for (int i = 0; i < 100 && stale.value_or(0) == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    stale = db.query_int64("SELECT count(*) FROM sessions WHERE state = 'stale'");
  }
  writer.stop();
  CHECK(stale == 1);
  CHECK(db.query_int64("SELECT input_octets FROM sessions WHERE state = 'stale'") == 42);
  CHECK(db.query_int64("SELECT count(*) FROM sessions WHERE acct_session_id = 'fresh' AND "
                       "state = 'open'") == 1);
}

TEST_CASE("session snapshots are written whatever the caller believed about the row",
          "[storage][sessions]") {
  test::TempDir dir;
  Database db(dir.file("s.db"));
  migrate(db);
  SessionUpsert upsert(db);
  radius::Session session;
  session.id = 7;
  session.key = {"192.0.2.1", "A"};
  session.unique_id = "u-7";
  session.last_record_time = 10;
  session.input_octets = 100;
  upsert.write(session, SessionUpsert::Row::absent);
  session.input_octets = 200;
  session.state = radius::SessionState::closed;
  upsert.write(session, SessionUpsert::Row::present);
  auto loaded = load_session(db, 7);
  REQUIRE(loaded);
  CHECK(loaded->input_octets == 200u);
  CHECK(loaded->state == radius::SessionState::closed);
  CHECK(loaded->unique_id == "u-7");
  // Believed present but missing: written whole rather than lost.
  session.id = 8;
  session.unique_id = "u-8";
  upsert.write(session, SessionUpsert::Row::present);
  REQUIRE(load_session(db, 8));
  CHECK(load_session(db, 8)->key.session_id == "A");
  // Unknown: the upsert either way.
  session.input_octets = 300;
  upsert.write(session);
  CHECK(load_session(db, 8)->input_octets == 300u);
  // Believed absent but there: updated, not counted twice.
  session.state = radius::SessionState::stale;
  upsert.write(session, SessionUpsert::Row::absent);
  CHECK(load_session(db, 8)->state == radius::SessionState::stale);
  // The viewer's tally and search rows follow every one of these writes.
  const auto tally_mismatches =
      db.query_int64("SELECT count(*) FROM (SELECT nas_key, state, count(*) FROM sessions GROUP "
                     "BY 1, 2 EXCEPT SELECT nas_key, state, sessions FROM session_tally WHERE "
                     "sessions != 0)");
  CHECK(tally_mismatches == 0);
  CHECK(db.query_int64("SELECT sum(sessions) FROM session_tally") == 2);
  CHECK(db.query_int64("SELECT sessions FROM session_tally WHERE state = 'stale'") == 1);
  CHECK(db.query_int64("SELECT count(*) FROM session_find") == 2);
  // A searched value that changes reaches the search row; the start time stays when unknown.
  session.user_name = "late@cclient";
  upsert.write(session, SessionUpsert::Row::present);
  CHECK(db.query_int64("SELECT count(*) FROM session_find WHERE id = 8 AND user_name = "
                       "'late@cclient' AND instr(text, 'late@cclient') > 0 AND started = 10") == 1);
}

TEST_CASE("a session whose user appears later is found by that user", "[storage][writer][find]") {
  test::TempDir dir;
  const auto path = dir.file("acct.db");
  Collector collector;
  {
    RecordWriter writer(path, fast_options(),
                        [&](std::vector<Completion>&& c) { collector.add(std::move(c)); });
    auto start = item(AcctStatusType::start, "late-user", 1, 1000);
    start.record->record.user_name.reset();
    writer.submit(std::move(start));
    REQUIRE(collector.wait_for(1, std::chrono::seconds(5)));
    writer.submit(item(AcctStatusType::interim_update, "late-user", 2, 1100, 10));
    REQUIRE(collector.wait_for(2, std::chrono::seconds(5)));
    writer.submit(item(AcctStatusType::interim_update, "late-user", 3, 1200, 20));
    REQUIRE(collector.wait_for(3, std::chrono::seconds(5)));
    writer.submit(item(AcctStatusType::stop, "late-user", 4, 1300, 30));
    REQUIRE(collector.wait_for(4, std::chrono::seconds(5)));
    writer.stop();
  }
  Database db(path);
  CHECK(db.query_int64("SELECT count(*) FROM session_find WHERE user_name = 'joe@cclient'") == 1);
  CHECK(db.query_int64("SELECT sessions FROM session_tally WHERE state = 'closed'") == 1);
  CHECK(db.query_int64(
            "SELECT count(*) FROM session_tally WHERE state = 'open' AND sessions != 0") == 0);
  CHECK(db.query_int64("SELECT input_octets FROM sessions") == 30);
}

TEST_CASE("one writer per database: a second one is refused, naming the first",
          "[storage][writer][lock]") {
  test::TempDir dir;
  const auto path = dir.file("acct.db");
  {
    RecordWriter first(path, fast_options(), {});
    try {
      RecordWriter second(path, fast_options(), {});
      FAIL("a second writer opened the database");
    } catch (const Error& error) {
      CHECK_THAT(error.what(), Catch::Contains("another acctlab process"));
      CHECK_THAT(error.what(), Catch::Contains("pid " + std::to_string(::getpid())));
    }
    first.stop();
  }
  // Released with the first writer: the next one opens.
  RecordWriter again(path, fast_options(), {});
  again.stop();
}
