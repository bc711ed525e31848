#include "storage/pg_writer.hpp"

#include "radius/value.hpp"
#include "storage/commit_failure.hpp"
#include "storage/nas_counters.hpp"
#include "storage/pg_connection.hpp"
#include "storage/pg_schema.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <map>

namespace acctlab::storage {
namespace {

double wall_clock() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

PgParam number(double value) {
  char buffer[64];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, end);
}

template <class T> PgParam number(const std::optional<T>& value) {
  if (!value) {
    return std::nullopt;
  }
  return std::to_string(*value);
}

PgParam number(std::int64_t value) {
  return std::to_string(value);
}

/** A PostgreSQL array in its text form ("{1,NULL,"a\"b"}"), built element by element: a batch's
 * column goes to the server as one parameter. */
class ArrayText {
public:
  ArrayText() { text_.push_back('{'); }
  void null() {
    separate();
    text_ += "NULL";
  }
  void number(std::int64_t value) {
    separate();
    char buffer[24];
    const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
    text_.append(buffer, end);
  }
  void real(double value) {
    separate();
    char buffer[64];
    const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
    text_.append(buffer, end);
  }
  template <class T> void number(const std::optional<T>& value) {
    if (value) {
      number(static_cast<std::int64_t>(*value));
    } else {
      null();
    }
  }
  void real(const std::optional<double>& value) {
    if (value) {
      real(*value);
    } else {
      null();
    }
  }
  /** A text element. PostgreSQL's text holds UTF-8 without NUL, a NAS's strings are octets:
   * an octet that is not part of well-formed UTF-8, and NUL, become the four characters \xHH
   * (as the debug lines show them); a value that is UTF-8 stays as it is. The raw packet keeps
   * the octets. Without this the batch was refused whole, and every answer waited on it. */
  void text(std::string_view value) {
    static constexpr char digits[] = "0123456789abcdef";
    const std::span<const std::uint8_t> octets(reinterpret_cast<const std::uint8_t*>(value.data()),
                                               value.size());
    separate();
    text_.push_back('"');
    for (std::size_t i = 0; i < octets.size(); ++i) {
      const auto c = octets[i];
      if (c == '"' || c == '\\') {
        text_.push_back('\\');
        text_.push_back(static_cast<char>(c));
      } else if (c != 0 && c < 0x80) {
        text_.push_back(static_cast<char>(c));
      } else if (const auto n = c ? radius::utf8_sequence_length(octets, i) : 0; n > 0) {
        text_.append(value.substr(i, n));
        i += n - 1;
      } else {
        text_ += "\\\\x"; // a backslash, escaped inside the quotes
        text_.push_back(digits[c >> 4]);
        text_.push_back(digits[c & 15]);
      }
    }
    text_.push_back('"');
  }
  void optional_text(const std::optional<std::string>& value) {
    if (value) {
      text(*value);
    } else {
      null();
    }
  }
  /** bytea's hex form, \x..., its backslash escaped inside the quotes. */
  void bytea(const std::vector<std::uint8_t>& bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    separate();
    text_ += "\"\\\\x";
    for (const auto b : bytes) {
      text_.push_back(digits[b >> 4]);
      text_.push_back(digits[b & 15]);
    }
    text_.push_back('"');
  }
  PgParam done() {
    text_.push_back('}');
    return std::move(text_);
  }

private:
  void separate() {
    if (text_.size() > 1) {
      text_.push_back(',');
    }
  }
  std::string text_;
};

constexpr std::string_view store_sql =
    "SELECT o_packet, o_record, o_session FROM acctlab_store($1, $2, $3, $4, $5, $6, $7, $8, $9, "
    "$10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, "
    "$28, $29, $30, $31, $32, $33, $34, $35, $36, $37, $38, $39, $40, $41, $42, $43, $44, $45, "
    "$46, $47, $48, $49, $50, $51, $52)";

/** What a batch in flight claims of an item: nothing (a packet without a record), its session,
 * or its NAS's every session (Accounting-On/Off close them all). */
struct Claim {
  enum class Scope { none, session, nas } scope = Scope::none;
  std::string nas;
  std::string session;
};

Claim claim_of(const WriteItem& item) {
  Claim claim;
  if (!item.record || !item.record->record.status_type) {
    return claim;
  }
  const auto& input = *item.record;
  claim.nas = input.nas_key;
  const auto status = *input.record.status_type;
  if (status == static_cast<std::uint32_t>(radius::AcctStatusType::accounting_on) ||
      status == static_cast<std::uint32_t>(radius::AcctStatusType::accounting_off)) {
    claim.scope = Claim::Scope::nas;
  } else {
    claim.scope = Claim::Scope::session;
    claim.session = input.nas_key + '\x1f' + input.record.session_id;
  }
  return claim;
}

} // namespace

