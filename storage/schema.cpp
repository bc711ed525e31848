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

// Fills the tallies of migration 3 from the rows stored (the migration of an older database, and
// recount_tallies()).
constexpr std::string_view count_tallies = R"sql(
DELETE FROM record_tally;
INSERT INTO record_tally
  SELECT CAST(event_time / 3600 AS INTEGER), IFNULL(status_type, -1), count(*), max(event_time)
  FROM records GROUP BY 1, 2;
DELETE FROM packet_tally;
INSERT INTO packet_tally SELECT IFNULL(run_id, 0), verdict, count(*) FROM packets GROUP BY 1, 2;
DELETE FROM capture_tally;
INSERT INTO capture_tally
  SELECT IFNULL(run_id, 0), file, count(*), sum(verdict = 'ok'), min(frame), max(frame)
  FROM packets WHERE file IS NOT NULL GROUP BY 1, 2;
)sql";

// What the report viewer (web/) needs to answer in milliseconds on millions of records, chosen
// by measurement (docs/PERFORMANCE.md, "web"). The live server pays for all of it on its write
// path, so it is shaped around that path: nothing is maintained per record or per packet by a
// trigger (the record writer adds a batch's counts to the tallies with one upsert per key), and
// no index sits on a sessions column, because the writer's session upsert sets every column on
// every record and SQLite then rewrites every index that holds one. What changes per session
// (its creation, its state, rarely its user or peer) is kept by triggers.
constexpr std::string_view migration_3 = R"sql(
-- Records per hour of event time and Acct-Status-Type (-1: none): the overview's counts by
-- status, its activity chart and the newest event time, without walking the records.
CREATE TABLE record_tally (
  hour        INTEGER NOT NULL, -- CAST(event_time / 3600 AS INTEGER)
  status_type INTEGER NOT NULL,
  records     INTEGER NOT NULL,
  last_event  REAL NOT NULL,
  PRIMARY KEY (hour, status_type)
) WITHOUT ROWID;

-- Packets per run (0: none) and verdict: totals, verdict counts, packets per run.
CREATE TABLE packet_tally (
  run_id  INTEGER NOT NULL,
  verdict TEXT NOT NULL,
  packets INTEGER NOT NULL,
  PRIMARY KEY (run_id, verdict)
) WITHOUT ROWID;

-- Packets per capture file (pcap imports): the runs page.
CREATE TABLE capture_tally (
  run_id      INTEGER NOT NULL,
  file        TEXT NOT NULL,
  packets     INTEGER NOT NULL,
  ok          INTEGER NOT NULL,
  first_frame INTEGER,
  last_frame  INTEGER,
  PRIMARY KEY (run_id, file)
) WITHOUT ROWID;

-- Sessions per NAS and state: the overview's open/closed/stale, the NAS page.
CREATE TABLE session_tally (
  nas_key  TEXT NOT NULL,
  state    TEXT NOT NULL,
  sessions INTEGER NOT NULL,
  PRIMARY KEY (nas_key, state)
) WITHOUT ROWID;
INSERT INTO session_tally SELECT nas_key, state, count(*) FROM sessions GROUP BY 1, 2;

