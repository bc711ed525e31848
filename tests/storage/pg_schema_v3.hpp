#pragma once
// Schema version 3 of PostgreSQL, for the tests of its migration: the tallies as version 3's views
// counted them from the rows, and a way back to that version's shape from this build's.

#include "tests/support/pg_cluster.hpp"

#include <string>

namespace acctlab::test {

/** A tally view, and the count made from the rows as schema version 3's view of that name made
 * it. count: the column that is 0 when no row is counted; counts: its key and count columns;
 * all: those and its maximum and minimum columns (which a DELETE does not lower). */
struct Tally {
  const char* view;
  const char* count;
  const char* counts;
  const char* all;
  const char* from_rows;
};

inline constexpr Tally tallies[] = {
    {"record_tally", "records", "hour, status_type, records",
     "hour, status_type, records, last_event",
     "SELECT trunc(event_time / 3600)::bigint AS hour, COALESCE(status_type, -1) AS status_type, "
     "count(*) AS records, max(event_time) AS last_event FROM packets WHERE nas_identity IS NOT "
     "NULL GROUP BY 1, 2"},
    {"packet_tally", "packets", "run_id, verdict, packets", "run_id, verdict, packets",
     "SELECT COALESCE(run_id, 0) AS run_id, verdict, count(*) AS packets FROM packets GROUP BY 1, "
     "2"},
    {"capture_tally", "packets", "run_id, file, packets, ok",
     "run_id, file, packets, ok, first_frame, last_frame",
     "SELECT COALESCE(run_id, 0) AS run_id, file, count(*) AS packets, count(*) FILTER (WHERE "
     "verdict = 'ok') AS ok, min(frame) AS first_frame, max(frame) AS last_frame FROM packets "
     "WHERE file IS NOT NULL GROUP BY 1, 2"},
    {"record_source_tally", "records", "src_addr, hour, status_type, records",
     "src_addr, hour, status_type, records, last_event",
     "SELECT src_addr, trunc(event_time / 3600)::bigint AS hour, COALESCE(status_type, -1) AS "
     "status_type, count(*) AS records, max(event_time) AS last_event FROM packets WHERE "
     "nas_identity IS NOT NULL GROUP BY 1, 2, 3"},
    {"record_source_total", "records", "src_addr, status_type, records",
     "src_addr, status_type, records, last_event",
     "SELECT src_addr, COALESCE(status_type, -1) AS status_type, count(*) AS records, "
     "max(event_time) AS last_event FROM packets WHERE nas_identity IS NOT NULL GROUP BY 1, 2"},
    {"packet_source_tally", "packets", "src_addr, run_id, verdict, packets",
     "src_addr, run_id, verdict, packets",
     "SELECT src_addr, COALESCE(run_id, 0) AS run_id, verdict, count(*) AS packets FROM packets "
     "GROUP BY 1, 2, 3"},
    {"capture_source_tally", "packets", "src_addr, run_id, file, packets, ok",
     "src_addr, run_id, file, packets, ok, first_frame, last_frame",
     "SELECT src_addr, COALESCE(run_id, 0) AS run_id, file, count(*) AS packets, count(*) FILTER "
     "(WHERE verdict = 'ok') AS ok, min(frame) AS first_frame, max(frame) AS last_frame FROM "
     "packets WHERE file IS NOT NULL GROUP BY 1, 2, 3"},
    {"session_tally", "sessions", "nas_key, state, sessions", "nas_key, state, sessions",
     "SELECT nas_key, state, count(*) AS sessions FROM sessions GROUP BY 1, 2"},
};

/** Brings a database of this build back to schema version 3's shape: the nas counters in one
 * table, the tallies as views counting the rows (their text as version 3 had it). */
inline void back_to_version_3(const PgCluster& cluster) {
  cluster.psql("CREATE TABLE nas_sum AS SELECT * FROM nas");
  cluster.psql("DROP VIEW nas");
  cluster.psql("DELETE FROM nas_shard");
  cluster.psql("ALTER TABLE nas_shard DROP CONSTRAINT nas_shard_key");
  cluster.psql("ALTER TABLE nas_shard DROP COLUMN shard");
  cluster.psql("INSERT INTO nas_shard SELECT * FROM nas_sum");
  cluster.psql("DROP TABLE nas_sum");
  cluster.psql("ALTER TABLE nas_shard RENAME TO nas");
  cluster.psql("ALTER TABLE nas ADD CONSTRAINT nas_identity UNIQUE (identity)");
  for (const auto& tally : tallies) {
    cluster.psql("DROP VIEW " + std::string(tally.view));
  }
  cluster.psql("DROP TABLE record_tally_shard, record_source_tally_shard, packet_tally_shard, "
               "packet_source_tally_shard, capture_tally_shard, capture_source_tally_shard, "
               "session_tally_shard");
  for (const char* trigger :
       {"packets_tally_in ON packets", "packets_tally_out ON packets",
        "packets_tally_update_out ON packets", "packets_tally_update_in ON packets",
        "packets_tally_truncate ON packets", "sessions_tally_in ON sessions",
        "sessions_tally_out ON sessions", "sessions_tally_change ON sessions",
        "sessions_tally_truncate ON sessions"}) {
    cluster.psql("DROP TRIGGER " + std::string(trigger));
  }
  for (const auto& tally : tallies) {
    cluster.psql("CREATE VIEW " + std::string(tally.view) + " AS " + tally.from_rows);
  }
  cluster.psql("DELETE FROM schema_version");
  cluster.psql("INSERT INTO schema_version VALUES (3)");
}

} // namespace acctlab::test
