#include "storage/record_writer.hpp"

#include "storage/commit_failure.hpp"
#include "storage/nas_counters.hpp"
#include "storage/session_store.hpp"

#include <cmath>
#include <iterator>
#include <map>
#include <unordered_map>
#include <unordered_set>

namespace acctlab::storage {
namespace {

double wall_clock() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

} // namespace

/** A batch after matching: what one transaction writes. Kept as is when a commit must retry. */
namespace {

constexpr std::size_t npos = static_cast<std::size_t>(-1);

} // namespace

struct RecordWriter::Prepared {
  std::vector<WriteItem> items;
  std::vector<std::int64_t> session_ids; // per item
  std::vector<radius::Session> sessions; // the last snapshot of each changed session
  std::unordered_map<std::int64_t, std::size_t> session_index;
  std::map<std::string, NasCounters> nas;
  std::optional<std::string> run_report; // the owner's latest report for runs.report
  bool expired = false;                  // sessions holds stale marks of an expiry check
  // The same record stored once (storage/record_key.hpp), per item: its key when it is a record
  // to remember once committed, the earlier item of the batch it repeats (or npos), the packet
  // row written for it.
  std::vector<std::optional<RecentRecords::Key>> keys;
  std::vector<std::size_t> repeats;
  std::vector<std::int64_t> packet_ids;

  void add_session(radius::Session session) {
    const auto [it, inserted] = session_index.try_emplace(session.id, sessions.size());
    if (inserted) {
      sessions.push_back(std::move(session));
    } else {
      sessions[it->second] = std::move(session);
    }
  }
  bool empty() const { return items.empty() && sessions.empty() && !run_report; }
};

/** The writer's statements, prepared once on the commit thread's connection. */
struct RecordWriter::Statements {
  explicit Statements(Database& db)
      // One row per request: a valid request's record columns sit in its packet's row (schema
      // migration 6), NULL for a packet without a record.
      : insert_packet(db.prepare(
            "INSERT INTO packets (run_id, receive_time, src_addr, src_port, dst_addr, dst_port, "
            "code, identifier, verdict, reason, file, frame, raw, session_row, status_type, "
            "acct_session_id, nas_identity, user_name, event_time, delay, session_time, "
            "input_octets, output_octets, input_packets, output_packets, terminate_cause, "
            "framed_ip) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, "
            "?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27)")),
        upsert_session(db, SessionUpsert::Tallies::batched),
        upsert_nas(db.prepare(
            "INSERT INTO nas (identity, address, first_seen, last_seen, requests, accepted, "
            "duplicates, bad_authenticator, bad_message_authenticator, malformed, "
            "unknown_client) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) ON CONFLICT "
            "(identity) DO UPDATE SET address = excluded.address, last_seen = max(last_seen, "
            "excluded.last_seen), requests = requests + excluded.requests, accepted = accepted "
            "+ excluded.accepted, duplicates = duplicates + excluded.duplicates, "
            "bad_authenticator = bad_authenticator + excluded.bad_authenticator, "
            "bad_message_authenticator = bad_message_authenticator + "
            "excluded.bad_message_authenticator, malformed = malformed + excluded.malformed, "
            "unknown_client = unknown_client + excluded.unknown_client")),
        update_run_report(db.prepare("UPDATE runs SET report = ?1 WHERE id = ?2")) {}

