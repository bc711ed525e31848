// A batch the database can never accept (storage/commit_failure.hpp): the database refuses one
// row for what it holds — a trigger installed in a real SQLite file or a real PostgreSQL cluster —
// and every other item of its batch is still stored and completed, with its sessions as if the
// refused item never came; the refused item is dropped, told once, and taken once the database
// takes it.
#include "storage/commit_failure.hpp"
#include "storage/pg_connection.hpp"
#include "storage/record_writer.hpp"
#include "storage_test_util.hpp"
#include "tests/support/pg_cluster.hpp"
#include "writer_test_item.hpp"

#include <catch2/catch.hpp>
#include <condition_variable>
#include <mutex>
#include <set>
#include <sqlite3.h>

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
  /** Until count completions and refused refusals arrived (bounded by timeout). */
  bool wait_for(std::size_t count, std::size_t refused, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(
        lock, timeout, [&] { return completions_.size() >= count && refused_count() >= refused; });
  }
  std::vector<Completion> completions() {
    std::lock_guard lock(mutex_);
    return completions_;
  }
  std::vector<WriterEvent> refusals() {
    std::lock_guard lock(mutex_);
    std::vector<WriterEvent> out;
    for (const auto& e : events_) {
      if (e.kind == WriterEvent::Kind::item_refused) {
        out.push_back(e);
      }
    }
    return out;
  }
  std::size_t other_events() {
    std::lock_guard lock(mutex_);
    return events_.size() - refused_count();
  }

private:
  std::size_t refused_count() const {
    std::size_t n = 0;
    for (const auto& e : events_) {
      n += e.kind == WriterEvent::Kind::item_refused ? 1 : 0;
    }
    return n;
  }
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Completion> completions_;
  std::vector<WriterEvent> events_;
};

WriterOptions fast_options() {
  WriterOptions options;
  options.open.busy_timeout_ms = 2000;
  options.retry_initial = std::chrono::milliseconds(10);
  options.retry_max = std::chrono::milliseconds(50);
  options.pg_connections = 1;
  return options;
}

std::set<std::uint64_t> tags(const std::vector<Completion>& completions) {
  std::set<std::uint64_t> out;
  for (const auto& c : completions) {
    out.insert(c.tag);
  }
  return out;
}

} // namespace

TEST_CASE("SQLite's and PostgreSQL's codes: the data's fault or the database's",
          "[storage][refused]") {
  CHECK(classify_sqlite(SQLITE_CONSTRAINT) == CommitFailure::refused);
  CHECK(classify_sqlite(SQLITE_CONSTRAINT_TRIGGER) == CommitFailure::refused);
  CHECK(classify_sqlite(SQLITE_CONSTRAINT_CHECK) == CommitFailure::refused);
  CHECK(classify_sqlite(SQLITE_CONSTRAINT_NOTNULL) == CommitFailure::refused);
  CHECK(classify_sqlite(SQLITE_MISMATCH) == CommitFailure::refused);
  CHECK(classify_sqlite(SQLITE_TOOBIG) == CommitFailure::refused);
  for (const int code : {SQLITE_FULL, SQLITE_IOERR, SQLITE_IOERR_WRITE, SQLITE_IOERR_FSYNC,
                         SQLITE_BUSY, SQLITE_BUSY_SNAPSHOT, SQLITE_LOCKED, SQLITE_READONLY,
                         SQLITE_READONLY_DBMOVED, SQLITE_CANTOPEN, SQLITE_NOMEM, SQLITE_ERROR}) {
    CAPTURE(code);
    CHECK(classify_sqlite(code) == CommitFailure::transient);
  }
  for (const char* state : {"22001", "22003", "22P02", "22021", "23502", "23505", "23514", "21000",
                            "54000", "P0001", "27000", "44000"}) {
    CAPTURE(state);
    CHECK(classify_sqlstate(state) == CommitFailure::refused);
  }
  for (const char* state : {"08006", "08001", "53100", "53200", "57P01", "57P03", "40001", "40P01",
                            "55P03", "58030", "XX000", "42P01", "25P02", ""}) {
    CAPTURE(state);
    CHECK(classify_sqlstate(state) == CommitFailure::transient);
  }
  // A lost connection heals whatever its SQLSTATE says.
  CHECK(classify(PgError("23505", true, "gone")) == CommitFailure::transient);
  CHECK(classify(PgError("23505", false, "duplicate key")) == CommitFailure::refused);
  CHECK(classify(Error(SQLITE_CONSTRAINT_TRIGGER, "poison")) == CommitFailure::refused);
  CHECK(first_line("ERROR:  poison\nCONTEXT:  PL/pgSQL function") == "ERROR:  poison");
}