-- One narrow row per session with what is fixed once it starts: when it started (its first
-- record's time when no start is known), its user, and the text searched for session id, user,
-- peer and framed IP (fields joined by U+001F, so a search does not match across two). Indexed
-- here rather than on sessions: these rows change only when those values do (the writer's update
-- sets every column of sessions on every record, and SQLite rewrites every index that holds one). Measured against an
-- FTS5 trigram index over the same text, which answers a search faster but costs the writer
-- several times as much (docs/PERFORMANCE.md).
CREATE TABLE session_find (
  id        INTEGER PRIMARY KEY, -- sessions.id
  started   REAL NOT NULL,
  user_name TEXT,
  text      TEXT NOT NULL
);
INSERT INTO session_find
  SELECT id, COALESCE(start_time, last_record_time), user_name, acct_session_id || char(31) ||
    IFNULL(user_name, '') || char(31) || IFNULL(peer, '') || char(31) || IFNULL(framed_ip, '')
  FROM sessions;
-- The one index the pages need (newest sessions first, date ranges). The user filter scans
-- these narrow rows instead (18 ms per 200,000 sessions): not worth an index the writer keeps.
CREATE INDEX session_find_started ON session_find (started);

-- One trigger per event keeps both: a trigger runs as a subprogram for every row it fires on,
-- and the writer's upsert updates a session for every record. The WHEN lets only a change of
-- state or of a searched value through (the upsert sets every column every time).
CREATE TRIGGER session_insert AFTER INSERT ON sessions BEGIN
  INSERT INTO session_tally VALUES (new.nas_key, new.state, 1)
    ON CONFLICT DO UPDATE SET sessions = sessions + 1;
  INSERT INTO session_find VALUES (new.id, COALESCE(new.start_time, new.last_record_time),
    new.user_name, new.acct_session_id || char(31) || IFNULL(new.user_name, '') || char(31) ||
    IFNULL(new.peer, '') || char(31) || IFNULL(new.framed_ip, ''));
END;
CREATE TRIGGER session_update
AFTER UPDATE OF state, nas_key, acct_session_id, user_name, peer, framed_ip, start_time ON sessions
WHEN old.state IS NOT new.state OR old.nas_key IS NOT new.nas_key
  OR old.acct_session_id IS NOT new.acct_session_id OR old.user_name IS NOT new.user_name
  OR old.peer IS NOT new.peer OR old.framed_ip IS NOT new.framed_ip
  OR old.start_time IS NOT new.start_time BEGIN
  UPDATE session_tally SET sessions = sessions - 1
    WHERE nas_key = old.nas_key AND state = old.state
      AND (old.state IS NOT new.state OR old.nas_key IS NOT new.nas_key);
  INSERT INTO session_tally SELECT new.nas_key, new.state, 1
    WHERE old.state IS NOT new.state OR old.nas_key IS NOT new.nas_key
    ON CONFLICT DO UPDATE SET sessions = sessions + 1;
  UPDATE session_find SET started = COALESCE(new.start_time, started), user_name = new.user_name,
    text = new.acct_session_id || char(31) || IFNULL(new.user_name, '') || char(31) ||
      IFNULL(new.peer, '') || char(31) || IFNULL(new.framed_ip, '')
    WHERE id = new.id AND (old.acct_session_id IS NOT new.acct_session_id
      OR old.user_name IS NOT new.user_name OR old.peer IS NOT new.peer
      OR old.framed_ip IS NOT new.framed_ip OR old.start_time IS NOT new.start_time);
END;
CREATE TRIGGER session_delete AFTER DELETE ON sessions BEGIN
  UPDATE session_tally SET sessions = sessions - 1 WHERE nas_key = old.nas_key AND state = old.state;
  DELETE FROM session_find WHERE id = old.id;
END;
)sql";

// Findings on large databases: a check of a capture of a million records can leave hundreds of
// thousands of them, and the viewer then grouped or scanned them all (the conformance page took
// 1.5 s at 1,000,000 findings, a session's page 120 ms). Findings are written by the tester and
// the capture checks, never by the live server, so these cost the server nothing.
// Migration 4 in three parts: its indexes and triggers on findings are made again by migration 6,
// which rebuilds the table.
constexpr std::string_view finding_indexes = R"sql(
-- A session's page finds its findings by session, record or packet.
CREATE INDEX findings_session ON findings (session_id) WHERE session_id IS NOT NULL;
CREATE INDEX findings_packet ON findings (packet_id) WHERE packet_id IS NOT NULL;
CREATE INDEX findings_record ON findings (record_id) WHERE record_id IS NOT NULL;

)sql";
constexpr std::string_view finding_tally = R"sql(
-- Per run (0: none), rule, severity and scope: how many findings, how many distinct packets and
-- sessions they point at within the run, and one message (the least, as min() picks).
CREATE TABLE finding_tally (
  run_id   INTEGER NOT NULL,
  rule_id  TEXT NOT NULL,
  severity TEXT NOT NULL,
  scope    TEXT NOT NULL,
  findings INTEGER NOT NULL,
  packets  INTEGER NOT NULL,
  sessions INTEGER NOT NULL,
  example  TEXT,
  PRIMARY KEY (run_id, rule_id, severity, scope)
) WITHOUT ROWID;
INSERT INTO finding_tally
  SELECT IFNULL(run_id, 0), rule_id, severity, scope, count(*), count(DISTINCT packet_id),
    count(DISTINCT session_id), min(message)
  FROM findings GROUP BY 1, 2, 3, 4;
)sql";
constexpr std::string_view finding_triggers = R"sql(
-- A packet or session counts once per run and rule: only when no other finding of that run and
-- rule points at it already (found through the indexes above).
CREATE TRIGGER finding_insert AFTER INSERT ON findings BEGIN
  INSERT INTO finding_tally VALUES (IFNULL(new.run_id, 0), new.rule_id, new.severity, new.scope, 1,
    new.packet_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM findings WHERE packet_id = new.packet_id
      AND rule_id = new.rule_id AND run_id IS new.run_id AND id <> new.id),
    new.session_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM findings
      WHERE session_id = new.session_id AND rule_id = new.rule_id AND run_id IS new.run_id
        AND id <> new.id),
    new.message)
  ON CONFLICT DO UPDATE SET findings = findings + 1, packets = packets + excluded.packets,
    sessions = sessions + excluded.sessions, example = min(IFNULL(example, excluded.example),
      excluded.example);
