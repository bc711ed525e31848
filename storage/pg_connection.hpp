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
#include <unordered_map>
#include <vector>

struct pg_conn;
struct pg_result;

namespace acctlab::storage {

/** Whether a --db value names a PostgreSQL database (libpq's URI forms) rather than a file. */
bool is_postgres_uri(std::string_view database);

/** The --db value as logs may show it: a URI's password replaced by "***"; a path as it is. */
std::string database_display_name(std::string_view database);

/**
 * Opens a libpq connection from the URI with acctlab's liveness defaults before the URI's own
 * settings (which win): TCP keepalives after 10 s idle, every 5 s, 3 probes, and a 20 s TCP user
 * timeout, so a network that silently drops the connection ends it in about half a minute
 * instead of leaving a read blocked for the kernel's two hours. A Unix socket ignores them. The
 * caller checks PQstatus and PQfinishes the result.
 */
pg_conn* open_pg_connection(const std::string& uri);

/** What a reader or tool that works on SQLite only says when given a PostgreSQL URI (the
 * URI's password, if any, left out). */
std::string not_on_postgres(std::string_view database);

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

/** One statement of a pipeline: its text and its parameters. */
struct PgStatement {
  std::string sql;
  std::vector<PgParam> params;
};

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
  /** One statement with $1..$N; returns its rows (none for a command without RETURNING). The
   * statement is prepared on this connection the first time its text is seen and reused after:
   * parsed and planned once, not for every record. */
  PgResult query(const std::string& sql, const std::vector<PgParam>& params = {});
  /** The same statement once per parameter list, sent together and answered together (libpq's
   * pipeline mode: one round trip instead of one per list); each result's rows, in order.
   * Throws PgError at the first failure, after the pipeline is drained. */
  std::vector<PgResult> query_each(const std::string& sql,
                                   const std::vector<std::vector<PgParam>>& lists);
  /** Different statements sent together and answered together (libpq's pipeline mode, one
   * round trip): e.g. BEGIN, a batch's call and COMMIT. Each result's rows, in order; throws
   * PgError at the first failure, after the pipeline is drained. */
  std::vector<PgResult> pipeline(const std::vector<PgStatement>& statements);
  bool ok() const;

private:
  [[noreturn]] void fail(pg_result* result, std::string_view what);
  /** Closes a connection left in an unknown state and throws a lost-connection PgError. */
  [[noreturn]] void lose(std::string_view what);
  const std::string& prepare(const std::string& sql);
  /** Sends each (statement name, parameters) in pipeline mode and reads every result. */
  std::vector<PgResult>
  run_pipeline(const std::vector<std::pair<const std::string*, const std::vector<PgParam>*>>& sent);
  pg_conn* conn_ = nullptr;
  std::unordered_map<std::string, std::string> prepared_; // SQL text -> statement name
};

} // namespace acctlab::storage
