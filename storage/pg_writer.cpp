#include "storage/pg_writer.hpp"

#include "storage/pg_connection.hpp"
#include "storage/pg_schema.hpp"

#include <charconv>
#include <chrono>

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

PgParam text(const std::optional<std::string>& value) {
  return value;
}

PgParam bytea(const std::vector<std::uint8_t>& bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out = "\\x";
  out.reserve(2 + bytes.size() * 2);
  for (auto b : bytes) {
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 15]);
  }
  return out;
}

constexpr std::string_view insert_packet_sql =
    "INSERT INTO packets (run_id, receive_time, src_addr, src_port, dst_addr, dst_port, code, "
    "identifier, verdict, reason, file, frame, raw, status_type, acct_session_id, nas_identity, "
    "user_name, event_time, delay, session_time, input_octets, output_octets, input_packets, "
    "output_packets, terminate_cause, framed_ip, idem_key) VALUES ($1, $2, $3, $4, $5, $6, $7, "
    "$8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, "
    "$26, md5($27)) ON CONFLICT (idem_key) DO NOTHING RETURNING id";

/** flags with one more flag name, unless it is there. */
std::string add_flag_sql(std::string_view flag) {
  const std::string name(flag);
  return "CASE WHEN ',' || flags || ',' LIKE '%," + name + ",%' THEN flags WHEN flags = '' THEN '" +
         name + "' ELSE flags || '," + name + "' END";
}

// An Interim-Update or Stop on the session of this NAS and Acct-Session-Id that is not closed
// (open, or stale and speaking again), locked so that a server updating it concurrently waits:
// its condition is checked again on the row it then finds.
const std::string update_session_sql =
    "UPDATE sessions SET state = CASE WHEN $3 THEN 'closed' ELSE 'open' END, "
    "update_time = CASE WHEN $3 THEN update_time ELSE $4 END, "
    "stop_time = CASE WHEN $3 THEN $4 ELSE stop_time END, "
    "last_record_time = GREATEST(last_record_time, $4), "
    "input_octets = COALESCE($5, input_octets), output_octets = COALESCE($6, output_octets), "
    "input_packets = COALESCE($7, input_packets), output_packets = COALESCE($8, output_packets), "
    "session_time = COALESCE($9, session_time), terminate_cause = COALESCE($10, "
    "terminate_cause), user_name = COALESCE(user_name, $11), framed_ip = COALESCE(framed_ip, "
    "$12), peer = COALESCE(peer, $13), record_count = record_count + 1 "
    "WHERE id = (SELECT id FROM sessions WHERE nas_key = $1 AND acct_session_id = $2 AND "
    "state <> 'closed' ORDER BY (state = 'open') DESC, id DESC LIMIT 1 FOR UPDATE) RETURNING id";

// A record after the session closed joins the latest session of its key, flagged.
const std::string after_stop_sql =
    "UPDATE sessions SET flags = " + add_flag_sql("after-stop") +
    ", record_count = record_count + 1, last_record_time = GREATEST(last_record_time, $3) "
    "WHERE id = (SELECT id FROM sessions WHERE nas_key = $1 AND acct_session_id = $2 "
    "ORDER BY id DESC LIMIT 1 FOR UPDATE) RETURNING id";

constexpr std::string_view session_columns =
    "nas_key, acct_session_id, unique_id, state, flags, start_time, update_time, stop_time, "
    "last_record_time, input_octets, output_octets, input_packets, output_packets, session_time, "
    "terminate_cause, interim_interval, user_name, framed_ip, peer, nas_ip, nas_port, "
    "nas_port_type, calling_station_id, called_station_id, record_count";
constexpr std::string_view session_values =
    "$1, $2, md5($3), $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, "
    "$20, $21, $22, $23, $24, 1";

// A Start: a new open session, or, when one is open for this NAS and Acct-Session-Id (whichever
// server opened it), that one flagged duplicate-start.
const std::string start_session_sql =
    "INSERT INTO sessions (" + std::string(session_columns) + ") VALUES (" +
    std::string(session_values) +
    ") ON CONFLICT (nas_key, acct_session_id) WHERE state = 'open' DO UPDATE SET flags = " +
    [] {
      auto flag = add_flag_sql("duplicate-start");
      // In ON CONFLICT ... DO UPDATE the row's own columns need the table's name.
      for (std::size_t at = 0; (at = flag.find("flags", at)) != std::string::npos; at += 14) {
        flag.replace(at, 5, "sessions.flags");
      }
      return flag;
    }() +
    ", last_record_time = GREATEST(sessions.last_record_time, EXCLUDED.last_record_time), "
    "record_count = sessions.record_count + 1 RETURNING id";