END;
CREATE TRIGGER finding_delete AFTER DELETE ON findings BEGIN
  UPDATE finding_tally SET findings = findings - 1,
    packets = packets - (old.packet_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM findings
      WHERE packet_id = old.packet_id AND rule_id = old.rule_id AND run_id IS old.run_id)),
    sessions = sessions - (old.session_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM findings
      WHERE session_id = old.session_id AND rule_id = old.rule_id AND run_id IS old.run_id))
  WHERE run_id = IFNULL(old.run_id, 0) AND rule_id = old.rule_id AND severity = old.severity
    AND scope = old.scope;
END;
)sql";

// The session tally and search rows are kept by the writer (storage::SessionUpsert), as the
// record and packet tallies already were: migration 3's two triggers ran as a subprogram for
// every session row written, and a session is written with nearly every record — the Stop's
// update cost 2.4 times the usage-only one, the Start's insert 1.7 times an insert without them
// (callgrind, bench_schema_write). session_delete stays: a session deleted by hand still leaves
// its counts right.
constexpr std::string_view migration_5 = R"sql(
DROP TRIGGER IF EXISTS session_insert;
DROP TRIGGER IF EXISTS session_update;
)sql";

// What the writer keeps in session_tally and session_find, counted again from the sessions
// (recount_tallies(), for databases filled by other means than the writer).
constexpr std::string_view count_session_tallies = R"sql(
DELETE FROM session_tally;
INSERT INTO session_tally SELECT nas_key, state, count(*) FROM sessions GROUP BY 1, 2;
DELETE FROM session_find;
INSERT INTO session_find
  SELECT id, COALESCE(start_time, (SELECT min(event_time) FROM records
      WHERE session_row = sessions.id), last_record_time), user_name,
    acct_session_id || char(31) || IFNULL(user_name, '') || char(31) || IFNULL(peer, '') ||
    char(31) || IFNULL(framed_ip, '')
  FROM sessions;
)sql";

