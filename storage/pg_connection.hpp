#pragma once
// RAII over libpq: a connection from a `postgresql://` URI (libpq's connection string) and the
// results of statements whose values are always sent as parameters, never spliced into SQL.
// Failures throw PgError carrying the SQLSTATE, so a caller tells a lost connection (class 08,
// or the connection's status) or a deadlock (40P01) from a programming error.

#include "storage/sqlite.hpp" // storage::Error

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct pg_conn;
struct pg_result;

namespace acctlab::storage {

/** Whether a --db value names a PostgreSQL database (libpq's URI forms) rather than a file. */
bool is_postgres_uri(std::string_view database);

class PgError : public Error {
public:
  PgError(std::string sqlstate, bool connection_lost, const std::string& message)
      : Error(0, message), sqlstate_(std::move(sqlstate)), connection_lost_(connection_lost) {}
  const std::string& sqlstate() const noexcept { return sqlstate_; }
  /** The server went away (stopped, restarted, killed, network gone): reconnect and retry. */
  bool connection_lost() const noexcept { return connection_lost_; }
  /** A serialization failure or deadlock: the transaction may be retried as it was. */
  bool retryable() const noexcept { return sqlstate_ == "40001" || sqlstate_ == "40P01"; }

private:
  std::string sqlstate_;
  bool connection_lost_;
};

/** A parameter: NULL or its text form (PostgreSQL parses text into the column's type). */
using PgParam = std::optional<std::string>;

class PgResult {
public:
  PgResult() = default;
  explicit PgResult(pg_result* result) : result_(result) {}
  PgResult(PgResult&& other) noexcept : result_(other.result_) { other.result_ = nullptr; }
  PgResult& operator=(PgResult&& other) noexcept;
  PgResult(const PgResult&) = delete;
  PgResult& operator=(const PgResult&) = delete;
  ~PgResult();

  int rows() const;
  int columns() const;
  bool is_null(int row, int column) const;
  std::string text(int row, int column) const;
  std::int64_t int64(int row, int column) const;
  double real(int row, int column) const;
  std::optional<std::int64_t> optional_int64(int row, int column) const;
  std::string column_name(int column) const;

private:
  pg_result* result_ = nullptr;
};

class PgConnection {
public:
  /** Connects; throws PgError (the URI's password is never part of the message). */
  explicit PgConnection(const std::string& uri);
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;
  ~PgConnection();

  /** One or more statements without parameters. */
  void exec(const std::string& sql);
  /** One statement with $1..$N; returns its rows (none for a command without RETURNING). */
  PgResult query(const std::string& sql, const std::vector<PgParam>& params = {});
  bool ok() const;

private:
  [[noreturn]] void fail(pg_result* result, std::string_view what);
  pg_conn* conn_ = nullptr;
};

} // namespace acctlab::storage
