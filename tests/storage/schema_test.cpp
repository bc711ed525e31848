#include "storage/pg_connection.hpp"
#include "storage/schema.hpp"
#include "storage/sqlite.hpp"
#include "storage/table_description.hpp"
#include "storage_test_util.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <set>

using namespace acctlab::storage;

TEST_CASE("migrate creates every table at the current version, and is idempotent",
          "[storage][schema]") {
  acctlab::test::TempDir dir;
  Database db(dir.file("a.db"));
  CHECK(schema_version(db) == 0);
  migrate(db);
  CHECK(schema_version(db) == current_schema_version());
  migrate(db);
  CHECK(db.query_int64("SELECT count(*) FROM schema_version") == current_schema_version());
  std::set<std::string> tables;
  auto statement = db.prepare("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')");
  while (statement.step()) {
    tables.insert(statement.column_text(0));
  }
  for (const char* name :
       {"packets", "records", "sessions", "runs", "nas", "findings", "schema_version", "radacct"}) {
    INFO(name);
    CHECK(tables.count(name) == 1);
  }
  CHECK(db.query_int64("PRAGMA synchronous") == 2); // FULL
  auto mode = db.prepare("PRAGMA journal_mode");
  REQUIRE(mode.step());
  CHECK(mode.column_text(0) == "wal");
}

TEST_CASE("the radacct view has FreeRADIUS's column names", "[storage][schema]") {
  acctlab::test::TempDir dir;
  Database db(dir.file("a.db"));
  migrate(db);
  std::set<std::string> columns;
  auto statement = db.prepare("SELECT name FROM pragma_table_info('radacct')");
  while (statement.step()) {
    columns.insert(statement.column_text(0));
  }
  for (const char* name :
       {"radacctid",        "acctsessionid",     "acctuniqueid",     "username",
        "nasipaddress",     "nasportid",         "nasporttype",      "acctstarttime",
        "acctupdatetime",   "acctstoptime",      "acctinterval",     "acctsessiontime",
        "acctauthentic",    "connectinfo_start", "connectinfo_stop", "acctinputoctets",
        "acctoutputoctets", "calledstationid",   "callingstationid", "acctterminatecause",
        "servicetype",      "framedprotocol",    "framedipaddress",  "class"}) {
    INFO(name);
    CHECK(columns.count(name) == 1);
  }
}

TEST_CASE("a database newer than the build is refused", "[storage][schema]") {
  acctlab::test::TempDir dir;
  Database db(dir.file("a.db"));
  migrate(db);
  db.prepare("INSERT INTO schema_version (version) VALUES (?1)")
      .bind(1, current_schema_version() + 1)
      .run();
  CHECK_THROWS_AS(migrate(db), Error);
}

TEST_CASE("statements bind values as parameters, never as SQL", "[storage][sqlite]") {
  acctlab::test::TempDir dir;
  Database db(dir.file("a.db"));
  db.exec("CREATE TABLE t (a TEXT, b BLOB, c INTEGER)");
  const std::string hostile = "x'); DROP TABLE t; --";
  const std::vector<std::uint8_t> bytes{0, 1, 2, 255};
  db.prepare("INSERT INTO t VALUES (?1, ?2, ?3)")
      .bind(1, hostile)
      .bind_blob(2, bytes)
      .bind(3, std::uint64_t{1} << 40)
      .run();
  auto row = db.prepare("SELECT a, b, c FROM t");
  REQUIRE(row.step());
  CHECK(row.column_text(0) == hostile);
  auto blob = row.column_blob(1);
  CHECK(std::vector<std::uint8_t>(blob.begin(), blob.end()) == bytes);
  CHECK(row.column_int64(2) == std::int64_t{1} << 40);
  CHECK_FALSE(row.step());
  CHECK_THROWS_AS(db.prepare("SELECT nonsense FROM"), Error);
}

