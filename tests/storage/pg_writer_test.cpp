// Tests storage/pg_writer.hpp and storage/pg_schema.hpp against a real PostgreSQL 15: a
// throwaway cluster per test (tests/support/pg_cluster.hpp). Two writers on one database stand
// for two `acctlab serve` processes: each has its own connection and its own commit thread.
#include "storage/pg_connection.hpp"
#include "storage/pg_schema.hpp"
#include "storage/pg_writer.hpp"
#include "tests/storage/pg_schema_v3.hpp"
#include "tests/support/pg_cluster.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <condition_variable>
#include <fstream>
#include <libpq-fe.h>
#include <map>
#include <mutex>
#include <regex>
#include <sstream>
#include <thread>

using namespace acctlab;
using namespace acctlab::storage;
using radius::AcctStatusType;

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
  bool wait_for_event(WriterEvent::Kind kind, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] {
      for (const auto& e : events_) {
        if (e.kind == kind) {
          return true;
        }
      }
      return false;
    });
  }
  std::vector<Completion> completions() {
    std::lock_guard lock(mutex_);
    return completions_;
  }
  std::size_t count() {
    std::lock_guard lock(mutex_);
    return completions_.size();
  }

private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Completion> completions_;
  std::vector<WriterEvent> events_;
};

WriteItem item(AcctStatusType status, std::string session_id, std::uint64_t tag, double time,
               std::optional<std::uint64_t> input_octets = std::nullopt) {
  WriteItem w;
  w.packet.raw = {4, static_cast<std::uint8_t>(tag & 0xff), 0, 20};
  w.packet.src_addr = "192.0.2.1";
  w.packet.src_port = 1646;
  w.packet.code = 4;
  w.packet.identifier = static_cast<std::uint8_t>(tag & 0xff);
  w.packet.receive_time = time;
  w.nas = "192.0.2.1";
  w.tag = tag;
  RecordInput input;
  input.record.status_type = static_cast<std::uint32_t>(status);
  input.record.session_id = std::move(session_id);
  input.record.user_name = "joe@cclient";
  input.record.nas_ip = radius::Ipv4{192, 0, 2, 1};
  input.record.framed_ip = radius::Ipv4{10, 13, 13, 1};
  input.record.input_octets = input_octets;
  if (input_octets) {
    input.record.session_time = static_cast<std::uint32_t>(time - 1000);
  }
  input.nas_key = "192.0.2.1";
  input.event_time = time;
  w.record = std::move(input);
  return w;
}

WriterOptions fast_options() {
  WriterOptions options;
  options.run_kind = "serve";
  options.retry_initial = std::chrono::milliseconds(20);
  options.retry_max = std::chrono::milliseconds(200);
  return options;
}

struct Writer {
  Collector collector;
  std::unique_ptr<AccountingWriter> writer;
  explicit Writer(const std::string& uri)
      : writer(open_writer(
            uri, fast_options(),
            [this](std::vector<Completion>&& c) { collector.add(std::move(c)); },
            [this](const WriterEvent& e) { collector.event(e); })) {}
};

} // namespace

