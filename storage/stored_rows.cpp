#include "storage/stored_rows.hpp"

#include "storage/sqlite.hpp"

namespace acctlab::storage {
namespace {

std::int64_t column_or(const Statement& row, int column) {
  return row.is_null(column) ? -1 : row.column_int64(column);
}

} // namespace

StoredRows read_stored_rows(const std::string& path) {
  StoredRows rows;
  try {
    Database db(path, OpenOptions{.read_only = true, .create = false});
    auto records = db.prepare("SELECT status_type, acct_session_id, session_time, input_octets, "
                              "output_octets, input_packets, output_packets FROM records "
                              "ORDER BY id");
    while (records.step()) {
      rows.records.push_back({column_or(records, 0), records.column_text(1), column_or(records, 2),
                              column_or(records, 3), column_or(records, 4), column_or(records, 5),
                              column_or(records, 6)});
    }
    auto sessions = db.prepare("SELECT acct_session_id, state, record_count, input_octets, "
                               "output_octets, session_time FROM sessions ORDER BY id");
    while (sessions.step()) {
      rows.sessions.push_back({sessions.column_text(0), sessions.column_text(1),
                               column_or(sessions, 2), column_or(sessions, 3),
                               column_or(sessions, 4), column_or(sessions, 5)});
    }
  } catch (const Error& error) {
    throw Error(error.code(), path + ": " + error.what());
  }
  return rows;
}

} // namespace acctlab::storage
