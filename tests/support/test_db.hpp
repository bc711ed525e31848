#pragma once
// A test's read-and-write handle on an SQLite file: every failure is a test failure, and rows come
// back as strings, NULL as "<null>" and blobs byte for byte (raw packets hold NUL octets), so two
// databases can be compared row for row.

#include <catch2/catch.hpp>
#include <sqlite3.h>
#include <string>
#include <vector>

namespace acctlab::test {

struct Db {
  sqlite3* db = nullptr;
  explicit Db(const std::string& path) { REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK); }
  ~Db() { sqlite3_close(db); }
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  void exec(const std::string& sql) const {
    char* error = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
    INFO(sql << ": " << (error ? error : ""));
    sqlite3_free(error);
    REQUIRE(rc == SQLITE_OK);
  }
  std::vector<std::vector<std::string>> rows(const std::string& sql) const {
    sqlite3_stmt* st = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK);
    std::vector<std::vector<std::string>> out;
    int rc = SQLITE_ROW;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      std::vector<std::string> row;
      for (int i = 0; i < sqlite3_column_count(st); ++i) {
        const auto* text = static_cast<const char*>(sqlite3_column_blob(st, i));
        row.push_back(sqlite3_column_type(st, i) == SQLITE_NULL
                          ? "<null>"
                          : std::string(text ? text : "",
                                        static_cast<std::size_t>(sqlite3_column_bytes(st, i))));
      }
      out.push_back(std::move(row));
    }
    INFO(sql << ": " << sqlite3_errmsg(db));
    sqlite3_finalize(st);
    REQUIRE(rc == SQLITE_DONE);
    return out;
  }
  /** The first column of the first row (a row is required). */
  std::string value(const std::string& sql) const {
    const auto all = rows(sql);
    INFO(sql);
    REQUIRE_FALSE(all.empty());
    return all.front().front();
  }
};

using Rows = std::vector<std::vector<std::string>>;

/** Compares two result sets row for row (the same number of rows required); reports the first
 * five rows that differ, whole against parts, and returns how many differ. */
inline std::size_t count_differing_rows(const Rows& expected, const Rows& got) {
  REQUIRE(got.size() == expected.size());
  std::size_t differing = 0;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    if (got[i] != expected[i] && ++differing <= 5) {
      std::string want;
      std::string have;
      for (std::size_t c = 0; c < expected[i].size(); ++c) {
        want += expected[i][c] + " | ";
        have += (c < got[i].size() ? got[i][c] : std::string("<missing>")) + " | ";
      }
      FAIL_CHECK("row " << i << "\n  whole: " << want << "\n  parts: " << have);
    }
  }
  return differing;
}

} // namespace acctlab::test