// An Interim-Update or Stop for a key with no session: a session of its own, open or closed.
const std::string insert_session_sql = "INSERT INTO sessions (" + std::string(session_columns) +
                                       ") VALUES (" + std::string(session_values) +
                                       ") ON CONFLICT DO NOTHING RETURNING id";

} // namespace

std::string record_idempotency_text(const RecordInput& input) {
  const auto& r = input.record;
  // Acct-Delay-Time is left out: a retransmission raises it (RFC 2866 §5.2) and it is still the
  // same record. Without Event-Timestamp, the event time in 30-second steps stands for it: the
  // two copies of a broadcast arrive within milliseconds, a NAS reusing an Acct-Session-Id after
  // a reboot does not within 30 s.
  std::string key = input.nas_key;
  const auto field = [&key](const auto& value) {
    key.push_back('\x1f');
    if (value) {
      key += std::to_string(*value);
    }
  };
  key.push_back('\x1f');
  key += r.session_id;
  field(r.status_type);
  if (r.event_timestamp) {
    field(r.event_timestamp);
  } else {
    key += "\x1f~" + std::to_string(static_cast<std::int64_t>(input.event_time / 30));
  }
  field(r.session_time);
  field(r.input_octets);
  field(r.output_octets);
  field(r.input_packets);
  field(r.output_packets);
  field(r.terminate_cause);
  return key;
}

PgRecordWriter::PgRecordWriter(const std::string& uri, WriterOptions options,
                               CompletionHandler on_complete, EventHandler on_event)
    : uri_(uri), options_(std::move(options)), on_complete_(std::move(on_complete)),
      on_event_(std::move(on_event)) {
  if (!options_.clock) {
    options_.clock = wall_clock;
  }
  db_ = std::make_unique<PgConnection>(uri_);
  // Acknowledge after commit: COMMIT returns once the WAL is flushed on the server.
  db_->exec("SET synchronous_commit = on");
  migrate_postgres(*db_);
  if (!options_.run_id && options_.run_kind) {
    auto run = db_->query("INSERT INTO runs (kind, started) VALUES ($1, $2) RETURNING id",
                          {*options_.run_kind, number(options_.clock())});
    options_.run_id = run.int64(0, 0);
    owns_run_ = true;
  }
  thread_ = std::thread([this] { run(); });
}

PgRecordWriter::~PgRecordWriter() {
  stop();
}

void PgRecordWriter::submit(WriteItem item) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(item));
  }
  wake_.notify_one();
}

void PgRecordWriter::submit(std::vector<WriteItem>& items) {
  if (items.empty()) {
    return;
  }
  {
    std::lock_guard lock(mutex_);
    for (auto& item : items) {
      queue_.push_back(std::move(item));
    }
  }
  items.clear();
  wake_.notify_one();
}

