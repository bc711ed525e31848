#include "storage/pg_connection.hpp"

#include <charconv>
#include <cstdlib>
#include <libpq-fe.h>

namespace acctlab::storage {

bool is_postgres_uri(std::string_view database) {
  return database.starts_with("postgresql://") || database.starts_with("postgres://");
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

PgConnection::PgConnection(const std::string& uri) {
  conn_ = PQconnectdb(uri.c_str());
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
  message += PQerrorMessage(conn_);
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
    message.pop_back();
  }
  PQclear(result);
  const bool lost = PQstatus(conn_) != CONNECTION_OK || sqlstate.starts_with("08") ||
                    sqlstate == "57P01" || sqlstate == "57P02" || sqlstate == "57P03";
  throw PgError(sqlstate, lost, message);
}

void PgConnection::exec(const std::string& sql) {
  pg_result* result = PQexec(conn_, sql.c_str());
  const auto status = PQresultStatus(result);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    fail(result, "PostgreSQL");
  }
  PQclear(result);
}

PgResult PgConnection::query(const std::string& sql, const std::vector<PgParam>& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) {
    values.push_back(p ? p->c_str() : nullptr);
  }
  pg_result* result = PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr,
                                   values.data(), nullptr, nullptr, 0);
  const auto status = PQresultStatus(result);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    fail(result, "PostgreSQL");
  }
  return PgResult(result);
}

} // namespace acctlab::storage
