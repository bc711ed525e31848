// `acctlab pcap analyze --db` when the database refuses one packet's row (a trigger in a real
// SQLite file, or in a database of a private PostgreSQL cluster): the import stores every other
// packet, names the refused one (file, frame, NAS, Acct-Session-Id, the database's message) in its
// output and its JSON summary, counts it, does not pass, and ends without waiting for a
// completion that never comes.

#include "capture_test_support.hpp"
#include "process_support.hpp"
#include "storage/pg_connection.hpp"
#include "storage/pg_schema.hpp"
#include "storage/schema.hpp"
#include "storage/sqlite.hpp"
#include "tests/support/test_engine.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <sys/wait.h>

using namespace acctlab;
using namespace acctlab::capture::test;

namespace {

const std::string binary = std::string(ACCTLAB_BINARY_DIR) + "/acctlab";
const std::string capture_file =
    std::string(ACCTLAB_SOURCE_DIR) + "/tests/captures/strongswan-lifecycle.pcap";

/** One value of the database, whatever the engine. */
std::string query(const std::string& database, const std::string& sql) {
  if (storage::is_postgres_uri(database)) {
    storage::PgConnection db(database);
    const auto result = db.query(sql);
    return result.rows() > 0 ? result.text(0, 0) : std::string();
  }
  storage::Database db(database);
  auto statement = db.prepare(sql);
  return statement.step() ? statement.column_text(0) : std::string();
}

/** The schema, and a trigger that refuses the packet row of one frame, as an administrator's
 * rule or a future constraint would. */
void refuse_frame(const std::string& database, int frame) {
  const auto f = std::to_string(frame);
  if (storage::is_postgres_uri(database)) {
    storage::PgConnection db(database);
    storage::migrate_postgres(db);
    db.exec("CREATE FUNCTION refuse_frame() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN IF "
            "NEW.frame = " +
            f + " THEN RAISE EXCEPTION ''frame refused by the test''; END IF; RETURN NEW; END'");
    db.exec("CREATE TRIGGER refuse_frame BEFORE INSERT ON packets FOR EACH ROW EXECUTE "
            "FUNCTION refuse_frame()");
  } else {
    storage::Database db(database);
    storage::migrate(db);
    db.exec("CREATE TRIGGER refuse_frame BEFORE INSERT ON packets WHEN NEW.frame = " + f +
            " BEGIN SELECT RAISE(ABORT, 'frame refused by the test'); END");
  }
}

} // namespace

TEST_CASE("A packet the database refuses during a capture import is named, counted, fails the "
          "run, and the rest is stored at once",
          "[pcap][import][refused]") {
  const auto dir = scratch_dir("import-refused");
  const auto database = test::fresh_database((dir / "import.db").string(), "import_refused");
  // Frame 5 is an Interim-Update of session 1796625058-1 from NAS 192.0.2.1 (16 frames: 8
  // requests of two sessions and their answers).
  refuse_frame(database, 5);

  const auto out = dir / "report.json";
  const auto err = dir / "stderr.txt";
  int status = 0;
  const auto started = std::chrono::steady_clock::now();
  // Bounded: the fault made the import wait 60 s for the refused packet's completion.
  run("timeout 150 " + binary + " pcap analyze " + capture_file + " --db '" + database +
          "' --secret acctlab-swan-secret --profile strongswan --interim-interval 5 "
          "--report json --out " +
          out.string() + " 2>" + err.string(),
      &status);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const auto stderr_text = read_text(err);
  const auto text = read_text(out);
  INFO("stderr: " << stderr_text << "\nreport: " << text);
  CHECK(seconds < 30);
  // Not a clean capture: a record the database holds not is a run the judge did not see whole.
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 3);
  REQUIRE(!text.empty());
  const auto report = boost::json::parse(text).as_object();
  CHECK(report.at("verdict").as_string() == "incomplete");
  const auto& import = report.at("import").as_object();
  CHECK(import.at("run_verdict").as_string() == "incomplete");
  const auto& refused = import.at("refused").as_object();
  CHECK(refused.at("count").to_number<std::uint64_t>() == 1);
  const auto& list = refused.at("list").as_array();
  REQUIRE(list.size() == 1);
  const auto& packet = list[0].as_object();
  CHECK(packet.at("file").as_string() == capture_file);
  CHECK(packet.at("frame").to_number<std::uint64_t>() == 5);
  CHECK(packet.at("nas").as_string() == "192.0.2.1");
  CHECK(packet.at("acct_session_id").as_string() == "1796625058-1");
  CHECK(std::string(packet.at("message").as_string()).find("frame refused by the test") !=
        std::string::npos);

  // Said on stderr too, for an import whose report goes to a file.
  CHECK(stderr_text.find("frame 5") != std::string::npos);
  CHECK(stderr_text.find("1796625058-1") != std::string::npos);
  CHECK(stderr_text.find("frame refused by the test") != std::string::npos);

  // Every other packet is stored, the refused one not; its session as if it never came.
  const auto run_id = std::to_string(import.at("run_id").as_int64());
  CHECK(query(database, "SELECT count(*) FROM packets WHERE run_id = " + run_id) == "15");
  CHECK(query(database, "SELECT count(*) FROM packets WHERE frame = 5") == "0");
  CHECK(import.at("packets").to_number<std::uint64_t>() == 15);
  CHECK(query(database, "SELECT record_count || '/' || state FROM sessions WHERE "
                        "acct_session_id = '1796625058-1'") == "4/closed");
  CHECK(query(database, "SELECT verdict FROM runs WHERE id = " + run_id) == "incomplete");
  // The stored report names it as the printed one does.
  CHECK(query(database, "SELECT count(*) FROM runs WHERE id = " + run_id +
                            " AND report LIKE '%frame refused by the test%'") == "1");
}