// Migration 6 stores a valid request in one row. A record was a row of its own pointing at its
// packet's row, so the server wrote two table rows and three index entries per request (packets,
// packets_run, records, records_session, records_packet): about a fifth of the server's CPU per
// request went to the second row and its two indexes (docs/PERFORMANCE.md, "Session 5"). The
// record's columns are now columns of its packet's row, NULL for a packet without a record (an
// invalid or duplicate one); `records` is a view of the packets that have one, with the same
// columns as the table it replaces, so every reader keeps its SQL. A record's id is its packet's
// id. The view takes INSERT and DELETE (tests, tools, people's scripts) through triggers that
// fill or clear those columns, refusing what the table refused but a NULL receive_time: the
// view's receive_time is the packet's, and a value given for it is ignored. session_row is
// checked by the foreign key on packets.session_row, so only where foreign keys are on, as the
// table's was. A record for a packet that does not exist is refused always: there is no row to
// hold it. Unlike the table's, an INSERT through the view leaves last_insert_rowid() and
// changes() as they were (SQLite does not count what an INSTEAD OF trigger does): the new
// record's id is the packet_id given. The view takes no UPDATE. findings.record_id is rebuilt to
// reference packets (a foreign key cannot name a view), its old record ids mapped to packet ids.
constexpr std::string_view migration_6 = R"sql(
ALTER TABLE packets ADD COLUMN session_row INTEGER REFERENCES sessions (id);
ALTER TABLE packets ADD COLUMN status_type INTEGER;
ALTER TABLE packets ADD COLUMN acct_session_id TEXT;
ALTER TABLE packets ADD COLUMN nas_identity TEXT; -- NULL: the packet has no record
ALTER TABLE packets ADD COLUMN user_name TEXT;
ALTER TABLE packets ADD COLUMN event_time REAL;
ALTER TABLE packets ADD COLUMN delay INTEGER;
ALTER TABLE packets ADD COLUMN session_time INTEGER;
ALTER TABLE packets ADD COLUMN input_octets INTEGER;
ALTER TABLE packets ADD COLUMN output_octets INTEGER;
ALTER TABLE packets ADD COLUMN input_packets INTEGER;
ALTER TABLE packets ADD COLUMN output_packets INTEGER;
ALTER TABLE packets ADD COLUMN terminate_cause INTEGER;
ALTER TABLE packets ADD COLUMN framed_ip TEXT;
UPDATE packets SET session_row = r.session_row, status_type = r.status_type,
  acct_session_id = r.acct_session_id, nas_identity = r.nas_identity, user_name = r.user_name,
  event_time = r.event_time, delay = r.delay, session_time = r.session_time,
  input_octets = r.input_octets, output_octets = r.output_octets,
  input_packets = r.input_packets, output_packets = r.output_packets,
  terminate_cause = r.terminate_cause, framed_ip = r.framed_ip
  FROM records AS r WHERE r.packet_id = packets.id;
CREATE INDEX packets_session ON packets (session_row) WHERE session_row IS NOT NULL;

PRAGMA legacy_alter_table = ON;
CREATE TABLE findings_rebuilt (
  id         INTEGER PRIMARY KEY,
  run_id     INTEGER REFERENCES runs (id),
  rule_id    TEXT NOT NULL,
  severity   TEXT NOT NULL,
  scope      TEXT NOT NULL,
  message    TEXT NOT NULL,
  packet_id  INTEGER REFERENCES packets (id),
  record_id  INTEGER REFERENCES packets (id), -- a record's id is its packet's
  session_id INTEGER REFERENCES sessions (id),
  file       TEXT,
  frame      INTEGER
);
INSERT INTO findings_rebuilt SELECT f.id, f.run_id, f.rule_id, f.severity, f.scope, f.message,
  f.packet_id, r.packet_id, f.session_id, f.file, f.frame
  FROM findings AS f LEFT JOIN records AS r ON r.id = f.record_id;
DROP TABLE findings;
ALTER TABLE findings_rebuilt RENAME TO findings;
CREATE INDEX findings_run ON findings (run_id);
CREATE INDEX findings_rule ON findings (rule_id);
PRAGMA legacy_alter_table = OFF;

DROP TABLE records;
CREATE VIEW records AS
SELECT id, id AS packet_id, session_row, status_type, acct_session_id, nas_identity, user_name,
  event_time, receive_time, delay, session_time, input_octets, output_octets, input_packets,
  output_packets, terminate_cause, framed_ip
FROM packets WHERE nas_identity IS NOT NULL;

CREATE TRIGGER records_insert INSTEAD OF INSERT ON records BEGIN
  SELECT RAISE(ABORT, 'records.id is its packet''s id')
    WHERE new.id IS NOT NULL AND new.id IS NOT new.packet_id;
  SELECT RAISE(ABORT, 'NOT NULL constraint failed: records.nas_identity')
    WHERE new.nas_identity IS NULL;
  SELECT RAISE(ABORT, 'NOT NULL constraint failed: records.event_time')
    WHERE new.event_time IS NULL;
  SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed: records.packet_id names no packet')
    WHERE NOT EXISTS (SELECT 1 FROM packets WHERE id = new.packet_id);
  SELECT RAISE(ABORT, 'UNIQUE constraint failed: the packet has a record already')
    WHERE EXISTS (SELECT 1 FROM packets WHERE id = new.packet_id AND nas_identity IS NOT NULL);
  UPDATE packets SET session_row = new.session_row, status_type = new.status_type,
    acct_session_id = new.acct_session_id, nas_identity = new.nas_identity,
    user_name = new.user_name, event_time = new.event_time, delay = new.delay,
    session_time = new.session_time, input_octets = new.input_octets,
    output_octets = new.output_octets, input_packets = new.input_packets,
    output_packets = new.output_packets, terminate_cause = new.terminate_cause,
    framed_ip = new.framed_ip
    WHERE id = new.packet_id;
