#include "storage/stored_rows.hpp"

#include "storage/pg_connection.hpp"
#include "storage/read_db.hpp"

namespace acctlab::storage {
namespace {

std::int64_t column_or(const Query& row, int column) {
  return row.is_null(column) ? -1 : row.int64(column);
}

} // namespace

StoredRows read_stored_rows(const std::string& path, std::optional<std::int64_t> run_id) {
  StoredRows rows;
  try {
    ReadOnlyDatabase db(path);
    // A run's records are its packets' (a record's id is its packet's); its sessions those its
    // records joined.
    const std::string of_run =
        run_id ? " WHERE id IN (SELECT id FROM packets WHERE run_id = ?1)" : "";
    auto records = db.prepare("SELECT status_type, acct_session_id, session_time, input_octets, "
                              "output_octets, input_packets, output_packets FROM records" +
                              of_run + " ORDER BY id");
    if (run_id) {
      records.bind(1, *run_id);
    }
    while (records.step()) {
      rows.records.push_back({column_or(records, 0), records.text(1), column_or(records, 2),
                              column_or(records, 3), column_or(records, 4), column_or(records, 5),
                              column_or(records, 6)});
    }
    auto sessions = db.prepare(
        "SELECT acct_session_id, state, record_count, input_octets, output_octets, session_time "
        "FROM sessions" +
        std::string(run_id ? " WHERE id IN (SELECT session_row FROM records WHERE id IN (SELECT "
                             "id FROM packets WHERE run_id = ?1))"
                           : "") +
        " ORDER BY id");
    if (run_id) {
      sessions.bind(1, *run_id);
    }
    while (sessions.step()) {
      rows.sessions.push_back({sessions.text(0), sessions.text(1), column_or(sessions, 2),
                               column_or(sessions, 3), column_or(sessions, 4),
                               column_or(sessions, 5)});
    }
  } catch (const Error& error) {
    throw Error(error.code(), database_display_name(path) + ": " + error.what());
  }
  return rows;
}

} // namespace acctlab::storage
