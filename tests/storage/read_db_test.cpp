// Tests storage/read_db.hpp on both engines: the same statements, rows, cells and change counter
// over a SQLite file and over a database of a throwaway PostgreSQL 15 cluster
// (tests/support/pg_cluster.hpp; the test exits 77, skipped, without PostgreSQL). What differs
// per engine is said where it differs.
#include "storage/detail/read_engine.hpp"
#include "storage/pg_connection.hpp"
#include "storage/read_db.hpp"
#include "storage/sqlite.hpp"
#include "tests/support/pg_cluster.hpp"

#include <array>
#include <catch2/catch.hpp>
#include <filesystem>
#include <unistd.h>

using namespace acctlab;
using namespace acctlab::storage;

namespace {

/** A text of about n bytes whose characters take 1 to 4 octets in UTF-8, so that any piece a
 * reader asks for ends inside a character somewhere. */
std::string multibyte_text(std::size_t n) {
  static const std::array<std::string, 5> characters{"a", "\xc3\xa9", "\xe2\x82\xac",
                                                     "\xf0\x9d\x84\x9e", "{"};
  std::string out;
  for (std::size_t i = 0; out.size() < n; ++i) {
    out += characters[(i * 7 + i / 3) % characters.size()];
  }
  return out;
}

/** Every byte of the cell, read in order in pieces of `piece` bytes. */
std::string read_all(const CellReader& cell, std::size_t piece) {
  std::string out;
  std::vector<char> buffer(piece);
  while (const auto n = cell.read(buffer, static_cast<std::int64_t>(out.size()))) {
    out.append(buffer.data(), n);
  }
  return out;
}

} // namespace

TEST_CASE("?N parameters become $N outside quoted text and names", "[storage][read]") {
  CHECK(detail::postgres_parameters("SELECT ?1, ?12 FROM t WHERE a = ?2") ==
        "SELECT $1, $12 FROM t WHERE a = $2");
  CHECK(detail::postgres_parameters("SELECT '?1', \"?2\", 'it''s ?3', ?4 ESCAPE '\\'") ==
        "SELECT '?1', \"?2\", 'it''s ?3', $4 ESCAPE '\\'");
  CHECK(detail::postgres_parameters("SELECT ? , ?x") == "SELECT ? , ?x"); // not a parameter
}