TEST_CASE("A stale mark the database refuses at the end of a capture import is named, the session "
          "stays open, and the import finishes its run",
          "[pcap][import][refused][stale]") {
  const auto dir = scratch_dir("import-stale-refused");
  const auto database = test::fresh_database((dir / "import.db").string(), "import_stale_refused");
  // document-records.pcap leaves session 00000001 of NAS 100.1.1.147 stale (with an interval of
  // 5 s); the database refuses every stale mark.
  if (storage::is_postgres_uri(database)) {
    storage::PgConnection db(database);
    storage::migrate_postgres(db);
    db.exec("CREATE FUNCTION refuse_stale() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RAISE "
            "EXCEPTION ''no stale marks here''; END'");
    db.exec("CREATE TRIGGER refuse_stale BEFORE UPDATE ON sessions FOR EACH ROW WHEN "
            "(NEW.state = 'stale') EXECUTE FUNCTION refuse_stale()");
  } else {
    storage::Database db(database);
    storage::migrate(db);
    db.exec("CREATE TRIGGER refuse_stale BEFORE UPDATE ON sessions WHEN NEW.state = 'stale' "
            "BEGIN SELECT RAISE(ABORT, 'no stale marks here'); END");
  }
  const auto out = dir / "report.json";
  const auto err = dir / "stderr.txt";
  int status = 0;
  run("timeout 150 " + binary + " pcap analyze " + std::string(ACCTLAB_SOURCE_DIR) +
          "/tests/captures/document-records.pcap --db '" + database +
          "' --no-check --interim-interval 5 --report json --out " + out.string() + " 2>" +
          err.string(),
      &status);
  const auto stderr_text = read_text(err);
  const auto text = read_text(out);
  INFO("stderr: " << stderr_text << "\nreport: " << text);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  REQUIRE(!text.empty());
  const auto report = boost::json::parse(text).as_object();
  const auto& import = report.at("import").as_object();
  const auto& marks = import.at("stale_refused").as_array();
  REQUIRE(marks.size() == 1);
  CHECK(marks[0].at("acct_session_id").as_string() == "00000001");
  CHECK(marks[0].at("nas").as_string() == "100.1.1.147");
  CHECK(std::string(marks[0].at("message").as_string()).find("no stale marks here") !=
        std::string::npos);
  CHECK(stderr_text.find("00000001") != std::string::npos);
  CHECK(stderr_text.find("no stale marks here") != std::string::npos);
  // The session stays open, as the database keeps it; the run is finished with its report.
  CHECK(import.at("sessions").at("stale").to_number<std::uint64_t>() == 0);
  CHECK(import.at("sessions").at("open").to_number<std::uint64_t>() == 2);
  const auto run_id = std::to_string(import.at("run_id").as_int64());
  CHECK(query(database, "SELECT state FROM sessions WHERE acct_session_id = '00000001'") == "open");
  CHECK(query(database, "SELECT verdict FROM runs WHERE id = " + run_id +
                            " AND finished IS NOT NULL") == "imported");
}
