#include "storage/read_db.hpp"

#include "storage/detail/read_engine.hpp"
#include "storage/pg_connection.hpp"

namespace acctlab::storage {
namespace {

std::string to_hex(std::span<const std::uint8_t> bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (auto b : bytes) {
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 15]);
  }
  return out;
}

} // namespace

Query::Query(std::unique_ptr<detail::ReadStatement> statement) : statement_(std::move(statement)) {}
Query::Query(Query&& other) noexcept = default;
Query::~Query() = default;

Query& Query::bind(int index, const Param& value) {
  statement_->bind(index, value);
  return *this;
}

Query& Query::bind_all(std::span<const Param> params) {
  int index = 1;
  for (const auto& p : params) {
    bind(index++, p);
  }
  return *this;
}

bool Query::step() {
  return statement_->step();
}
int Query::columns() const {
  return statement_->columns();
}
bool Query::is_null(int column) const {
  return statement_->kind(column) == detail::ColumnKind::null;
}
std::int64_t Query::int64(int column) const {
  return statement_->int64(column);
}
double Query::real(int column) const {
  return statement_->real(column);
}
std::string Query::text(int column) const {
  return statement_->text(column);
}
std::span<const std::uint8_t> Query::blob(int column) const {
  return statement_->blob(column);
}

boost::json::object Query::row() const {
  boost::json::object out;
  const int n = columns();
  out.reserve(static_cast<std::size_t>(n));
  for (int c = 0; c < n; ++c) {
    const auto name = statement_->column_name(c);
    switch (statement_->kind(c)) {
      case detail::ColumnKind::integer:
        out[name] = int64(c);
        break;
      case detail::ColumnKind::real:
        out[name] = real(c);
        break;
      case detail::ColumnKind::text:
        out[name] = text(c);
        break;
      case detail::ColumnKind::blob:
        out[name] = to_hex(blob(c));
        break;
      case detail::ColumnKind::null:
        out[name] = nullptr;
        break;
    }
  }
  return out;
}

CellReader::CellReader(std::unique_ptr<detail::ReadCell> cell) : cell_(std::move(cell)) {}
CellReader::CellReader(CellReader&& other) noexcept = default;
CellReader::~CellReader() = default;

std::int64_t CellReader::size() const {
  return cell_->size();
}

std::size_t CellReader::read(std::span<char> to, std::int64_t at) const {
  return cell_->read(to, at);
}

ReadOnlyDatabase::ReadOnlyDatabase(const std::string& database, int busy_timeout_ms)
    : engine_(is_postgres_uri(database) ? detail::open_postgres_reader(database)
                                        : detail::open_sqlite_reader(database, busy_timeout_ms)) {}

ReadOnlyDatabase::~ReadOnlyDatabase() = default;

Engine ReadOnlyDatabase::engine() const {
  return engine_->engine();
}

Query ReadOnlyDatabase::prepare(std::string_view sql) {
  return Query(engine_->prepare(sql));
}

boost::json::array ReadOnlyDatabase::rows(std::string_view sql, std::span<const Param> params) {
  auto q = prepare(sql);
  q.bind_all(params);
  boost::json::array out;
  while (q.step()) {
    out.emplace_back(q.row());
  }
  return out;
}

boost::json::array ReadOnlyDatabase::rows(std::string_view sql,
                                          std::initializer_list<Param> params) {
  return rows(sql, std::span<const Param>(params.begin(), params.size()));
}

std::optional<boost::json::object> ReadOnlyDatabase::row(std::string_view sql,
                                                         std::initializer_list<Param> params) {
  auto q = prepare(sql);
  q.bind_all(std::span<const Param>(params.begin(), params.size()));
  if (!q.step()) {
    return std::nullopt;
  }
  return q.row();
}

std::int64_t ReadOnlyDatabase::scalar(std::string_view sql, std::span<const Param> params) {
  auto q = prepare(sql);
  q.bind_all(params);
  if (!q.step() || q.is_null(0)) {
    return 0;
  }
  return q.int64(0);
}

std::int64_t ReadOnlyDatabase::scalar(std::string_view sql, std::initializer_list<Param> params) {
  return scalar(sql, std::span<const Param>(params.begin(), params.size()));
}

std::int64_t ReadOnlyDatabase::data_version() {
  return engine_->data_version();
}

bool ReadOnlyDatabase::has_table(std::string_view name) {
  return engine_->has_table(name);
}

std::optional<CellReader> ReadOnlyDatabase::open_cell(const std::string& table,
                                                      const std::string& column, std::int64_t id) {
  auto cell = engine_->open_cell(table, column, id);
  if (!cell) {
    return std::nullopt;
  }
  return CellReader(std::move(cell));
}

} // namespace acctlab::storage