namespace {

bool conflicts(const PgInFlight& f, const Claim& claim) {
  switch (claim.scope) {
    case Claim::Scope::none:
      return false;
    case Claim::Scope::session:
      return f.sessions.count(claim.session) != 0 || f.nas_wide.count(claim.nas) != 0;
    case Claim::Scope::nas:
      return f.nas.count(claim.nas) != 0;
  }
  return false;
}

void add(PgInFlight& f, const Claim& claim) {
  if (claim.scope == Claim::Scope::none) {
    return;
  }
  ++f.nas[claim.nas];
  if (claim.scope == Claim::Scope::session) {
    f.sessions.insert(claim.session);
  } else {
    f.nas_wide.insert(claim.nas);
  }
}

} // namespace

PgRecordWriter::PgRecordWriter(const std::string& uri, WriterOptions options,
                               CompletionHandler on_complete, EventHandler on_event)
    : uri_(uri), options_(std::move(options)), on_complete_(std::move(on_complete)),
      on_event_(std::move(on_event)) {
  own_clock_ = static_cast<bool>(options_.clock);
  if (!options_.clock) {
    options_.clock = wall_clock;
  }
  scope_ = options_.session_scope.value_or(0);
  auto db = connect();
  migrate_postgres(*db);
  if (!options_.run_id && options_.run_kind) {
    auto run = db->query("INSERT INTO runs (kind, started) VALUES ($1, $2) RETURNING id",
                         {*options_.run_kind, number(options_.clock())});
    options_.run_id = run.int64(0, 0);
    owns_run_ = true;
  }
  const auto lanes = static_cast<std::size_t>(std::max(options_.pg_connections, 1));
  for (std::size_t lane = 0; lane < lanes; ++lane) {
    lanes_.emplace_back([this, lane] { run(lane); });
  }
}

PgRecordWriter::~PgRecordWriter() {
  stop();
}

std::unique_ptr<PgConnection> PgRecordWriter::connect() const {
  auto db = std::make_unique<PgConnection>(uri_);
  // Acknowledge after commit: COMMIT returns once the WAL is flushed on the server.
  db->exec("SET synchronous_commit = on");
  return db;
}

std::unique_ptr<PgConnection> PgRecordWriter::connect_lane() const {
  auto db = connect();
  // The rows of counters and tallies this connection's transactions update, no other live
  // connection's (storage/pg_schema.cpp, tally_functions): held until it disconnects.
  db->query("SELECT acctlab_claim_shard()");
  return db;
}

void PgRecordWriter::submit(WriteItem item) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(item));
  }
  wake_.notify_all();
}

void PgRecordWriter::submit(std::vector<WriteItem>& items) {
  if (items.empty()) {
    return;
  }
  {
    std::lock_guard lock(mutex_);
    if (queue_.empty()) {
      queue_.swap(items);
    } else {
      for (auto& item : items) {
        queue_.push_back(std::move(item));
      }
    }
  }
  items.clear();
  wake_.notify_all();
}

void PgRecordWriter::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (lanes_.empty()) {
    return;
  }
  for (auto& lane : lanes_) {
    lane.join();
  }
  lanes_.clear();
  if (owns_run_) {
    try {
      auto db = connect();
      std::lock_guard lock(mutex_);
      db->query("UPDATE runs SET finished = $1, verdict = $2, report = $3 WHERE id = $4",
                {number(options_.clock()),
                 std::string(stats_.healthy ? "stopped" : "stopped-database-failing"),
                 run_report_.empty() ? std::string("{}") : run_report_, number(*options_.run_id)});
    } catch (const Error&) {
      // The run stays unfinished; its packets are stored all the same.
    }
  }
}

void PgRecordWriter::set_run_report(std::string json) {
  {
    std::lock_guard lock(mutex_);
    if (json == run_report_) {
      return;
    }
    run_report_ = std::move(json);
    run_report_pending_ = owns_run_;
  }
  wake_.notify_one();
}

WriterStats PgRecordWriter::stats() const {
  std::lock_guard lock(mutex_);
  WriterStats copy = stats_;
  copy.queued = queue_.size();
  return copy;
}

std::size_t PgRecordWriter::queued() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