END;
CREATE TRIGGER records_delete INSTEAD OF DELETE ON records BEGIN
  UPDATE packets SET session_row = NULL, status_type = NULL, acct_session_id = NULL,
    nas_identity = NULL, user_name = NULL, event_time = NULL, delay = NULL, session_time = NULL,
    input_octets = NULL, output_octets = NULL, input_packets = NULL, output_packets = NULL,
    terminate_cause = NULL, framed_ip = NULL
    WHERE id = old.id;
END;
)sql";

// Migration 7: deleting a record that findings point at is refused, as the table's foreign key
// refused it; migration 6's delete trigger cleared the record and left the findings pointing at
// a packet without one. (Always refused, where the table refused only with foreign keys on: a
// finding that names a record no one can see again helps nobody.)
constexpr std::string_view migration_7 = R"sql(
DROP TRIGGER records_delete;
CREATE TRIGGER records_delete INSTEAD OF DELETE ON records BEGIN
  SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed: findings point at this record')
    WHERE EXISTS (SELECT 1 FROM findings WHERE record_id = old.id);
  UPDATE packets SET session_row = NULL, status_type = NULL, acct_session_id = NULL,
    nas_identity = NULL, user_name = NULL, event_time = NULL, delay = NULL, session_time = NULL,
    input_octets = NULL, output_octets = NULL, input_packets = NULL, output_packets = NULL,
    terminate_cause = NULL, framed_ip = NULL
    WHERE id = old.id;
END;
)sql";

// Migration 8: the Class attribute (RFC 2865 §5.25) a session's records carried, in sessions
// and in radacct's class column, where FreeRADIUS's queries store '%{Class}' (octets printed as
// 0x and hex) with the row they insert: the first record that carried one wins, later ones do
// not change it. The view is made again with the column where FreeRADIUS's schema has it, after
// delegatedipv6prefix.
constexpr std::string_view migration_8 = R"sql(
ALTER TABLE sessions ADD COLUMN class TEXT;
DROP VIEW radacct;
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
  s.class                                           AS class,
  s.state                                           AS acctstate,
  s.flags                                           AS acctflags
FROM sessions AS s;
)sql";

// Migration 9: the tallies again per source address (packets.src_addr), for an operator, who sees
// the NASes of its groups (storage::NasScope) and whose pages counted its NASes' rows instead:
// packets have no index by source, so the overview read every packet four times (3.7 s at
// 1,000,000 records, the runs page 1.6 s; docs/PERFORMANCE.md, "web"). Kept as the others are,
// by the writer with one upsert per key per batch (TallyBatch): a batch adds a row per source
// address and status type (or verdict) it holds, where an index on packets by source would add
// an entry per packet. record_source_total is record_source_tally without the hour, so the
// overview's counts by status read one row per source and status, not one per hour.
constexpr std::string_view migration_9 = R"sql(
CREATE TABLE record_source_tally (
  src_addr    TEXT NOT NULL,
  hour        INTEGER NOT NULL, -- CAST(event_time / 3600 AS INTEGER)
  status_type INTEGER NOT NULL, -- -1: none
  records     INTEGER NOT NULL,
  last_event  REAL NOT NULL,
  PRIMARY KEY (src_addr, hour, status_type)
) WITHOUT ROWID;
CREATE TABLE record_source_total (
  src_addr    TEXT NOT NULL,
  status_type INTEGER NOT NULL,
  records     INTEGER NOT NULL,
  last_event  REAL NOT NULL,
  PRIMARY KEY (src_addr, status_type)
) WITHOUT ROWID;
CREATE TABLE packet_source_tally (
  src_addr TEXT NOT NULL,
  run_id   INTEGER NOT NULL,
  verdict  TEXT NOT NULL,
  packets  INTEGER NOT NULL,
  PRIMARY KEY (src_addr, run_id, verdict)
) WITHOUT ROWID;
CREATE TABLE capture_source_tally (
  src_addr    TEXT NOT NULL,
  run_id      INTEGER NOT NULL,
  file        TEXT NOT NULL,
  packets     INTEGER NOT NULL,
  ok          INTEGER NOT NULL,
  first_frame INTEGER,
  last_frame  INTEGER,
  PRIMARY KEY (src_addr, run_id, file)
) WITHOUT ROWID;

