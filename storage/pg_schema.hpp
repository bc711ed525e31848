#pragma once
// The PostgreSQL schema: the tables of storage/table_description.hpp rendered for PostgreSQL, the
// keys several servers writing one database rely on, the `records` view and a `radacct` view
// with the column names and types of FreeRADIUS's PostgreSQL schema
// (raddb/mods-config/sql/main/postgresql/schema.sql).

#include "storage/pg_connection.hpp"

#include <string>

namespace acctlab::storage {

/** The version this build writes on PostgreSQL. */
int current_postgres_schema_version();

/** The DDL of an empty database, in creation order. */
std::string postgres_schema_sql();

/** The version a database's schema_version table holds; 0 when it has none. */
int postgres_schema_version(PgConnection& db);

/** Creates the schema when the database has none and upgrades an older one (the description's
 * missing columns, then each later step), under an advisory lock so that servers starting
 * together do it once; throws PgError, naming both versions, when the database is newer than
 * this build. */
void migrate_postgres(PgConnection& db);

/** migrate_postgres() when the database holds an acctlab schema already (a reader bringing the
 * read model up to its build); false, and nothing created, when it holds none. */
bool migrate_postgres_if_present(PgConnection& db);

} // namespace acctlab::storage
