#pragma once
// The indexes the report pages need on large databases. The viewer's connection is read-only, so
// it cannot create them; they are proposed to the schema owner (storage/) as a migration, and
// bench_web applies them to its own database. Each is CREATE INDEX IF NOT EXISTS.

#include <span>
#include <string_view>

struct sqlite3;

namespace acctlab::web {

struct ProposedIndex {
  std::string_view name;
  std::string_view sql;
  std::string_view serves;
};

std::span<const ProposedIndex> proposed_indexes();

/** Creates every proposed index, then ANALYZE; returns false on the first failure. */
bool apply_proposed_indexes(sqlite3* db);
/** Drops them (the bench's baseline). */
void drop_proposed_indexes(sqlite3* db);

} // namespace acctlab::web