-- finding_tally again per NAS: the source address of the packet a finding points at and the NAS
-- identity of its session ('' for none), what an operator's scope names. Findings come from the
-- tester and the checks, never the live server, so triggers keep it, as they keep finding_tally.
-- A packet or session counts once per run and rule, as there, within its findings that point at
-- the same session (one NAS).
CREATE TABLE finding_source_tally (
  run_id   INTEGER NOT NULL,
  rule_id  TEXT NOT NULL,
  severity TEXT NOT NULL,
  scope    TEXT NOT NULL,
  src_addr TEXT NOT NULL,
  nas_key  TEXT NOT NULL,
  findings INTEGER NOT NULL,
  packets  INTEGER NOT NULL,
  sessions INTEGER NOT NULL,
  example  TEXT,
  PRIMARY KEY (run_id, rule_id, severity, scope, src_addr, nas_key)
) WITHOUT ROWID;
CREATE TRIGGER finding_source_insert AFTER INSERT ON findings BEGIN
  INSERT INTO finding_source_tally VALUES (IFNULL(new.run_id, 0), new.rule_id, new.severity,
    new.scope, IFNULL((SELECT src_addr FROM packets WHERE id = new.packet_id), ''),
    IFNULL((SELECT nas_key FROM sessions WHERE id = new.session_id), ''), 1,
    new.packet_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM findings WHERE packet_id = new.packet_id
      AND rule_id = new.rule_id AND run_id IS new.run_id AND session_id IS new.session_id
      AND id <> new.id),
    new.session_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM findings
      WHERE session_id = new.session_id AND rule_id = new.rule_id AND run_id IS new.run_id
        AND id <> new.id),
    new.message)
  ON CONFLICT DO UPDATE SET findings = findings + 1, packets = packets + excluded.packets,
    sessions = sessions + excluded.sessions, example = min(IFNULL(example, excluded.example),
      excluded.example);
END;
CREATE TRIGGER finding_source_delete AFTER DELETE ON findings BEGIN
  UPDATE finding_source_tally SET findings = findings - 1,
    packets = packets - (old.packet_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM findings
      WHERE packet_id = old.packet_id AND rule_id = old.rule_id AND run_id IS old.run_id
        AND session_id IS old.session_id)),
    sessions = sessions - (old.session_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM findings
      WHERE session_id = old.session_id AND rule_id = old.rule_id AND run_id IS old.run_id))
  WHERE run_id = IFNULL(old.run_id, 0) AND rule_id = old.rule_id AND severity = old.severity
    AND scope = old.scope
    AND src_addr = IFNULL((SELECT src_addr FROM packets WHERE id = old.packet_id), '')
    AND nas_key = IFNULL((SELECT nas_key FROM sessions WHERE id = old.session_id), '');
END;
)sql";

// Fills migration 9's tallies from the rows stored (the migration, and recount_tallies()).
constexpr std::string_view count_source_tallies = R"sql(
DELETE FROM record_source_tally;
INSERT INTO record_source_tally
  SELECT src_addr, CAST(event_time / 3600 AS INTEGER), IFNULL(status_type, -1), count(*),
    max(event_time)
  FROM packets WHERE nas_identity IS NOT NULL GROUP BY 1, 2, 3;
DELETE FROM record_source_total;
INSERT INTO record_source_total
  SELECT src_addr, status_type, sum(records), max(last_event) FROM record_source_tally
  GROUP BY 1, 2;
DELETE FROM packet_source_tally;
INSERT INTO packet_source_tally
  SELECT src_addr, IFNULL(run_id, 0), verdict, count(*) FROM packets GROUP BY 1, 2, 3;
