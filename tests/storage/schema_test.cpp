#include "storage/schema.hpp"
#include "storage/sqlite.hpp"
#include "storage_test_util.hpp"

#include <catch2/catch.hpp>
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
        "servicetype",      "framedprotocol",    "framedipaddress"}) {
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
