#pragma once
// A read-only connection to an acctlab database, whatever its engine: a SQLite file (the server
// writes it in WAL mode, which lets readers run beside the writer; SQLITE_OPEN_READONLY) or a
// PostgreSQL database named by a postgresql:// URI (a session whose transactions are READ ONLY).
// Either way the viewer and the report queries can never change evidence. SQL is written once,
// with ?1..?N parameters, for both engines; values reach it only as bound parameters. The few
// spellings that differ are chosen by engine() (storage/reports.cpp). No engine's header is
// included here: the engines live in storage/read_db_sqlite.cpp and storage/read_db_pg.cpp.

#include "storage/sqlite.hpp" // storage::Error; no SQLite header

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>

namespace acctlab::storage {

/** A reader's failure: a storage::Error (its code SQLite's result code, SQLITE_BUSY, ...; 0 from
 * PostgreSQL), so the callers of storage/ catch one type whatever failed. */
class DbError : public Error {
public:
  using Error::Error;
};

/** A bound parameter: NULL, integer, real or text. */
using Param = std::variant<std::monostate, std::int64_t, double, std::string>;

/** The engine behind a connection. */
enum class Engine { sqlite, postgres };

namespace detail {
class ReadStatement;
class ReadCell;
class ReadEngine;
} // namespace detail

class Query {
public:
  explicit Query(std::unique_ptr<detail::ReadStatement> statement);
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
  /** Valid until the next step(). */
  std::span<const std::uint8_t> blob(int column) const;
  /** The current row as {column name: value}; BLOBs become lowercase hex. */
  boost::json::object row() const;

private:
  std::unique_ptr<detail::ReadStatement> statement_;
};

/** One TEXT or BLOB cell read a piece at a time, so a value of hundreds of megabytes (a
 * conformance report, runs.report) is never held whole. SQLite reads it through incremental blob
 * I/O (only the pages asked for); PostgreSQL through substring reads of growing pieces. Reads
 * are cheapest in order, from the start. */
class CellReader {
public:
  explicit CellReader(std::unique_ptr<detail::ReadCell> cell);
  CellReader(CellReader&& other) noexcept;
  CellReader& operator=(CellReader&&) = delete;
  CellReader(const CellReader&) = delete;
  CellReader& operator=(const CellReader&) = delete;
  ~CellReader();

  /** The value's size in bytes. */
  std::int64_t size() const;
  /** Up to to.size() bytes from offset at (fewer at the end); throws DbError. */
  std::size_t read(std::span<char> to, std::int64_t at) const;

private:
  std::unique_ptr<detail::ReadCell> cell_;
};

class ReadOnlyDatabase {
public:
  /** Opens a SQLite file read-only (never creates it) or, for a postgresql:// URI, connects
   * with read-only transactions; throws DbError (a URI's password never in the message). */
  explicit ReadOnlyDatabase(const std::string& database, int busy_timeout_ms = 2000);
  ReadOnlyDatabase(const ReadOnlyDatabase&) = delete;
  ReadOnlyDatabase& operator=(const ReadOnlyDatabase&) = delete;
  ~ReadOnlyDatabase();

  Engine engine() const;
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
  /** A number that changes whenever another connection commits a change: SQLite's PRAGMA
   * data_version; on PostgreSQL a digest of the current snapshot, which moves with every commit
   * of a transaction that wrote. Equal values mean nothing was committed in between. */
  std::int64_t data_version();
  bool has_table(std::string_view name);
  /** table.column of the row whose id is id (SQLite: its rowid) as a TEXT or BLOB value, or
   * nullopt when there is no such row or the value is NULL or a number. */
  std::optional<CellReader> open_cell(const std::string& table, const std::string& column,
                                      std::int64_t id);

private:
  std::unique_ptr<detail::ReadEngine> engine_;
};

} // namespace acctlab::storage