TEST_CASE("one reader over SQLite and PostgreSQL: rows, types, cells, the change counter",
          "[storage][read][postgres]") {
  test::PgCluster::require();
  test::PgCluster cluster;
  const auto file = (std::filesystem::temp_directory_path() /
                     ("acctlab-read-db-" + std::to_string(::getpid()) + ".db"))
                        .string();
  std::filesystem::remove(file);
  const auto big = multibyte_text(3 * 1024 * 1024 + 17); // past the first pieces of 256 KiB
  {
    Database lite(file);
    lite.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER, x REAL, s TEXT, b BLOB, "
              "big TEXT)");
    lite.prepare("INSERT INTO t VALUES (1, 7, 2.5, 'caf\xc3\xa9', x'00ff10', ?1), "
                 "(2, NULL, NULL, NULL, NULL, NULL)")
        .bind(1, big)
        .run();
    PgConnection pg(cluster.uri());
    pg.exec("CREATE TABLE t (id bigint PRIMARY KEY, n bigint, x double precision, s text, "
            "b bytea, big text)");
    pg.query("INSERT INTO t VALUES (1, 7, 2.5, 'caf\xc3\xa9', '\\x00ff10', $1), "
             "(2, NULL, NULL, NULL, NULL, NULL)",
             {big});
    pg.exec("CREATE VIEW v AS SELECT id FROM t");
    lite.exec("CREATE VIEW v AS SELECT id FROM t");
  }
  for (const auto& database : {file, cluster.uri()}) {
    const bool postgres = is_postgres_uri(database);
    INFO((postgres ? "PostgreSQL" : "SQLite"));
    ReadOnlyDatabase db(database);
    CHECK(db.engine() == (postgres ? Engine::postgres : Engine::sqlite));
    CHECK(db.has_table("t"));
    CHECK(db.has_table("v"));
    CHECK_FALSE(db.has_table("nothing"));

    // Types as JSON: integer, real, text, bytes as hex, NULL; sum() of integers stays an integer
    // (numeric on PostgreSQL).
    const auto row = db.row("SELECT id, n, x, s, b FROM t WHERE id = ?1", {std::int64_t{1}});
    REQUIRE(row);
    CHECK(row->at("n").as_int64() == 7);
    CHECK(row->at("x").as_double() == 2.5);
    CHECK(row->at("s").as_string() == "caf\xc3\xa9");
    CHECK(row->at("b").as_string() == "00ff10");
    const auto nulls = db.row("SELECT n, x, s, b FROM t WHERE id = 2");
    REQUIRE(nulls);
    for (const auto& [key, value] : *nulls) {
      INFO(key);
      CHECK(value.is_null());
    }
    const auto sums = db.row("SELECT sum(n) AS total, count(*) AS rows, sum(x) AS reals FROM t");
    CHECK(sums->at("total").as_int64() == 7);
    CHECK(sums->at("rows").as_int64() == 2);
    CHECK(sums->at("reals").as_double() == 2.5);
    CHECK(db.scalar("SELECT count(*) FROM t WHERE s = ?1 OR n > ?2",
                    {std::string("caf\xc3\xa9"), std::int64_t{100}}) == 1);
    CHECK(db.rows("SELECT id FROM t WHERE x > ?1 ORDER BY id", {1.25}).size() == 1);
    {
      // Two statements open at once on one connection, as the packet page has them.
      auto outer = db.prepare("SELECT id FROM t ORDER BY id");
      REQUIRE(outer.step());
      auto inner = db.prepare("SELECT b FROM t WHERE id = ?1");
      inner.bind(1, outer.int64(0));
      REQUIRE(inner.step());
      CHECK(inner.blob(0).size() == 3);
      CHECK(inner.blob(0)[1] == 0xff);
      REQUIRE(outer.step());
      CHECK(outer.int64(0) == 2);
    }
    // Nothing is written through a reader.
    CHECK_THROWS_AS(db.scalar("INSERT INTO t (id) VALUES (3)"), DbError);
    CHECK_THROWS_AS(db.prepare("SELECT nonsense FROM t").step(), Error); // a storage::Error

    // A large cell in pieces of an odd size, every piece boundary somewhere inside a character
    // of the text; then from the start again (a reader restarted).
    auto cell = db.open_cell("t", "big", 1);
    REQUIRE(cell);
    CHECK(cell->size() == static_cast<std::int64_t>(big.size()));
    CHECK((read_all(*cell, 65'537) == big));
    CHECK((read_all(*cell, 1'000'003) == big));
    std::array<char, 10> tail{};
    CHECK(cell->read(tail, cell->size() - 4) == 4);
    CHECK(std::string(tail.data(), 4) == big.substr(big.size() - 4));
    auto bytes = db.open_cell("t", "b", 1);
    REQUIRE(bytes);
    CHECK(read_all(*bytes, 2) == std::string("\x00\xff\x10", 3));
    CHECK_FALSE(db.open_cell("t", "big", 2));  // NULL
    CHECK_FALSE(db.open_cell("t", "big", 99)); // no such row
  }

  // The change counter: the same while nothing is committed (the reader's own queries included),
  // another value after another connection commits a change.
  for (const auto& database : {file, cluster.uri()}) {
    const bool postgres = is_postgres_uri(database);
    INFO((postgres ? "PostgreSQL" : "SQLite"));
    ReadOnlyDatabase db(database);
    const auto before = db.data_version();
    db.rows("SELECT * FROM t");
    CHECK(db.data_version() == before);
    if (postgres) {
      PgConnection writer(database);
      writer.exec("SELECT count(*) FROM t"); // a read-only transaction of another session
      CHECK(db.data_version() == before);
      writer.exec("INSERT INTO t (id, n) VALUES (10, 1)");
    } else {
      Database writer(database);
      writer.exec("INSERT INTO t (id, n) VALUES (10, 1)");
    }
    const auto after = db.data_version();
    CHECK(after != before);
    CHECK(db.data_version() == after);
    CHECK(db.scalar("SELECT count(*) FROM t") == 3);
  }

  // A pooled PostgreSQL reader outlives a restart of the server: the statement that finds the
  // connection gone is sent again on a new one.
  ReadOnlyDatabase kept(cluster.uri());
  CHECK(kept.scalar("SELECT count(*) FROM t") == 3);
  cluster.stop();
  cluster.start();
  CHECK(kept.scalar("SELECT count(*) FROM t") == 3);
  CHECK(kept.data_version() != 0);
  // A statement the server refuses is no lost connection: it fails, once.
  CHECK_THROWS_WITH(kept.scalar("SELECT nonsense FROM t"), Catch::Contains("nonsense"));
  std::filesystem::remove(file);
}