TEST_CASE("PostgreSQL: one writer stores Start, Interim and Stop as one session, radacct reads it "
          "with FreeRADIUS's column names and types",
          "[storage][postgres]") {
  test::PgCluster::require();
  test::PgCluster cluster;
  const auto uri = cluster.uri();
  CHECK(is_postgres_uri(uri));
  CHECK_FALSE(is_postgres_uri("/var/lib/acctlab.db"));
  {
    Writer a(uri);
    a.writer->submit(item(AcctStatusType::start, "00000001", 1, 1000));
    a.writer->submit(item(AcctStatusType::interim_update, "00000001", 2, 1100, 608));
    a.writer->submit(item(AcctStatusType::stop, "00000001", 3, 1709, 152608));
    REQUIRE(a.collector.wait_for(3, std::chrono::seconds(10)));
    const auto done = a.collector.completions();
    CHECK(done[0].session_id != 0);
    CHECK(done[0].session_id == done[2].session_id);
    a.writer->stop();
  }
  CHECK(cluster.psql("SELECT count(*) FROM records") == "3");
  CHECK(cluster.psql("SELECT state, input_octets, record_count, flags FROM sessions") ==
        "closed|152608|3|");
  CHECK(cluster.psql("SELECT acctsessionid, username, nasipaddress, acctstarttime, acctstoptime, "
                     "acctinputoctets, framedipaddress, length(acctuniqueid) FROM radacct") ==
        "00000001|joe@cclient|192.0.2.1|1970-01-01 00:16:40+00|1970-01-01 00:28:29+00|152608|"
        "10.13.13.1|32");
  // The idempotency key is the MD5 of the record's text, as the database's md5() makes it: a
  // record stored by a build that hashed it there still matches its copy stored by this one. The
  // session's unique id is the MD5 of its first record's key and event time.
  const auto start_key =
      record_idempotency_text(*item(AcctStatusType::start, "00000001", 1, 1000).record);
  CHECK(cluster.psql("SELECT count(*) FROM sessions WHERE unique_id = md5(md5('" + start_key +
                     "') || chr(31) || '1000') AND acct_session_id = '00000001'") == "1");
  CHECK(cluster.psql("SELECT count(*) FROM packets WHERE idem_key = md5('" + start_key +
                     "')::uuid") == "1");
  CHECK(cluster.psql("SELECT kind, verdict FROM runs") == "serve|stopped");

  // FreeRADIUS's own PostgreSQL schema: every radacct column, by name and type.
  const std::string freeradius_schema =
      "/etc/freeradius/3.0/mods-config/sql/main/postgresql/schema.sql";
  std::ifstream file(freeradius_schema);
  if (!file) {
    WARN("no " << freeradius_schema << " (freeradius-postgresql): column types unchecked");
    return;
  }
  std::stringstream text;
  text << file.rdbuf();
  const auto all = text.str();
  const auto begin = all.find("CREATE TABLE IF NOT EXISTS radacct (");
  REQUIRE(begin != std::string::npos);
  const auto body = all.substr(begin, all.find(");", begin) - begin);
  const std::map<std::string, std::string> type_names{{"bigserial", "bigint"},
                                                      {"bigint", "bigint"},
                                                      {"text", "text"},
                                                      {"inet", "inet"},
                                                      {"timestamp", "timestamp with time zone"}};
  std::regex column(R"(\n\s*(\w+)\s+(\w+))");
  int columns = 0;
  for (std::sregex_iterator it(body.begin(), body.end(), column), end; it != end; ++it) {
    std::string name = (*it)[1];
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    const std::string type = (*it)[2];
    INFO("radacct." << name);
    REQUIRE(type_names.count(type) == 1);
    CHECK(cluster.psql("SELECT data_type FROM information_schema.columns WHERE table_name = "
                       "'radacct' AND column_name = '" +
                       name + "'") == type_names.at(type));
    ++columns;
  }
  CHECK(columns == 29);
  CHECK(cluster.psql("SELECT count(*) FROM information_schema.columns WHERE table_name = "
                     "'radacct' AND column_name IN ('acctuniqueid', 'acctupdatetime', "
                     "'acctinterval', 'class')") == "4");
}

