// Tests the counters and tallies PostgreSQL keeps in rows per writer connection (storage/
// pg_schema.cpp: migration 4, tally_functions, the read model's views) against a real PostgreSQL
// 15: after two writers' mixed traffic, rows written by hand, deleted and changed, every tally view
// equals the count made from the rows, as the views of schema version 3 made it; and a version-3
// database migrates to the same.
#include "storage/pg_connection.hpp"
#include "storage/pg_schema.hpp"
#include "storage/pg_writer.hpp"
#include "tests/storage/pg_schema_v3.hpp"
#include "tests/support/pg_cluster.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

using namespace acctlab;
using namespace acctlab::storage;
using radius::AcctStatusType;
using test::back_to_version_3;
using test::tallies;

namespace {

struct Writer {
  std::atomic<std::size_t> answered{0};
  std::unique_ptr<AccountingWriter> writer;
  explicit Writer(const std::string& uri) {
    WriterOptions options;
    options.run_kind = "serve";
    options.retry_initial = std::chrono::milliseconds(20);
    writer = open_writer(uri, options,
                         [this](std::vector<Completion>&& done) { answered += done.size(); });
  }
  /** Submits the items and waits (up to 30 s) until every one was answered. */
  void write(std::vector<WriteItem> items) {
    const auto want = answered + items.size();
    writer->submit(items);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (answered < want && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    REQUIRE(answered == want);
  }
};

WriteItem item(AcctStatusType status, const std::string& nas, const std::string& session_id,
               double time, std::optional<std::uint64_t> octets = std::nullopt) {
  static std::uint64_t tag = 0;
  WriteItem w;
  w.tag = ++tag;
  w.packet.raw = {4, static_cast<std::uint8_t>(tag & 0xff), 0, 20};
  w.packet.src_addr = nas;
  w.packet.src_port = 1646;
  w.packet.code = 4;
  w.packet.identifier = static_cast<std::uint8_t>(tag & 0xff);
  w.packet.receive_time = time;
  w.nas = nas;
  RecordInput input;
  input.record.status_type = static_cast<std::uint32_t>(status);
  input.record.session_id = session_id;
  input.record.user_name = "joe@cclient";
  input.record.input_octets = octets;
  if (octets) {
    input.record.session_time = static_cast<std::uint32_t>(*octets);
  }
  input.nas_key = nas;
  input.event_time = time;
  w.record = std::move(input);
  return w;
}

/** A packet without a record: refused before decoding, or a capture's frame. */
WriteItem bare(const std::string& nas, Verdict verdict, double time,
               std::optional<std::string> file = std::nullopt, std::int64_t frame = 0) {
  auto w = item(AcctStatusType::start, nas, "", time);
  w.record.reset();
  w.packet.verdict = verdict;
  w.packet.file = std::move(file);
  if (w.packet.file) {
    w.packet.frame = frame;
  }
  return w;
}

/** The rows of a query as one text, in a fixed order. */
std::string rows_text(const test::PgCluster& cluster, const std::string& columns,
                      const std::string& from) {
  return cluster.psql("SELECT COALESCE(string_agg(t::text, ';' ORDER BY t::text), '') FROM "
                      "(SELECT " +
                      columns + " FROM (" + from + ") AS f) AS t");
}

/** Every tally view against the count from the rows: its rows with a count (a DELETE can leave a
 * key at zero), with its extremes too unless rows were deleted. Returns the rows compared. */
std::size_t check_tallies(const test::PgCluster& cluster, bool with_extremes) {
  std::size_t compared = 0;
  for (const auto& tally : tallies) {
    const std::string columns = with_extremes ? tally.all : tally.counts;
    INFO(tally.view);
    const auto from_rows = rows_text(cluster, columns, tally.from_rows);
    const auto from_view =
        rows_text(cluster, columns,
                  "SELECT * FROM " + std::string(tally.view) + " WHERE " + tally.count + " <> 0");
    CHECK(from_view == from_rows);
    compared += std::stoul(
        cluster.psql("SELECT count(*) FROM (" + std::string(tally.from_rows) + ") AS f"));
  }
  return compared;
}

/** Two writers (two servers, two connections each) write: sessions of two NASes split between
 * them, broadcast copies (duplicates), Interim-Updates, Stops, an Accounting-On closing what
 * either opened, refused packets and a capture's frames. */
void mixed_traffic(Writer& a, Writer& b, double t0) {
  std::vector<WriteItem> to_a;
  std::vector<WriteItem> to_b;
  for (int s = 0; s < 24; ++s) {
    const std::string nas = s % 2 ? "192.0.2.1" : "192.0.2.2";
    const auto id = "t" + std::to_string(static_cast<long>(t0)) + "-" + std::to_string(s);
    // Four sessions start together (two per NAS), every half hour: a batch holds several
    // records of one tally key.
    const double start = t0 + (s / 4) * 1800.0;
    auto& first = s % 3 ? to_a : to_b;
    auto& second = s % 3 ? to_b : to_a;
    first.push_back(item(AcctStatusType::start, nas, id, start));
    if (s % 4 == 0) {
      second.push_back(item(AcctStatusType::start, nas, id, start)); // broadcast: a duplicate
    }
    second.push_back(item(AcctStatusType::interim_update, nas, id, start + 600, 100));
    if (s % 5 != 0) {
      first.push_back(item(AcctStatusType::stop, nas, id, start + 1200, 200));
    }
  }
  to_a.push_back(bare("192.0.2.1", Verdict::bad_authenticator, t0 + 10));
  to_b.push_back(bare("203.0.113.9", Verdict::unknown_client, t0 + 20));
  for (int frame = 1; frame <= 6; ++frame) {
    (frame % 2 ? to_a : to_b)
        .push_back(bare("192.0.2.2", frame == 4 ? Verdict::malformed : Verdict::ok, t0 + frame,
                        "trace.pcap", frame));
  }
  // Both at once, then in turn: batches of both writers' connections in flight together.
  std::thread other([&b, to_b] { b.write(to_b); });
  a.write(to_a);
  other.join();
  // The NAS 192.0.2.2 reboots: its sessions still open close, whichever writer opened them.
  b.write({item(AcctStatusType::accounting_on, "192.0.2.2", "", t0 + 50000)});
}

} // namespace

TEST_CASE("PostgreSQL: each tally and the nas counters, kept in rows per writer connection, equal "
          "the count from the rows after two writers' traffic and rows changed by hand",
          "[storage][postgres][tally]") {
  test::PgCluster::require();
  test::PgCluster cluster;
  const auto uri = cluster.uri();
  {
    Writer a(uri);
    Writer b(uri);
    mixed_traffic(a, b, 1790812800);

    // Each writer connection holds a shard of its own: no two live ones share a number.
    CHECK(cluster.psql("SELECT count(*) = count(DISTINCT objid) AND count(*) >= 2 FROM pg_locks "
                       "WHERE locktype = 'advisory' AND classid = 7306 AND granted") == "t");
    CHECK(std::stoi(cluster.psql("SELECT count(DISTINCT shard) FROM packet_tally_shard")) >= 2);
    CHECK(std::stoi(cluster.psql("SELECT count(DISTINCT shard) FROM nas_shard")) >= 2);
    CHECK(cluster.psql("SELECT count(*) FROM packet_tally_shard WHERE shard = 0") == "0");
    CHECK(check_tallies(cluster, true) > 40);

    // The NAS 192.0.2.1 sends from a new address, to B only, after everything else: the nas
    // view shows the address of the shard that saw the NAS last.
    auto moved = item(AcctStatusType::start, "192.0.2.1", "moved", 1790812800 + 90000);
    moved.packet.src_addr = "198.51.100.7";
    b.write({moved});
    a.writer->stop();
    b.writer->stop();
  }
  // The counters against what was sent: 24 sessions, half of them per NAS.
  //   192.0.2.1: 12 Starts + 12 Interim-Updates + 10 Stops + 1 refused packet + the moved
  //              Start = 36 requests, 35 accepted.
  CHECK(cluster.psql("SELECT address, requests, accepted, bad_authenticator, last_seen FROM nas "
                     "WHERE identity = '192.0.2.1'") == "198.51.100.7|36|35|1|1790902800");
  //   192.0.2.2: 12 Starts + 6 broadcast copies + 12 + 9 + 6 frames + the Accounting-On = 46,
  //              one malformed.
  CHECK(cluster.psql("SELECT requests, accepted, malformed FROM nas WHERE identity = "
                     "'192.0.2.2'") == "46|45|1");
  CHECK(cluster.psql("SELECT requests, unknown_client FROM nas WHERE identity = '203.0.113.9'") ==
        "1|1");
  CHECK(cluster.psql("SELECT count(*) FROM nas") == "3");

  // Rows written by other means than a writer (a script, COPY): shard 0's rows.
  cluster.psql("INSERT INTO packets (run_id, receive_time, src_addr, src_port, verdict, raw, "
               "status_type, acct_session_id, nas_identity, event_time) VALUES (NULL, 5, "
               "'192.0.2.9', 1646, 'ok', '\\x04', 1, 'by-hand', '192.0.2.9', 7205), (NULL, 5, "
               "'192.0.2.9', 1646, 'ok', '\\x04', 3, 'by-hand', '192.0.2.9', 7206)");
  cluster.psql("INSERT INTO sessions (nas_key, acct_session_id, unique_id, state, "
               "last_record_time) VALUES ('192.0.2.9', 'by-hand', 'u-by-hand', 'open', 7206)");
  cluster.psql("INSERT INTO nas (identity, address, requests, accepted) VALUES ('192.0.2.9', "
               "'192.0.2.9', 2, 2)");
  CHECK(cluster.psql("SELECT requests, accepted FROM nas WHERE identity = '192.0.2.9'") == "2|2");
  // Sessions judged stale, as the writer's expiry and a run's do.
  cluster.psql("UPDATE sessions SET state = 'stale' WHERE state = 'open' AND nas_key = "
               "'192.0.2.1'");
  CHECK(cluster.psql("SELECT count(*) FROM packet_tally_shard WHERE shard = 0") != "0");
  check_tallies(cluster, true);

  // Rows taken away: the counts follow (the extremes stay, as on SQLite).
  cluster.psql("DELETE FROM packets WHERE id % 3 = 0");
  cluster.psql("DELETE FROM sessions WHERE id % 4 = 0");
  check_tallies(cluster, false);
  cluster.psql("TRUNCATE findings, sessions");
  CHECK(cluster.psql("SELECT count(*) FROM session_tally WHERE sessions <> 0") == "0");
}

TEST_CASE("PostgreSQL: a version-3 database migrates to tallies in rows per connection: its nas "
          "counters become shard 0's, its tallies are counted from its rows",
          "[storage][postgres][tally][migrate]") {
  test::PgCluster::require();
  test::PgCluster cluster;
  const auto uri = cluster.uri();
  {
    Writer a(uri);
    Writer b(uri);
    mixed_traffic(a, b, 1790812800);
  }
  const auto nas_before = cluster.psql("SELECT string_agg(n::text, ';' ORDER BY identity) FROM "
                                       "nas AS n");
  back_to_version_3(cluster);
  CHECK(cluster.psql("SELECT max(version) FROM schema_version") == "3");
  CHECK(cluster.psql("SELECT relkind FROM pg_class WHERE relname = 'nas'") == "r");
  CHECK(cluster.psql("SELECT string_agg(n::text, ';' ORDER BY identity) FROM nas AS n") ==
        nas_before);
  {
    PgConnection db(uri);
    migrate_postgres(db);
  }
  CHECK(cluster.psql("SELECT max(version) FROM schema_version") ==
        std::to_string(current_postgres_schema_version()));
  CHECK(cluster.psql("SELECT relkind FROM pg_class WHERE relname = 'nas'") == "v");
  CHECK(cluster.psql("SELECT string_agg(n::text, ';' ORDER BY identity) FROM nas AS n") ==
        nas_before);
  CHECK(cluster.psql("SELECT count(*), min(shard), max(shard) FROM nas_shard") == "3|0|0");
  CHECK(check_tallies(cluster, true) > 40);

  // Written on after the migration: the counts go on from where shard 0's left them.
  {
    Writer a(uri);
    Writer b(uri);
    mixed_traffic(a, b, 1791000000);
  }
  check_tallies(cluster, true);
  CHECK(cluster.psql("SELECT requests FROM nas WHERE identity = '192.0.2.1'") == "70");
}