  Statement insert_packet;
  SessionUpsert upsert_session;
  Statement upsert_nas;
  Statement update_run_report;
  TallyBatch tallies; // the report viewer's counts (schema.hpp), one upsert per key per batch
};

RecordWriter::RecordWriter(const std::string& path, WriterOptions options,
                           CompletionHandler on_complete, EventHandler on_event)
    : path_(path), options_(std::move(options)), on_complete_(std::move(on_complete)),
      on_event_(std::move(on_event)), lock_(path), db_(path, options_.open),
      matcher_(options_.matcher) {
  if (!options_.clock) {
    options_.clock = wall_clock;
  }
  migrate(db_);
  // The writer's own connection: a cache large enough that the tables' right edges and the open
  // sessions' pages stay in memory, and no larger: SQLite walks its whole page cache at the end
  // of any transaction that split a b-tree page in the middle of a tree (the split renumbers
  // pages through a page number past the end of the file, and the commit then drops every cached
  // page beyond the end), which nearly every batch does. At 32 MiB that walk was 5-8 % of the
  // commit thread; at 8 MiB it is 1 % (docs/PERFORMANCE.md). No foreign key lookups per row
  // either — every row the writer inserts points at a packet or session it wrote earlier in the
  // same transaction (tests/storage checks pragma foreign_key_check after load). Other
  // connections keep them on.
  db_.exec("PRAGMA cache_size = -8192");
  db_.exec("PRAGMA foreign_keys = OFF");
  if (options_.open.wal && !options_.open.read_only &&
      options_.open.synchronous == Synchronous::full) {
    // synchronous=FULL semantics with the fsync moved off the commit thread: the writer commits
    // with NORMAL and the syncer makes each batch durable before its completions go out
    // (storage/wal_syncer.hpp).
    db_.exec("PRAGMA synchronous = NORMAL");
    syncer_ = std::make_unique<WalSyncer>(
        path_ + "-wal",
        [this](const std::string& message) {
          {
            std::lock_guard lock(mutex_);
            stats_.healthy = false;
          }
          if (on_event_) {
            on_event_({WriterEvent::Kind::commit_failed,
                       message + ": records may not be on disk, so no answer goes out any more; "
                                 "check the disk and restart",
                       0});
          }
        },
        options_.sync_workers);
  }
  // The open-session index lives in memory (write-through); rebuild it from what is stored, of
  // this writer's scope only: a live server never continues (or ends) a session a capture import
  // or a conformance run left open in the same file.
  if (options_.restore_sessions) {
    for (auto& session : load_sessions_for_matcher(db_, options_.matcher.recent_capacity,
                                                   options_.session_scope.value_or(0))) {
      matcher_.restore(std::move(session));
    }
  }
  written_max_session_ = max_session_id(db_);
  matcher_.set_next_id(written_max_session_ + 1);
  stats_.open_sessions = matcher_.open_count();
  if (!options_.run_id && options_.run_kind) {
    db_.prepare("INSERT INTO runs (kind, started) VALUES (?1, ?2)")
        .bind(1, *options_.run_kind)
        .bind(2, options_.clock())
        .run();
    options_.run_id = db_.last_insert_rowid();
    owns_run_ = true;
  }
  statements_ = std::make_unique<Statements>(db_);
  if (options_.open.wal && !options_.open.read_only) {
    checkpointer_ =
        std::make_unique<WalCheckpointer>(db_, options_.open, options_.checkpoint_pages);
  }
  thread_ = std::thread([this] { run(); });
}

RecordWriter::~RecordWriter() {
  stop();
}

void RecordWriter::submit(WriteItem item) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(item));
  }
  wake_.notify_one();
}

void RecordWriter::submit(std::vector<WriteItem>& items) {
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
  wake_.notify_one();
}

void RecordWriter::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (!thread_.joinable()) {
    return;
  }
  thread_.join();
  if (syncer_) {
    syncer_->stop(); // the last batches' completions go out once they are on disk
  }
  if (checkpointer_) {
    checkpointer_->stop();
  }
  if (owns_run_) {
    try {
      std::lock_guard lock(mutex_);
      if (syncer_) {
        // The syncer is gone: this last commit makes itself durable, as synchronous=FULL does.
        db_.exec("PRAGMA synchronous = FULL");
      }
      db_.prepare("UPDATE runs SET finished = ?1, verdict = ?2, report = ?3 WHERE id = ?4")
          .bind(1, options_.clock())
          .bind(2, stats_.healthy ? "stopped" : "stopped-database-failing")
          .bind(3, run_report_.empty() ? std::string("{}") : run_report_)
          .bind(4, *options_.run_id)
          .run();
    } catch (const Error&) {
      // The run stays unfinished; its packets are stored all the same.
    }
  }
}