TEST_CASE("PostgreSQL: two servers on one database match sessions across them, store a broadcast "
          "record once, and Accounting-On closes what either opened",
          "[storage][postgres]") {
  test::PgCluster::require();
  test::PgCluster cluster;
  Writer a(cluster.uri());
  Writer b(cluster.uri());

  // Failover: the Start reached A, the Interim-Update and the Stop reached B.
  a.writer->submit(item(AcctStatusType::start, "failover", 1, 1000));
  REQUIRE(a.collector.wait_for(1, std::chrono::seconds(10)));
  b.writer->submit(item(AcctStatusType::interim_update, "failover", 2, 1060, 100));
  b.writer->submit(item(AcctStatusType::stop, "failover", 3, 1120, 200));
  REQUIRE(b.collector.wait_for(2, std::chrono::seconds(10)));
  CHECK(a.collector.completions()[0].session_id == b.collector.completions()[1].session_id);
  CHECK(cluster.psql("SELECT count(*), min(state), min(record_count), min(flags) FROM sessions "
                     "WHERE acct_session_id = 'failover'") == "1|closed|3|");

  // Broadcast: the same records to both servers; both answer, each is stored once.
  for (const auto& [status, octets, time] :
       {std::tuple{AcctStatusType::start, std::optional<std::uint64_t>{}, 2000.0},
        std::tuple{AcctStatusType::interim_update, std::optional<std::uint64_t>{500}, 2060.0},
        std::tuple{AcctStatusType::stop, std::optional<std::uint64_t>{900}, 2120.0}}) {
    auto to_a = item(status, "broadcast", 10, time, octets);
    auto to_b = item(status, "broadcast", 10, time, octets);
    to_b.record->record.delay_time = 1; // B's copy was retransmitted once: still the same record
    to_b.packet.src_port = 1647;
    a.writer->submit(std::move(to_a));
    b.writer->submit(std::move(to_b));
  }
  REQUIRE(a.collector.wait_for(4, std::chrono::seconds(10)));
  REQUIRE(b.collector.wait_for(5, std::chrono::seconds(10)));
  CHECK(cluster.psql("SELECT count(*) FROM records WHERE acct_session_id = 'broadcast'") == "3");
  CHECK(cluster.psql("SELECT count(*) FROM packets WHERE verdict = 'duplicate'") == "3");
  CHECK(cluster.psql("SELECT count(*), min(state), min(record_count), min(input_octets), "
                     "min(flags) FROM sessions WHERE acct_session_id = 'broadcast'") ==
        "1|closed|3|900|");
  // Both servers' answers name the one stored session.
  CHECK(a.collector.completions()[3].session_id == b.collector.completions()[4].session_id);

  // Accounting-Off from the NAS, received by B, closes the sessions A opened, with its cause.
  a.writer->submit(item(AcctStatusType::start, "open-on-a-1", 20, 3000));
  a.writer->submit(item(AcctStatusType::start, "open-on-a-2", 21, 3000));
  REQUIRE(a.collector.wait_for(6, std::chrono::seconds(10)));
  auto off = item(AcctStatusType::accounting_off, "", 22, 3100);
  off.record->record.terminate_cause = 7; // Admin-Reboot
  b.writer->submit(std::move(off));
  REQUIRE(b.collector.wait_for(6, std::chrono::seconds(10)));
  CHECK(cluster.psql("SELECT count(*), min(state), min(terminate_cause), max(terminate_cause) "
                     "FROM sessions WHERE acct_session_id LIKE 'open-on-a-%'") == "2|closed|7|7");
  CHECK(cluster.psql("SELECT acctterminatecause FROM radacct WHERE acctsessionid = "
                     "'open-on-a-1'") == "Admin-Reboot");

  // Both at full speed on the same sessions: no deadlock, every record answered and stored once
  // per distinct record, one session per Acct-Session-Id.
  const int sessions = 40;
  std::vector<WriteItem> for_a;
  std::vector<WriteItem> for_b;
  std::uint64_t tag = 100;
  for (int round = 0; round < 5; ++round) {
    for (int s = 0; s < sessions; ++s) {
      const auto id = "load-" + std::to_string(s);
      const double time = 5000 + round * 60;
      const auto status = round == 0   ? AcctStatusType::start
                          : round == 4 ? AcctStatusType::stop
                                       : AcctStatusType::interim_update;
      const auto octets =
          round == 0 ? std::optional<std::uint64_t>{} : std::optional<std::uint64_t>(round * 1000);
      // Half the records to both servers (broadcast), the others to one or the other.
      if (s % 2 == 0) {
        for_a.push_back(item(status, id, ++tag, time, octets));
        for_b.push_back(item(status, id, ++tag, time, octets));
      } else {
        ((s + round) % 2 ? for_a : for_b).push_back(item(status, id, ++tag, time, octets));
      }
    }
  }
  const auto a_before = a.collector.count();
  const auto b_before = b.collector.count();
  const auto a_sent = for_a.size();
  const auto b_sent = for_b.size();
  a.writer->submit(for_a);
  b.writer->submit(for_b);
  REQUIRE(a.collector.wait_for(a_before + a_sent, std::chrono::seconds(30)));
  REQUIRE(b.collector.wait_for(b_before + b_sent, std::chrono::seconds(30)));
  CHECK(cluster.psql("SELECT count(*) FROM records WHERE acct_session_id LIKE 'load-%'") ==
        std::to_string(sessions * 5));
  CHECK(cluster.psql("SELECT count(*), count(DISTINCT acct_session_id), min(state), "
                     "min(record_count), max(record_count) FROM sessions WHERE acct_session_id "
                     "LIKE 'load-%'") ==
        std::to_string(sessions) + "|" + std::to_string(sessions) + "|closed|5|5");
  a.writer->stop();
  b.writer->stop();
}

namespace {

/** A Stop as a NAS sends it, its counters and Acct-Session-Time fixed (not from the time), so
 * the same record can be sent with other event times. */
WriteItem stop_item(std::string session_id, std::uint64_t tag, double event_time) {
  auto w = item(AcctStatusType::stop, std::move(session_id), tag, event_time, 4000);
  w.record->record.session_time = 600;
  w.record->record.terminate_cause = 1;
  return w;
}

} // namespace

