#pragma once
// The acctlab database schema and its migrations. Each migration is a step from version N-1 to N,
// applied in one transaction; schema_version holds the version reached.

#include "storage/sqlite.hpp"

#include <string_view>

namespace acctlab::storage {

/** The version this build writes. */
int current_schema_version();

/** The version stored in db (0 for an empty database). */
int schema_version(Database& db);

/**
 * Brings db up to current_schema_version() (or `to`, for tests of upgrades). Throws Error when the
 * database is newer than this build understands or a migration fails (the database is then left
 * at the version before that migration).
 */
void migrate(Database& db, int to = current_schema_version());

/** Packet verdicts as stored in packets.verdict. */
enum class Verdict : unsigned char {
  ok,
  bad_authenticator,
  malformed,
  unknown_client,
  bad_message_authenticator,
  duplicate,
};
std::string_view to_string(Verdict verdict) noexcept;

} // namespace acctlab::storage