TEST_CASE("bisecting a refused batch finds each refused item, the rest commits in order",
          "[storage][refused]") {
  // A model database that refuses any part holding a poisoned index.
  const auto run = [](std::size_t n, const std::set<std::size_t>& poisoned) {
    RefusalBisector parts(n);
    std::vector<std::size_t> committed;
    std::vector<std::size_t> dropped;
    std::size_t transactions = 1; // the whole batch, refused
    bool refused = true;
    for (int guard = 0; guard < 10000 && !parts.done(); ++guard) {
      if (refused) {
        if (const auto index = parts.refused()) {
          dropped.push_back(*index);
        }
        refused = false;
        continue;
      }
      const auto [first, last] = parts.next();
      ++transactions;
      for (std::size_t i = first; i < last; ++i) {
        refused = refused || poisoned.count(i) != 0;
      }
      if (!refused) {
        for (std::size_t i = first; i < last; ++i) {
          committed.push_back(i);
        }
        parts.committed();
      }
    }
    REQUIRE(parts.done());
    return std::tuple{committed, dropped, transactions};
  };
  {
    const auto [committed, dropped, transactions] = run(1, {0});
    CHECK(committed.empty());
    CHECK(dropped == std::vector<std::size_t>{0});
    CHECK(transactions == 1);
  }
  for (const std::set<std::size_t>& poisoned :
       {std::set<std::size_t>{0}, {127}, {5, 6}, {0, 64, 127}, {3, 17, 40, 90, 91, 100}}) {
    const auto [committed, dropped, transactions] = run(128, poisoned);
    std::vector<std::size_t> expect_committed;
    for (std::size_t i = 0; i < 128; ++i) {
      if (!poisoned.count(i)) {
        expect_committed.push_back(i);
      }
    }
    CHECK(committed == expect_committed); // every other item, in arrival order
    CHECK(dropped == std::vector<std::size_t>(poisoned.begin(), poisoned.end()));
    // At most 2 log2(128) transactions per refused item, plus the first.
    CHECK(transactions <= 1 + poisoned.size() * 2 * 7);
  }
}

