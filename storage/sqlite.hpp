#pragma once
// RAII over the SQLite C API: a connection and prepared statements whose values are always bound
// as parameters, never spliced into SQL text. Failures throw storage::Error carrying SQLite's
// result code, so a caller can tell "busy" or "read-only" from a programming error.

#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace acctlab::storage {

class Error : public std::runtime_error {
public:
  Error(int code, const std::string& message) : std::runtime_error(message), code_(code) {}
  /** SQLite's extended result code (SQLITE_BUSY, SQLITE_READONLY, SQLITE_FULL, ...). */
  int code() const noexcept { return code_; }

private:
  int code_;
};

class Statement {
public:
  Statement() = default;
  Statement(sqlite3* db, std::string_view sql);
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  // Parameters are 1-based, as in SQLite.
  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, double value);
  Statement& bind(int index, std::string_view text);
  Statement& bind_blob(int index, std::span<const std::uint8_t> bytes);
  Statement& bind_null(int index);
  /** Binds without SQLite's private copy: the memory must stay valid until reset(). */
  Statement& bind_static(int index, std::string_view text);
  Statement& bind_blob_static(int index, std::span<const std::uint8_t> bytes);
  Statement& bind_static(int index, const std::string& text) {
    return bind_static(index, std::string_view{text});
  }
  Statement& bind_static(int index, const std::optional<std::string>& text) {
    return text ? bind_static(index, std::string_view{*text}) : bind_null(index);
  }
  template <class T> Statement& bind(int index, const std::optional<T>& value) {
    if (!value) {
      return bind_null(index);
    }
    return bind(index, *value);
  }
  Statement& bind(int index, std::uint32_t value) { return bind(index, std::int64_t{value}); }
  Statement& bind(int index, int value) { return bind(index, std::int64_t{value}); }
  Statement& bind(int index, std::uint64_t value) {
    return bind(index, static_cast<std::int64_t>(value));
  }
  Statement& bind(int index, const std::string& text) {
    return bind(index, std::string_view{text});
  }
  Statement& bind(int index, const char* text) { return bind(index, std::string_view{text}); }

  /** Whether this holds a prepared statement (a default-constructed one does not). */
  bool prepared() const noexcept { return stmt_ != nullptr; }
  /** Runs one step: true when a row is available, false when done. */
  bool step();
  /** Steps to completion, ignoring rows. */
  void run();
  /** Resets for another execution and clears the bindings. */
  void reset();

  bool is_null(int column) const;
  std::int64_t column_int64(int column) const;
  double column_double(int column) const;
  std::string column_text(int column) const;
  std::optional<std::string> column_optional_text(int column) const;
  std::optional<std::int64_t> column_optional_int64(int column) const;
  std::optional<double> column_optional_double(int column) const;
  std::span<const std::uint8_t> column_blob(int column) const;

private:
  void check(int rc) const;
  sqlite3_stmt* stmt_ = nullptr;
  sqlite3* db_ = nullptr;
};

enum class Synchronous { off, normal, full };

struct OpenOptions {
  bool read_only = false;
  bool create = true;
  bool wal = true;
  /** FULL by default: an acknowledged record survives power loss, not only a crash. */
  Synchronous synchronous = Synchronous::full;
  int busy_timeout_ms = 2000;
};

class Database {
public:
  Database() = default;
  explicit Database(const std::string& path, OpenOptions options = {});
  Database(Database&& other) noexcept;
  Database& operator=(Database&& other) noexcept;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database();

  void exec(std::string_view sql);
  Statement prepare(std::string_view sql);
  std::int64_t last_insert_rowid() const;
  /** Rows changed by the last INSERT, UPDATE or DELETE on this connection. */
  int changes() const;
  /** The value of the first column of the first row, or nullopt when there is no row. */
  std::optional<std::int64_t> query_int64(std::string_view sql);
  const std::string& path() const { return path_; }
  sqlite3* handle() const { return db_; }

private:
  sqlite3* db_ = nullptr;
  std::string path_;
};

/** BEGIN IMMEDIATE on construction, ROLLBACK on destruction unless commit() ran. */
class Transaction {
public:
  explicit Transaction(Database& db);
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();
  void commit();

private:
  Database& db_;
  bool done_ = false;
};

} // namespace acctlab::storage
