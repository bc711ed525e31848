#pragma once
// A read-only SQLite connection for the report viewer. The server owns the database and writes it
// in WAL mode; WAL lets readers run beside that writer, and SQLITE_OPEN_READONLY makes sure the
// viewer can never change evidence. Values reach SQL only as bound parameters.

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

struct sqlite3;
struct sqlite3_blob;
struct sqlite3_stmt;

namespace acctlab::storage {

class DbError : public std::runtime_error {
public:
  DbError(int code, const std::string& message) : std::runtime_error(message), code_(code) {}
  int code() const noexcept { return code_; }

private:
  int code_;
};

/** A bound parameter: NULL, integer, real or text. */
using Param = std::variant<std::monostate, std::int64_t, double, std::string>;

class Query {
public:
  Query(sqlite3* db, std::string_view sql);
  Query(Query&& other) noexcept;
  Query& operator=(Query&&) = delete;
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;
  ~Query();

  /** Binds params to ?1..?N. */
  Query& bind_all(std::span<const Param> params);
  Query& bind(int index, const Param& value);
  bool step();

  int columns() const;
  bool is_null(int column) const;
  std::int64_t int64(int column) const;
  double real(int column) const;
  std::string text(int column) const;
  std::span<const std::uint8_t> blob(int column) const;
  /** The current row as {column name: value}; BLOBs become lowercase hex. */
  boost::json::object row() const;

private:
  sqlite3_stmt* stmt_ = nullptr;
  sqlite3* db_ = nullptr;
};

/** One cell read a piece at a time through SQLite's incremental blob I/O, which reads a TEXT cell
 * as well as a BLOB one and touches only the pages asked for: a value of hundreds of megabytes (a
 * conformance report, runs.report) is never held whole. */
class CellReader {
public:
  explicit CellReader(sqlite3_blob* blob) noexcept : blob_(blob) {}
  CellReader(CellReader&& other) noexcept : blob_(other.blob_) { other.blob_ = nullptr; }
  CellReader& operator=(CellReader&&) = delete;
  CellReader(const CellReader&) = delete;
  CellReader& operator=(const CellReader&) = delete;
  ~CellReader();

  std::int64_t size() const;
  /** Up to to.size() bytes from offset at (fewer at the end); throws DbError. */
  std::size_t read(std::span<char> to, std::int64_t at) const;

private:
  sqlite3_blob* blob_ = nullptr;
};

class ReadOnlyDatabase {
public:
  /** Opens path read-only (never creates it); throws DbError. */
  explicit ReadOnlyDatabase(const std::string& path, int busy_timeout_ms = 2000);
  ReadOnlyDatabase(const ReadOnlyDatabase&) = delete;
  ReadOnlyDatabase& operator=(const ReadOnlyDatabase&) = delete;
  ~ReadOnlyDatabase();

  Query prepare(std::string_view sql);
  /** Every row of sql as JSON objects. */
  boost::json::array rows(std::string_view sql, std::initializer_list<Param> params = {});
  boost::json::array rows(std::string_view sql, std::span<const Param> params);
  /** The first row, or nullopt. */
  std::optional<boost::json::object> row(std::string_view sql,
                                         std::initializer_list<Param> params = {});
  /** The first column of the first row as an integer (0 when NULL or no row). */
  std::int64_t scalar(std::string_view sql, std::initializer_list<Param> params = {});
  std::int64_t scalar(std::string_view sql, std::span<const Param> params);
  /** PRAGMA data_version: changes whenever another connection commits (sqlite.org/pragma.html). */
  std::int64_t data_version();
  bool has_table(std::string_view name);
  /** table.column of the row rowid (a TEXT or BLOB value), or nullopt when there is no such row
   * or the value is NULL or a number. */
  std::optional<CellReader> open_cell(const std::string& table, const std::string& column,
                                      std::int64_t rowid);

private:
  sqlite3* db_ = nullptr;
};

} // namespace acctlab::storage