TEST_CASE("a row the database refuses is dropped alone: its batch commits, sessions as if it "
          "never came, and it is taken once the database takes it",
          "[storage][refused]") {
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
  // The database refuses every packet row of session P and the one Interim of X that reports
  // 999 octets: a trigger, as an administrator's rule or a future constraint would.
  const auto install_trigger = [&] {
    if (cluster) {
      PgConnection db(database);
      db.exec("CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN IF "
              "NEW.acct_session_id = ''P'' OR NEW.input_octets = 999 THEN RAISE EXCEPTION "
              "''poisoned row %'', NEW.acct_session_id; END IF; RETURN NEW; END'");
      db.exec("CREATE TRIGGER poison BEFORE INSERT ON packets FOR EACH ROW EXECUTE FUNCTION "
              "poison()");
    } else {
      Database db(database);
      db.exec("CREATE TRIGGER poison BEFORE INSERT ON packets WHEN NEW.acct_session_id = 'P' OR "
              "NEW.input_octets = 999 BEGIN SELECT RAISE(ABORT, 'poisoned row'); END");
    }
  };
  const auto drop_trigger = [&] {
    if (cluster) {
      PgConnection(database).exec("DROP TRIGGER poison ON packets");
    } else {
      Database(database).exec("DROP TRIGGER poison");
    }
  };
  const auto row = [&](const std::string& sql) {
    if (cluster) {
      return cluster->psql(sql);
    }
    Database db(database);
    auto query = db.prepare(sql);
    std::string out;
    if (query.step()) {
      for (int c = 0; c < query.column_count(); ++c) {
        out += (c ? "|" : "") + query.column_text(c);
      }
    }
    return out;
  };

  Collector collector;
  auto writer = open_writer(
      database, fast_options(), [&](std::vector<Completion>&& c) { collector.add(std::move(c)); },
      [&](const WriterEvent& e) { collector.event(e); });
  writer->submit(item(AcctStatusType::start, "X", 1, 1000));
  REQUIRE(collector.wait_for(1, 0, std::chrono::seconds(10)));
  install_trigger();

  // One submission: one batch holds the refused items among sessions that commit.
  std::vector<WriteItem> batch;
  batch.push_back(item(AcctStatusType::start, "A", 2, 1001));
  batch.push_back(item(AcctStatusType::start, "P", 3, 1001));               // refused
  batch.push_back(item(AcctStatusType::interim_update, "X", 4, 1002, 999)); // refused
  batch.push_back(item(AcctStatusType::interim_update, "A", 5, 1003, 100));
  batch.push_back(item(AcctStatusType::interim_update, "P", 6, 1003, 10)); // refused
  batch.push_back(item(AcctStatusType::stop, "A", 7, 1004, 200));
  batch.push_back(item(AcctStatusType::start, "B", 8, 1004));
  batch.push_back(item(AcctStatusType::interim_update, "X", 9, 1005, 500));
  writer->submit(batch);
  REQUIRE(collector.wait_for(6, 3, std::chrono::seconds(20)));

  CHECK(tags(collector.completions()) == std::set<std::uint64_t>{1, 2, 5, 7, 8, 9});
  const auto refusals = collector.refusals();
  REQUIRE(refusals.size() == 3);
  std::set<std::uint64_t> refused_tags;
  for (const auto& r : refusals) {
    refused_tags.insert(r.tag);
    CHECK(r.nas == "192.0.2.1");
    CHECK(r.source == "127.0.0.1:40000");
    CHECK(r.code == 4);
    CHECK_THAT(r.message, Catch::Contains("poisoned row"));
    CHECK(r.message.find('\n') == std::string::npos);
    if (cluster) {
      CHECK(r.sqlstate == "P0001");
    } else {
      CHECK(r.sqlite_code == SQLITE_CONSTRAINT_TRIGGER);
    }
  }
  CHECK(refused_tags == std::set<std::uint64_t>{3, 4, 6});
  CHECK(refusals[0].acct_session_id == "P");
  CHECK(refusals[0].status_type == static_cast<std::uint32_t>(AcctStatusType::start));
  CHECK(collector.other_events() == 0); // a refusal is not an unwritable database
  const auto stats = writer->stats();
  CHECK(stats.refused == 3);
  CHECK(stats.healthy);
  CHECK(stats.failures >= 3); // the batch, and the parts that held a refused item

  // Sessions as if the refused items never came: A opened, counted and closed in the batch, B
  // opened, X took 500 octets without being flagged backwards (the refused 999 was never its
  // count), P does not exist.
  CHECK(row("SELECT state, input_octets, record_count, flags FROM sessions WHERE "
            "acct_session_id = 'A'") == "closed|200|3|");
  CHECK(row("SELECT state, record_count FROM sessions WHERE acct_session_id = 'B'") == "open|1");
  CHECK(row("SELECT state, input_octets, record_count, flags FROM sessions WHERE "
            "acct_session_id = 'X'") == "open|500|2|");
  CHECK(row("SELECT count(*) FROM sessions WHERE acct_session_id = 'P'") == "0");
  CHECK(row("SELECT count(*) FROM packets") == "6");
  CHECK(row("SELECT count(*) FROM records WHERE session_row IS NULL") == "0");

  // The NAS retransmits the Start of P: the same refusal, once more, and nothing else changes.
  writer->submit(item(AcctStatusType::start, "P", 10, 1006));
  REQUIRE(collector.wait_for(6, 4, std::chrono::seconds(10)));
  CHECK(collector.refusals().back().tag == 10);
  CHECK(writer->stats().refused == 4);

  // The administrator drops the rule: the next retransmission is stored, and P is a session
  // opened by its Start (not a duplicate Start: the refused one was never believed), and X
  // closes with the counters it reported.
  drop_trigger();
  writer->submit(item(AcctStatusType::start, "P", 11, 1007));
  writer->submit(item(AcctStatusType::stop, "X", 12, 1008, 700));
  REQUIRE(collector.wait_for(8, 4, std::chrono::seconds(10)));
  writer->stop();
  CHECK(tags(collector.completions()) == std::set<std::uint64_t>{1, 2, 5, 7, 8, 9, 11, 12});
  CHECK(row("SELECT state, record_count, flags FROM sessions WHERE acct_session_id = 'P'") ==
        "open|1|");
  CHECK(row("SELECT state, input_octets, record_count, flags FROM sessions WHERE "
            "acct_session_id = 'X'") == "closed|700|3|");
  CHECK(writer->stats().refused == 4);
  if (!cluster) {
    Database db(database);
    CHECK(db.query_int64("SELECT count(*) FROM pragma_foreign_key_check") == 0);
  }
}

