// The SQLite engine behind storage::ReadOnlyDatabase (storage/read_db.hpp).

#include "storage/detail/read_engine.hpp"

#include <algorithm>
#include <sqlite3.h>

namespace acctlab::storage::detail {
namespace {

[[noreturn]] void fail(sqlite3* db, int rc, std::string_view what) {
  std::string message(what);
  message += ": ";
  message += db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  throw DbError(rc, message);
}

class SqliteStatement final : public ReadStatement {
public:
  SqliteStatement(sqlite3* db, std::string_view sql) : db_(db) {
    const int rc =
        sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &stmt_, nullptr);
    if (rc != SQLITE_OK) {
      fail(db, rc, "prepare");
    }
  }
  ~SqliteStatement() override { sqlite3_finalize(stmt_); }
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;

  void bind(int index, const Param& value) override {
    int rc = SQLITE_OK;
    if (std::holds_alternative<std::monostate>(value)) {
      rc = sqlite3_bind_null(stmt_, index);
    } else if (const auto* i = std::get_if<std::int64_t>(&value)) {
      rc = sqlite3_bind_int64(stmt_, index, *i);
    } else if (const auto* d = std::get_if<double>(&value)) {
      rc = sqlite3_bind_double(stmt_, index, *d);
    } else {
      const auto& s = std::get<std::string>(value);
      rc = sqlite3_bind_text(stmt_, index, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
    }
    if (rc != SQLITE_OK) {
      fail(db_, rc, "bind");
    }
  }

  bool step() override {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) {
      return true;
    }
    if (rc == SQLITE_DONE) {
      return false;
    }
    fail(db_, rc, "query");
  }

  int columns() const override { return sqlite3_column_count(stmt_); }
  std::string column_name(int column) const override { return sqlite3_column_name(stmt_, column); }
  ColumnKind kind(int column) const override {
    switch (sqlite3_column_type(stmt_, column)) {
      case SQLITE_INTEGER:
        return ColumnKind::integer;
      case SQLITE_FLOAT:
        return ColumnKind::real;
      case SQLITE_TEXT:
        return ColumnKind::text;
      case SQLITE_BLOB:
        return ColumnKind::blob;
      default:
        return ColumnKind::null;
    }
  }
  std::int64_t int64(int column) const override { return sqlite3_column_int64(stmt_, column); }
  double real(int column) const override { return sqlite3_column_double(stmt_, column); }
  std::string text(int column) const override {
    const auto* p = sqlite3_column_text(stmt_, column);
    const int n = sqlite3_column_bytes(stmt_, column);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n))
             : std::string();
  }
  std::span<const std::uint8_t> blob(int column) const override {
    const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt_, column));
    const int n = sqlite3_column_bytes(stmt_, column);
    return p ? std::span<const std::uint8_t>(p, static_cast<std::size_t>(n))
             : std::span<const std::uint8_t>();
  }

private:
  sqlite3_stmt* stmt_ = nullptr;
  sqlite3* db_ = nullptr;
};

/** SQLite's incremental blob I/O: reads a TEXT cell as well as a BLOB one and touches only the
 * pages asked for. */
class SqliteCell final : public ReadCell {
public:
  explicit SqliteCell(sqlite3_blob* blob) noexcept : blob_(blob) {}
  ~SqliteCell() override { sqlite3_blob_close(blob_); }
  SqliteCell(const SqliteCell&) = delete;
  SqliteCell& operator=(const SqliteCell&) = delete;

  std::int64_t size() const override { return sqlite3_blob_bytes(blob_); }
  std::size_t read(std::span<char> to, std::int64_t at) const override {
    const auto n = std::min<std::int64_t>(static_cast<std::int64_t>(to.size()), size() - at);
    if (n <= 0) {
      return 0;
    }
    const int rc = sqlite3_blob_read(blob_, to.data(), static_cast<int>(n), static_cast<int>(at));
    if (rc != SQLITE_OK) {
      throw DbError(rc, std::string("read: ") + sqlite3_errstr(rc));
    }
    return static_cast<std::size_t>(n);
  }

private:
  sqlite3_blob* blob_ = nullptr;
};

class SqliteReader final : public ReadEngine {
public:
  SqliteReader(const std::string& path, int busy_timeout_ms) {
    // SQLITE_OPEN_READONLY: the viewer must never alter evidence; no CREATE either, so a
    // mistyped path is an error rather than a new empty database.
    const int rc =
        sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
      std::string message = "cannot open " + path + ": " +
                            (db_ ? std::string(sqlite3_errmsg(db_)) : sqlite3_errstr(rc));
      sqlite3_close(db_);
      db_ = nullptr;
      throw DbError(rc, message);
    }
    sqlite3_busy_timeout(db_, busy_timeout_ms);
    // Reports walk large ranges of index pages: memory-map the file (no read() per page) and
    // keep a larger page cache than SQLite's 2 MiB default. Both are per connection and
    // read-only safe.
    sqlite3_exec(db_,
                 "PRAGMA query_only = 1; PRAGMA mmap_size = 1073741824; "
                 "PRAGMA cache_size = -32768",
                 nullptr, nullptr, nullptr);
  }
  ~SqliteReader() override { sqlite3_close(db_); }
  SqliteReader(const SqliteReader&) = delete;
  SqliteReader& operator=(const SqliteReader&) = delete;

  Engine engine() const override { return Engine::sqlite; }

  std::unique_ptr<ReadStatement> prepare(std::string_view sql) override {
    return std::make_unique<SqliteStatement>(db_, sql);
  }

  std::int64_t scalar(std::string_view sql) {
    SqliteStatement q(db_, sql);
    return q.step() ? q.int64(0) : 0;
  }

  // PRAGMA data_version: changes whenever another connection commits (sqlite.org/pragma.html).
  std::int64_t data_version() override { return scalar("PRAGMA data_version"); }

  bool has_table(std::string_view name) override {
    SqliteStatement q(
        db_, "SELECT count(*) FROM sqlite_master WHERE type IN ('table', 'view') AND name = ?1");
    q.bind(1, std::string(name));
    return q.step() && q.int64(0) > 0;
  }

  std::unique_ptr<ReadCell> open_cell(const std::string& table, const std::string& column,
                                      std::int64_t rowid) override {
    // typeof() reads the record header only, never the value (SQLite's OPFLAG_TYPEOFARG).
    SqliteStatement q(db_, "SELECT typeof(" + column + ") FROM " + table + " WHERE rowid = ?1");
    q.bind(1, rowid);
    if (!q.step()) {
      return nullptr;
    }
    const auto type = q.text(0);
    if (type != "text" && type != "blob") {
      return nullptr; // sqlite3_blob_open refuses NULL and numbers
    }
    sqlite3_blob* blob = nullptr;
    const int rc = sqlite3_blob_open(db_, "main", table.c_str(), column.c_str(), rowid, 0, &blob);
    if (rc != SQLITE_OK) {
      sqlite3_blob_close(blob);
      fail(db_, rc, "open " + table + "." + column);
    }
    return std::make_unique<SqliteCell>(blob);
  }

private:
  sqlite3* db_ = nullptr;
};

} // namespace

std::unique_ptr<ReadEngine> open_sqlite_reader(const std::string& path, int busy_timeout_ms) {
  return std::make_unique<SqliteReader>(path, busy_timeout_ms);
}

} // namespace acctlab::storage::detail