bool PgRecordWriter::can_take() const {
  // The first item not held back by a batch in flight, nor by an earlier item held back.
  PgInFlight held;
  for (const auto& item : queue_) {
    const auto claim = claim_of(item);
    if (!conflicts(in_flight_, claim) && !conflicts(held, claim)) {
      return true;
    }
    add(held, claim);
  }
  return false;
}

std::vector<WriteItem> PgRecordWriter::take_batch() {
  const std::size_t limit = std::max<std::size_t>(options_.max_batch, 1);
  std::vector<WriteItem> batch;
  std::vector<WriteItem> rest;
  PgInFlight taken;
  PgInFlight held;
  for (auto& item : queue_) {
    if (batch.size() >= limit) {
      rest.push_back(std::move(item));
      continue;
    }
    const auto claim = claim_of(item);
    // Held back when a batch in flight has its session (or NAS), and so are the items after it
    // of that session: they follow it into a later batch.
    if (conflicts(in_flight_, claim) || conflicts(held, claim)) {
      add(held, claim);
      rest.push_back(std::move(item));
      continue;
    }
    add(taken, claim);
    batch.push_back(std::move(item));
  }
  queue_.swap(rest);
  for (const auto& item : batch) {
    add(in_flight_, claim_of(item));
  }
  return batch;
}

void PgRecordWriter::release(const std::vector<WriteItem>& batch) {
  for (const auto& item : batch) {
    const auto claim = claim_of(item);
    if (claim.scope == Claim::Scope::none) {
      continue;
    }
    if (--in_flight_.nas[claim.nas] <= 0) {
      in_flight_.nas.erase(claim.nas);
    }
    if (claim.scope == Claim::Scope::session) {
      in_flight_.sessions.erase(claim.session);
    } else {
      in_flight_.nas_wide.erase(claim.nas);
    }
  }
}

std::vector<PgParam> PgRecordWriter::store_params(const std::vector<WriteItem>& batch) const {
  std::vector<ArrayText> a(38);
  std::map<std::string, NasCounters> nas;
  for (const auto& item : batch) {
    const auto& p = item.packet;
    if (!item.nas.empty()) {
      count(nas[item.nas], p);
    }
    a[0].real(p.receive_time);
    a[1].text(p.src_addr);
    a[2].number(std::int64_t{p.src_port});
    a[3].text(p.dst_addr);
    a[4].number(std::int64_t{p.dst_port});
    a[5].number(p.code);
    a[6].number(p.identifier);
    a[7].text(to_string(p.verdict));
    if (p.reason.empty()) {
      a[8].null();
    } else {
      a[8].text(p.reason);
    }
    a[9].optional_text(p.file);
    a[10].number(p.frame);
    a[11].bytea(p.raw);
    if (!item.record) {
      for (std::size_t i = 12; i < a.size(); ++i) {
        a[i].null();
      }
      continue;
    }
    const auto& input = *item.record;
    const auto& r = input.record;
    a[12].number(r.status_type);
    a[13].text(r.session_id);
    a[14].text(input.nas_key);
    a[15].optional_text(r.user_name);
    a[16].real(input.event_time);
    a[17].number(r.delay_time);
    a[18].number(r.session_time);
    a[19].number(r.input_octets);
    a[20].number(r.output_octets);
    a[21].number(r.input_packets);
    a[22].number(r.output_packets);
    a[23].number(r.terminate_cause);
    if (r.framed_ip) {
      a[24].text(radius::to_string(*r.framed_ip));
    } else {
      a[24].null();
    }
    if (scope_ == 0) {
      a[25].text(record_idempotency_text(input));
    } else {
      // A run's records are its own: the same record imported twice, or also received live, is
      // stored in each scope (the key of a live record stays as it was).
      a[25].text("scope " + std::to_string(scope_) + '\x1f' + record_idempotency_text(input));
    }
    // The session as this record alone describes it: the matcher's own rules for which fields a
    // record sets and which flag a first record gets; the database decides the rest.
    radius::SessionMatcher alone(options_.matcher);
    auto described = alone.feed(r, input.nas_key, input.event_time);
    if (described.changed.empty()) {
      for (std::size_t i = 26; i < a.size(); ++i) {
        a[i].null();
      }
      continue;
    }
    const auto& s = described.changed.front();
    a[26].text(std::string(radius::to_string(s.state)));
    a[27].text(radius::session_flags_text(s.flags));
    a[28].real(s.start_time);
    a[29].real(s.update_time);
    a[30].real(s.stop_time);
    a[31].number(s.interim_interval);
    a[32].optional_text(s.peer);
    a[33].optional_text(s.nas_ip);
    a[34].number(s.nas_port);
    a[35].number(s.nas_port_type);
    a[36].optional_text(s.calling_station_id);
    a[37].optional_text(s.called_station_id);
  }
  std::vector<ArrayText> n(11);
  for (const auto& [identity, c] : nas) {
    n[0].text(identity);
    n[1].text(c.address);
    n[2].real(c.first_seen);
    n[3].real(c.last_seen);
    n[4].number(c.requests);
    n[5].number(c.accepted);
    n[6].number(c.duplicates);
    n[7].number(c.bad_authenticator);
    n[8].number(c.bad_message_authenticator);
    n[9].number(c.malformed);
    n[10].number(c.unknown_client);
  }
  std::vector<PgParam> params;
  params.reserve(1 + a.size() + n.size());
  params.push_back(number(options_.run_id));
  for (auto& column : a) {
    params.push_back(column.done());
  }
  for (auto& column : n) {
    params.push_back(column.done());
  }
  params.push_back(number(scope_));
  ArrayText classes;
  for (const auto& item : batch) {
    if (item.record) {
      classes.optional_text(item.record->record.class_text);
    } else {
      classes.null();
    }
  }
  params.push_back(classes.done());
  return params;
}

