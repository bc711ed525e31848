// The PostgreSQL engine behind storage::ReadOnlyDatabase (storage/read_db.hpp), over libpq. What
// SQLite has and PostgreSQL spells otherwise: ?N parameters are sent as $N; a row's rowid is its
// id column; PRAGMA data_version is a digest of the current snapshot; incremental blob I/O is a
// series of substring reads.

#include "radius/value.hpp"
#include "storage/detail/read_engine.hpp"
#include "storage/pg_connection.hpp"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <libpq-fe.h>
#include <map>
#include <vector>

namespace acctlab::storage::detail {
namespace {

// Type OIDs from PostgreSQL's pg_type.dat (stable across releases).
constexpr Oid bool_oid = 16;
constexpr Oid bytea_oid = 17;
constexpr Oid int8_oid = 20;
constexpr Oid int2_oid = 21;
constexpr Oid int4_oid = 23;
constexpr Oid oid_oid = 26;
constexpr Oid float4_oid = 700;
constexpr Oid float8_oid = 701;
constexpr Oid numeric_oid = 1700;

/** libpq's message without its trailing newline. */
std::string message_of(const char* text) {
  std::string out = text ? text : "";
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) {
    out.pop_back();
  }
  return out;
}

/** A bytea value in PostgreSQL's hex output ("\x0407..."), as bytes. */
std::vector<std::uint8_t> bytea_bytes(std::string_view text) {
  std::vector<std::uint8_t> out;
  if (text.starts_with("\\x")) {
    text.remove_prefix(2);
  }
  out.reserve(text.size() / 2);
  for (std::size_t i = 0; i + 1 < text.size(); i += 2) {
    const int hi = radius::hex_digit(text[i]);
    const int lo = radius::hex_digit(text[i + 1]);
    if (hi < 0 || lo < 0) {
      break;
    }
    out.push_back(static_cast<std::uint8_t>(hi * 16 + lo));
  }
  return out;
}

/** The connection, reopened when the server went away since the last statement (a restart):
 * the viewer keeps its connections in a pool for as long as it runs. */
class PgLink {
public:
  explicit PgLink(const std::string& uri) : display_(database_display_name(uri)) {
    conn_ = open_pg_connection(uri);
    if (PQstatus(conn_) != CONNECTION_OK) {
      const auto message = "cannot open " + display_ + ": " + message_of(PQerrorMessage(conn_));
      PQfinish(conn_);
      conn_ = nullptr;
      throw DbError(0, message);
    }
    read_only();
  }
  ~PgLink() { PQfinish(conn_); }
  PgLink(const PgLink&) = delete;
  PgLink& operator=(const PgLink&) = delete;

  /** Runs sql with its parameters (already in $N form); throws DbError. A statement that finds
   * the connection gone (the server restarted since the last one) is sent again once on a new
   * connection: the reader only reads, so that is always safe. */
  PGresult* run(const std::string& sql, const std::vector<Param>& params) {
    if (PQstatus(conn_) != CONNECTION_OK) {
      reconnect();
    }
    PGresult* result = send(sql, params);
    if (!result) {
      reconnect();
      result = send(sql, params);
    }
    if (!result) {
      throw DbError(0, "query: " + message_of(PQerrorMessage(conn_)));
    }
    return result;
  }

  PGconn* handle() const { return conn_; }

private:
  void reconnect() {
    PQreset(conn_);
    if (PQstatus(conn_) != CONNECTION_OK) {
      throw DbError(0, display_ + ": " + message_of(PQerrorMessage(conn_)));
    }
    read_only();
  }

  /** The statement's result; nullptr when the connection was lost (no answer from a server:
   * a failed write or read of the socket, or SQLSTATE class 08, or the server shutting down). */
  PGresult* send(const std::string& sql, const std::vector<Param>& params) {
    std::vector<std::string> texts(params.size());
    std::vector<const char*> values(params.size(), nullptr);
    std::vector<Oid> types(params.size(), 0);
    for (std::size_t i = 0; i < params.size(); ++i) {
      const auto& p = params[i];
      if (const auto* n = std::get_if<std::int64_t>(&p)) {
        texts[i] = std::to_string(*n);
        types[i] = int8_oid;
      } else if (const auto* d = std::get_if<double>(&p)) {
        char buffer[32];
        const auto end = std::to_chars(buffer, buffer + sizeof buffer, *d).ptr;
        texts[i].assign(buffer, end);
        types[i] = float8_oid;
      } else if (const auto* s = std::get_if<std::string>(&p)) {
        texts[i] = *s; // type 0: PostgreSQL infers it from where the parameter stands
      } else {
        continue; // NULL
      }
      values[i] = texts[i].c_str();
    }
    PGresult* result = PQexecParams(conn_, sql.c_str(), static_cast<int>(params.size()),
                                    types.data(), values.data(), nullptr, nullptr, 0);
    const auto status = PQresultStatus(result);
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
      const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
      const std::string_view sqlstate = state ? state : "";
      if (PQstatus(conn_) != CONNECTION_OK || sqlstate.empty() || sqlstate.starts_with("08") ||
          sqlstate.starts_with("57P")) {
        PQclear(result);
        return nullptr;
      }
      const auto message =
          "query: " + message_of(result ? PQresultErrorMessage(result) : PQerrorMessage(conn_));
      PQclear(result);
      throw DbError(0, message);
    }
    return result;
  }

