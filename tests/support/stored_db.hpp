#pragma once
// What a test's server stored, read back through storage's engine-neutral reader
// (storage/read_db.hpp), so one check runs on a SQLite file and on a PostgreSQL database alike;
// the few spellings that differ between the engines are here. And a commit blocker: another
// connection that holds the server's next commit back, as a second writer (SQLite) or a table
// lock (PostgreSQL) does.

#include "storage/pg_connection.hpp"
#include "storage/read_db.hpp"
#include "storage/sqlite.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace acctlab::test {

/** The first column of the first row of sql as an integer, -1 when NULL or no row. A fresh
 * read-only connection each time, so it sees every commit made before the call. */
inline std::int64_t stored_count(const std::string& database, const std::string& sql) {
  storage::ReadOnlyDatabase db(database);
  auto query = db.prepare(sql);
  if (!query.step() || query.is_null(0)) {
    return -1;
  }
  return query.int64(0);
}

/** The first column of the first row of sql as text, "<null>" when NULL, "<none>" when no row. */
inline std::string stored_text(const std::string& database, const std::string& sql) {
  storage::ReadOnlyDatabase db(database);
  auto query = db.prepare(sql);
  if (!query.step()) {
    return "<none>";
  }
  return query.is_null(0) ? "<null>" : query.text(0);
}

/** The first row of sql, its columns joined by '|' (NULL as nothing, as psql -A prints them);
 * "<none>" when no row. */
inline std::string stored_row(const std::string& database, const std::string& sql) {
  storage::ReadOnlyDatabase db(database);
  auto query = db.prepare(sql);
  if (!query.step()) {
    return "<none>";
  }
  std::string row;
  for (int column = 0; column < query.columns(); ++column) {
    row += (column ? "|" : "") + (query.is_null(column) ? std::string() : query.text(column));
  }
  return row;
}

/** Every row of sql, each value as text ("<null>" for NULL; a BLOB or bytea as its bytes), so
 * two databases of one engine compare row for row. */
inline std::vector<std::vector<std::string>> stored_rows(const std::string& database,
                                                         const std::string& sql) {
  storage::ReadOnlyDatabase db(database);
  auto query = db.prepare(sql);
  std::vector<std::vector<std::string>> rows;
  while (query.step()) {
    auto& row = rows.emplace_back();
    for (int column = 0; column < query.columns(); ++column) {
      row.push_back(query.is_null(column) ? "<null>" : query.text(column));
    }
  }
  return rows;
}

/** SQL for the number runs.report (a JSON object) holds under name, NULL when absent. */
inline std::string report_number(const std::string& database, const std::string& name) {
  return storage::is_postgres_uri(database) ? "(report::jsonb ->> '" + name + "')::bigint"
                                            : "json_extract(report, '$." + name + "')";
}

/** Holds the server's next commit back until release(): on SQLite a second writer's
 * BEGIN IMMEDIATE (the writer retries while the file is locked); on PostgreSQL an EXCLUSIVE
 * lock on packets, which every batch inserts into (the writer's statement waits for it; readers
 * go on). Released on destruction too. */
class CommitBlocker {
public:
  explicit CommitBlocker(const std::string& database) {
    if (storage::is_postgres_uri(database)) {
      pg_ = std::make_unique<storage::PgConnection>(database);
    } else {
      sqlite_ = std::make_unique<storage::Database>(database);
    }
  }
  ~CommitBlocker() {
    try {
      release();
    } catch (const storage::Error&) {
      // The connection is gone: so is its lock.
    }
  }
  CommitBlocker(const CommitBlocker&) = delete;
  CommitBlocker& operator=(const CommitBlocker&) = delete;

  void hold() {
    if (pg_) {
      pg_->exec("BEGIN");
      pg_->exec("LOCK TABLE packets IN EXCLUSIVE MODE");
    } else {
      sqlite_->exec("BEGIN IMMEDIATE");
    }
    held_ = true;
  }
  void release() {
    if (!held_) {
      return;
    }
    held_ = false;
    if (pg_) {
      pg_->exec("ROLLBACK");
    } else {
      sqlite_->exec("ROLLBACK");
    }
  }

private:
  std::unique_ptr<storage::PgConnection> pg_;
  std::unique_ptr<storage::Database> sqlite_;
  bool held_ = false;
};

} // namespace acctlab::test
