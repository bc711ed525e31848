#include "storage/pg_connection.hpp"

#include <charconv>
#include <cstdlib>
#include <libpq-fe.h>

namespace acctlab::storage {

bool is_postgres_uri(std::string_view database) {
  return database.starts_with("postgresql://") || database.starts_with("postgres://");
}

std::string database_display_name(std::string_view database) {
  if (!is_postgres_uri(database)) {
    return std::string(database);
  }
  // scheme://user:password@host/...: the password is what lies between the first ':' after the
  // scheme and the '@' that ends the user part.
  const auto start = database.find("://") + 3;
  const auto at = database.find('@', start);
  const auto slash = database.find('/', start);
  if (at == std::string_view::npos || (slash != std::string_view::npos && slash < at)) {
    return std::string(database);
  }
  const auto colon = database.find(':', start);
  if (colon == std::string_view::npos || colon > at) {
    return std::string(database);
  }
  return std::string(database.substr(0, colon + 1)) + "***" + std::string(database.substr(at));
}

std::string not_on_postgres(std::string_view database) {
  return database_display_name(database) +
         ": this command works on SQLite files only in this build; a PostgreSQL database is "
         "written by serve and read by web and check --db";
}

PgResult& PgResult::operator=(PgResult&& other) noexcept {
  if (this != &other) {
    PQclear(result_);
    result_ = other.result_;
    other.result_ = nullptr;
  }
  return *this;
}

PgResult::~PgResult() {
  PQclear(result_);
}

int PgResult::rows() const {
  return result_ ? PQntuples(result_) : 0;
}

int PgResult::columns() const {
  return result_ ? PQnfields(result_) : 0;
}

bool PgResult::is_null(int row, int column) const {
  return PQgetisnull(result_, row, column) != 0;
}

std::string PgResult::text(int row, int column) const {
  return std::string(PQgetvalue(result_, row, column),
                     static_cast<std::size_t>(PQgetlength(result_, row, column)));
}

std::int64_t PgResult::int64(int row, int column) const {
  const char* value = PQgetvalue(result_, row, column);
  const char* end = value + PQgetlength(result_, row, column);
  std::int64_t out = 0;
  std::from_chars(value, end, out);
  return out;
}

double PgResult::real(int row, int column) const {
  return std::strtod(PQgetvalue(result_, row, column), nullptr);
}

std::optional<std::int64_t> PgResult::optional_int64(int row, int column) const {
  if (is_null(row, column)) {
    return std::nullopt;
  }
  return int64(row, column);
}

std::string PgResult::column_name(int column) const {
  return PQfname(result_, column);
}

pg_conn* open_pg_connection(const std::string& uri) {
  // With expand_dbname the URI given as dbname is expanded in its place, and a setting that
  // comes later overrides one that came before: the defaults first, the user's URI last.
  const char* const keys[] = {"keepalives",
                              "keepalives_idle",
                              "keepalives_interval",
                              "keepalives_count",
                              "tcp_user_timeout",
                              "dbname",
                              nullptr};
  const char* const values[] = {"1", "10", "5", "3", "20000", uri.c_str(), nullptr};
  return PQconnectdbParams(keys, values, 1);
}

PgConnection::PgConnection(const std::string& uri) {
  conn_ = open_pg_connection(uri);
  if (PQstatus(conn_) != CONNECTION_OK) {
    std::string message = "connect to PostgreSQL: ";
    message += PQerrorMessage(conn_);
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
      message.pop_back();
    }
    PQfinish(conn_);
    conn_ = nullptr;
    throw PgError("08001", true, message);
  }
}

PgConnection::~PgConnection() {
  PQfinish(conn_);
}

bool PgConnection::ok() const {
  return conn_ && PQstatus(conn_) == CONNECTION_OK;
}

void PgConnection::fail(pg_result* result, std::string_view what) {
  std::string sqlstate;
  if (result) {
    if (const char* code = PQresultErrorField(result, PG_DIAG_SQLSTATE)) {
      sqlstate = code;
    }
  }
  std::string message(what);
  message += ": ";
  // In pipeline mode the connection's message can be empty: the failing statement's result
  // holds it (a trigger's RAISE, a constraint's name).
  const char* result_message = result ? PQresultErrorMessage(result) : nullptr;
  message += result_message && *result_message ? result_message : PQerrorMessage(conn_);
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
    message.pop_back();
  }
  PQclear(result);
  const bool lost = PQstatus(conn_) != CONNECTION_OK || sqlstate.starts_with("08") ||
                    sqlstate == "57P01" || sqlstate == "57P02" || sqlstate == "57P03";
  throw PgError(sqlstate, lost, message);
}