void PgRecordWriter::expire_sessions(PgConnection& db) {
  // As the matcher judges staleness: no record for more than stale_factor x the interval. Only
  // this writer's scope: a live server never ends an import's sessions by its clock, nor an
  // import the live ones by the capture's. The time is the owner's clock when it gave one (a
  // capture's), else the database's: servers sharing the live scope judge by one clock, not each
  // by its own (docs/design-notes.md, "Run scopes on a shared database"). $1 is cast: inferred
  // from the expression it would be a bigint, which a time with a fraction is not.
  // A row a batch holds locked is skipped, not waited for: it is being written, so not silent,
  // and the judgement takes no lock a batch could then wait on in another order (a deadlock).
  // $5: the sessions whose mark the database refused, told once and not tried again.
  const std::string stale_now =
      "scope = $4 AND state = 'open' AND last_record_time < COALESCE($1::double precision, "
      "extract(epoch FROM clock_timestamp())::double precision) - $2 * "
      "COALESCE(NULLIF(interim_interval, 0), $3) AND id <> ALL($5::bigint[])";
  ArrayText refused;
  for (const auto id : stale_refused_ids_) {
    refused.number(id);
  }
  const std::vector<PgParam> params{own_clock_ ? number(options_.clock()) : PgParam(),
                                    number(std::int64_t{options_.matcher.stale_factor}),
                                    number(std::int64_t{options_.matcher.default_interim_interval}),
                                    number(scope_), refused.done()};
  try {
    db.query("UPDATE sessions SET state = 'stale' WHERE id IN (SELECT id FROM sessions WHERE " +
                 stale_now + " FOR UPDATE SKIP LOCKED)",
             params);
    return;
  } catch (const PgError& error) {
    if (error.connection_lost() || classify(error) != CommitFailure::refused) {
      throw;
    }
  }
  // The database refused a mark (a trigger, a constraint): one refused session would keep every
  // other of the scope open, so each is marked alone and a refused one is told once.
  const auto candidates = db.query("SELECT id, nas_key, acct_session_id FROM sessions WHERE " +
                                       stale_now + " ORDER BY id",
                                   params);
  for (int row = 0; row < candidates.rows(); ++row) {
    const auto id = candidates.int64(row, 0);
    try {
      // Judged again in the statement: a batch may have written a record of it meanwhile.
      auto one = params;
      one.push_back(number(id));
      db.query("UPDATE sessions SET state = 'stale' WHERE id = $6 AND " + stale_now, one);
    } catch (const PgError& error) {
      if (error.connection_lost() || classify(error) != CommitFailure::refused) {
        throw;
      }
      stale_refused_ids_.insert(id);
      {
        std::lock_guard lock(mutex_);
        ++stats_.stale_refused;
      }
      if (on_event_) {
        radius::Session session;
        session.key = {candidates.text(row, 1), candidates.text(row, 2)};
        on_event_(stale_refused_event(session, error));
      }
    }
  }
}