void PgRecordWriter::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (!thread_.joinable()) {
    return;
  }
  thread_.join();
  if (owns_run_) {
    try {
      if (!db_ || !db_->ok()) {
        db_ = std::make_unique<PgConnection>(uri_);
      }
      std::lock_guard lock(mutex_);
      db_->query("UPDATE runs SET finished = $1, verdict = $2, report = $3 WHERE id = $4",
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

Completion PgRecordWriter::write_item(const WriteItem& item) {
  const auto& p = item.packet;
  std::vector<PgParam> params{
      number(options_.run_id),
      number(p.receive_time),
      p.src_addr,
      number(std::int64_t{p.src_port}),
      p.dst_addr,
      number(std::int64_t{p.dst_port}),
      p.code ? number(std::int64_t{*p.code}) : std::nullopt,
      p.identifier ? number(std::int64_t{*p.identifier}) : std::nullopt,
      std::string(to_string(p.verdict)),
      p.reason.empty() ? std::nullopt : PgParam(p.reason),
      text(p.file),
      number(p.frame),
      bytea(p.raw),
  };
  params.resize(27);
  if (item.record) {
    const auto& input = *item.record;
    const auto& r = input.record;
    params[13] = number(r.status_type);
    params[14] = r.session_id;
    params[15] = input.nas_key;
    params[16] = text(r.user_name);
    params[17] = number(input.event_time);
    params[18] = number(r.delay_time);
    params[19] = number(r.session_time);
    params[20] = number(r.input_octets);
    params[21] = number(r.output_octets);
    params[22] = number(r.input_packets);
    params[23] = number(r.output_packets);
    params[24] = number(r.terminate_cause);
    if (r.framed_ip) {
      params[25] = radius::to_string(*r.framed_ip);
    }
    params[26] = record_idempotency_text(input);
  }
  auto inserted = db_->query(std::string(insert_packet_sql), params);
  Completion completion{.tag = item.tag};
  if (inserted.rows() == 1) {
    completion.packet_id = inserted.int64(0, 0);
    if (item.record) {
      completion.record_id = completion.packet_id; // a record's id is its packet's
      completion.session_id = write_session(completion.packet_id, *item.record);
    }
    return completion;
  }
  // The same record is stored already (the other copy of a broadcast, stored by this server or
  // another): the packet is kept as evidence, the record and its session change are not
  // repeated, and the answer names the stored record.
  auto stored =
      db_->query("SELECT id, session_row FROM packets WHERE idem_key = md5($1)", {params[26]});
  for (std::size_t i = 13; i < params.size(); ++i) {
    params[i] = std::nullopt;
  }
  params[8] = std::string(to_string(Verdict::duplicate));
  params[9] = "the same record is stored as packet " + stored.text(0, 0);
  auto copy = db_->query(std::string(insert_packet_sql), params);
  completion.packet_id = copy.int64(0, 0);
  completion.record_id = stored.int64(0, 0);
  completion.session_id = stored.optional_int64(0, 1).value_or(0);
  return completion;
}

std::int64_t PgRecordWriter::write_session(std::int64_t packet_id, const RecordInput& input) {
  const auto& r = input.record;
  if (!r.status_type) {
    return 0;
  }
  const auto status = static_cast<radius::AcctStatusType>(*r.status_type);
  const auto ev = number(input.event_time);
  if (status == radius::AcctStatusType::accounting_on ||
      status == radius::AcctStatusType::accounting_off) {
    // RFC 2866 §5.1: the NAS (re)started or stops; every session it had open is over, whichever
    // server opened it, with the cause this record carries, else NAS-Reboot.
    db_->query("UPDATE sessions SET state = 'closed', stop_time = GREATEST($2, "
               "last_record_time), terminate_cause = COALESCE($3, 11) WHERE nas_key = $1 AND "
               "state = 'open'",
               {input.nas_key, ev, number(r.terminate_cause)});
    return 0;
  }
  if (r.session_id.empty() ||
      (status != radius::AcctStatusType::start && status != radius::AcctStatusType::stop &&
       status != radius::AcctStatusType::interim_update)) {
    return 0;
  }
  // The session as this record alone describes it (the matcher's own rules for which fields a
  // record sets and which flags a first record gets).
  radius::SessionMatcher alone(options_.matcher);
  auto described = alone.feed(r, input.nas_key, input.event_time);
  if (described.changed.empty()) {
    return 0;
  }
  const auto& s = described.changed.front();
  const std::vector<PgParam> session_params{
      input.nas_key,
      r.session_id,
      record_idempotency_text(input),
      std::string(radius::to_string(s.state)),
      radius::session_flags_text(s.flags),
      s.start_time ? number(*s.start_time) : std::nullopt,
      s.update_time ? number(*s.update_time) : std::nullopt,
      s.stop_time ? number(*s.stop_time) : std::nullopt,
      number(s.last_record_time),
      number(s.input_octets),
      number(s.output_octets),
      number(s.input_packets),
      number(s.output_packets),
      number(s.session_time),
      number(s.terminate_cause),
      number(s.interim_interval),
      s.user_name,
      s.framed_ip,
      s.peer,
      s.nas_ip,
      number(s.nas_port),
      number(s.nas_port_type),
      s.calling_station_id,
      s.called_station_id,
  };
  std::int64_t session_id = 0;
  if (status == radius::AcctStatusType::start) {
    session_id = db_->query(start_session_sql, session_params).int64(0, 0);
  } else {
    const bool stop = status == radius::AcctStatusType::stop;
    const std::vector<PgParam> update_params{input.nas_key,
                                             r.session_id,
                                             std::string(stop ? "true" : "false"),
                                             ev,
                                             number(s.input_octets),
                                             number(s.output_octets),
                                             number(s.input_packets),
                                             number(s.output_packets),
                                             number(s.session_time),
                                             number(s.terminate_cause),
                                             s.user_name,
                                             s.framed_ip,
                                             s.peer};
    // Bounded: each pass either finds the session or creates it; a pass that loses the race
    // to another server's insert finds that server's session on the next.
    for (int attempt = 0; attempt < 3 && session_id == 0; ++attempt) {
      if (auto updated = db_->query(update_session_sql, update_params); updated.rows() == 1) {
        session_id = updated.int64(0, 0);
      } else if (auto late = db_->query(after_stop_sql, {input.nas_key, r.session_id, ev});
                 late.rows() == 1) {
        session_id = late.int64(0, 0);
      } else if (auto created = db_->query(insert_session_sql, session_params);
                 created.rows() == 1) {
        session_id = created.int64(0, 0);
      }
    }
  }
  if (session_id != 0) {
    db_->query("UPDATE packets SET session_row = $1 WHERE id = $2",
               {number(session_id), number(packet_id)});
  }
  return session_id;
}

void PgRecordWriter::expire_sessions() {
  // As the matcher judges staleness: no record for more than stale_factor x the interval.
  db_->query("UPDATE sessions SET state = 'stale' WHERE state = 'open' AND last_record_time < $1 "
             "- $2 * COALESCE(interim_interval, $3)",
             {number(options_.clock()), number(std::int64_t{options_.matcher.stale_factor}),
              number(std::int64_t{options_.matcher.default_interim_interval})});
}

void PgRecordWriter::write(std::vector<WriteItem>& batch, const std::optional<std::string>& report,
                           std::vector<Completion>& completions) {
  completions.clear();
  if (!db_ || !db_->ok()) {
    db_ = std::make_unique<PgConnection>(uri_);
    db_->exec("SET synchronous_commit = on");
  }
  db_->exec("BEGIN");
  try {
    for (const auto& item : batch) {
      auto completion = write_item(item);
      if (item.tag != 0) {
        completions.push_back(completion);
      }
    }
    if (report) {
      db_->query("UPDATE runs SET report = $1 WHERE id = $2", {*report, number(options_.run_id)});
    }
    db_->exec("COMMIT");
  } catch (const PgError& error) {
    if (!error.connection_lost()) {
      try {
        db_->exec("ROLLBACK");
      } catch (const Error&) {
        db_.reset(); // the connection broke as well: a new one for the retry
      }
    }
    throw;
  }
}

void PgRecordWriter::run() {
  using clock = std::chrono::steady_clock;
  auto next_expire = clock::now() + options_.expire_every;
  std::vector<Completion> completions;
  bool failing = false;
  std::optional<clock::time_point> stop_deadline;
  for (;;) {
    std::vector<WriteItem> batch;
    std::optional<std::string> report;
    bool stopping = false;
    {
      std::unique_lock lock(mutex_);
      wake_.wait_until(lock, next_expire,
                       [this] { return stopping_ || !queue_.empty() || run_report_pending_; });
      stopping = stopping_;
      if (queue_.empty() && stopping) {
        return;
      }
      // Group commit: everything that arrived while the previous transaction ran.
      batch.swap(queue_);
      if (run_report_pending_) {
        report = run_report_;
        run_report_pending_ = false;
      }
    }
    if (clock::now() >= next_expire) {
      try {
        if (db_ && db_->ok()) {
          expire_sessions();
        }
      } catch (const Error&) {
        // Judged again at the next turn; the write path below reports a lost database.
      }
      next_expire = clock::now() + options_.expire_every;
    }
    if (batch.empty() && !report) {
      continue;
    }
    auto delay = options_.retry_initial;
    for (;;) {
      const auto started = clock::now();
      try {
        write(batch, report, completions);
      } catch (const Error& error) {
        const auto* pg = dynamic_cast<const PgError*>(&error);
        if (pg && pg->connection_lost()) {
          db_.reset(); // reconnect on the next attempt
        }
        {
          std::lock_guard lock(mutex_);
          ++stats_.failures;
          stopping = stopping_;
          // A deadlock between two servers' transactions is retried at once: PostgreSQL
          // aborted this one so that the other could go on.
          if (pg && pg->retryable()) {
            continue;
          }
          stats_.healthy = false;
        }
        if (!failing && on_event_) {
          on_event_({WriterEvent::Kind::commit_failed, error.what(), error.code()});
        }
        failing = true;
        if (stopping && !stop_deadline) {
          stop_deadline = clock::now() + options_.stop_grace;
        }
        if (stop_deadline && clock::now() >= *stop_deadline) {
          // Never acknowledged: dropping them loses nothing a NAS believes is stored.
          std::lock_guard lock(mutex_);
          queue_.clear();
          return;
        }
        std::unique_lock lock(mutex_);
        wake_.wait_for(lock, delay, [this, stopping] { return stopping_ != stopping; });
        delay = std::min(delay * 2, options_.retry_max);
        continue;
      }
      const double seconds = std::chrono::duration<double>(clock::now() - started).count();
      {
        std::lock_guard lock(mutex_);
        ++stats_.batches;
        stats_.items += batch.size();
        stats_.max_batch = std::max<std::uint64_t>(stats_.max_batch, batch.size());
        stats_.last_commit_seconds = seconds;
        stats_.max_commit_seconds = std::max(stats_.max_commit_seconds, seconds);
        stats_.total_commit_seconds += seconds;
        stats_.healthy = true;
      }
      if (failing && on_event_) {
        on_event_({WriterEvent::Kind::recovered, "database writable again", 0});
      }
      failing = false;
      break;
    }
    if (!completions.empty() && on_complete_) {
      on_complete_(std::move(completions));
      completions = {};
    }
  }
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
