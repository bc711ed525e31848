#pragma once
// What a server stored, read back as plain rows: the records and sessions of a database, in
// row order. The conformance tester compares them with what its gateway sent (assertion 2 of
// conformance/tester.cpp); it asks in its own terms and holds no SQL.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace acctlab::storage {

/** A stored record's identity and counters; -1 where the column is NULL. */
struct StoredRecordRow {
  std::int64_t status_type = -1;
  std::string acct_session_id;
  std::int64_t session_time = -1;
  std::int64_t input_octets = -1;
  std::int64_t output_octets = -1;
  std::int64_t input_packets = -1;
  std::int64_t output_packets = -1;
};

/** A stored session's state and totals; -1 where the column is NULL. */
struct StoredSessionRow {
  std::string acct_session_id;
  std::string state;
  std::int64_t record_count = -1;
  std::int64_t input_octets = -1;
  std::int64_t output_octets = -1;
  std::int64_t session_time = -1;
};

struct StoredRows {
  std::vector<StoredRecordRow> records;
  std::vector<StoredSessionRow> sessions;
};

/** Reads every record and session of the database at path, a SQLite file or a postgresql://
 * URI (read-only), oldest first; with run_id only that run's records and the sessions they
 * joined (a conformance run on a database others write too). Throws storage::Error naming the
 * database when it cannot be read. */
StoredRows read_stored_rows(const std::string& path,
                            std::optional<std::int64_t> run_id = std::nullopt);

} // namespace acctlab::storage