TEST_CASE("PostgreSQL: copies of a record without Event-Timestamp are one record when their event "
          "times are within 30 s, on either side of any step, and two records further apart",
          "[storage][postgres][idempotency]") {
  test::PgCluster::require();
  test::PgCluster cluster;
  Writer a(cluster.uri());
  Writer b(cluster.uri());
  const auto records = [&](const std::string& id) {
    return cluster.psql("SELECT count(*) FROM records WHERE acct_session_id = '" + id + "'");
  };

  // 29.9 s and 30.1 s into a 30-second step of the epoch: the copies straddle its end, one
  // stored by A, the other (retransmitted with a new Acct-Delay-Time) reaching B afterwards.
  a.writer->submit(stop_item("straddle", 1, 3000 * 30 + 29.9));
  REQUIRE(a.collector.wait_for(1, std::chrono::seconds(10)));
  auto copy = stop_item("straddle", 2, 3000 * 30 + 30.1);
  copy.record->record.delay_time = 3;
  b.writer->submit(std::move(copy));
  REQUIRE(b.collector.wait_for(1, std::chrono::seconds(10)));
  CHECK(records("straddle") == "1");
  CHECK(b.collector.completions()[0].session_id == a.collector.completions()[0].session_id);
  CHECK(cluster.psql("SELECT reason FROM packets WHERE verdict = 'duplicate'") ==
        "the same record is stored as packet " +
            cluster.psql("SELECT id FROM records WHERE acct_session_id = 'straddle'"));

  // The window is 30 s of event time, whichever copy came first: 29.5 s apart is one record,
  // 31 s apart two (stored records of one key are further apart than the window).
  a.writer->submit(stop_item("window-in", 3, 200'000.0));
  a.writer->submit(stop_item("window-out", 4, 300'000.0));
  REQUIRE(a.collector.wait_for(3, std::chrono::seconds(10)));
  b.writer->submit(stop_item("window-in", 5, 200'000.0 - 29.5));
  b.writer->submit(stop_item("window-out", 6, 300'000.0 + 31));
  REQUIRE(b.collector.wait_for(3, std::chrono::seconds(10)));
  CHECK(records("window-in") == "1");
  CHECK(records("window-out") == "2");

  // Copies in one batch: the first is kept, a copy within 30 s of it is a duplicate, one 40 s
  // after the first is a record of its own (as it would be in a later batch), and its copy 20 s
  // later again a duplicate of it.
  std::vector<WriteItem> batch;
  for (const auto& [tag, time] : {std::pair{7, 400'000.0}, std::pair{8, 400'020.0},
                                  std::pair{9, 400'040.0}, std::pair{10, 400'060.0}}) {
    batch.push_back(stop_item("in-batch", static_cast<std::uint64_t>(tag), time));
  }
  a.writer->submit(batch);
  REQUIRE(a.collector.wait_for(7, std::chrono::seconds(10)));
  CHECK(cluster.psql("SELECT string_agg(event_time::text, ',' ORDER BY event_time) FROM records "
                     "WHERE acct_session_id = 'in-batch'") == "400000,400040");
  CHECK(cluster.psql("SELECT count(*) FROM packets WHERE verdict = 'duplicate' AND reason = 'the "
                     "same record is stored as packet ' || (SELECT id FROM records WHERE "
                     "acct_session_id = 'in-batch' AND event_time = 400040)") == "1");

  // A NAS rebooted and reused the Acct-Session-Id ten minutes later, with the same counters:
  // two sessions of two records each, each session with its own acctuniqueid.
  std::uint64_t reused_tag = 20;
  for (const double base : {500'000.0, 500'600.0}) {
    a.writer->submit(item(AcctStatusType::start, "reused", reused_tag++, base));
    a.writer->submit(stop_item("reused", reused_tag++, base + 600));
  }
  REQUIRE(a.collector.wait_for(11, std::chrono::seconds(10)));
  CHECK(records("reused") == "4");
  CHECK(cluster.psql("SELECT count(*), count(DISTINCT acctuniqueid), min(acctstoptime::text) FROM "
                     "radacct WHERE acctsessionid = 'reused'") == "2|2|1970-01-06 19:03:20+00");
  CHECK(cluster.psql("SELECT count(*) FROM sessions WHERE acct_session_id = 'reused' AND flags = "
                     "'' AND record_count = 2 AND state = 'closed'") == "2");

  // With Event-Timestamp the key holds it, as before: the same timestamp is one record however
  // late the copy comes, timestamps a second apart are two.
  const auto stamped = [](std::uint64_t tag, std::uint32_t timestamp) {
    auto w = stop_item("stamped", tag, timestamp);
    w.record->record.event_timestamp = timestamp;
    return w;
  };
  a.writer->submit(stamped(30, 600'000));
  REQUIRE(a.collector.wait_for(12, std::chrono::seconds(10)));
  b.writer->submit(stamped(31, 600'000));
  b.writer->submit(stamped(32, 600'001));
  REQUIRE(b.collector.wait_for(5, std::chrono::seconds(10)));
  CHECK(records("stamped") == "2");

  // The idempotency key's text: no time without Event-Timestamp.
  const auto text = record_idempotency_text(*stop_item("x", 1, 1000).record);
  const std::string us = "\x1f";
  CHECK(text == "192.0.2.1" + us + "x" + us + "2" + us + "~" + us + "600" + us + "4000" + us + us +
                    us + us + "1");
  CHECK(record_idempotency_text(*stop_item("x", 1, 100'000).record) == text);

  // Both servers at once, each given one copy of each record, the copies straddling a step:
  // every record stored once.
  constexpr int pairs = 60;
  std::vector<WriteItem> for_a;
  std::vector<WriteItem> for_b;
  for (int i = 0; i < pairs; ++i) {
    const auto id = "concurrent-" + std::to_string(i);
    const double step_end = 30.0 * (40'000 + i);
    for_a.push_back(stop_item(id, 100 + static_cast<std::uint64_t>(i), step_end - 0.1));
    for_b.push_back(stop_item(id, 200 + static_cast<std::uint64_t>(i), step_end + 0.1));
  }
  const auto a_before = a.collector.count();
  const auto b_before = b.collector.count();
  std::thread to_b([&] { b.writer->submit(for_b); });
  a.writer->submit(for_a);
  to_b.join();
  REQUIRE(a.collector.wait_for(a_before + pairs, std::chrono::seconds(30)));
  REQUIRE(b.collector.wait_for(b_before + pairs, std::chrono::seconds(30)));
  CHECK(cluster.psql("SELECT count(*), count(DISTINCT acct_session_id) FROM records WHERE "
                     "acct_session_id LIKE 'concurrent-%'") ==
        std::to_string(pairs) + "|" + std::to_string(pairs));
  CHECK(cluster.psql("SELECT count(*) FROM sessions WHERE acct_session_id LIKE 'concurrent-%'") ==
        std::to_string(pairs));
  a.writer->stop();
  b.writer->stop();
}

TEST_CASE("PostgreSQL: while the database is gone the writer answers nothing, says so once, "
          "and recovers by itself without losing a record",
          "[storage][postgres]") {
  test::PgCluster::require();
  test::PgCluster cluster;
  Writer a(cluster.uri());
  a.writer->submit(item(AcctStatusType::start, "outage", 1, 1000));
  REQUIRE(a.collector.wait_for(1, std::chrono::seconds(10)));

  cluster.stop(); // immediate: as a crash of the postmaster
  a.writer->submit(item(AcctStatusType::interim_update, "outage", 2, 1060, 10));
  a.writer->submit(item(AcctStatusType::stop, "outage", 3, 1120, 20));
  REQUIRE(a.collector.wait_for_event(WriterEvent::Kind::commit_failed, std::chrono::seconds(10)));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  CHECK(a.collector.count() == 1); // nothing answered while nothing can be stored
  CHECK_FALSE(a.writer->stats().healthy);

  cluster.start();
  REQUIRE(a.collector.wait_for(3, std::chrono::seconds(20)));
  CHECK(a.collector.wait_for_event(WriterEvent::Kind::recovered, std::chrono::seconds(1)));
  a.writer->stop();
  CHECK(cluster.psql("SELECT count(*) FROM records") == "3");
  CHECK(cluster.psql("SELECT state, input_octets, record_count FROM sessions") == "closed|20|3");
}

TEST_CASE("PostgreSQL: an older schema is upgraded from the one description and its steps, a "
          "newer one is refused naming both versions",
          "[storage][postgres][migrate]") {
  test::PgCluster::require();
  test::PgCluster cluster;
  {
    Writer a(cluster.uri());
    a.writer->submit(item(AcctStatusType::start, "before-upgrade", 1, 1000));
    REQUIRE(a.collector.wait_for(1, std::chrono::seconds(10)));
    a.writer->stop();
  }
  CHECK(cluster.psql("SELECT max(version) FROM schema_version") ==
        std::to_string(current_postgres_schema_version()));
  CHECK(cluster.psql("SELECT requests FROM nas WHERE identity = '192.0.2.1'") == "1");

  // Back to version 1's shape: version 4's steps undone, a column of the description missing,
  // version 2's steps undone.
  test::back_to_version_3(cluster);
  cluster.psql("ALTER TABLE nas DROP COLUMN unknown_client");
  cluster.psql("ALTER TABLE sessions RESET (fillfactor)");
  cluster.psql("ALTER TABLE packets ADD CONSTRAINT packets_run_id_fkey FOREIGN KEY (run_id) "
               "REFERENCES runs (id)");
  cluster.psql("ALTER TABLE packets ALTER COLUMN idem_key TYPE text USING "
               "replace(idem_key::text, '-', '')"); // version 1 kept the MD5 as hex text
  // Version 2's sessions: no scope (its key without it), no class (radacct's was NULL).
  cluster.psql("ALTER TABLE sessions DROP COLUMN scope"); // its indexes go with it
  cluster.psql("CREATE UNIQUE INDEX sessions_open ON sessions (nas_key, acct_session_id) WHERE "
               "state = 'open'");
  cluster.psql("CREATE INDEX sessions_open_nas ON sessions (nas_key) WHERE state = 'open'");
  cluster.psql("CREATE INDEX sessions_key ON sessions (nas_key, acct_session_id)");
  cluster.psql("ALTER TABLE sessions DROP COLUMN class CASCADE"); // and radacct with it
  cluster.psql("DELETE FROM schema_version");
  cluster.psql("INSERT INTO schema_version VALUES (1)");
  {
    PgConnection db(cluster.uri());
    CHECK(postgres_schema_version(db) == 1);
  }
  {
    Writer a(cluster.uri()); // migrates
    a.writer->submit(item(AcctStatusType::stop, "before-upgrade", 2, 1060, 10));
    REQUIRE(a.collector.wait_for(1, std::chrono::seconds(10)));
    CHECK(a.collector.completions()[0].session_id != 0);
    // The Start stored before the upgrade, again: its key, converted, still finds it.
    a.writer->submit(item(AcctStatusType::start, "before-upgrade", 3, 1000));
    REQUIRE(a.collector.wait_for(2, std::chrono::seconds(10)));
    CHECK(a.collector.completions()[1].session_id == a.collector.completions()[0].session_id);
    a.writer->stop();
  }
  CHECK(cluster.psql("SELECT max(version) FROM schema_version") ==
        std::to_string(current_postgres_schema_version()));
  CHECK(cluster.psql("SELECT unknown_client, requests FROM nas WHERE identity = '192.0.2.1'") ==
        "0|3");
  CHECK(cluster.psql("SELECT reloptions::text FROM pg_class WHERE relname = 'sessions'") ==
        "{fillfactor=70}");
  CHECK(cluster.psql("SELECT count(*) FROM pg_constraint WHERE conrelid = 'packets'::regclass "
                     "AND contype = 'f'") == "0");
  CHECK(cluster.psql("SELECT state, record_count, scope FROM sessions WHERE acct_session_id = "
                     "'before-upgrade'") == "closed|2|0");
  CHECK(cluster.psql("SELECT indexdef LIKE '%(scope, nas_key, acct_session_id)%' FROM "
                     "pg_indexes WHERE indexname = 'sessions_open'") == "t");
  CHECK(cluster.psql("SELECT count(*) FROM radacct WHERE class IS NULL") == "1");
  CHECK(cluster.psql("SELECT count(*) FROM packets WHERE verdict = 'duplicate'") == "1");
  CHECK(cluster.psql("SELECT data_type FROM information_schema.columns WHERE table_name = "
                     "'packets' AND column_name = 'idem_key'") == "uuid");

  // A database written by a newer acctlab: refused, nothing changed.
  cluster.psql("INSERT INTO schema_version VALUES (99)");
  try {
    Writer refused(cluster.uri());
    FAIL("a writer opened a database of a newer schema");
  } catch (const Error& error) {
    const std::string message = error.what();
    INFO(message);
    CHECK(message.find("version 99") != std::string::npos);
    CHECK(message.find("newer than this build") != std::string::npos);
    CHECK(message.find("(" + std::to_string(current_postgres_schema_version()) + ")") !=
          std::string::npos);
  }
  CHECK(cluster.psql("SELECT max(version) FROM schema_version") == "99");
}

TEST_CASE("PostgreSQL: keys stored in 30-second steps are rewritten without their time by the "
          "upgrade, so a later copy of such a record still finds it",
          "[storage][postgres][migrate][idempotency]") {
  test::PgCluster::require();
  test::PgCluster cluster;
  {
    Writer a(cluster.uri());
    a.writer->submit(stop_item("old-form", 1, 2000.5));
    a.writer->submit(stop_item("old-scoped", 2, 2100.25));
    a.writer->submit(stop_item("stamped", 3, 2200));
    REQUIRE(a.collector.wait_for(3, std::chrono::seconds(10)));
    a.writer->stop();
  }
  // The keys as the build before made them: the event time in 30-second steps after the "~"; a
  // run's record with its scope first; a key with Event-Timestamp (no "~") is left as it is.
  const auto text_of = [](const std::string& id, double time) {
    return record_idempotency_text(*stop_item(id, 0, time).record);
  };
  const auto with_step = [](std::string text, double time) {
    return text.insert(text.find('~') + 1, std::to_string(static_cast<std::int64_t>(time / 30)));
  };
  const std::string us = "\x1f";
  const auto old_form = with_step(text_of("old-form", 2000.5), 2000.5);
  const auto old_scoped = "scope 77" + us + with_step(text_of("old-scoped", 2100.25), 2100.25);
  const auto stamped = "stamped-key-of-another-form";
  cluster.psql("DROP INDEX packets_idem");
  cluster.psql("UPDATE packets SET idem_key = md5('" + old_form +
               "')::uuid WHERE acct_session_id = 'old-form'");
  cluster.psql("UPDATE packets SET run_id = 77, idem_key = md5('" + old_scoped +
               "')::uuid WHERE acct_session_id = 'old-scoped'");
  cluster.psql("UPDATE packets SET idem_key = md5('" + std::string(stamped) +
               "')::uuid WHERE acct_session_id = 'stamped'");
  cluster.psql("CREATE UNIQUE INDEX packets_idem ON packets (idem_key)");
  cluster.psql("DELETE FROM schema_version");
  cluster.psql("INSERT INTO schema_version VALUES (" +
               std::to_string(current_postgres_schema_version() - 1) + ")");
  {
    Writer a(cluster.uri()); // migrates
    // A retransmission of the record stored before, in the next 30-second step.
    auto copy = stop_item("old-form", 4, 2000.5 + 20);
    copy.record->record.delay_time = 20;
    a.writer->submit(std::move(copy));
    REQUIRE(a.collector.wait_for(1, std::chrono::seconds(10)));
    a.writer->stop();
  }
  CHECK(cluster.psql("SELECT count(*) FROM records WHERE acct_session_id = 'old-form'") == "1");
  CHECK(cluster.psql("SELECT count(*) FROM packets WHERE verdict = 'duplicate'") == "1");
  CHECK(cluster.psql("SELECT count(*) FROM packets WHERE acct_session_id = 'old-scoped' AND "
                     "idem_key = md5('scope 77" +
                     us + text_of("old-scoped", 2100.25) + "')::uuid") == "1");
  CHECK(cluster.psql("SELECT count(*) FROM packets WHERE acct_session_id = 'stamped' AND "
                     "idem_key = md5('" +
                     std::string(stamped) + "')::uuid") == "1");
  CHECK(cluster.psql("SELECT indexdef LIKE '%UNIQUE%(idem_key, event_time)%' FROM pg_indexes "
                     "WHERE indexname = 'packets_idem'") == "t");
  CHECK(cluster.psql("SELECT max(version) FROM schema_version") ==
        std::to_string(current_postgres_schema_version()));
}

TEST_CASE("PostgreSQL: connections carry acctlab's liveness settings, and the URI's own win",
          "[storage][postgres]") {
  test::PgCluster::require();
  test::PgCluster cluster;
  // What libpq will use on this connection, by option name (PQconninfo).
  const auto settings = [](const std::string& uri) {
    pg_conn* conn = open_pg_connection(uri);
    REQUIRE(PQstatus(conn) == CONNECTION_OK);
    std::map<std::string, std::string> out;
    PQconninfoOption* options = PQconninfo(conn);
    for (auto* o = options; o && o->keyword; ++o) {
      out[o->keyword] = o->val ? o->val : "";
    }
    PQconninfoFree(options);
    PQfinish(conn);
    return out;
  };
  auto ours = settings(cluster.uri());
  CHECK(ours["keepalives"] == "1");
  CHECK(ours["keepalives_idle"] == "10");
  CHECK(ours["keepalives_interval"] == "5");
  CHECK(ours["keepalives_count"] == "3");
  CHECK(ours["tcp_user_timeout"] == "20000");
  auto theirs = settings(cluster.uri() + "&keepalives_idle=42&tcp_user_timeout=0");
  CHECK(theirs["keepalives_idle"] == "42");
  CHECK(theirs["tcp_user_timeout"] == "0");
  CHECK(theirs["keepalives_count"] == "3");
}

namespace {

/** A writer with its own options (a scope, a clock), as a capture import or a live server. */
struct ScopedWriter {
  Collector collector;
  std::unique_ptr<AccountingWriter> writer;
  ScopedWriter(const std::string& uri, WriterOptions options)
      : writer(open_writer(uri, std::move(options),
                           [this](std::vector<Completion>&& c) { collector.add(std::move(c)); })) {}
};

double wall_now() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

} // namespace

TEST_CASE("PostgreSQL: a live server and a run in its own scope neither match, close nor expire "
          "each other's sessions",
          "[storage][postgres][scope]") {
  test::PgCluster::require();
  test::PgCluster cluster;
  const auto uri = cluster.uri();
  const double now = wall_now();

  // The live server: the shared scope, the database's clock, expiring often.
  auto live_options = fast_options();
  live_options.expire_every = std::chrono::milliseconds(50);
  ScopedWriter live(uri, live_options);

  // An import of a capture recorded long ago: its own scope, its clock the capture's.
  std::atomic<double> old_clock{1100};
  auto old_options = fast_options();
  old_options.run_kind.reset();
  old_options.run_id = 41;
  old_options.session_scope = 41;
  old_options.expire_every = std::chrono::milliseconds(50);
  old_options.clock = [&old_clock] { return old_clock.load(); };
  ScopedWriter old_import(uri, old_options);

  // A capture whose clock is ten days ahead of the database's (a NAS clock gone wrong).
  auto future_options = old_options;
  future_options.run_id = 42;
  future_options.session_scope = 42;
  const double future = now + 10 * 86400;
  future_options.clock = [future] { return future; };
  ScopedWriter future_import(uri, future_options);

  // The same NAS and Acct-Session-Id in all three.
  live.writer->submit(item(AcctStatusType::start, "shared", 1, now));
  REQUIRE(live.collector.wait_for(1, std::chrono::seconds(10)));
  old_import.writer->submit(item(AcctStatusType::start, "shared", 1, 1000));
  REQUIRE(old_import.collector.wait_for(1, std::chrono::seconds(10)));
  future_import.writer->submit(item(AcctStatusType::start, "shared", 1, future));
  REQUIRE(future_import.collector.wait_for(1, std::chrono::seconds(10)));
  CHECK(cluster.psql("SELECT string_agg(scope || ':' || state || ':' || flags || ':' || "
                     "record_count, ',' ORDER BY scope) FROM sessions") ==
        "0:open::1,41:open::1,42:open::1");
  // Three distinct records: the same Start in three scopes is no broadcast copy.
  CHECK(cluster.psql("SELECT count(*) FROM packets WHERE verdict = 'duplicate'") == "0");

  // Many expiry rounds of each: by the live server's clock the old import's session is long
  // stale, by the future capture's the live one is; each judges its own scope only.
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  CHECK(cluster.psql("SELECT string_agg(scope || ':' || state, ',' ORDER BY scope) FROM "
                     "sessions") == "0:open,41:open,42:open");

  // Each still expires its own: the old capture's clock moves past 3 x 600 s of silence, and a
  // live session whose last record is an hour old (by the database's clock) goes stale.
  old_clock = 1000 + 3 * 600 + 60;
  live.writer->submit(item(AcctStatusType::start, "silent", 2, now - 3600));
  REQUIRE(live.collector.wait_for(2, std::chrono::seconds(10)));
  bool expired = false;
  for (int attempt = 0; attempt < 100 && !expired; ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    expired = cluster.psql("SELECT count(*) FROM sessions WHERE state = 'stale'") == "2";
  }
  CHECK(expired);
  CHECK(cluster.psql("SELECT string_agg(scope || ':' || acct_session_id || ':' || state, ',' "
                     "ORDER BY scope, id) FROM sessions") ==
        "0:shared:open,0:silent:stale,41:shared:stale,42:shared:open");

  // Accounting-On from the NAS to the live server closes the live sessions only.
  live.writer->submit(item(AcctStatusType::accounting_on, "", 3, now + 1));
  REQUIRE(live.collector.wait_for(3, std::chrono::seconds(10)));
  CHECK(cluster.psql("SELECT string_agg(scope || ':' || state, ',' ORDER BY scope, id) FROM "
                     "sessions") == "0:closed,0:stale,41:stale,42:open");
  // The Stop the future capture holds closes its session, not the live one's.
  future_import.writer->submit(item(AcctStatusType::stop, "shared", 2, future + 60, 500));
  REQUIRE(future_import.collector.wait_for(2, std::chrono::seconds(10)));
  CHECK(cluster.psql("SELECT input_octets, record_count FROM sessions WHERE scope = 42") ==
        "500|2");
  CHECK(cluster.psql("SELECT state, input_octets, record_count FROM sessions WHERE scope = 0 "
                     "AND acct_session_id = 'shared'") == "closed||1");
  // And an Accounting-On in the capture closes the capture's sessions, not the live ones.
  live.writer->submit(item(AcctStatusType::start, "live-2", 4, now + 2));
  REQUIRE(live.collector.wait_for(4, std::chrono::seconds(10)));
  future_import.writer->submit(item(AcctStatusType::start, "run-2", 3, future + 100));
  future_import.writer->submit(item(AcctStatusType::accounting_on, "", 4, future + 120));
  REQUIRE(future_import.collector.wait_for(4, std::chrono::seconds(10)));
  CHECK(cluster.psql("SELECT string_agg(scope || ':' || acct_session_id || ':' || state || ':' || "
                     "COALESCE(terminate_cause, 0), ',' ORDER BY scope, id) FROM sessions WHERE "
                     "acct_session_id IN ('live-2', 'run-2')") ==
        "0:live-2:open:0,42:run-2:closed:11");
  live.writer->stop();
  old_import.writer->stop();
  future_import.writer->stop();
}

TEST_CASE("PostgreSQL: radacct.class is the Class the session's first record carried",
          "[storage][postgres][class]") {
  test::PgCluster::require();
  test::PgCluster cluster;
  {
    Writer a(cluster.uri());
    auto start = item(AcctStatusType::start, "with-class", 1, 1000);
    start.record->record.class_text = "0x61636374";
    a.writer->submit(std::move(start));
    auto interim = item(AcctStatusType::interim_update, "with-class", 2, 1060, 10);
    interim.record->record.class_text = "0x6f74686572"; // a later one does not replace it
    a.writer->submit(std::move(interim));
    a.writer->submit(item(AcctStatusType::start, "without-class", 3, 1000));
    auto late = item(AcctStatusType::interim_update, "late-class", 4, 1000, 10);
    late.record->record.class_text = "0x6c617465"; // no Start: the first record that had one
    a.writer->submit(std::move(late));
    REQUIRE(a.collector.wait_for(4, std::chrono::seconds(10)));
    a.writer->stop();
  }
  CHECK(cluster.psql("SELECT string_agg(acctsessionid || '=' || COALESCE(class, 'NULL'), ',' "
                     "ORDER BY acctsessionid) FROM radacct") ==
        "late-class=0x6c617465,with-class=0x61636374,without-class=NULL");
  CHECK(cluster.psql("SELECT data_type FROM information_schema.columns WHERE table_name = "
                     "'radacct' AND column_name = 'class'") == "text");
}