DELETE FROM capture_source_tally;
INSERT INTO capture_source_tally
  SELECT src_addr, IFNULL(run_id, 0), file, count(*), sum(verdict = 'ok'), min(frame), max(frame)
  FROM packets WHERE file IS NOT NULL GROUP BY 1, 2, 3;
DELETE FROM finding_source_tally;
INSERT INTO finding_source_tally
  SELECT IFNULL(f.run_id, 0), f.rule_id, f.severity, f.scope, IFNULL(p.src_addr, ''),
    IFNULL(s.nas_key, ''), count(*), count(DISTINCT f.packet_id), count(DISTINCT f.session_id),
    min(f.message)
  FROM findings AS f LEFT JOIN packets AS p ON p.id = f.packet_id
    LEFT JOIN sessions AS s ON s.id = f.session_id
  GROUP BY 1, 2, 3, 4, 5, 6;
)sql";

// Each migration's SQL, run in order in one transaction per version.
const std::array<std::string, 9>& migrations() {
  static const std::array<std::string, 9> all{
      std::string(migration_1),
      std::string(migration_2),
      std::string(migration_3),
      std::string(finding_indexes) + std::string(finding_tally) + std::string(finding_triggers),
      std::string(migration_5),
      std::string(migration_6) + std::string(finding_indexes) + std::string(finding_triggers),
      std::string(migration_7),
      std::string(migration_8),
      std::string(migration_9) + std::string(count_source_tallies)};
  return all;
}

} // namespace