void PgConnection::exec(const std::string& sql) {
  if (!conn_) {
    lose("PostgreSQL");
  }
  pg_result* result = PQexec(conn_, sql.c_str());
  const auto status = PQresultStatus(result);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    fail(result, "PostgreSQL");
  }
  PQclear(result);
}

const std::string& PgConnection::prepare(const std::string& sql) {
  if (!conn_) {
    lose("PostgreSQL");
  }
  auto it = prepared_.find(sql);
  if (it == prepared_.end()) {
    const std::string name = "acctlab_" + std::to_string(prepared_.size() + 1);
    pg_result* prepared = PQprepare(conn_, name.c_str(), sql.c_str(), 0, nullptr);
    if (PQresultStatus(prepared) != PGRES_COMMAND_OK) {
      fail(prepared, "PostgreSQL");
    }
    PQclear(prepared);
    it = prepared_.emplace(sql, name).first;
  }
  return it->second;
}

std::vector<PgResult> PgConnection::query_each(const std::string& sql,
                                               const std::vector<std::vector<PgParam>>& lists) {
  const auto& name = prepare(sql);
  std::vector<std::pair<const std::string*, const std::vector<PgParam>*>> sent;
  sent.reserve(lists.size());
  for (const auto& params : lists) {
    sent.emplace_back(&name, &params);
  }
  return run_pipeline(sent);
}

std::vector<PgResult> PgConnection::pipeline(const std::vector<PgStatement>& statements) {
  std::vector<std::pair<const std::string*, const std::vector<PgParam>*>> sent;
  sent.reserve(statements.size());
  for (const auto& statement : statements) {
    sent.emplace_back(&prepare(statement.sql), &statement.params);
  }
  return run_pipeline(sent);
}

std::vector<PgResult> PgConnection::run_pipeline(
    const std::vector<std::pair<const std::string*, const std::vector<PgParam>*>>& sent) {
  std::vector<PgResult> results;
  if (sent.empty()) {
    return results;
  }
  if (!conn_ || PQenterPipelineMode(conn_) != 1) {
    lose("PostgreSQL pipeline");
  }
  std::vector<const char*> values;
  for (const auto& [name, params] : sent) {
    values.clear();
    for (const auto& p : *params) {
      values.push_back(p ? p->c_str() : nullptr);
    }
    if (PQsendQueryPrepared(conn_, name->c_str(), static_cast<int>(values.size()), values.data(),
                            nullptr, nullptr, 0) != 1) {
      lose("PostgreSQL pipeline");
    }
  }
  if (PQpipelineSync(conn_) != 1) {
    lose("PostgreSQL pipeline");
  }
  // Each statement's result, then NULL; at the end the sync's. After a failure the rest come
  // back aborted: all are read before the pipeline ends, and the first failure is reported.
  // Two NULLs in a row mean nothing more will come (the connection broke).
  pg_result* failed = nullptr;
  results.reserve(sent.size());
  bool after_null = false;
  for (;;) {
    pg_result* result = PQgetResult(conn_);
    if (!result) {
      if (PQstatus(conn_) != CONNECTION_OK || after_null) {
        PQclear(failed);
        lose("PostgreSQL pipeline");
      }
      after_null = true;
      continue; // the end of one statement's results
    }
    after_null = false;
    const auto status = PQresultStatus(result);
    if (status == PGRES_PIPELINE_SYNC) {
      PQclear(result);
      break;
    }
    if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) {
      results.emplace_back(result);
    } else if (!failed && status != PGRES_PIPELINE_ABORTED) {
      failed = result;
    } else {
      PQclear(result);
    }
  }
  if (PQexitPipelineMode(conn_) != 1) {
    PQclear(failed);
    lose("PostgreSQL pipeline");
  }
  if (failed || results.size() != sent.size()) {
    fail(failed, "PostgreSQL");
  }
  return results;
}

void PgConnection::lose(std::string_view what) {
  std::string message(what);
  message += ": ";
  message += conn_ ? PQerrorMessage(conn_) : "no connection";
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
    message.pop_back();
  }
  // The pipeline's state is unknown: the connection is not used again (ok() is false from now).
  PQfinish(conn_);
  conn_ = nullptr;
  throw PgError("08006", true, message);
}

PgResult PgConnection::query(const std::string& sql, const std::vector<PgParam>& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) {
    values.push_back(p ? p->c_str() : nullptr);
  }
  const auto& name = prepare(sql);
  pg_result* result = PQexecPrepared(conn_, name.c_str(), static_cast<int>(values.size()),
                                     values.data(), nullptr, nullptr, 0);
  const auto status = PQresultStatus(result);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    fail(result, "PostgreSQL");
  }
  return PgResult(result);
}

} // namespace acctlab::storage
