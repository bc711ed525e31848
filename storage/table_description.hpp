#pragma once
// The tables every engine holds, described once: names, columns, logical types. PostgreSQL's
// schema is rendered from this description (storage/pg_schema.cpp); SQLite's is built by its
// migrations (storage/schema.cpp), and a test requires the tables a fresh SQLite database ends
// with to have exactly these columns in this order, so the two engines cannot drift apart.

#include <span>
#include <string_view>

namespace acctlab::storage {

enum class ColumnType {
  id,      // the row id: INTEGER PRIMARY KEY / bigint identity
  integer, // 64-bit
  real,    // unix seconds and other doubles
  text,
  blob,
};

struct ColumnDescription {
  std::string_view name;
  ColumnType type;
  bool not_null = false;
  std::string_view default_value = {};
  std::string_view references = {}; // "table (column)"
};

struct TableDescription {
  std::string_view name;
  std::span<const ColumnDescription> columns;
};

/** runs, nas, packets (with the record columns: a record is its packet's row), sessions,
 * findings. */
std::span<const TableDescription> table_descriptions();

} // namespace acctlab::storage