void PgRecordWriter::write(PgConnection& db, std::vector<WriteItem>& batch,
                           const std::optional<std::string>& report,
                           std::vector<Completion>& completions) {
  completions.clear();
  // BEGIN, the batch's one call of acctlab_store (storage/pg_schema.cpp), the run's report and
  // COMMIT go in one pipeline: one round trip per batch. The answers wait for COMMIT's result.
  std::vector<PgStatement> statements;
  statements.push_back({"BEGIN", {}});
  if (!batch.empty()) {
    statements.push_back({std::string(store_sql), store_params(batch)});
  }
  if (report) {
    statements.push_back(
        {"UPDATE runs SET report = $1 WHERE id = $2", {*report, number(options_.run_id)}});
  }
  statements.push_back({"COMMIT", {}});
  std::vector<PgResult> results;
  try {
    results = db.pipeline(statements);
  } catch (const PgError& error) {
    if (!error.connection_lost()) {
      db.exec("ROLLBACK"); // throws, and the lane reconnects, when the connection broke too
    }
    throw;
  }
  if (batch.empty()) {
    return;
  }
  const auto& rows = results[1];
  if (rows.rows() != static_cast<int>(batch.size())) {
    throw PgError("", false,
                  "acctlab_store returned " + std::to_string(rows.rows()) + " rows for " +
                      std::to_string(batch.size()) + " packets");
  }
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (batch[i].tag == 0) {
      continue;
    }
    const int row = static_cast<int>(i);
    completions.push_back({.tag = batch[i].tag,
                           .packet_id = rows.int64(row, 0),
                           .record_id = rows.optional_int64(row, 1).value_or(0),
                           .session_id = rows.optional_int64(row, 2).value_or(0)});
  }
}

void PgRecordWriter::run(std::size_t lane) {
  using clock = std::chrono::steady_clock;
  const bool expires = lane == 0; // one lane judges staleness
  auto next_expire = clock::now() + options_.expire_every;
  Lane state; // its connection and failure state, kept by commit()
  auto& db = state.db;
  std::vector<Completion> completions;
  for (;;) {
    std::vector<WriteItem> batch;
    std::optional<std::string> report;
    bool stopping = false;
    {
      std::unique_lock lock(mutex_);
      const auto ready = [this] {
        return (stopping_ && queue_.empty()) || run_report_pending_ || can_take();
      };
      if (expires) {
        wake_.wait_until(lock, next_expire, ready);
      } else {
        wake_.wait(lock, ready);
      }
      stopping = stopping_;
      if (queue_.empty() && stopping) {
        return;
      }
      // Group commit: what arrived while this lane's previous transaction ran, up to max_batch
      // items, none of a session another lane is writing.
      batch = take_batch();
      if (run_report_pending_) {
        report = run_report_;
        run_report_pending_ = false;
      }
    }
    if (expires && clock::now() >= next_expire) {
      try {
        // This lane may not have written yet (the other lanes took every batch): it connects
        // for the judgement, or its scope's sessions would never go stale.
        if (!db || !db->ok()) {
          db = connect_lane();
        }
        expire_sessions(*db);
      } catch (const Error&) {
        // Judged again at the next turn; the write path below reports a lost database.
      }
      next_expire = clock::now() + options_.expire_every;
    }
    if (batch.empty() && !report) {
      continue;
    }
    std::optional<PgError> refusal;
    auto outcome = commit(state, batch, report, completions, refusal);
    if (outcome == Outcome::refused) {
      // The parts carry items only: the owner's next report replaces this one (a report the
      // database refused cannot make every later batch a refused one).
      outcome = isolate_refused(state, batch, *refusal) ? Outcome::committed : Outcome::abandoned;
      completions.clear(); // the parts delivered their own
    }
    {
      std::lock_guard lock(mutex_);
      release(batch);
      if (outcome == Outcome::abandoned) {
        // Never acknowledged: dropping them loses nothing a NAS believes is stored.
        queue_.clear();
      }
    }
    wake_.notify_all(); // items held back for this batch's sessions may go now
    if (outcome == Outcome::abandoned) {
      return;
    }
    if (!completions.empty() && on_complete_) {
      on_complete_(std::move(completions));
    }
    completions = {};
  }
}