  void read_only() {
    PGresult* result = PQexec(conn_, "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY");
    const bool ok = PQresultStatus(result) == PGRES_COMMAND_OK;
    PQclear(result);
    if (!ok) {
      throw DbError(0, display_ + ": " + message_of(PQerrorMessage(conn_)));
    }
  }

  PGconn* conn_ = nullptr;
  std::string display_;
};

/** A statement's rows, fetched whole when it first steps (so statements on one connection may
 * interleave, as SQLite's do). */
class PgStatement final : public ReadStatement {
public:
  PgStatement(PgLink& link, std::string_view sql) : link_(link), sql_(postgres_parameters(sql)) {}
  ~PgStatement() override { PQclear(result_); }
  PgStatement(const PgStatement&) = delete;
  PgStatement& operator=(const PgStatement&) = delete;

  void bind(int index, const Param& value) override {
    if (index < 1) {
      throw DbError(0, "bind: parameter " + std::to_string(index) + " out of range");
    }
    if (params_.size() < static_cast<std::size_t>(index)) {
      params_.resize(static_cast<std::size_t>(index));
    }
    params_[static_cast<std::size_t>(index - 1)] = value;
  }

  bool step() override {
    if (!result_) {
      result_ = link_.run(sql_, params_);
      row_ = -1;
    }
    blobs_.clear();
    return ++row_ < PQntuples(result_);
  }

  int columns() const override { return result_ ? PQnfields(result_) : 0; }
  std::string column_name(int column) const override { return PQfname(result_, column); }

  ColumnKind kind(int column) const override {
    if (PQgetisnull(result_, row_, column)) {
      return ColumnKind::null;
    }
    switch (PQftype(result_, column)) {
      case bool_oid:
      case int2_oid:
      case int4_oid:
      case int8_oid:
      case oid_oid:
        return ColumnKind::integer;
      case float4_oid:
      case float8_oid:
        return ColumnKind::real;
      case numeric_oid: {
        // sum() of bigint is numeric: whole numbers stay integers, as SQLite's sum() gives.
        const std::string_view v = value(column);
        return v.find_first_of(".eEN") == std::string_view::npos ? ColumnKind::integer
                                                                 : ColumnKind::real;
      }
      case bytea_oid:
        return ColumnKind::blob;
      default:
        return ColumnKind::text;
    }
  }

  std::int64_t int64(int column) const override {
    if (PQgetisnull(result_, row_, column)) {
      return 0;
    }
    const std::string_view v = value(column);
    if (PQftype(result_, column) == bool_oid) {
      return v == "t" ? 1 : 0;
    }
    std::int64_t out = 0;
    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    if (ec == std::errc{} && end == v.data() + v.size()) {
      return out;
    }
    return static_cast<std::int64_t>(real(column)); // a real number, truncated as SQLite does
  }

  double real(int column) const override {
    if (PQgetisnull(result_, row_, column)) {
      return 0;
    }
    if (PQftype(result_, column) == bool_oid) {
      return value(column) == "t" ? 1 : 0;
    }
    return std::strtod(PQgetvalue(result_, row_, column), nullptr);
  }

  std::string text(int column) const override {
    if (PQftype(result_, column) == bytea_oid) {
      const auto bytes = blob(column);
      return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    }
    return std::string(value(column));
  }

  std::span<const std::uint8_t> blob(int column) const override {
    if (PQgetisnull(result_, row_, column)) {
      return {};
    }
    auto& bytes = blobs_[column];
    if (bytes.empty()) {
      if (PQftype(result_, column) == bytea_oid) {
        bytes = bytea_bytes(value(column));
      } else {
        const auto v = value(column);
        bytes.assign(v.begin(), v.end());
      }
    }
    return bytes;
  }

private:
  std::string_view value(int column) const {
    return {PQgetvalue(result_, row_, column),
            static_cast<std::size_t>(PQgetlength(result_, row_, column))};
  }

  PgLink& link_;
  std::string sql_;
  std::vector<Param> params_;
  PGresult* result_ = nullptr;
  int row_ = -1;
  mutable std::map<int, std::vector<std::uint8_t>> blobs_; // decoded bytea, until the next step
};

/** A TEXT or bytea cell read as substrings. A TOASTed value has no random access (a compressed
 * one is decompressed from its start, and a text one in a multibyte encoding is sliced by
 * characters, which PostgreSQL finds from its start), so every read costs up to its end: the
 * pieces grow, 256 KiB first, doubling to 16 MiB, and a read in order never asks for what it
 * has. The head of a large report (what the pages look for) costs one small read. */