TEST_CASE("a version 1 database keeps its rows and links through every migration",
          "[storage][schema]") {
  acctlab::test::TempDir dir;
  Database db(dir.file("v1.db"));
  migrate(db, 1);
  REQUIRE(schema_version(db) == 1);
  db.exec("INSERT INTO runs (id, kind, started) VALUES (1, 'serve', 10)");
  db.exec("INSERT INTO packets (id, run_id, receive_time, src_addr, src_port, verdict, raw) "
          "VALUES (7, 1, 11, '127.0.0.1', 1646, 'ok', x'04'), "
          "(8, 1, 12, '127.0.0.1', 1646, 'bad-authenticator', x'04')");
  db.exec("INSERT INTO sessions (id, nas_key, acct_session_id, unique_id, state, "
          "last_record_time, user_name, input_octets) "
          "VALUES (3, 'nas', 'A1', 'u-3', 'open', 11, 'alice', 5000000000)");
  db.exec("INSERT INTO records (id, packet_id, session_row, status_type, acct_session_id, "
          "nas_identity, event_time, receive_time, attributes) "
          "VALUES (5, 7, 3, 1, 'A1', 'nas', 11, 11, 'Acct-Session-Id = \"A1\"')");
  db.exec("INSERT INTO findings (run_id, rule_id, severity, scope, message, packet_id, "
          "record_id, session_id) VALUES (1, 'R', 'error', 'packet', 'm', 8, 5, 3)");

  migrate(db);
  CHECK(schema_version(db) == current_schema_version());
  CHECK(db.query_int64("SELECT count(*) FROM packets") == 2);
  CHECK(db.query_int64("SELECT count(*) FROM records AS r JOIN packets AS p ON p.id = "
                       "r.packet_id JOIN sessions AS s ON s.id = r.session_row") == 1);
  CHECK(db.query_int64("SELECT acctinputoctets FROM radacct WHERE acctuniqueid = 'u-3'") ==
        5000000000);
  // Migration 8: the session's class column, NULL for a session stored before it, in radacct.
  CHECK(db.query_int64("SELECT count(*) FROM radacct WHERE acctuniqueid = 'u-3' AND class IS "
                       "NULL") == 1);
  CHECK(db.query_int64("SELECT count(*) FROM pragma_foreign_key_check") == 0);
  CHECK(db.query_int64("PRAGMA foreign_keys") == 1);
  auto integrity = db.prepare("PRAGMA integrity_check");
  REQUIRE(integrity.step());
  CHECK(integrity.column_text(0) == "ok");
  // The rebuilt tables still refuse what the old CHECKs refused, and the indexes are back.
  CHECK_THROWS_AS(db.exec("INSERT INTO packets (receive_time, src_addr, src_port, verdict, raw) "
                          "VALUES (1, 'x', 1, 'valid', x'00')"),
                  Error);
  CHECK_THROWS_AS(db.exec("UPDATE sessions SET state = 'reopened' WHERE id = 3"), Error);
  CHECK(db.query_int64("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name IN "
                       "('packets_run', 'sessions_key')") == 2);
  // Migration 6: the record is its packet's row now, its id the packet's, and the finding that
  // named record 5 names it by its new id.
  CHECK(db.query_int64("SELECT id FROM records") == 7);
  CHECK(db.query_int64("SELECT record_id FROM findings") == 7);
  CHECK(db.query_int64("SELECT count(*) FROM sqlite_master WHERE name = 'records' AND type = "
                       "'view'") == 1);
  CHECK(db.query_int64("SELECT count(*) FROM findings AS f JOIN records AS r ON r.id = "
                       "f.record_id JOIN sessions AS s ON s.id = r.session_row") == 1);
  // A record still cannot point at a packet or session that does not exist.
  CHECK_THROWS_AS(db.exec("INSERT INTO records (packet_id, nas_identity, event_time, "
                          "receive_time) VALUES (999, 'nas', 1, 1)"),
                  Error);
  CHECK_THROWS_AS(db.exec("INSERT INTO records (packet_id, session_row, nas_identity, "
                          "event_time, receive_time) VALUES (8, 999, 'nas', 1, 1)"),
                  Error);
}

TEST_CASE("the records view takes inserts and deletes as the table did, and refuses the same",
          "[storage][schema]") {
  acctlab::test::TempDir dir;
  Database db(dir.file("records.db"));
  migrate(db);
  db.exec(
      "INSERT INTO packets (id, receive_time, src_addr, src_port, verdict, raw) "
      "VALUES (1, 10, '127.0.0.1', 1646, 'ok', x'04'), (2, 11, '127.0.0.1', 1646, 'ok', x'04')");
  db.exec("INSERT INTO sessions (id, nas_key, acct_session_id, unique_id, state, "
          "last_record_time) VALUES (3, 'nas', 'A1', 'u-3', 'open', 11)");
  CHECK(db.query_int64("SELECT count(*) FROM records") == 0); // packets without records
  db.exec("INSERT INTO records (packet_id, session_row, status_type, acct_session_id, "
          "nas_identity, event_time, receive_time, input_octets) "
          "VALUES (1, 3, 1, 'A1', 'nas', 9.5, 10, 5000000000)");
  auto row = db.prepare("SELECT id, packet_id, session_row, status_type, event_time, "
                        "receive_time, input_octets FROM records");
  REQUIRE(row.step());
  CHECK(row.column_int64(0) == 1);
  CHECK(row.column_int64(1) == 1);
  CHECK(row.column_int64(2) == 3);
  CHECK(row.column_int64(3) == 1);
  CHECK(row.column_double(4) == 9.5);
  CHECK(row.column_double(5) == 10); // the packet's receive time
  CHECK(row.column_int64(6) == 5000000000);
  CHECK_FALSE(row.step());
  // One record per packet; the columns the table required; the id is the packet's.
  CHECK_THROWS_AS(db.exec("INSERT INTO records (packet_id, nas_identity, event_time, "
                          "receive_time) VALUES (1, 'nas', 1, 1)"),
                  Error);
  CHECK_THROWS_AS(db.exec("INSERT INTO records (packet_id, event_time, receive_time) "
                          "VALUES (2, 1, 1)"),
                  Error);
  CHECK_THROWS_AS(db.exec("INSERT INTO records (packet_id, nas_identity, receive_time) "
                          "VALUES (2, 'nas', 1)"),
                  Error);
  CHECK_THROWS_AS(db.exec("INSERT INTO records (id, packet_id, nas_identity, event_time, "
                          "receive_time) VALUES (5, 2, 'nas', 1, 1)"),
                  Error);
  CHECK(db.query_int64("SELECT count(*) FROM records") == 1);
  // A record that findings point at cannot be deleted (migration 7), as the table refused it.
  db.exec("INSERT INTO findings (rule_id, severity, scope, message, packet_id, record_id) "
          "VALUES ('R', 'error', 'record', 'm', 1, 1)");
  CHECK_THROWS_AS(db.exec("DELETE FROM records WHERE id = 1"), Error);
  CHECK(db.query_int64("SELECT count(*) FROM records") == 1);
  db.exec("DELETE FROM findings");
  // Deleting a record leaves its packet, without a record.
  db.exec("DELETE FROM records WHERE status_type = 1");
  CHECK(db.query_int64("SELECT count(*) FROM records") == 0);
  CHECK(db.query_int64("SELECT count(*) FROM packets") == 2);
  CHECK(db.query_int64("SELECT count(*) FROM packets WHERE session_row IS NOT NULL OR "
                       "input_octets IS NOT NULL") == 0);
}

