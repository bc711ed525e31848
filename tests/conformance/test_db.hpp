#pragma once
// A test's read-and-write handle on an SQLite file: every failure is a test failure, and rows come
// back as strings, NULL as "<null>" and blobs byte for byte (raw packets hold NUL octets), so two
// databases can be compared row for row.

#include <catch2/catch.hpp>
#include <sqlite3.h>
#include <string>
#include <vector>

namespace acctlab::conformance::test {

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
    while (sqlite3_step(st) == SQLITE_ROW) {
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
    sqlite3_finalize(st);
    return out;
  }
};

} // namespace acctlab::conformance::test
