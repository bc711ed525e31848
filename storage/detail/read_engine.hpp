#pragma once
// What an engine implements behind storage::ReadOnlyDatabase (storage/read_db.hpp): statements,
// cells read in pieces, the change counter. Internal to storage/.

#include "storage/read_db.hpp"

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace acctlab::storage::detail {

enum class ColumnKind { null, integer, real, text, blob };

class ReadStatement {
public:
  virtual ~ReadStatement() = default;
  virtual void bind(int index, const Param& value) = 0;
  virtual bool step() = 0;
  virtual int columns() const = 0;
  virtual std::string column_name(int column) const = 0;
  virtual ColumnKind kind(int column) const = 0;
  virtual std::int64_t int64(int column) const = 0;
  virtual double real(int column) const = 0;
  virtual std::string text(int column) const = 0;
  virtual std::span<const std::uint8_t> blob(int column) const = 0;
};

class ReadCell {
public:
  virtual ~ReadCell() = default;
  virtual std::int64_t size() const = 0;
  virtual std::size_t read(std::span<char> to, std::int64_t at) const = 0;
};

class ReadEngine {
public:
  virtual ~ReadEngine() = default;
  virtual Engine engine() const = 0;
  virtual std::unique_ptr<ReadStatement> prepare(std::string_view sql) = 0;
  virtual std::int64_t data_version() = 0;
  virtual bool has_table(std::string_view name) = 0;
  /** nullptr when there is no such row or the value is NULL or a number. */
  virtual std::unique_ptr<ReadCell> open_cell(const std::string& table, const std::string& column,
                                              std::int64_t id) = 0;
};

std::unique_ptr<ReadEngine> open_sqlite_reader(const std::string& path, int busy_timeout_ms);
std::unique_ptr<ReadEngine> open_postgres_reader(const std::string& uri);

/** sql with its ?N parameters written $N (PostgreSQL's), outside quoted text and names. */
std::string postgres_parameters(std::string_view sql);

} // namespace acctlab::storage::detail
