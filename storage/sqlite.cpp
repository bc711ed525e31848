#include "storage/sqlite.hpp"

#include "storage/pg_connection.hpp"

#include <sqlite3.h>
#include <utility>

namespace acctlab::storage {
namespace {

[[noreturn]] void fail(sqlite3* db, int rc, std::string_view what) {
  std::string message(what);
  message += ": ";
  message += db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  throw Error(db ? sqlite3_extended_errcode(db) : rc, message);
}

} // namespace

Statement::Statement(sqlite3* db, std::string_view sql) : db_(db) {
  const int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()),
                                    SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
  if (rc != SQLITE_OK) {
    fail(db, rc, "prepare");
  }
}

Statement::Statement(Statement&& other) noexcept
    : stmt_(std::exchange(other.stmt_, nullptr)), db_(other.db_) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    stmt_ = std::exchange(other.stmt_, nullptr);
    db_ = other.db_;
  }
  return *this;
}

Statement::~Statement() {
  sqlite3_finalize(stmt_);
}

void Statement::check(int rc) const {
  if (rc != SQLITE_OK) {
    fail(db_, rc, "bind");
  }
}

Statement& Statement::bind(int index, std::int64_t value) {
  check(sqlite3_bind_int64(stmt_, index, value));
  return *this;
}

Statement& Statement::bind(int index, double value) {
  check(sqlite3_bind_double(stmt_, index, value));
  return *this;
}

Statement& Statement::bind(int index, std::string_view text) {
  check(sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
  return *this;
}

// SQLite binds a blob whose pointer is null as NULL, not as zero octets: an empty span (a
// zero-length datagram's raw octets) is bound as a zero-length blob instead.
Statement& Statement::bind_blob(int index, std::span<const std::uint8_t> bytes) {
  check(bytes.empty()
            ? sqlite3_bind_zeroblob(stmt_, index, 0)
            : sqlite3_bind_blob64(stmt_, index, bytes.data(), bytes.size(), SQLITE_TRANSIENT));
  return *this;
}

Statement& Statement::bind_static(int index, std::string_view text) {
  check(sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_STATIC, SQLITE_UTF8));
  return *this;
}

Statement& Statement::bind_blob_static(int index, std::span<const std::uint8_t> bytes) {
  check(bytes.empty()
            ? sqlite3_bind_zeroblob(stmt_, index, 0)
            : sqlite3_bind_blob64(stmt_, index, bytes.data(), bytes.size(), SQLITE_STATIC));
  return *this;
}

Statement& Statement::bind_null(int index) {
  check(sqlite3_bind_null(stmt_, index));
  return *this;
}

bool Statement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) {
    return true;
  }
  if (rc == SQLITE_DONE) {
    return false;
  }
  // Reset so the statement can be bound again when the caller retries the transaction.
  const int code = sqlite3_extended_errcode(db_);
  std::string message = std::string("step: ") + sqlite3_errmsg(db_);
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  throw Error(code, message);
}

void Statement::run() {
  while (step()) {
  }
  reset();
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

bool Statement::is_null(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

std::int64_t Statement::column_int64(int column) const {
  return sqlite3_column_int64(stmt_, column);
}

double Statement::column_double(int column) const {
  return sqlite3_column_double(stmt_, column);
}

int Statement::column_count() const {
  return sqlite3_column_count(stmt_);
}

std::string Statement::column_text(int column) const {
  const auto* text = sqlite3_column_text(stmt_, column);
  const int size = sqlite3_column_bytes(stmt_, column);
  return text ? std::string(reinterpret_cast<const char*>(text), static_cast<std::size_t>(size))
              : std::string();
}

std::optional<std::string> Statement::column_optional_text(int column) const {
  if (is_null(column)) {
    return std::nullopt;
  }
  return column_text(column);
}

std::optional<std::int64_t> Statement::column_optional_int64(int column) const {
  if (is_null(column)) {
    return std::nullopt;
  }
  return column_int64(column);
}

std::optional<double> Statement::column_optional_double(int column) const {
  if (is_null(column)) {
    return std::nullopt;
  }
  return column_double(column);
}

std::span<const std::uint8_t> Statement::column_blob(int column) const {
  const auto* data = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt_, column));
  const int size = sqlite3_column_bytes(stmt_, column);
  return {data, static_cast<std::size_t>(size)};
}

namespace {
/** SQLite keeps memory statistics under a global mutex on every allocation; nothing here reads
 * them, so they are turned off once, before the library initialises. */
const bool memstatus_off = [] {
  sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  return true;
}();
} // namespace

Database::Database(const std::string& path, OpenOptions options) : path_(path) {
  if (is_postgres_uri(path)) {
    // Not a file name: SQLite would create a file of that name.
    throw Error(SQLITE_CANTOPEN, not_on_postgres(path));
  }
  (void)memstatus_off;
  int flags = options.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
  if (options.create && !options.read_only) {
    flags |= SQLITE_OPEN_CREATE;
  }
  // Each connection is used by one thread at a time; the library's own mutexes are not needed.
  flags |= SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = "open " + path + ": " + (db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc));
    const int code = db_ ? sqlite3_extended_errcode(db_) : rc;
    sqlite3_close(db_);
    db_ = nullptr;
    throw Error(code, message);
  }
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, options.busy_timeout_ms);
  exec("PRAGMA foreign_keys = ON");
  if (!options.read_only) {
    if (options.wal) {
      exec("PRAGMA journal_mode = WAL");
    }
    switch (options.synchronous) {
      case Synchronous::off:
        exec("PRAGMA synchronous = OFF");
        break;
      case Synchronous::normal:
        exec("PRAGMA synchronous = NORMAL");
        break;
      case Synchronous::full:
        exec("PRAGMA synchronous = FULL");
        break;
    }
  }
}

Database::Database(Database&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)), path_(std::move(other.path_)) {}

Database& Database::operator=(Database&& other) noexcept {
  if (this != &other) {
    sqlite3_close_v2(db_);
    db_ = std::exchange(other.db_, nullptr);
    path_ = std::move(other.path_);
  }
  return *this;
}

Database::~Database() {
  sqlite3_close_v2(db_);
}

void Database::exec(std::string_view sql) {
  // exec is for fixed SQL (schema, pragmas, transaction control); values go through bind().
  std::string text(sql);
  char* error = nullptr;
  const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &error);
  if (rc != SQLITE_OK) {
    std::string message = error ? error : sqlite3_errstr(rc);
    sqlite3_free(error);
    throw Error(sqlite3_extended_errcode(db_), "exec: " + message);
  }
}

Statement Database::prepare(std::string_view sql) {
  return Statement(db_, sql);
}

int Database::changes() const {
  return sqlite3_changes(db_);
}

std::int64_t Database::last_insert_rowid() const {
  return sqlite3_last_insert_rowid(db_);
}

std::optional<std::int64_t> Database::query_int64(std::string_view sql) {
  Statement statement(db_, sql);
  if (!statement.step() || statement.is_null(0)) {
    return std::nullopt;
  }
  return statement.column_int64(0);
}

Transaction::Transaction(Database& db) : db_(db) {
  db_.exec("BEGIN IMMEDIATE");
}

Transaction::~Transaction() {
  if (!done_) {
    try {
      db_.exec("ROLLBACK");
    } catch (const Error&) {
      // A failed COMMIT may already have rolled back; nothing else to undo.
    }
  }
}

void Transaction::commit() {
  db_.exec("COMMIT");
  done_ = true;
}

} // namespace acctlab::storage
