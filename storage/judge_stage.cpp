#include "storage/judge_stage.hpp"

#include "storage/pg_connection.hpp"
#include "storage/read_db.hpp"
#include "storage/sqlite.hpp"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sqlite3.h>
#include <unistd.h>

namespace acctlab::storage {
namespace {

/** The packets columns a trace needs, in the order read_packet expects them. */
constexpr std::string_view packet_columns =
    "id, receive_time, src_addr, src_port, dst_addr, dst_port, code, verdict, file, frame, raw";

StoredPacket read_packet(const Statement& row, int first = 0) {
  const auto column = [first](int i) { return first + i; };
  StoredPacket packet;
  packet.id = row.column_int64(column(0));
  packet.receive_time = row.column_double(column(1));
  packet.src_addr = row.column_text(column(2));
  packet.src_port = row.column_int64(column(3));
  packet.dst_addr = row.column_optional_text(column(4));
  packet.dst_port = row.is_null(column(5)) ? 0 : row.column_int64(column(5));
  if (!row.is_null(column(6))) {
    packet.code = static_cast<int>(row.column_int64(column(6)));
  }
  packet.verdict = row.column_text(column(7));
  packet.file = row.column_optional_text(column(8));
  packet.frame = row.column_optional_int64(column(9));
  const auto raw = row.column_blob(column(10));
  packet.raw.assign(raw.begin(), raw.end());
  return packet;
}

OpenOptions open_options(bool writable) {
  // The judge and the findings it stores change no journal mode and no durability setting of a
  // database that is not theirs.
  return OpenOptions{.read_only = !writable,
                     .create = false,
                     .wal = false,
                     .synchronous = Synchronous::full,
                     .busy_timeout_ms = 5000};
}

std::optional<std::pair<double, double>> serve_window_of(Database& db,
                                                         std::optional<std::int64_t> run_id) {
  // A server run spans from its start to its stop (or its last packet while it still runs).
  auto statement = db.prepare("SELECT min(started), max(coalesce(finished, started)) FROM runs "
                              "WHERE kind = 'serve' AND (?1 IS NULL OR id = ?1) AND EXISTS "
                              "(SELECT 1 FROM packets WHERE packets.run_id = runs.id)");
  statement.bind(1, run_id);
  if (!statement.step() || statement.is_null(0)) {
    return std::nullopt;
  }
  return std::pair{statement.column_double(0), statement.column_double(1)};
}

std::size_t insert_findings(Database& db, std::int64_t run_id,
                            const std::vector<FindingRow>& findings) {
  auto record = db.prepare("SELECT id, session_row FROM records WHERE packet_id = ?1");
  auto insert = db.prepare("INSERT INTO findings (run_id, rule_id, severity, scope, message, "
                           "packet_id, record_id, session_id, file, frame) "
                           "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
  for (const auto& finding : findings) {
    insert.bind(1, run_id)
        .bind(2, finding.rule_id)
        .bind(3, finding.severity)
        .bind(4, finding.scope)
        .bind(5, finding.message)
        .bind(6, finding.packet_id);
    if (finding.packet_id) {
      record.bind(1, *finding.packet_id);
      if (record.step()) {
        insert.bind(7, record.column_int64(0)).bind(8, record.column_optional_int64(1));
      }
      record.reset();
    }
    insert.bind(9, finding.file).bind(10, finding.frame);
    insert.run();
    insert.reset();
  }
  return findings.size();
}

/** " WHERE run_id = ?1" when the source is one run (bound by bind_run). */
std::string where_run(std::optional<std::int64_t> run_id) {
  return run_id ? " WHERE run_id = ?1" : "";
}
void bind_run(Statement& statement, std::optional<std::int64_t> run_id) {
  if (run_id) {
    statement.bind(1, *run_id);
  }
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

/** A double as the shortest text that reads back as the same value. */
std::string number_text(double value) {
  char buffer[32];
  return std::string(buffer, std::to_chars(buffer, buffer + sizeof buffer, value).ptr);
}

} // namespace

namespace {

/** The findings of store_conform_run and store_findings_in_run in PostgreSQL, linked as there:
 * the packet's record (a record's id is its packet's) and that record's session. */
std::size_t insert_postgres_findings(PgConnection& pg, std::int64_t run_id,
                                     const std::vector<FindingRow>& findings) {
  const std::string insert =
      "INSERT INTO findings (run_id, rule_id, severity, scope, message, packet_id, record_id, "
      "session_id, file, frame) VALUES ($1, $2, $3, $4, $5, $6::bigint, (SELECT id FROM records "
      "WHERE packet_id = $6::bigint LIMIT 1), (SELECT session_row FROM records WHERE packet_id = "
      "$6::bigint LIMIT 1), $7, $8)";
  std::vector<std::vector<PgParam>> batch;
  const auto text = [](const std::optional<std::int64_t>& v) {
    return v ? PgParam(std::to_string(*v)) : PgParam();
  };
  for (std::size_t i = 0; i < findings.size(); ++i) {
    const auto& f = findings[i];
    batch.push_back({std::to_string(run_id), f.rule_id, f.severity, f.scope, f.message,
                     text(f.packet_id), f.file, text(f.frame)});
    if (batch.size() == 1000 || i + 1 == findings.size()) {
      pg.query_each(insert, batch);
      batch.clear();
    }
  }
  return findings.size();
}

StoredPacket read_packet(Query& row) {
  StoredPacket packet;
  packet.id = row.int64(0);
  packet.receive_time = row.real(1);
  packet.src_addr = row.text(2);
  packet.src_port = row.int64(3);
  if (!row.is_null(4)) {
    packet.dst_addr = row.text(4);
  }
  packet.dst_port = row.is_null(5) ? 0 : row.int64(5);
  if (!row.is_null(6)) {
    packet.code = static_cast<int>(row.int64(6));
  }
  packet.verdict = row.text(7);
  if (!row.is_null(8)) {
    packet.file = row.text(8);
  }
  if (!row.is_null(9)) {
    packet.frame = row.int64(9);
  }
  const auto raw = row.blob(10);
  packet.raw.assign(raw.begin(), raw.end());
  return packet;
}

} // namespace

void read_stored_packets(const std::string& path, std::optional<std::int64_t> run_id,
                         const PacketVisit& visit) {
  if (is_postgres_uri(path)) {
    // In slices of a thousand in (receive_time, id) order: a statement's rows come whole.
    ReadOnlyDatabase db(path);
    std::optional<std::pair<double, std::int64_t>> after;
    for (bool more = true; more;) {
      std::vector<Param> params;
      std::string where;
      if (run_id) {
        params.emplace_back(*run_id);
        where = " WHERE run_id = ?1";
      }
      if (after) {
        params.emplace_back(after->first);
        params.emplace_back(after->second);
        where += std::string(where.empty() ? " WHERE " : " AND ") + "(receive_time, id) > (?" +
                 std::to_string(params.size() - 1) + ", ?" + std::to_string(params.size()) + ")";
      }
      auto slice = db.prepare("SELECT " + std::string(packet_columns) + " FROM packets" + where +
                              " ORDER BY receive_time, id LIMIT 1000");
      slice.bind_all(params);
      more = false;
      while (slice.step()) {
        more = true;
        auto packet = read_packet(slice);
        after = std::pair{packet.receive_time, packet.id};
        visit(std::move(packet));
      }
    }
    return;
  }
  Database db(path, open_options(false));
  auto statement = db.prepare("SELECT " + std::string(packet_columns) +
                              " FROM packets WHERE (?1 IS NULL OR run_id = ?1) "
                              "ORDER BY receive_time, id");
  statement.bind(1, run_id);
  while (statement.step()) {
    visit(read_packet(statement));
  }
}

std::optional<std::pair<double, double>> serve_window(const std::string& path,
                                                      std::optional<std::int64_t> run_id) {
  try {
    if (is_postgres_uri(path)) {
      ReadOnlyDatabase db(path);
      auto q = db.prepare(std::string("SELECT min(started), max(coalesce(finished, started)) "
                                      "FROM runs WHERE kind = 'serve'") +
                          (run_id ? " AND id = ?1" : "") +
                          " AND EXISTS (SELECT 1 FROM packets WHERE packets.run_id = runs.id)");
      if (run_id) {
        q.bind(1, *run_id);
      }
      if (!q.step() || q.is_null(0)) {
        return std::nullopt;
      }
      return std::pair{q.real(0), q.real(1)};
    }
    Database db(path, open_options(false));
    return serve_window_of(db, run_id);
  } catch (const Error&) {
    return std::nullopt; // a database without runs has no server run
  }
}

std::int64_t store_conform_run(const std::string& path, bool failed, const std::string& report,
                               const std::vector<FindingRow>& findings) {
  if (is_postgres_uri(path)) {
    PgConnection pg(path);
    pg.exec("BEGIN");
    try {
      auto run =
          pg.query("INSERT INTO runs (kind, started, finished, verdict, report) VALUES "
                   "('conform', $1, $1, $2, $3) RETURNING id",
                   {number_text(now_seconds()), std::string(failed ? "fail" : "pass"), report});
      const auto run_id = run.int64(0, 0);
      insert_postgres_findings(pg, run_id, findings);
      pg.exec("COMMIT");
      return run_id;
    } catch (...) {
      if (pg.ok()) {
        pg.exec("ROLLBACK");
      }
      throw;
    }
  }
  Database db(path, open_options(true));
  Transaction transaction(db);
  auto run = db.prepare("INSERT INTO runs (kind, started, finished, verdict, report) "
                        "VALUES ('conform', ?1, ?1, ?2, ?3)");
  // A BLOB of the JSON's UTF-8 bytes, as JudgeStage::store_run must store a report too large to
  // build in memory: every conformance report has the one type.
  run.bind(1, now_seconds())
      .bind(2, failed ? "fail" : "pass")
      .bind_blob_static(3, {reinterpret_cast<const std::uint8_t*>(report.data()), report.size()});
  run.run();
  const std::int64_t run_id = db.last_insert_rowid();
  insert_findings(db, run_id, findings);
  transaction.commit();
  return run_id;
}

std::size_t store_findings_in_run(const std::string& path, std::int64_t run_id,
                                  const std::vector<FindingRow>& findings) {
  if (is_postgres_uri(path)) {
    PgConnection pg(path);
    pg.exec("BEGIN");
    try {
      const auto stored = insert_postgres_findings(pg, run_id, findings);
      pg.exec("COMMIT");
      return stored;
    } catch (...) {
      if (pg.ok()) {
        pg.exec("ROLLBACK");
      }
      throw;
    }
  }
  Database db(path, open_options(true));
  Transaction transaction(db);
  const auto stored = insert_findings(db, run_id, findings);
  transaction.commit();
  return stored;
}

struct JudgeStage::Statements {
  Statement place;
  Statement part;
  Statement finding;
  Statement record;
  Statement start;
  Statement session;
  Statement of_session;
  Statement of_session_index;
  bool rule_index = false;
};

/** The order of check_trace: severity (worst first), first evidence packet, then, among equals,
 * the order the rules ran in, the order within the rule across parts and within a part. */
constexpr std::string_view finding_order = " ORDER BY sev DESC, first, rule, key, seq";
/** The columns an Ordered is read from, in read_ordered's order. */
constexpr std::string_view ordered_columns = "idx, rule_id, sev, scope_code, message, ev_nas, "
                                             "ev_session, ev_packets, ev_ids, ev_identifiers, "
                                             "ev_file, ev_frames, party";

namespace {

JudgeStage::Ordered read_ordered_row(const Statement& row) {
  JudgeStage::Ordered out;
  out.idx = row.column_int64(0);
  out.rule_id = row.column_text(1);
  out.sev = static_cast<int>(row.column_int64(2));
  out.scope_code = static_cast<int>(row.column_int64(3));
  out.message = row.column_text(4);
  out.ev_nas = row.column_text(5);
  out.ev_session = row.column_text(6);
  out.ev_packets = row.column_text(7);
  out.ev_ids = row.column_text(8);
  out.ev_identifiers = row.column_text(9);
  out.ev_file = row.column_text(10);
  out.ev_frames = row.column_text(11);
  out.party = static_cast<int>(row.column_int64(12));
  return out;
}

} // namespace

namespace {

/** A new scratch file's path in the temporary directory. */
std::string scratch_file() {
  static std::atomic<int> counter{0};
  return (std::filesystem::temp_directory_path() /
          ("acctlab-judge-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + ".db"))
      .string();
}

/** What the judge reads of a source database: its runs and its packets' trace columns, with the
 * records view the findings are linked through. */
constexpr std::string_view snapshot_schema = R"sql(
CREATE TABLE runs (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, started REAL NOT NULL,
  finished REAL);
CREATE TABLE packets (id INTEGER PRIMARY KEY, run_id INTEGER, receive_time REAL NOT NULL,
  src_addr TEXT NOT NULL, src_port INTEGER NOT NULL, dst_addr TEXT, dst_port INTEGER,
  code INTEGER, verdict TEXT NOT NULL, file TEXT, frame INTEGER, raw BLOB NOT NULL,
  session_row INTEGER, nas_identity TEXT);
CREATE VIEW records AS SELECT id, id AS packet_id, session_row FROM packets
  WHERE nas_identity IS NOT NULL;
)sql";

std::string number(std::int64_t value) {
  return std::to_string(value);
}

PgParam optional_text(const Statement& row, int column) {
  return row.is_null(column) ? PgParam() : PgParam(row.column_text(column));
}

PgParam optional_integer(const Statement& row, int column) {
  return row.is_null(column) ? PgParam() : PgParam(number(row.column_int64(column)));
}

/** Inserts the findings a statement yields (run_id, rule_id, severity, scope, message,
 * packet_id, record_id, session_id, file, frame, in that order and already in the order they
 * are to be numbered) into PostgreSQL, a pipeline of 1,000 at a time; returns how many. */
std::size_t copy_findings(PgConnection& pg, Statement& rows) {
  const std::string insert =
      "INSERT INTO findings (run_id, rule_id, severity, scope, message, packet_id, record_id, "
      "session_id, file, frame) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
  std::vector<std::vector<PgParam>> batch;
  std::size_t stored = 0;
  const auto flush = [&] {
    pg.query_each(insert, batch);
    stored += batch.size();
    batch.clear();
  };
  while (rows.step()) {
    batch.push_back({optional_integer(rows, 0), optional_text(rows, 1), optional_text(rows, 2),
                     optional_text(rows, 3), optional_text(rows, 4), optional_integer(rows, 5),
                     optional_integer(rows, 6), optional_integer(rows, 7), optional_text(rows, 8),
                     optional_integer(rows, 9)});
    if (batch.size() == 1000) {
      flush();
    }
  }
  flush();
  return stored;
}

/** BEGIN on construction, ROLLBACK on destruction unless commit() ran (a lost connection has
 * nothing to roll back). */
class PgTransaction {
public:
  explicit PgTransaction(PgConnection& pg) : pg_(pg) { pg_.exec("BEGIN"); }
  ~PgTransaction() {
    if (!done_ && pg_.ok()) {
      try {
        pg_.exec("ROLLBACK");
      } catch (const Error&) {
      }
    }
  }
  PgTransaction(const PgTransaction&) = delete;
  PgTransaction& operator=(const PgTransaction&) = delete;
  void commit() {
    pg_.exec("COMMIT");
    done_ = true;
  }

private:
  PgConnection& pg_;
  bool done_ = false;
};

} // namespace

JudgeStage::JudgeStage(const std::string& path, bool writable)
    : statements_(std::make_unique<Statements>()) {
  if (is_postgres_uri(path)) {
    postgres_ = path;
    scratch_path_ = scratch_file();
    db_ = std::make_unique<Database>(scratch_path_, OpenOptions{.read_only = false,
                                                                .create = true,
                                                                .wal = false,
                                                                .synchronous = Synchronous::off,
                                                                .busy_timeout_ms = 5000});
  } else {
    db_ = std::make_unique<Database>(path, open_options(writable));
  }
  // Temporary tables live in a file SQLite deletes on close, not in memory. (Set before the
  // first one: changing temp_store drops every temporary table.)
  db_->exec("PRAGMA temp_store = FILE");
  if (!postgres_.empty()) {
    try {
      // Refused now, not after the judging: the source read-only, or writable for what is stored.
      if (writable) {
        PgConnection reachable(postgres_);
      } else {
        ReadOnlyDatabase reachable(postgres_);
      }
      db_->exec(snapshot_schema);
    } catch (...) {
      statements_.reset();
      db_.reset();
      std::filesystem::remove(scratch_path_);
      throw;
    }
  }
}

JudgeStage::~JudgeStage() {
  rollback();
  statements_.reset(); // finalized before the connection closes
  if (!scratch_path_.empty()) {
    db_.reset();
    std::error_code ec;
    std::filesystem::remove(scratch_path_, ec);
    std::filesystem::remove(scratch_path_ + "-journal", ec);
  }
}

void JudgeStage::snapshot_postgres(std::optional<std::int64_t> run_id) {
  if (postgres_.empty()) {
    return;
  }
  if (snapshot_taken_) {
    if (run_id != snapshot_run_) {
      throw Error(0, "the judge's copy of " + database_display_name(postgres_) +
                         " holds another run's packets");
    }
    return;
  }
  // Taken at the first question about the source, of the run asked about (all packets when
  // none): the runs, and the packets a thousand at a time in id order (a statement's rows are
  // fetched whole), so memory holds one slice. The copy is as of each slice's read (the judge of
  // a database several servers still write sees what was committed while it copied).
  ReadOnlyDatabase source(postgres_);
  Transaction transaction(*db_);
  {
    auto insert = db_->prepare("INSERT INTO runs VALUES (?1, ?2, ?3, ?4)");
    auto runs = source.prepare("SELECT id, kind, started, finished FROM runs ORDER BY id");
    while (runs.step()) {
      insert.bind(1, runs.int64(0)).bind(2, runs.text(1)).bind(3, runs.real(2));
      if (runs.is_null(3)) {
        insert.bind_null(4);
      } else {
        insert.bind(4, runs.real(3));
      }
      insert.run();
      insert.reset();
    }
  }
  auto insert = db_->prepare("INSERT INTO packets VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
                             "?10, ?11, ?12, ?13, ?14)");
  std::int64_t after = 0;
  for (bool more = true; more;) {
    auto slice = source.prepare(
        std::string("SELECT id, run_id, receive_time, src_addr, src_port, dst_addr, dst_port, "
                    "code, verdict, file, frame, raw, session_row, nas_identity FROM packets "
                    "WHERE id > ?1") +
        (run_id ? " AND run_id = ?2" : "") + " ORDER BY id LIMIT 1000");
    slice.bind(1, after);
    if (run_id) {
      slice.bind(2, *run_id);
    }
    more = false;
    while (slice.step()) {
      more = true;
      after = slice.int64(0);
      for (int c = 0; c < 14; ++c) {
        if (slice.is_null(c)) {
          insert.bind_null(c + 1);
        } else if (c == 2) {
          insert.bind(c + 1, slice.real(c));
        } else if (c == 3 || c == 5 || c == 8 || c == 9 || c == 13) {
          insert.bind(c + 1, slice.text(c));
        } else if (c == 11) {
          insert.bind_blob(c + 1, slice.blob(c));
        } else {
          insert.bind(c + 1, slice.int64(c));
        }
      }
      insert.run();
      insert.reset();
    }
  }
  db_->exec("CREATE INDEX packets_run ON packets (run_id)");
  transaction.commit();
  snapshot_taken_ = true;
  snapshot_run_ = run_id;
}

void JudgeStage::begin() {
  db_->exec("BEGIN");
  in_transaction_ = true;
}

void JudgeStage::commit() {
  db_->exec("COMMIT");
  in_transaction_ = false;
}

void JudgeStage::rollback() noexcept {
  if (db_ && !sqlite3_get_autocommit(db_->handle())) {
    sqlite3_exec(db_->handle(), "ROLLBACK", nullptr, nullptr, nullptr);
  }
  in_transaction_ = false;
}

std::size_t JudgeStage::packet_count(std::optional<std::int64_t> run_id) {
  snapshot_postgres(run_id);
  auto count = db_->prepare(std::string("SELECT count(*) FROM packets") + where_run(run_id));
  bind_run(count, run_id);
  count.step();
  return static_cast<std::size_t>(count.column_int64(0));
}

bool JudgeStage::has_answers(std::optional<std::int64_t> run_id) {
  snapshot_postgres(run_id);
  auto any = db_->prepare(std::string("SELECT EXISTS (SELECT 1 FROM packets WHERE code IN (2, 3, "
                                      "5, 11, 41, 42, 44, 45)") +
                          (run_id ? " AND run_id = ?1" : "") + ")");
  bind_run(any, run_id);
  any.step();
  return any.column_int64(0) != 0;
}

std::optional<std::pair<double, double>>
JudgeStage::serve_window(std::optional<std::int64_t> run_id) {
  snapshot_postgres(run_id);
  return serve_window_of(*db_, run_id);
}

void JudgeStage::create_places() {
  db_->exec("CREATE TEMP TABLE judge_packets (idx INTEGER PRIMARY KEY, packet_id INTEGER, "
            "part INTEGER)");
  statements_->place = db_->prepare("INSERT INTO temp.judge_packets VALUES (?1, ?2, ?3)");
}

void JudgeStage::read_packets(std::optional<std::int64_t> run_id, const PacketVisit& visit) {
  snapshot_postgres(run_id);
  auto all = db_->prepare("SELECT " + std::string(packet_columns) + " FROM packets" +
                          where_run(run_id) + " ORDER BY receive_time, id");
  bind_run(all, run_id);
  while (all.step()) {
    visit(read_packet(all));
  }
}

void JudgeStage::place(std::size_t index, std::optional<std::int64_t> packet_id, std::size_t part) {
  auto& st = statements_->place;
  st.bind(1, static_cast<std::int64_t>(index)).bind(2, packet_id);
  st.bind(3, static_cast<std::int64_t>(part));
  st.run();
  st.reset();
}

void JudgeStage::index_places() {
  db_->exec("CREATE INDEX temp.judge_packets_part ON judge_packets (part, idx)");
  statements_->part = db_->prepare(
      "SELECT j.idx, p.id, p.receive_time, p.src_addr, p.src_port, p.dst_addr, p.dst_port, "
      "p.code, p.verdict, p.file, p.frame, p.raw FROM temp.judge_packets j JOIN main.packets p "
      "ON p.id = j.packet_id WHERE j.part = ?1 ORDER BY j.idx");
}

void JudgeStage::read_part(std::size_t part,
                           const std::function<void(std::size_t, StoredPacket&&)>& visit) {
  auto& st = statements_->part;
  st.bind(1, static_cast<std::int64_t>(part));
  while (st.step()) {
    visit(static_cast<std::size_t>(st.column_int64(0)), read_packet(st, 1));
  }
  st.reset();
}

void JudgeStage::create_findings() {
  // The evidence columns (ev_*) are filled for check --db's reports only.
  db_->exec("CREATE TEMP TABLE judge_findings (sev INTEGER, first INTEGER, rule INTEGER, "
            "key INTEGER, seq INTEGER, rule_id TEXT, severity TEXT, scope TEXT, message TEXT, "
            "packet_id INTEGER, record_id INTEGER, session_row INTEGER, file TEXT, frame INTEGER, "
            "scope_code INTEGER, ev_nas TEXT, ev_session TEXT, ev_packets TEXT, ev_ids TEXT, "
            "ev_identifiers TEXT, ev_file TEXT, ev_frames TEXT, party INTEGER)");
  statements_->finding =
      db_->prepare("INSERT INTO temp.judge_findings VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
                   "?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23)");
  statements_->record =
      db_->prepare("SELECT id, session_row FROM main.records WHERE packet_id = ?1");
}

std::optional<std::pair<std::int64_t, std::optional<std::int64_t>>>
JudgeStage::record_of_packet(std::int64_t packet_id) {
  auto& st = statements_->record;
  st.bind(1, packet_id);
  std::optional<std::pair<std::int64_t, std::optional<std::int64_t>>> out;
  if (st.step()) {
    out.emplace(st.column_int64(0), st.column_optional_int64(1));
  }
  st.reset();
  return out;
}

void JudgeStage::add_finding(const Finding& f) {
  auto& st = statements_->finding;
  st.bind(1, f.sev).bind(2, f.first).bind(3, f.rule).bind(4, f.key).bind(5, f.seq);
  st.bind(6, f.rule_id).bind(7, f.severity).bind(8, f.scope).bind(9, f.message);
  st.bind(10, f.packet_id).bind(11, f.record_id).bind(12, f.session_row);
  st.bind(13, f.file).bind(14, f.frame).bind(15, f.scope_code);
  st.bind(16, f.ev_nas).bind(17, f.ev_session).bind(18, f.ev_packets).bind(19, f.ev_ids);
  st.bind(20, f.ev_identifiers).bind(21, f.ev_file).bind(22, f.ev_frames).bind(23, f.party);
  st.run();
  st.reset();
}

std::size_t JudgeStage::store_findings(std::int64_t run_id) {
  if (!postgres_.empty()) {
    PgConnection pg(postgres_);
    auto rows = db_->prepare("SELECT ?1, rule_id, severity, scope, message, packet_id, "
                             "record_id, session_row, file, frame FROM temp.judge_findings" +
                             std::string(finding_order));
    rows.bind(1, run_id);
    PgTransaction transaction(pg);
    const auto stored = copy_findings(pg, rows);
    transaction.commit();
    return stored;
  }
  db_->exec("BEGIN IMMEDIATE");
  in_transaction_ = true;
  auto copy = db_->prepare(
      "INSERT INTO main.findings (run_id, rule_id, severity, scope, message, packet_id, "
      "record_id, session_id, file, frame) SELECT ?1, rule_id, severity, scope, message, "
      "packet_id, record_id, session_row, file, frame FROM temp.judge_findings" +
      std::string(finding_order));
  copy.bind(1, run_id);
  copy.run();
  const auto stored = static_cast<std::size_t>(db_->changes());
  commit();
  return stored;
}

std::vector<JudgeStage::Example> JudgeStage::first_findings(std::size_t limit) {
  auto first = db_->prepare("SELECT rule_id, severity, message, file, frame FROM "
                            "temp.judge_findings" +
                            std::string(finding_order) + " LIMIT ?1");
  first.bind(1, static_cast<std::int64_t>(limit));
  std::vector<Example> out;
  while (first.step()) {
    out.push_back({first.column_text(0), first.column_text(1), first.column_text(2),
                   first.column_text(3), first.column_optional_int64(4)});
  }
  return out;
}

void JudgeStage::create_starts() {
  db_->exec("CREATE TEMP TABLE judge_starts (start INTEGER PRIMARY KEY, stop INTEGER, nas TEXT, "
            "session_id TEXT, peer TEXT, framed TEXT, packet_id INTEGER, identifier INTEGER, "
            "frame INTEGER, file TEXT, ev_nas TEXT, ev_session TEXT, subject_file TEXT, "
            "subject_frame INTEGER)");
  statements_->start = db_->prepare("INSERT INTO temp.judge_starts VALUES (?1, ?2, ?3, ?4, ?5, "
                                    "?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)");
}

void JudgeStage::add_start(const Start& s) {
  auto& st = statements_->start;
  st.bind(1, s.start).bind(2, s.stop).bind(3, s.nas).bind(4, s.session_id).bind(5, s.peer);
  st.bind(6, s.framed).bind(7, s.packet_id).bind(8, s.identifier).bind(9, s.frame);
  st.bind(10, s.file).bind(11, s.ev_nas).bind(12, s.ev_session).bind(13, s.subject_file);
  st.bind(14, s.subject_frame);
  st.run();
  st.reset();
}

void JudgeStage::read_starts(const std::function<void(Start&&)>& visit) {
  auto st = db_->prepare("SELECT * FROM temp.judge_starts ORDER BY start");
  while (st.step()) {
    Start s;
    s.start = st.column_int64(0);
    s.stop = st.column_int64(1);
    s.nas = st.column_text(2);
    s.session_id = st.column_text(3);
    s.peer = st.column_text(4);
    s.framed = st.column_text(5);
    s.packet_id = st.column_optional_int64(6);
    s.identifier = st.column_optional_int64(7);
    s.frame = st.column_optional_int64(8);
    s.file = st.column_text(9);
    s.ev_nas = st.column_text(10);
    s.ev_session = st.column_text(11);
    s.subject_file = st.column_optional_text(12);
    s.subject_frame = st.column_optional_int64(13);
    visit(std::move(s));
  }
}

void JudgeStage::create_sessions() {
  db_->exec("CREATE TEMP TABLE judge_sessions (first INTEGER PRIMARY KEY, nas TEXT, "
            "session TEXT, records INTEGER, stopped INTEGER)");
  statements_->session =
      db_->prepare("INSERT INTO temp.judge_sessions VALUES (?1, ?2, ?3, ?4, ?5)");
}

void JudgeStage::add_session(const Session& s) {
  auto& st = statements_->session;
  st.bind(1, s.first).bind(2, s.nas).bind(3, s.session).bind(4, s.records);
  st.bind(5, s.stopped ? 1 : 0);
  st.run();
  st.reset();
}

void JudgeStage::read_sessions(const std::function<void(Session&&)>& visit) {
  auto list = db_->prepare("SELECT first, nas, session, records, stopped FROM "
                           "temp.judge_sessions ORDER BY first");
  while (list.step()) {
    visit(Session{list.column_int64(0), list.column_text(1), list.column_text(2),
                  list.column_int64(3), list.column_int64(4) != 0});
  }
}

std::size_t JudgeStage::session_count() {
  auto sessions = db_->prepare("SELECT count(*) FROM temp.judge_sessions");
  sessions.step();
  return static_cast<std::size_t>(sessions.column_int64(0));
}

void JudgeStage::order_findings() {
  begin();
  db_->exec("CREATE TEMP TABLE judge_order (idx INTEGER PRIMARY KEY, sev INTEGER, "
            "scope_code INTEGER, rule_id TEXT, severity TEXT, scope TEXT, message TEXT, "
            "packet_id INTEGER, record_id INTEGER, session_row INTEGER, file TEXT, "
            "frame INTEGER, ev_nas TEXT, ev_session TEXT, ev_packets TEXT, ev_ids TEXT, "
            "ev_identifiers TEXT, ev_file TEXT, ev_frames TEXT, party INTEGER)");
  const std::string columns =
      "sev, scope_code, rule_id, severity, scope, message, packet_id, record_id, "
      "session_row, file, frame, ev_nas, ev_session, ev_packets, ev_ids, ev_identifiers, "
      "ev_file, ev_frames, party";
  db_->exec("INSERT INTO temp.judge_order (" + columns + ") SELECT " + columns +
            " FROM temp.judge_findings" + std::string(finding_order));
  statements_->finding = Statement{};
  statements_->record = Statement{};
  db_->exec("DROP TABLE temp.judge_findings");
  commit();
}

void JudgeStage::read_ordered(const std::string* rule_id,
                              const std::function<bool(Ordered&&)>& visit) {
  if (rule_id && !statements_->rule_index) {
    db_->exec("CREATE INDEX temp.judge_order_rule ON judge_order (rule_id, idx)");
    statements_->rule_index = true;
  }
  auto query = db_->prepare("SELECT " + std::string(ordered_columns) + " FROM temp.judge_order" +
                            (rule_id ? " WHERE rule_id = ?1" : "") + " ORDER BY idx");
  if (rule_id) {
    query.bind(1, *rule_id);
  }
  while (query.step()) {
    if (!visit(read_ordered_row(query))) {
      return;
    }
  }
}

std::size_t JudgeStage::count_of(const std::string& rule_id) {
  if (!statements_->rule_index) {
    db_->exec("CREATE INDEX temp.judge_order_rule ON judge_order (rule_id, idx)");
    statements_->rule_index = true;
  }
  auto query = db_->prepare("SELECT count(*) FROM temp.judge_order WHERE rule_id = ?1");
  query.bind(1, rule_id);
  query.step();
  return static_cast<std::size_t>(query.column_int64(0));
}

void JudgeStage::read_of_session(const std::string& nas, const std::string& session,
                                 bool with_findings, const std::function<void(Ordered&&)>& visit) {
  auto& s = *statements_;
  if (!s.of_session.prepared()) {
    db_->exec("CREATE INDEX temp.judge_order_session ON judge_order (ev_nas, ev_session, idx)");
    s.of_session = db_->prepare("SELECT " + std::string(ordered_columns) +
                                " FROM temp.judge_order WHERE ev_nas = ?1 AND ev_session = ?2 "
                                "ORDER BY idx");
    s.of_session_index = db_->prepare("SELECT idx FROM temp.judge_order WHERE ev_nas = ?1 AND "
                                      "ev_session = ?2 ORDER BY idx");
  }
  auto& st = with_findings ? s.of_session : s.of_session_index;
  st.bind(1, nas).bind(2, session);
  while (st.step()) {
    if (with_findings) {
      visit(read_ordered_row(st));
    } else {
      Ordered only;
      only.idx = st.column_int64(0);
      visit(std::move(only));
    }
  }
  st.reset();
}

std::vector<JudgeStage::Count> JudgeStage::count_by_rule() {
  auto tally =
      db_->prepare("SELECT rule_id, sev, count(*) FROM temp.judge_order GROUP BY rule_id, sev");
  std::vector<Count> out;
  while (tally.step()) {
    out.push_back({tally.column_text(0), 0, static_cast<int>(tally.column_int64(1)),
                   static_cast<std::size_t>(tally.column_int64(2))});
  }
  return out;
}

std::vector<JudgeStage::Count> JudgeStage::count_by_party() {
  auto tally =
      db_->prepare("SELECT party, sev, count(*) FROM temp.judge_order GROUP BY party, sev");
  std::vector<Count> out;
  while (tally.step()) {
    out.push_back({{},
                   static_cast<int>(tally.column_int64(0)),
                   static_cast<int>(tally.column_int64(1)),
                   static_cast<std::size_t>(tally.column_int64(2))});
  }
  return out;
}

std::int64_t JudgeStage::store_run(const std::string& report_path, bool failed) {
  std::ifstream report(report_path, std::ios::binary | std::ios::ate);
  if (!report) {
    throw Error(SQLITE_CANTOPEN, "cannot read " + report_path);
  }
  const auto size = static_cast<std::int64_t>(report.tellg());
  report.seekg(0);
  if (!postgres_.empty()) {
    // PostgreSQL takes a text value whole (runs.report is text there: a bytea would need a
    // large object to be written in pieces), so the report is held in memory while it is sent.
    std::string text(static_cast<std::size_t>(size), '\0');
    if (!report.read(text.data(), size)) {
      throw Error(SQLITE_IOERR, "cannot read " + report_path);
    }
    PgConnection pg(postgres_);
    PgTransaction transaction(pg);
    auto run = pg.query(
        "INSERT INTO runs (kind, started, finished, verdict, report) VALUES "
        "('conform', $1, $1, $2, $3) RETURNING id",
        {number_text(now_seconds()), std::string(failed ? "fail" : "pass"), std::move(text)});
    const auto run_id = run.int64(0, 0);
    auto rows = db_->prepare(
        "SELECT ?1, o.rule_id, o.severity, o.scope, o.message, o.packet_id, r.id, "
        "r.session_row, o.file, o.frame FROM temp.judge_order o LEFT JOIN main.records r ON "
        "r.id = (SELECT id FROM main.records WHERE packet_id = o.packet_id LIMIT 1) "
        "ORDER BY o.idx");
    rows.bind(1, run_id);
    copy_findings(pg, rows);
    transaction.commit();
    return run_id;
  }
  db_->exec("BEGIN IMMEDIATE");
  in_transaction_ = true;
  // The report goes in through SQLite's incremental blob I/O, a piece at a time, into a BLOB of
  // its size. zeroblob(n) is the one value SQLite writes without building it in memory (its
  // zeros are counted, not stored, while they end the row's data: report is runs' last column);
  // a TEXT cell of n bytes has no such form (CAST(zeroblob(n) AS TEXT) builds all n, 913 MB peak
  // for a 440 MB report). So a conformance report is a BLOB holding the JSON's UTF-8 bytes, as
  // store_conform_run stores it; readers take CAST(report AS TEXT) for the JSON functions (as
  // their documentation asks; SQLite reads a BLOB of JSON text as text anyway), or read it a
  // piece at a time (storage/report_scan.hpp). docs/design-notes.md, "check --db stores its
  // report in pieces".
  auto run = db_->prepare("INSERT INTO main.runs (kind, started, finished, verdict, report) "
                          "VALUES ('conform', ?1, ?1, ?2, zeroblob(?3))");
  run.bind(1, now_seconds()).bind(2, failed ? "fail" : "pass").bind(3, size);
  run.run();
  const std::int64_t run_id = db_->last_insert_rowid();
  if (size > 0) {
    sqlite3_blob* raw = nullptr;
    if (sqlite3_blob_open(db_->handle(), "main", "runs", "report", run_id, 1, &raw) != SQLITE_OK) {
      sqlite3_blob_close(raw);
      throw Error(sqlite3_extended_errcode(db_->handle()), sqlite3_errmsg(db_->handle()));
    }
    const std::unique_ptr<sqlite3_blob, int (*)(sqlite3_blob*)> blob(raw, sqlite3_blob_close);
    if (sqlite3_blob_bytes(raw) != size) {
      throw Error(SQLITE_INTERNAL, "the report's cell is not its size");
    }
    std::vector<char> piece(1 << 16);
    std::int64_t at = 0;
    while (at < size) {
      const auto n = std::min<std::int64_t>(size - at, static_cast<std::int64_t>(piece.size()));
      if (!report.read(piece.data(), n)) {
        throw Error(SQLITE_IOERR, "cannot read " + report_path);
      }
      if (sqlite3_blob_write(raw, piece.data(), static_cast<int>(n), static_cast<int>(at)) !=
          SQLITE_OK) {
        throw Error(sqlite3_extended_errcode(db_->handle()), sqlite3_errmsg(db_->handle()));
      }
      at += n;
    }
  }
  // Linked as store_conform_run links them: the packet's record (a record's id is its packet's)
  // and that record's session.
  auto copy = db_->prepare(
      "INSERT INTO main.findings (run_id, rule_id, severity, scope, message, packet_id, "
      "record_id, session_id, file, frame) SELECT ?1, o.rule_id, o.severity, o.scope, "
      "o.message, o.packet_id, r.id, r.session_row, o.file, o.frame FROM temp.judge_order o "
      "LEFT JOIN main.records r ON r.id = (SELECT id FROM main.records WHERE packet_id = "
      "o.packet_id LIMIT 1) ORDER BY o.idx");
  copy.bind(1, run_id);
  copy.run();
  commit();
  return run_id;
}

} // namespace acctlab::storage