void RecordWriter::set_run_report(std::string json) {
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

WriterStats RecordWriter::stats() const {
  std::lock_guard lock(mutex_);
  WriterStats copy = stats_;
  copy.queued = queue_.size();
  copy.checkpoints = checkpointer_ ? checkpointer_->completed() : 0;
  if (syncer_) {
    const auto timing = syncer_->timing();
    copy.syncs = timing.syncs;
    copy.total_sync_seconds = timing.total_seconds;
    copy.max_sync_seconds = timing.max_seconds;
    copy.sync_latency = timing.histogram;
  }
  return copy;
}

std::size_t RecordWriter::queued() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

void RecordWriter::take_slice(std::vector<WriteItem>& batch) {
  const std::size_t limit = std::max<std::size_t>(options_.max_batch, 1);
  const std::size_t end = std::min(backlog_.size(), backlog_next_ + limit);
  if (backlog_next_ == 0 && end == backlog_.size()) {
    batch.swap(backlog_); // the common case: everything queued fits one transaction
    backlog_next_ = 0;
    return;
  }
  batch.reserve(end - backlog_next_);
  for (; backlog_next_ < end; ++backlog_next_) {
    batch.push_back(std::move(backlog_[backlog_next_]));
  }
}

void RecordWriter::prepare_batch(std::vector<WriteItem>& batch, Prepared& prepared) {
  prepared.items = std::move(batch);
  const std::size_t n = prepared.items.size();
  prepared.session_ids.assign(n, 0);
  prepared.keys.assign(n, std::nullopt);
  prepared.repeats.assign(n, npos);
  prepared.packet_ids.assign(n, 0);
  std::unordered_map<RecentRecords::Key, std::size_t, RecentRecords::KeyHash> batch_keys;
  for (std::size_t i = 0; i < n; ++i) {
    auto& item = prepared.items[i];
    if (item.record) {
      // A copy of a record stored within the window (a resend from a new source port, a
      // broadcast's second copy): kept as a duplicate packet naming it, answered, not applied.
      const auto key = RecentRecords::key_of(record_idempotency_text(*item.record));
      const double event_time = item.record->event_time;
      const auto stored = recent_.find(key, event_time);
      const auto earlier = batch_keys.find(key);
      const bool repeats_earlier = !stored && earlier != batch_keys.end() &&
                                   std::abs(prepared.items[earlier->second].record->event_time -
                                            event_time) <= duplicate_record_window;
      if (stored || repeats_earlier) {
        item.packet.verdict = Verdict::duplicate;
        item.packet.reason = stored
                                 ? "the same record is stored as packet " + std::to_string(*stored)
                                 : "the same record is stored as an earlier request of its "
                                   "batch";
        item.record.reset();
        if (repeats_earlier) {
          prepared.repeats[i] = earlier->second;
        }
      } else {
        prepared.keys[i] = key;
        batch_keys[key] = i;
      }
    }
    if (!item.nas.empty()) {
      count(prepared.nas[item.nas], item.packet);
    }
    if (!item.record) {
      continue;
    }
    auto result = matcher_.feed(item.record->record, item.record->nas_key, item.record->event_time);
    prepared.session_ids[i] = result.session_id;
    for (auto& session : result.changed) {
      prepared.add_session(std::move(session));
    }
  }
}

SessionUpsert::Row RecordWriter::row_hint(const radius::Session& session) const {
  if (session.id > written_max_session_) {
    return SessionUpsert::Row::absent;
  }
  const auto it = written_identity_.find(session.id);
  return it != written_identity_.end() && it->second.matches(session)
             ? SessionUpsert::Row::present_same_identity
             : SessionUpsert::Row::present;
}

void RecordWriter::write(Prepared& prepared, std::vector<Completion>& completions) {
  completions.clear();
  Transaction transaction(db_);
  auto& insert_packet = statements_->insert_packet;
  auto& upsert = statements_->upsert_session;
  auto& tallies = statements_->tallies;
  tallies.clear(); // a retried batch counts again from nothing
  upsert.discard_tallies();
  // Sessions first: records point at them.
  for (const auto& session : prepared.sessions) {
    upsert.write(session, row_hint(session));
  }
  upsert.flush_tallies();
  for (std::size_t i = 0; i < prepared.items.size(); ++i) {
    const auto& item = prepared.items[i];
    const auto& p = item.packet;
    // A copy of an earlier request of this batch names the row that request was written as.
    const std::string repeat_reason =
        prepared.repeats[i] != npos ? "the same record is stored as packet " +
                                          std::to_string(prepared.packet_ids[prepared.repeats[i]])
                                    : std::string();
    insert_packet.bind(1, options_.run_id)
        .bind(2, p.receive_time)
        .bind_static(3, p.src_addr)
        .bind(4, std::int64_t{p.src_port})
        .bind_static(5, p.dst_addr)
        .bind(6, std::int64_t{p.dst_port})
        .bind_static(9, to_string(p.verdict))
        .bind_static(10, repeat_reason.empty() ? p.reason : repeat_reason)
        .bind_static(11, p.file)
        .bind(12, p.frame)
        .bind_blob_static(13, p.raw);
    if (p.code) {
      insert_packet.bind(7, std::int64_t{*p.code});
    }
    if (p.identifier) {
      insert_packet.bind(8, std::int64_t{*p.identifier});
    }
    if (item.record) {
      const auto& input = *item.record;
      const auto& r = input.record;
      insert_packet.bind(15, r.status_type)
          .bind_static(16, r.session_id)
          .bind_static(17, input.nas_key)
          .bind_static(18, r.user_name)
          .bind(19, input.event_time)
          .bind(20, r.delay_time)
          .bind(21, r.session_time)
          .bind(22, r.input_octets)
          .bind(23, r.output_octets)
          .bind(24, r.input_packets)
          .bind(25, r.output_packets)
          .bind(26, r.terminate_cause);
      if (prepared.session_ids[i] != 0) {
        insert_packet.bind(14, prepared.session_ids[i]);
      }
      if (r.framed_ip) {
        insert_packet.bind(27, radius::to_string(*r.framed_ip));
      }
    }
    insert_packet.run();
    prepared.packet_ids[i] = db_.last_insert_rowid();
    tallies.add_packet(options_.run_id, p.verdict, p.file, p.frame, p.src_addr);
    Completion completion{.tag = item.tag, .packet_id = prepared.packet_ids[i]};
    if (item.record) {
      tallies.add_record(item.record->event_time, item.record->record.status_type, p.src_addr);
      completion.record_id = completion.packet_id; // a record's id is its packet's
      completion.session_id = prepared.session_ids[i];
    }
    if (item.tag != 0) {
      completions.push_back(completion);
    }
  }

  auto& upsert_nas = statements_->upsert_nas;
  for (const auto& [identity, c] : prepared.nas) {
    upsert_nas.bind(1, identity)
        .bind(2, c.address)
        .bind(3, c.first_seen)
        .bind(4, c.last_seen)
        .bind(5, c.requests)
        .bind(6, c.accepted)
        .bind(7, c.duplicates)
        .bind(8, c.bad_authenticator)
        .bind(9, c.bad_message_authenticator)
        .bind(10, c.malformed)
        .bind(11, c.unknown_client);
    upsert_nas.run();
  }
  tallies.write(db_);
  if (prepared.run_report) {
    statements_->update_run_report.bind(1, *prepared.run_report).bind(2, *options_.run_id).run();
  }
  transaction.commit();
  // Only now are these rows known to exist (a failed commit retries with the same hints).
  for (const auto& session : prepared.sessions) {
    written_max_session_ = std::max(written_max_session_, session.id);
    if (session.state == radius::SessionState::open) {
      written_identity_[session.id] = SessionUpsert::Identity::of(session);
    } else {
      written_identity_.erase(session.id); // rarely written again; then with the full update
    }
  }
}

void RecordWriter::run() {
  using clock = std::chrono::steady_clock;
  auto next_expire = clock::now() + options_.expire_every;
  std::vector<Completion> completions;
  for (;;) {
    std::vector<WriteItem> batch;
    if (backlog_next_ == backlog_.size()) {
      backlog_.clear();
      backlog_next_ = 0;
      std::unique_lock lock(mutex_);
      wake_.wait_until(lock, next_expire,
                       [this] { return stopping_ || !queue_.empty() || run_report_pending_; });
      if (queue_.empty() && stopping_) {
        return;
      }
      backlog_.swap(queue_);
    }
    take_slice(batch);
    Prepared prepared;
    {
      std::lock_guard lock(mutex_);
      if (run_report_pending_) {
        prepared.run_report = run_report_;
        run_report_pending_ = false;
      }
    }
    prepare_batch(batch, prepared);
    if (clock::now() >= next_expire) {
      for (auto& session : matcher_.expire(options_.clock())) {
        prepared.add_session(std::move(session));
        prepared.expired = true;
      }
      next_expire = clock::now() + options_.expire_every;
    }
    if (prepared.empty()) {
      continue;
    }
    std::optional<Error> refusal;
    switch (commit(prepared, completions, refusal)) {
      case Outcome::committed:
        deliver(completions);
        break;
      case Outcome::abandoned:
        return;
      case Outcome::refused:
        // The parts carry items only: a run report in the refused batch is left to the owner's
        // next one (and to the final one stop() writes), so a report the database refused
        // cannot make every later batch a refused one.
        if (!isolate_refused(prepared, *refusal)) {
          return;
        }
        break;
    }
  }
}

RecordWriter::Outcome RecordWriter::commit(Prepared& prepared, std::vector<Completion>& completions,
                                           std::optional<Error>& refusal) {
  using clock = std::chrono::steady_clock;
  auto delay = options_.retry_initial;
  for (;;) {
    const auto started = clock::now();
    try {
      write(prepared, completions);
    } catch (const Error& error) {
      const bool refused = classify(error) == CommitFailure::refused;
      {
        std::lock_guard lock(mutex_);
        ++stats_.failures;
        stats_.healthy = stats_.healthy && refused;
      }
      if (refused) {
        // The same rows would fail again however long we waited: the caller splits the batch.
        refusal = error;
        return Outcome::refused;
      }
      if (!failing_ && on_event_) {
        on_event_({WriterEvent::Kind::commit_failed, error.what(), error.code()});
      }
      failing_ = true;
      if (!back_off(delay)) {
        // Shutting down while the database still refuses writes: these items were never
        // acknowledged, so dropping them loses nothing the NAS believes is stored.
        std::lock_guard lock(mutex_);
        queue_.clear();
        return Outcome::abandoned;
      }
      continue;
    }
    const double seconds = std::chrono::duration<double>(clock::now() - started).count();
    for (std::size_t i = 0; i < prepared.items.size(); ++i) {
      if (prepared.keys[i]) {
        recent_.remember(*prepared.keys[i], prepared.items[i].record->event_time,
                         prepared.items[i].packet.receive_time, prepared.packet_ids[i]);
      }
    }
    {
      std::lock_guard lock(mutex_);
      ++stats_.batches;
      stats_.items += prepared.items.size();
      stats_.max_batch = std::max<std::uint64_t>(stats_.max_batch, prepared.items.size());
      stats_.last_commit_seconds = seconds;
      stats_.max_commit_seconds = std::max(stats_.max_commit_seconds, seconds);
      stats_.total_commit_seconds += seconds;
      stats_.commit_latency.add(seconds);
      stats_.healthy = !(syncer_ && syncer_->failed());
      stats_.open_sessions = matcher_.open_count();
    }
    if (failing_ && on_event_) {
      on_event_({WriterEvent::Kind::recovered, "database writable again", 0});
    }
    failing_ = false;
    return Outcome::committed;
  }
}

bool RecordWriter::back_off(std::chrono::milliseconds& delay) {
  using clock = std::chrono::steady_clock;
  std::unique_lock lock(mutex_);
  const bool stopping = stopping_;
  if (stopping && !stop_deadline_) {
    stop_deadline_ = clock::now() + options_.stop_grace;
  }
  if (stop_deadline_ && clock::now() >= *stop_deadline_) {
    return false;
  }
  // Sleep the back-off; wake early only when a stop is newly requested.
  wake_.wait_for(lock, delay, [this, stopping] { return stopping_ != stopping; });
  delay = std::min(delay * 2, options_.retry_max);
  return true;
}

void RecordWriter::deliver(std::vector<Completion>& completions) {
  if (!completions.empty() && on_complete_) {
    if (syncer_) {
      syncer_->submit(
          [this, done = std::move(completions)]() mutable { on_complete_(std::move(done)); });
    } else {
      on_complete_(std::move(completions));
    }
  }
  completions = {};
}

bool RecordWriter::isolate_refused(Prepared& prepared, const Error& refusal) {
  // Nothing of the refused transaction is stored, but the matcher fed every item of it: it must
  // not go on believing them applied (a dropped Start would leave a session open in memory that
  // the database never saw, a dropped Interim's counters would judge the next ones).
  if (!restore_matcher(prepared)) {
    return false;
  }
  // The run report is not retried here: the owner's next report replaces this one. The stale
  // marks are, after the items, on their own (mark_stale).
  std::vector<WriteItem> items = std::move(prepared.items);
  RefusalBisector parts(items.size());
  std::optional<Error> refused = refusal;
  std::vector<Completion> completions;
  while (!parts.done()) {
    if (refused) {
      if (const auto index = parts.refused()) {
        drop_refused(items[*index], *refused);
      }
      refused.reset();
      continue;
    }
    const auto [first, last] = parts.next();
    const auto begin = items.begin() + static_cast<std::ptrdiff_t>(first);
    const auto end = items.begin() + static_cast<std::ptrdiff_t>(last);
    std::vector<WriteItem> slice(std::make_move_iterator(begin), std::make_move_iterator(end));
    Prepared part;
    prepare_batch(slice, part);
    switch (commit(part, completions, refused)) {
      case Outcome::committed:
        parts.committed();
        deliver(completions);
        break;
      case Outcome::abandoned:
        return false;
      case Outcome::refused:
        if (!restore_matcher(part)) {
          return false;
        }
        std::move(part.items.begin(), part.items.end(), begin);
        break;
    }
  }
  return !prepared.expired || mark_stale();
}

bool RecordWriter::mark_stale() {
  // The matcher took the refused batch's sessions back as stored (open): judged again at the
  // same clock, the same sessions are stale, and their marks are committed apart from any item.
  std::vector<radius::Session> stale = matcher_.expire(options_.clock());
  RefusalBisector parts(stale.size());
  std::optional<Error> refused;
  std::vector<Completion> completions;
  while (!parts.done()) {
    if (refused) {
      if (const auto index = parts.refused()) {
        // Told once and never written again: the matcher keeps the session stale, so no later
        // check returns it (the database keeps it open; a restart judges it once more).
        {
          std::lock_guard lock(mutex_);
          ++stats_.stale_refused;
        }
        if (on_event_) {
          on_event_(stale_refused_event(stale[*index], *refused));
        }
      }
      refused.reset();
      continue;
    }
    const auto [first, last] = parts.next();
    Prepared part;
    for (std::size_t i = first; i < last; ++i) {
      part.add_session(stale[i]);
    }
    switch (commit(part, completions, refused)) {
      case Outcome::committed:
        parts.committed();
        break;
      case Outcome::abandoned:
        return false;
      case Outcome::refused:
        break;
    }
  }
  return true;
}

bool RecordWriter::restore_matcher(const Prepared& prepared) {
  std::unordered_set<radius::SessionKey, radius::SessionKeyHash> keys;
  for (const auto& session : prepared.sessions) {
    keys.insert(session.key);
  }
  auto delay = options_.retry_initial;
  for (;;) {
    try {
      // Every session the batch changed is in prepared.sessions (an Accounting-On/Off's too):
      // each key goes back to its newest stored session, as a restart would load it, or to
      // nothing when the batch opened it.
      for (const auto& key : keys) {
        auto stored =
            load_sessions_by_key(db_, key.nas, key.session_id, options_.session_scope.value_or(0));
        matcher_.forget(key);
        if (!stored.empty()) {
          matcher_.restore(std::move(stored.back()));
        }
      }
      std::lock_guard lock(mutex_);
      stats_.open_sessions = matcher_.open_count();
      return true;
    } catch (const Error&) {
      // A read that fails is the database in trouble; the commit path reports that.
      if (!back_off(delay)) {
        return false;
      }
    }
  }
}

void RecordWriter::drop_refused(const WriteItem& item, const Error& refusal) {
  {
    std::lock_guard lock(mutex_);
    ++stats_.refused;
  }
  if (on_event_) {
    on_event_(refused_event(item, refusal));
  }
}

} // namespace acctlab::storage