class PgCell final : public ReadCell {
public:
  PgCell(PgLink& link, std::string table, std::string column, std::int64_t id, std::int64_t size)
      : link_(link), sql_("SELECT substr(" + column + ", $2::integer, $3::integer) FROM " + table +
                          " WHERE id = $1"),
        id_(id), size_(size) {}

  std::int64_t size() const override { return size_; }

  std::size_t read(std::span<char> to, std::int64_t at) const override {
    const auto want = std::min<std::int64_t>(static_cast<std::int64_t>(to.size()), size_ - at);
    if (want <= 0) {
      return 0;
    }
    if (at < held_at_) {
      held_.clear(); // backwards: from the start again
      held_at_ = 0;
      next_unit_ = 1;
      piece_ = first_piece;
    }
    while (at + want > held_at_ + static_cast<std::int64_t>(held_.size())) {
      if (at > held_at_) {
        const auto drop = std::min<std::int64_t>(at - held_at_, std::ssize(held_));
        held_.erase(0, static_cast<std::size_t>(drop));
        held_at_ += drop;
      }
      PGresult* result = link_.run(sql_, {id_, next_unit_, piece_});
      std::string piece;
      if (PQntuples(result) == 1 && !PQgetisnull(result, 0, 0)) {
        const std::string_view v(PQgetvalue(result, 0, 0),
                                 static_cast<std::size_t>(PQgetlength(result, 0, 0)));
        if (PQftype(result, 0) == bytea_oid) {
          const auto bytes = bytea_bytes(v);
          piece.assign(bytes.begin(), bytes.end());
        } else {
          piece = v;
        }
      }
      PQclear(result);
      if (piece.empty()) {
        throw DbError(0, "read: the value changed while it was read");
      }
      held_ += piece;
      next_unit_ += piece_;
      piece_ = std::min(piece_ * 2, last_piece);
    }
    std::copy_n(held_.data() + (at - held_at_), want, to.data());
    return static_cast<std::size_t>(want);
  }

private:
  static constexpr std::int64_t first_piece = 256 * 1024;
  static constexpr std::int64_t last_piece = 16 * 1024 * 1024;

  PgLink& link_;
  std::string sql_;
  std::int64_t id_;
  std::int64_t size_;
  mutable std::string held_;           // bytes [held_at_, held_at_ + size) of the value
  mutable std::int64_t held_at_ = 0;   // a byte offset
  mutable std::int64_t next_unit_ = 1; // the first character (bytea: byte) not yet read, 1-based
  mutable std::int64_t piece_ = first_piece;
};

class PgReader final : public ReadEngine {
public:
  explicit PgReader(const std::string& uri) : link_(uri) {}

  Engine engine() const override { return Engine::postgres; }

  std::unique_ptr<ReadStatement> prepare(std::string_view sql) override {
    return std::make_unique<PgStatement>(link_, sql);
  }

  // The snapshot (xmin:xmax:in-progress list) moves whenever a transaction that wrote ends:
  // its id leaves the list or raises xmax. A read-only transaction has no id and moves
  // nothing, so the viewer's own queries leave it as it is.
  std::int64_t data_version() override {
    PGresult* result = link_.run("SELECT pg_current_snapshot()::text", {});
    const std::string_view v(PQgetvalue(result, 0, 0),
                             static_cast<std::size_t>(PQgetlength(result, 0, 0)));
    std::uint64_t hash = 14695981039346656037ull; // FNV-1a
    for (const char c : v) {
      hash = (hash ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    }
    PQclear(result);
    return static_cast<std::int64_t>(hash & 0x7fffffffffffffffull);
  }

  bool has_table(std::string_view name) override {
    PgStatement q(link_, "SELECT to_regclass(?1) IS NOT NULL");
    q.bind(1, std::string(name));
    return q.step() && q.int64(0) == 1;
  }

  std::unique_ptr<ReadCell> open_cell(const std::string& table, const std::string& column,
                                      std::int64_t id) override {
    PgStatement q(link_, "SELECT octet_length(" + column + "), pg_typeof(" + column +
                             ")::text FROM " + table + " WHERE id = ?1");
    q.bind(1, id);
    if (!q.step() || q.kind(0) == ColumnKind::null) {
      return nullptr;
    }
    const auto type = q.text(1);
    if (type != "text" && type != "bytea" && type != "character varying") {
      return nullptr;
    }
    return std::make_unique<PgCell>(link_, table, column, id, q.int64(0));
  }

private:
  PgLink link_;
};

} // namespace

std::string postgres_parameters(std::string_view sql) {
  std::string out;
  out.reserve(sql.size());
  char quote = 0; // inside '...' or "..."
  for (std::size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    if (quote) {
      quote = c == quote ? 0 : quote; // a doubled quote closes and reopens: the same
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '?' && i + 1 < sql.size() && sql[i + 1] >= '0' && sql[i + 1] <= '9') {
      out.push_back('$');
      continue;
    }
    out.push_back(c);
  }
  return out;
}

std::unique_ptr<ReadEngine> open_postgres_reader(const std::string& uri) {
  return std::make_unique<PgReader>(uri);
}

} // namespace acctlab::storage::detail