TEST_CASE("a refused Accounting-On closes nothing: the sessions it would have closed stay open "
          "in the database and in the matcher",
          "[storage][refused]") {
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
  const auto row = [&](const std::string& sql) {
    if (cluster) {
      return cluster->psql(sql);
    }
    Database db(database);
    auto query = db.prepare(sql);
    std::string out;
    if (query.step()) {
      for (int c = 0; c < query.column_count(); ++c) {
        out += (c ? "|" : "") + query.column_text(c);
      }
    }
    return out;
  };
  Collector collector;
  auto writer = open_writer(
      database, fast_options(), [&](std::vector<Completion>&& c) { collector.add(std::move(c)); },
      [&](const WriterEvent& e) { collector.event(e); });
  std::vector<WriteItem> opening;
  opening.push_back(item(AcctStatusType::start, "C", 1, 1000));
  opening.push_back(item(AcctStatusType::start, "D", 2, 1000));
  writer->submit(opening);
  REQUIRE(collector.wait_for(2, 0, std::chrono::seconds(10)));
  // The database refuses the NAS's Accounting-On (status 7) packet row.
  if (cluster) {
    PgConnection db(database);
    db.exec("CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN IF "
            "NEW.status_type = 7 THEN RAISE EXCEPTION ''no Accounting-On today''; END IF; "
            "RETURN NEW; END'");
    db.exec("CREATE TRIGGER poison BEFORE INSERT ON packets FOR EACH ROW EXECUTE FUNCTION "
            "poison()");
  } else {
    Database(database).exec("CREATE TRIGGER poison BEFORE INSERT ON packets WHEN "
                            "NEW.status_type = 7 BEGIN SELECT RAISE(ABORT, 'no Accounting-On "
                            "today'); END");
  }
  std::vector<WriteItem> batch;
  auto on = item(AcctStatusType::accounting_on, "", 3, 1001);
  batch.push_back(std::move(on));
  batch.push_back(item(AcctStatusType::interim_update, "C", 4, 1002, 10));
  writer->submit(batch);
  REQUIRE(collector.wait_for(3, 1, std::chrono::seconds(20)));
  CHECK(tags(collector.completions()) == std::set<std::uint64_t>{1, 2, 4});
  REQUIRE(collector.refusals().size() == 1);
  CHECK(collector.refusals()[0].tag == 3);
  CHECK(collector.refusals()[0].status_type ==
        static_cast<std::uint32_t>(AcctStatusType::accounting_on));
  // A Stop of D after the refused Accounting-On closes the open session D as its own, not as a
  // record after a stop the NAS's Accounting-On would have made.
  writer->submit(item(AcctStatusType::stop, "D", 5, 1003, 20));
  REQUIRE(collector.wait_for(4, 1, std::chrono::seconds(10)));
  writer->stop();
  CHECK(row("SELECT state, input_octets, record_count, flags FROM sessions WHERE "
            "acct_session_id = 'C'") == "open|10|2|");
  CHECK(row("SELECT state, input_octets, record_count, flags, terminate_cause FROM sessions "
            "WHERE acct_session_id = 'D'") == "closed|20|2||");
}
