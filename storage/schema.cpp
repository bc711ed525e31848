#include "storage/schema.hpp"

#include <algorithm>
#include <array>
#include <string>

namespace acctlab::storage {
namespace {

// Times are unix seconds (REAL, sub-second precision); the radacct view renders them as SQLite
// datetimes. Counters are 64-bit integers: octets + 2^32 x gigawords (RFC 2869 §5.1, §5.2).
constexpr std::string_view migration_1 = R"sql(
CREATE TABLE runs (
  id        INTEGER PRIMARY KEY,
  kind      TEXT NOT NULL CHECK (kind IN ('serve', 'conform', 'pcap')),
  started   REAL NOT NULL,
  finished  REAL,
  verdict   TEXT,
  report    TEXT -- JSON
);

CREATE TABLE nas (
  id                        INTEGER PRIMARY KEY,
  identity                  TEXT NOT NULL UNIQUE,
  address                   TEXT,
  first_seen                REAL,
  last_seen                 REAL,
  requests                  INTEGER NOT NULL DEFAULT 0,
  accepted                  INTEGER NOT NULL DEFAULT 0,
  duplicates                INTEGER NOT NULL DEFAULT 0,
  bad_authenticator         INTEGER NOT NULL DEFAULT 0,
  bad_message_authenticator INTEGER NOT NULL DEFAULT 0,
  malformed                 INTEGER NOT NULL DEFAULT 0,
  unknown_client            INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE packets (
  id           INTEGER PRIMARY KEY,
  run_id       INTEGER REFERENCES runs (id),
  receive_time REAL NOT NULL,
  src_addr     TEXT NOT NULL,
  src_port     INTEGER NOT NULL,
  dst_addr     TEXT,
  dst_port     INTEGER,
  code         INTEGER,
  identifier   INTEGER,
  verdict      TEXT NOT NULL CHECK (verdict IN ('ok', 'bad-authenticator', 'malformed',
                 'unknown-client', 'bad-message-authenticator', 'duplicate')),
  reason       TEXT,
  file         TEXT,
  frame        INTEGER,
  raw          BLOB NOT NULL
);
CREATE INDEX packets_run ON packets (run_id);

CREATE TABLE sessions (
  id                 INTEGER PRIMARY KEY,
  nas_key            TEXT NOT NULL,
  acct_session_id    TEXT NOT NULL,
  unique_id          TEXT NOT NULL UNIQUE,
  state              TEXT NOT NULL CHECK (state IN ('open', 'closed', 'stale')),
  flags              TEXT NOT NULL DEFAULT '',
  start_time         REAL,
  update_time        REAL,
  stop_time          REAL,
  last_record_time   REAL NOT NULL,
  input_octets       INTEGER,
  output_octets      INTEGER,
  input_packets      INTEGER,
  output_packets     INTEGER,
  session_time       INTEGER,
  terminate_cause    INTEGER,
  interim_interval   INTEGER,
  user_name          TEXT,
  framed_ip          TEXT,
  peer               TEXT,
  nas_ip             TEXT,
  nas_port           INTEGER,
  nas_port_type      INTEGER,
  calling_station_id TEXT,
  called_station_id  TEXT,
  record_count       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX sessions_key ON sessions (nas_key, acct_session_id);

CREATE TABLE records (
  id                 INTEGER PRIMARY KEY,
  packet_id          INTEGER NOT NULL REFERENCES packets (id),
  session_row        INTEGER REFERENCES sessions (id),
  status_type        INTEGER,
  acct_session_id    TEXT,
  nas_identity       TEXT NOT NULL,
  user_name          TEXT,
  event_time         REAL NOT NULL,
  receive_time       REAL NOT NULL,
  delay              INTEGER,
  session_time       INTEGER,
  input_octets       INTEGER,
  output_octets      INTEGER,
  input_packets      INTEGER,
  output_packets     INTEGER,
  terminate_cause    INTEGER,
  framed_ip          TEXT,
  attributes         TEXT NOT NULL -- canonical text form, radius/text_form.hpp
);
CREATE INDEX records_session ON records (session_row);
CREATE INDEX records_packet ON records (packet_id);

CREATE TABLE findings (
  id         INTEGER PRIMARY KEY,
  run_id     INTEGER REFERENCES runs (id),
  rule_id    TEXT NOT NULL,
  severity   TEXT NOT NULL,
  scope      TEXT NOT NULL,
  message    TEXT NOT NULL,
  packet_id  INTEGER REFERENCES packets (id),
  record_id  INTEGER REFERENCES records (id),
  session_id INTEGER REFERENCES sessions (id),
  file       TEXT,
  frame      INTEGER
);
CREATE INDEX findings_run ON findings (run_id);
CREATE INDEX findings_rule ON findings (rule_id);

-- FreeRADIUS's radacct column names (raddb/mods-config/sql/main/sqlite/schema.sql), so existing
-- SQL and tools work on an acctlab database. One row per session; acctuniqueid is unique even
-- when a NAS reuses Acct-Session-Id.
CREATE VIEW radacct AS
SELECT
  s.id                                              AS radacctid,
  s.acct_session_id                                 AS acctsessionid,
  s.unique_id                                       AS acctuniqueid,
  COALESCE(s.user_name, '')                         AS username,
  NULL                                              AS realm,
  COALESCE(s.nas_ip, s.nas_key)                     AS nasipaddress,
  CAST(s.nas_port AS TEXT)                          AS nasportid,
  s.nas_port_type                                   AS nasporttype,
  datetime(s.start_time, 'unixepoch')               AS acctstarttime,
  datetime(COALESCE(s.update_time, s.start_time), 'unixepoch') AS acctupdatetime,
  datetime(s.stop_time, 'unixepoch')                AS acctstoptime,
  s.interim_interval                                AS acctinterval,
  s.session_time                                    AS acctsessiontime,
  NULL                                              AS acctauthentic,
  NULL                                              AS connectinfo_start,
  NULL                                              AS connectinfo_stop,
  s.input_octets                                    AS acctinputoctets,
  s.output_octets                                   AS acctoutputoctets,
  COALESCE(s.called_station_id, '')                 AS calledstationid,
  COALESCE(s.calling_station_id, '')                AS callingstationid,
  CASE s.terminate_cause
    WHEN 1 THEN 'User-Request' WHEN 2 THEN 'Lost-Carrier' WHEN 3 THEN 'Lost-Service'
    WHEN 4 THEN 'Idle-Timeout' WHEN 5 THEN 'Session-Timeout' WHEN 6 THEN 'Admin-Reset'
    WHEN 7 THEN 'Admin-Reboot' WHEN 8 THEN 'Port-Error' WHEN 9 THEN 'NAS-Error'
    WHEN 10 THEN 'NAS-Request' WHEN 11 THEN 'NAS-Reboot' WHEN 12 THEN 'Port-Unneeded'
    WHEN 13 THEN 'Port-Preempted' WHEN 14 THEN 'Port-Suspended' WHEN 15 THEN 'Service-Unavailable'
    WHEN 16 THEN 'Callback' WHEN 17 THEN 'User-Error' WHEN 18 THEN 'Host-Request'
    ELSE CAST(s.terminate_cause AS TEXT) END        AS acctterminatecause,
  NULL                                              AS servicetype,
  NULL                                              AS framedprotocol,
  s.framed_ip                                       AS framedipaddress,
  NULL                                              AS framedipv6address,
  NULL                                              AS framedipv6prefix,
  NULL                                              AS framedinterfaceid,
  NULL                                              AS delegatedipv6prefix,
  s.state                                           AS acctstate,
  s.flags                                           AS acctflags
FROM sessions AS s;
)sql";

// Migration 2 makes the server's write path lean.
// records.attributes held every attribute again as text, next to the raw packet it was rendered
// from: more than half of the bytes written per request. The raw packet is the evidence; readers
// render it with the dictionary when they show it (the web viewer, `acctlab decode`).
// SQLite checks `x IN ('a', 'b', 'c')` through a temporary b-tree it builds for every row written
// (an IN list of three or more constants); the same check as comparisons costs almost nothing.
// On the server's write path that was about a tenth of the commit thread's time. Rebuilding a
// table is the only way to change a CHECK; legacy_alter_table keeps the rename from validating
// the radacct view against the half-rebuilt schema (the view reads the same names afterwards).
constexpr std::string_view migration_2 = R"sql(
ALTER TABLE records DROP COLUMN attributes;

PRAGMA legacy_alter_table = ON;

CREATE TABLE packets_rebuilt (
  id           INTEGER PRIMARY KEY,
  run_id       INTEGER REFERENCES runs (id),
  receive_time REAL NOT NULL,
  src_addr     TEXT NOT NULL,
  src_port     INTEGER NOT NULL,
  dst_addr     TEXT,
  dst_port     INTEGER,
  code         INTEGER,
  identifier   INTEGER,
  verdict      TEXT NOT NULL CHECK (verdict = 'ok' OR verdict = 'duplicate'
                 OR verdict = 'bad-authenticator' OR verdict = 'malformed'
                 OR verdict = 'unknown-client' OR verdict = 'bad-message-authenticator'),
  reason       TEXT,
  file         TEXT,
  frame        INTEGER,
  raw          BLOB NOT NULL
);
INSERT INTO packets_rebuilt SELECT id, run_id, receive_time, src_addr, src_port, dst_addr,
  dst_port, code, identifier, verdict, reason, file, frame, raw FROM packets;
DROP TABLE packets;
ALTER TABLE packets_rebuilt RENAME TO packets;
CREATE INDEX packets_run ON packets (run_id);

CREATE TABLE sessions_rebuilt (
  id                 INTEGER PRIMARY KEY,
  nas_key            TEXT NOT NULL,
  acct_session_id    TEXT NOT NULL,
  unique_id          TEXT NOT NULL UNIQUE,
  state              TEXT NOT NULL CHECK (state = 'open' OR state = 'closed' OR state = 'stale'),
  flags              TEXT NOT NULL DEFAULT '',
  start_time         REAL,
  update_time        REAL,
  stop_time          REAL,
  last_record_time   REAL NOT NULL,
  input_octets       INTEGER,
  output_octets      INTEGER,
  input_packets      INTEGER,
  output_packets     INTEGER,
  session_time       INTEGER,
  terminate_cause    INTEGER,
  interim_interval   INTEGER,
  user_name          TEXT,
  framed_ip          TEXT,
  peer               TEXT,
  nas_ip             TEXT,
  nas_port           INTEGER,
  nas_port_type      INTEGER,
  calling_station_id TEXT,
  called_station_id  TEXT,
  record_count       INTEGER NOT NULL DEFAULT 0
);
INSERT INTO sessions_rebuilt SELECT id, nas_key, acct_session_id, unique_id, state, flags,
  start_time, update_time, stop_time, last_record_time, input_octets, output_octets,
  input_packets, output_packets, session_time, terminate_cause, interim_interval, user_name,
  framed_ip, peer, nas_ip, nas_port, nas_port_type, calling_station_id, called_station_id,
  record_count FROM sessions;
DROP TABLE sessions;
ALTER TABLE sessions_rebuilt RENAME TO sessions;
CREATE INDEX sessions_key ON sessions (nas_key, acct_session_id);

PRAGMA legacy_alter_table = OFF;
)sql";

constexpr std::array<std::string_view, 2> migrations{migration_1, migration_2};

} // namespace

int current_schema_version() {
  return static_cast<int>(migrations.size());
}

int schema_version(Database& db) {
  const auto exists = db.query_int64(
      "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'");
  if (!exists || *exists == 0) {
    return 0;
  }
  return static_cast<int>(db.query_int64("SELECT max(version) FROM schema_version").value_or(0));
}

void migrate(Database& db, int to) {
  db.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
  const int from = schema_version(db);
  if (from > current_schema_version()) {
    throw Error(0, "database schema version " + std::to_string(from) +
                       " is newer than this build understands (" +
                       std::to_string(current_schema_version()) + ")");
  }
  to = std::min(to, current_schema_version());
  if (from >= to) {
    return;
  }
  // A migration may rebuild a table that others reference; SQLite's procedure for that wants
  // foreign keys off (the pragma is ignored inside a transaction) and checked before commit.
  db.exec("PRAGMA foreign_keys = OFF");
  try {
    for (int version = from + 1; version <= to; ++version) {
      Transaction transaction(db);
      db.exec(migrations[static_cast<std::size_t>(version - 1)]);
      if (db.query_int64("SELECT count(*) FROM pragma_foreign_key_check").value_or(0) != 0) {
        throw Error(0, "schema migration " + std::to_string(version) +
                           " would break a foreign key; the database is left at version " +
                           std::to_string(version - 1));
      }
      db.prepare("INSERT INTO schema_version (version) VALUES (?1)").bind(1, version).run();
      transaction.commit();
    }
  } catch (...) {
    db.exec("PRAGMA foreign_keys = ON");
    throw;
  }
  db.exec("PRAGMA foreign_keys = ON");
}

std::string_view to_string(Verdict verdict) noexcept {
  switch (verdict) {
    case Verdict::ok:
      return "ok";
    case Verdict::bad_authenticator:
      return "bad-authenticator";
    case Verdict::malformed:
      return "malformed";
    case Verdict::unknown_client:
      return "unknown-client";
    case Verdict::bad_message_authenticator:
      return "bad-message-authenticator";
    case Verdict::duplicate:
      return "duplicate";
  }
  return "malformed";
}

} // namespace acctlab::storage
