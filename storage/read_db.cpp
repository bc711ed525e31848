#include "storage/read_db.hpp"

#include <algorithm>
#include <sqlite3.h>

namespace acctlab::storage {
namespace {

[[noreturn]] void fail(sqlite3* db, int rc, std::string_view what) {
  std::string message(what);
  message += ": ";
  message += db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  throw DbError(rc, message);
}

std::string to_hex(std::span<const std::uint8_t> bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (auto b : bytes) {
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 15]);
  }
  return out;
}

} // namespace

Query::Query(sqlite3* db, std::string_view sql) : db_(db) {
  const int rc = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &stmt_, nullptr);
  if (rc != SQLITE_OK) {
    fail(db, rc, "prepare");
  }
}

Query::Query(Query&& other) noexcept : stmt_(other.stmt_), db_(other.db_) {
  other.stmt_ = nullptr;
}

Query::~Query() {
  sqlite3_finalize(stmt_);
}

Query& Query::bind(int index, const Param& value) {
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
  return *this;
}

Query& Query::bind_all(std::span<const Param> params) {
  int index = 1;
  for (const auto& p : params) {
    bind(index++, p);
  }
  return *this;
}

bool Query::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) {
    return true;
  }
  if (rc == SQLITE_DONE) {
    return false;
  }
  fail(db_, rc, "query");
}

int Query::columns() const {
  return sqlite3_column_count(stmt_);
}
bool Query::is_null(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}
std::int64_t Query::int64(int column) const {
  return sqlite3_column_int64(stmt_, column);
}
double Query::real(int column) const {
  return sqlite3_column_double(stmt_, column);
}

std::string Query::text(int column) const {
  const auto* p = sqlite3_column_text(stmt_, column);
  const int n = sqlite3_column_bytes(stmt_, column);
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n))
           : std::string();
}

std::span<const std::uint8_t> Query::blob(int column) const {
  const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt_, column));
  const int n = sqlite3_column_bytes(stmt_, column);
  return p ? std::span<const std::uint8_t>(p, static_cast<std::size_t>(n))
           : std::span<const std::uint8_t>();
}

boost::json::object Query::row() const {
  boost::json::object out;
  const int n = columns();
  out.reserve(static_cast<std::size_t>(n));
  for (int c = 0; c < n; ++c) {
    const char* name = sqlite3_column_name(stmt_, c);
    switch (sqlite3_column_type(stmt_, c)) {
      case SQLITE_INTEGER:
        out[name] = int64(c);
        break;
      case SQLITE_FLOAT:
        out[name] = real(c);
        break;
      case SQLITE_TEXT:
        out[name] = text(c);
        break;
      case SQLITE_BLOB:
        out[name] = to_hex(blob(c));
        break;
      default:
        out[name] = nullptr;
        break;
    }
  }
  return out;
}

CellReader::~CellReader() {
  sqlite3_blob_close(blob_);
}

std::int64_t CellReader::size() const {
  return sqlite3_blob_bytes(blob_);
}

std::size_t CellReader::read(std::span<char> to, std::int64_t at) const {
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

ReadOnlyDatabase::ReadOnlyDatabase(const std::string& path, int busy_timeout_ms) {
  // SQLITE_OPEN_READONLY: the viewer must never alter evidence; no CREATE either, so a mistyped
  // path is an error rather than a new empty database.
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
  // Reports walk large ranges of index pages: memory-map the file (no read() per page) and keep
  // a larger page cache than SQLite's 2 MiB default. Both are per connection and read-only safe.
  sqlite3_exec(db_,
               "PRAGMA query_only = 1; PRAGMA mmap_size = 1073741824; "
               "PRAGMA cache_size = -32768",
               nullptr, nullptr, nullptr);
}

ReadOnlyDatabase::~ReadOnlyDatabase() {
  sqlite3_close(db_);
}

Query ReadOnlyDatabase::prepare(std::string_view sql) {
  return Query(db_, sql);
}

boost::json::array ReadOnlyDatabase::rows(std::string_view sql, std::span<const Param> params) {
  auto q = prepare(sql);
  q.bind_all(params);
  boost::json::array out;
  while (q.step()) {
    out.emplace_back(q.row());
  }
  return out;
}

boost::json::array ReadOnlyDatabase::rows(std::string_view sql,
                                          std::initializer_list<Param> params) {
  return rows(sql, std::span<const Param>(params.begin(), params.size()));
}

std::optional<boost::json::object> ReadOnlyDatabase::row(std::string_view sql,
                                                         std::initializer_list<Param> params) {
  auto q = prepare(sql);
  q.bind_all(std::span<const Param>(params.begin(), params.size()));
  if (!q.step()) {
    return std::nullopt;
  }
  return q.row();
}

std::int64_t ReadOnlyDatabase::scalar(std::string_view sql, std::span<const Param> params) {
  auto q = prepare(sql);
  q.bind_all(params);
  if (!q.step() || q.is_null(0)) {
    return 0;
  }
  return q.int64(0);
}

std::int64_t ReadOnlyDatabase::scalar(std::string_view sql, std::initializer_list<Param> params) {
  return scalar(sql, std::span<const Param>(params.begin(), params.size()));
}

std::int64_t ReadOnlyDatabase::data_version() {
  return scalar("PRAGMA data_version");
}

bool ReadOnlyDatabase::has_table(std::string_view name) {
  return scalar("SELECT count(*) FROM sqlite_master WHERE type IN ('table', 'view') AND name = ?1",
                {std::string(name)}) > 0;
}

std::optional<CellReader> ReadOnlyDatabase::open_cell(const std::string& table,
                                                      const std::string& column,
                                                      std::int64_t rowid) {
  // typeof() reads the record header only, never the value (SQLite's OPFLAG_TYPEOFARG).
  auto q = prepare("SELECT typeof(" + column + ") FROM " + table + " WHERE rowid = ?1");
  q.bind(1, rowid);
  if (!q.step()) {
    return std::nullopt;
  }
  const auto type = q.text(0);
  if (type != "text" && type != "blob") {
    return std::nullopt; // sqlite3_blob_open refuses NULL and numbers
  }
  sqlite3_blob* blob = nullptr;
  const int rc = sqlite3_blob_open(db_, "main", table.c_str(), column.c_str(), rowid, 0, &blob);
  if (rc != SQLITE_OK) {
    sqlite3_blob_close(blob);
    fail(db_, rc, "open " + table + "." + column);
  }
  return CellReader(blob);
}

} // namespace acctlab::storage
