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

constexpr std::string_view store_sql =
    "SELECT o_packet, o_record, o_session FROM acctlab_store($1, $2, $3, $4, $5, $6, $7, $8, $9, "
    "$10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, "
    "$28, $29, $30, $31, $32, $33, $34, $35, $36, $37, $38, $39)";

/** The most records one pipeline carries before its answers are read: the statements' results
 * wait in socket buffers meanwhile, and these are far from full at this count. */
constexpr std::size_t pipeline_depth = 256;

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

std::vector<PgParam> PgRecordWriter::store_params(const WriteItem& item) const {
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
  params.resize(39);
  if (!item.record) {
    return params;
  }
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
  // The session as this record alone describes it: the matcher's own rules for which fields a
  // record sets and which flag a first record gets; the database decides the rest.
  radius::SessionMatcher alone(options_.matcher);
  auto described = alone.feed(r, input.nas_key, input.event_time);
  if (!described.changed.empty()) {
    const auto& s = described.changed.front();
    params[27] = std::string(radius::to_string(s.state));
    params[28] = radius::session_flags_text(s.flags);
    params[29] = s.start_time ? number(*s.start_time) : std::nullopt;
    params[30] = s.update_time ? number(*s.update_time) : std::nullopt;
    params[31] = s.stop_time ? number(*s.stop_time) : std::nullopt;
    params[32] = number(s.interim_interval);
    params[33] = s.peer;
    params[34] = s.nas_ip;
    params[35] = number(s.nas_port);
    params[36] = number(s.nas_port_type);
    params[37] = s.calling_station_id;
    params[38] = s.called_station_id;
  }
  return params;
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
    // Each record is one call of acctlab_store (storage/pg_schema.cpp), pipeline_depth of them
    // to the server at once: a round trip per slice, not several per record.
    std::vector<std::vector<PgParam>> lists;
    for (std::size_t first = 0; first < batch.size(); first += pipeline_depth) {
      const auto end = std::min(batch.size(), first + pipeline_depth);
      lists.clear();
      for (std::size_t i = first; i < end; ++i) {
        lists.push_back(store_params(batch[i]));
      }
      const auto results = db_->query_each(std::string(store_sql), lists);
      for (std::size_t i = first; i < end; ++i) {
        const auto& row = results[i - first];
        if (batch[i].tag == 0) {
          continue;
        }
        completions.push_back({.tag = batch[i].tag,
                               .packet_id = row.int64(0, 0),
                               .record_id = row.optional_int64(0, 1).value_or(0),
                               .session_id = row.optional_int64(0, 2).value_or(0)});
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