TEST_CASE("a migration that fails leaves the database at the version before and the connection "
          "as it was",
          "[storage][schema]") {
  acctlab::test::TempDir dir;
  {
    // A finding that names a packet that does not exist (written with foreign keys off):
    // migration 6 rebuilds findings, and the foreign key check refuses to commit the result.
    Database db(dir.file("dangling.db"));
    migrate(db, 5);
    db.exec("PRAGMA foreign_keys = OFF");
    db.exec("INSERT INTO findings (rule_id, severity, scope, message, packet_id) "
            "VALUES ('R', 'error', 'packet', 'm', 999)");
    db.exec("PRAGMA foreign_keys = ON");
    CHECK_THROWS_AS(migrate(db), Error);
    CHECK(schema_version(db) == 5);
    CHECK(db.query_int64("SELECT count(*) FROM sqlite_master WHERE name = 'records' AND type = "
                         "'table'") == 1);
    CHECK(db.query_int64("PRAGMA foreign_keys") == 1);
  }
  {
    // A table in the way of migration 6's rebuild (left by a hand-made attempt): the migration
    // stops after it turned legacy_alter_table on, which must not outlive the failure.
    Database db(dir.file("in-the-way.db"));
    migrate(db, 5);
    db.exec("CREATE TABLE findings_rebuilt (x)");
    CHECK_THROWS_AS(migrate(db), Error);
    CHECK(schema_version(db) == 5);
    CHECK(db.query_int64("PRAGMA legacy_alter_table") == 0);
    CHECK(db.query_int64("PRAGMA foreign_keys") == 1);
  }
}

TEST_CASE("the table description every engine is built from is what SQLite's migrations make",
          "[storage][schema]") {
  acctlab::test::TempDir dir;
  Database db(dir.file("a.db"));
  migrate(db);
  const auto type_name = [](ColumnType type) -> std::string {
    switch (type) {
      case ColumnType::id:
      case ColumnType::integer:
        return "INTEGER";
      case ColumnType::real:
        return "REAL";
      case ColumnType::text:
        return "TEXT";
      case ColumnType::blob:
        return "BLOB";
    }
    return "";
  };
  for (const auto& table : table_descriptions()) {
    std::string described;
    for (const auto& column : table.columns) {
      described += std::string(column.name) + " " + type_name(column.type) +
                   (column.not_null ? " NOT NULL" : "") +
                   (column.type == ColumnType::id ? " PK" : "") + "\n";
    }
    std::string migrated;
    auto info = db.prepare("SELECT name, type, \"notnull\", pk FROM pragma_table_info(?1)");
    info.bind(1, std::string(table.name));
    while (info.step()) {
      migrated += info.column_text(0) + " " + info.column_text(1) +
                  (info.column_int64(2) ? " NOT NULL" : "") + (info.column_int64(3) ? " PK" : "") +
                  "\n";
    }
    INFO("table " << table.name);
    CHECK(migrated == described);
  }
}

TEST_CASE("a PostgreSQL URI is never opened as an SQLite file", "[storage][schema]") {
  const std::string uri = "postgresql://acct:secret@db.example/acct";
  try {
    Database db(uri);
    FAIL("opened");
  } catch (const Error& error) {
    const std::string message = error.what();
    CHECK(message.find("PostgreSQL") != std::string::npos);
    CHECK(message.find("secret") == std::string::npos); // the password stays out of messages
  }
  CHECK_FALSE(std::filesystem::exists("postgresql:"));
  CHECK(database_display_name(uri) == "postgresql://acct:***@db.example/acct");
  CHECK(database_display_name("postgresql://acct@/db?host=/tmp/x") ==
        "postgresql://acct@/db?host=/tmp/x");
  CHECK(database_display_name("/var/lib/a:b@c.db") == "/var/lib/a:b@c.db");
}