int current_schema_version() {
  return static_cast<int>(migrations().size());
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
      db.exec(migrations()[static_cast<std::size_t>(version - 1)]);
      if (version == 3) {
        db.exec(count_tallies);
      }
      if (db.query_int64("SELECT count(*) FROM pragma_foreign_key_check").value_or(0) != 0) {
        throw Error(0, "schema migration " + std::to_string(version) +
                           " would break a foreign key; the database is left at version " +
                           std::to_string(version - 1));
      }
      db.prepare("INSERT INTO schema_version (version) VALUES (?1)").bind(1, version).run();
      transaction.commit();
    }
  } catch (...) {
    // A migration that failed midway rolled back its transaction but not its pragmas.
    db.exec("PRAGMA legacy_alter_table = OFF");
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

void recount_tallies(Database& db) {
  Transaction transaction(db);
  db.exec(count_tallies);
  db.exec(count_source_tallies);
  db.exec(count_session_tallies);
  transaction.commit();
}

struct TallyBatch::Statements {
  explicit Statements(Database& db)
      : record(db.prepare("INSERT INTO record_tally VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO "
                          "UPDATE SET records = records + excluded.records, "
                          "last_event = max(last_event, excluded.last_event)")),
        packet(db.prepare("INSERT INTO packet_tally VALUES (?1, ?2, ?3) ON CONFLICT DO UPDATE "
                          "SET packets = packets + excluded.packets")),
        capture(db.prepare(
            "INSERT INTO capture_tally VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO UPDATE SET "
            "packets = packets + excluded.packets, ok = ok + excluded.ok, "
            "first_frame = min(IFNULL(first_frame, excluded.first_frame), "
            "IFNULL(excluded.first_frame, first_frame)), "
            "last_frame = max(IFNULL(last_frame, excluded.last_frame), "
            "IFNULL(excluded.last_frame, last_frame))")),
        source_record(db.prepare(
            "INSERT INTO record_source_tally VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO UPDATE "
            "SET records = records + excluded.records, "
            "last_event = max(last_event, excluded.last_event)")),
        source_total(db.prepare(
            "INSERT INTO record_source_total VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO UPDATE "
            "SET records = records + excluded.records, "
            "last_event = max(last_event, excluded.last_event)")),
        source_packet(db.prepare("INSERT INTO packet_source_tally VALUES (?1, ?2, ?3, ?4) ON "
                                 "CONFLICT DO UPDATE SET packets = packets + excluded.packets")),
        source_capture(db.prepare(
            "INSERT INTO capture_source_tally VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO "
            "UPDATE SET packets = packets + excluded.packets, ok = ok + excluded.ok, "
            "first_frame = min(IFNULL(first_frame, excluded.first_frame), "
            "IFNULL(excluded.first_frame, first_frame)), "
            "last_frame = max(IFNULL(last_frame, excluded.last_frame), "
            "IFNULL(excluded.last_frame, last_frame))")) {}
  Statement record;
  Statement packet;
  Statement capture;
  Statement source_record;
  Statement source_total;
  Statement source_packet;
  Statement source_capture;
};

TallyBatch::TallyBatch() = default;
TallyBatch::~TallyBatch() = default;

namespace {
void add_capture(TallyBatch::Capture& c, Verdict verdict, std::optional<std::int64_t> frame) {
  ++c.packets;
  c.ok += verdict == Verdict::ok ? 1 : 0;
  if (frame) {
    c.first_frame = c.first_frame ? std::min(*c.first_frame, *frame) : *frame;
    c.last_frame = c.last_frame ? std::max(*c.last_frame, *frame) : *frame;
  }
}
void add_event(TallyBatch::Records& r, double event_time) {
  r.last_event = r.records == 0 ? event_time : std::max(r.last_event, event_time);
  ++r.records;
}
} // namespace

void TallyBatch::add_packet(std::optional<std::int64_t> run_id, Verdict verdict,
                            const std::optional<std::string>& file,
                            std::optional<std::int64_t> frame, const std::string& src_addr) {
  const auto run = run_id.value_or(0);
  ++packets_[{run, verdict}];
  ++source_packets_[{src_addr, run, verdict}];
  if (file) {
    add_capture(captures_[{run, *file}], verdict, frame);
    add_capture(source_captures_[{src_addr, run, *file}], verdict, frame);
  }
}

void TallyBatch::add_record(double event_time, std::optional<std::uint32_t> status_type,
                            const std::string& src_addr) {
  // The same hour as the SQL CAST(event_time / 3600 AS INTEGER) (truncation toward zero).
  const auto hour = static_cast<std::int64_t>(event_time / 3600);
  const auto status = status_type ? static_cast<std::int64_t>(*status_type) : -1;
  add_event(records_[{hour, status}], event_time);
  add_event(source_records_[{src_addr, hour, status}], event_time);
  add_event(source_totals_[{src_addr, status}], event_time);
}

void TallyBatch::write(Database& db) {
  if (!statements_ || db_ != &db) {
    statements_ = std::make_unique<Statements>(db);
    db_ = &db;
  }
  for (const auto& [key, r] : records_) {
    statements_->record.bind(1, key.first).bind(2, key.second).bind(3, r.records);
    statements_->record.bind(4, r.last_event).run();
  }
  for (const auto& [key, n] : packets_) {
    statements_->packet.bind(1, key.first).bind(2, to_string(key.second)).bind(3, n).run();
  }
  for (const auto& [key, c] : captures_) {
    auto& q = statements_->capture;
    q.bind(1, key.first).bind(2, key.second).bind(3, c.packets).bind(4, c.ok);
    q.bind(5, c.first_frame).bind(6, c.last_frame).run();
  }
  for (const auto& [key, r] : source_records_) {
    auto& q = statements_->source_record;
    q.bind(1, std::get<0>(key)).bind(2, std::get<1>(key)).bind(3, std::get<2>(key));
    q.bind(4, r.records).bind(5, r.last_event).run();
  }
  for (const auto& [key, r] : source_totals_) {
    auto& q = statements_->source_total;
    q.bind(1, key.first).bind(2, key.second).bind(3, r.records).bind(4, r.last_event).run();
  }
  for (const auto& [key, n] : source_packets_) {
    auto& q = statements_->source_packet;
    q.bind(1, std::get<0>(key)).bind(2, std::get<1>(key));
    q.bind(3, to_string(std::get<2>(key))).bind(4, n).run();
  }
  for (const auto& [key, c] : source_captures_) {
    auto& q = statements_->source_capture;
    q.bind(1, std::get<0>(key)).bind(2, std::get<1>(key)).bind(3, std::get<2>(key));
    q.bind(4, c.packets).bind(5, c.ok).bind(6, c.first_frame).bind(7, c.last_frame).run();
  }
  clear();
}

void TallyBatch::clear() {
  records_.clear();
  packets_.clear();
  captures_.clear();
  source_records_.clear();
  source_totals_.clear();
  source_packets_.clear();
  source_captures_.clear();
}

} // namespace acctlab::storage
