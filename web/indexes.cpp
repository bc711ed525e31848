#include "web/indexes.hpp"

#include <array>
#include <sqlite3.h>
#include <string>

namespace acctlab::web {
namespace {

constexpr std::array<ProposedIndex, 9> indexes{{
    {"web_records_time",
     "CREATE INDEX IF NOT EXISTS web_records_time ON records (event_time, status_type)",
     "overview activity chart, newest record"},
    {"web_records_status", "CREATE INDEX IF NOT EXISTS web_records_status ON records (status_type)",
     "overview records by Acct-Status-Type"},
    {"web_sessions_last",
     "CREATE INDEX IF NOT EXISTS web_sessions_last ON sessions (last_record_time)",
     "sessions list default order"},
    {"web_sessions_start", "CREATE INDEX IF NOT EXISTS web_sessions_start ON sessions (start_time)",
     "sessions sorted by start"},
    // Covering: the usage page's range scans never touch the table.
    {"web_sessions_usage",
     "CREATE INDEX IF NOT EXISTS web_sessions_usage ON sessions (COALESCE(start_time, "
     "last_record_time), user_name, session_time, input_octets, output_octets, nas_key, peer, "
     "start_time, last_record_time)",
     "usage date ranges, per user/NAS/peer, per period"},
    {"web_sessions_user", "CREATE INDEX IF NOT EXISTS web_sessions_user ON sessions (user_name)",
     "user filter and per-user usage"},
    {"web_sessions_state_time",
     "CREATE INDEX IF NOT EXISTS web_sessions_state_time ON sessions (state, last_record_time)",
     "online now, stale sessions"},
    {"web_findings_session",
     "CREATE INDEX IF NOT EXISTS web_findings_session ON findings (session_id)",
     "session detail findings"},
    {"web_packets_file",
     "CREATE INDEX IF NOT EXISTS web_packets_file ON packets (file, run_id) WHERE file IS NOT NULL",
     "runs page capture imports"},
}};

} // namespace

std::span<const ProposedIndex> proposed_indexes() {
  return indexes;
}

bool apply_proposed_indexes(sqlite3* db) {
  for (const auto& index : indexes) {
    if (sqlite3_exec(db, std::string(index.sql).c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
      return false;
    }
  }
  return sqlite3_exec(db, "ANALYZE", nullptr, nullptr, nullptr) == SQLITE_OK;
}

void drop_proposed_indexes(sqlite3* db) {
  for (const auto& index : indexes) {
    const auto sql = "DROP INDEX IF EXISTS " + std::string(index.name);
    sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
  }
}

} // namespace acctlab::web