PgRecordWriter::Outcome PgRecordWriter::commit(Lane& lane, std::vector<WriteItem>& batch,
                                               const std::optional<std::string>& report,
                                               std::vector<Completion>& completions,
                                               std::optional<PgError>& refusal) {
  using clock = std::chrono::steady_clock;
  auto delay = options_.retry_initial;
  for (;;) {
    const auto started = clock::now();
    try {
      if (!lane.db || !lane.db->ok()) {
        lane.db = connect_lane();
      }
      write(*lane.db, batch, report, completions);
    } catch (const Error& error) {
      const auto* pg = dynamic_cast<const PgError*>(&error);
      if (!pg || pg->connection_lost() || !lane.db || !lane.db->ok()) {
        lane.db.reset(); // reconnect on the next attempt
      }
      const bool refused = pg && classify(*pg) == CommitFailure::refused;
      bool first_failure = false;
      bool stopping = false;
      {
        std::lock_guard lock(mutex_);
        ++stats_.failures;
        stopping = stopping_;
        // A deadlock between two servers' transactions is retried at once: PostgreSQL
        // aborted this one so that the other could go on.
        if (pg && pg->retryable()) {
          continue;
        }
        if (!refused) {
          if (!lane.failing) {
            lane.failing = true;
            first_failure = ++failing_lanes_ == 1;
          }
          stats_.healthy = false;
        }
      }
      if (refused) {
        // The same rows would fail again however long we waited: the caller splits the batch.
        refusal = *pg;
        return Outcome::refused;
      }
      if (first_failure && on_event_) {
        on_event_({WriterEvent::Kind::commit_failed, error.what(), error.code()});
      }
      if (stopping && !lane.stop_deadline) {
        lane.stop_deadline = clock::now() + options_.stop_grace;
      }
      if (lane.stop_deadline && clock::now() >= *lane.stop_deadline) {
        return Outcome::abandoned;
      }
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, delay, [this, stopping] { return stopping_ != stopping; });
      delay = std::min(delay * 2, options_.retry_max);
      continue;
    }
    const double seconds = std::chrono::duration<double>(clock::now() - started).count();
    bool recovered = false;
    {
      std::lock_guard lock(mutex_);
      ++stats_.batches;
      stats_.items += batch.size();
      stats_.max_batch = std::max<std::uint64_t>(stats_.max_batch, batch.size());
      stats_.last_commit_seconds = seconds;
      stats_.max_commit_seconds = std::max(stats_.max_commit_seconds, seconds);
      stats_.total_commit_seconds += seconds;
      stats_.commit_latency.add(seconds);
      if (lane.failing) {
        lane.failing = false;
        recovered = --failing_lanes_ == 0;
      }
      stats_.healthy = failing_lanes_ == 0;
    }
    if (recovered && on_event_) {
      on_event_({WriterEvent::Kind::recovered, "database writable again", 0});
    }
    return Outcome::committed;
  }
}

bool PgRecordWriter::isolate_refused(Lane& lane, const std::vector<WriteItem>& batch,
                                     const PgError& refusal) {
  // The database holds the sessions (acctlab_store matches them), so a refused transaction left
  // no state behind to undo: the parts are written as any batch is. The batch's claims stay
  // until every part is done, so no other lane takes a later record of these sessions meanwhile.
  RefusalBisector parts(batch.size());
  std::optional<PgError> refused = refusal;
  std::vector<Completion> completions;
  while (!parts.done()) {
    if (refused) {
      if (const auto index = parts.refused()) {
        {
          std::lock_guard lock(mutex_);
          ++stats_.refused;
        }
        if (on_event_) {
          on_event_(refused_event(batch[*index], *refused));
        }
      }
      refused.reset();
      continue;
    }
    const auto [first, last] = parts.next();
    std::vector<WriteItem> part(batch.begin() + static_cast<std::ptrdiff_t>(first),
                                batch.begin() + static_cast<std::ptrdiff_t>(last));
    switch (commit(lane, part, std::nullopt, completions, refused)) {
      case Outcome::committed:
        parts.committed();
        if (!completions.empty() && on_complete_) {
          on_complete_(std::move(completions));
        }
        completions = {};
        break;
      case Outcome::abandoned:
        return false;
      case Outcome::refused:
        break;
    }
  }
  return true;
}

std::unique_ptr<AccountingWriter> open_writer(const std::string& database, WriterOptions options,
                                              AccountingWriter::CompletionHandler on_complete,
                                              AccountingWriter::EventHandler on_event) {
  if (is_postgres_uri(database)) {
    return std::make_unique<PgRecordWriter>(database, std::move(options), std::move(on_complete),
                                            std::move(on_event));
  }
  return std::make_unique<RecordWriter>(database, std::move(options), std::move(on_complete),
                                        std::move(on_event));
}

} // namespace acctlab::storage
