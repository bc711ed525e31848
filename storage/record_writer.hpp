#pragma once
// RecordWriter: the group-commit writer. Producers submit packets (and, for valid
// Accounting-Requests, their records); one commit thread takes everything queued while the
// previous transaction ran, matches sessions, writes it all in one transaction, and only then
// hands back completions. RFC 2866 §2: the server must not answer before the record is stored.

#include "radius/accounting_record.hpp"
#include "radius/session_matcher.hpp"
#include "storage/latency_histogram.hpp"
#include "storage/record_key.hpp"
#include "storage/schema.hpp"
#include "storage/session_store.hpp"
#include "storage/sqlite.hpp"
#include "storage/wal_checkpointer.hpp"
#include "storage/wal_syncer.hpp"
#include "storage/writer_lock.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace acctlab::storage {

struct PacketRow {
  std::vector<std::uint8_t> raw;
  std::string src_addr;
  std::uint16_t src_port = 0;
  std::string dst_addr;
  std::uint16_t dst_port = 0;
  std::optional<std::uint8_t> code;
  std::optional<std::uint8_t> identifier;
  Verdict verdict = Verdict::ok;
  std::string reason;
  std::optional<std::string> file;
  std::optional<std::int64_t> frame;
  double receive_time = 0; // unix seconds
};

struct RecordInput {
  radius::AccountingRecord record;
  std::string nas_key; // radius::session_nas_key()
  double event_time = 0;
};

struct WriteItem {
  PacketRow packet;
  std::optional<RecordInput> record;
  /** The NAS the counters of the nas table are kept under; empty counts under none (a captured
   * answer, which no NAS sent). */
  std::string nas;
  /** Returned in the completion; 0 means the submitter wants no completion. */
  std::uint64_t tag = 0;
};

struct Completion {
  std::uint64_t tag = 0;
  std::int64_t packet_id = 0;
  std::int64_t record_id = 0;  // 0 when the item had no record
  std::int64_t session_id = 0; // 0 when the record joined no session
};

struct WriterStats {
  std::uint64_t batches = 0;
  std::uint64_t items = 0;
  std::uint64_t failures = 0;      // failed commit attempts
  std::uint64_t refused = 0;       // items dropped unanswered because the database refused them
  std::uint64_t stale_refused = 0; // sessions the database refused to mark stale (told once)
  std::uint64_t max_batch = 0;
  double last_commit_seconds = 0; // duration of the last successful commit
  double max_commit_seconds = 0;
  double total_commit_seconds = 0;
  std::size_t queued = 0;
  bool healthy = true;           // false while commits fail
  std::uint64_t checkpoints = 0; // WAL checkpoints done by the background checkpointer
  std::uint64_t syncs = 0;       // fdatasync calls of the syncer (synchronous=FULL)
  double total_sync_seconds = 0; // their time: the wait for the disk, not in the commit's
  double max_sync_seconds = 0;
  std::size_t open_sessions = 0;
  LatencyHistogram commit_latency; // successful commits
  LatencyHistogram sync_latency;   // the syncer's fdatasyncs
};

/** What the writer tells its owner about the database's health, about each item it dropped
 * because the database refused it, and about each session the database refused to mark stale
 * (storage/commit_failure.hpp); the owner decides what to log. */
struct WriterEvent {
  enum class Kind { commit_failed, recovered, item_refused, stale_refused } kind;
  std::string message; // the database's own message
  int sqlite_code = 0;
  // item_refused: the item that was dropped, never stored and never completed. stale_refused:
  // the session (nas and acct_session_id) that stays as the database holds it.
  std::string sqlstate; // PostgreSQL's code for the refusal
  std::uint64_t tag = 0;
  std::string nas;    // WriteItem::nas
  std::string source; // "ADDR:PORT" the packet came from
  std::optional<std::uint8_t> code;
  std::optional<std::uint8_t> identifier;
  std::string acct_session_id;
  std::optional<std::uint32_t> status_type;
  std::optional<std::string> file; // PacketRow::file and frame: where a captured packet was read
  std::optional<std::int64_t> frame;
};

struct WriterOptions {
  radius::MatcherOptions matcher;
  OpenOptions open;
  /** Packets are stored under this run; when unset and run_kind is set, the writer opens a run
   * of that kind ('serve', 'conform', 'pcap') at start and closes it at stop. */
  std::optional<std::int64_t> run_id;
  std::optional<std::string> run_kind;
  /** PostgreSQL: the scope this writer's sessions are matched, closed (Accounting-On/Off) and
   * expired in. Unset is the live scope every `acctlab serve` on the database shares; a capture
   * import or a conformance run gives its run id, so its sessions and the live servers' never
   * meet, nor its records and theirs as duplicates (docs/design-notes.md, "Run scopes on a
   * shared database"). SQLite has one writer per file and a matcher of its own, which restores
   * (at start, and after a refused batch) only the sessions of this scope; no column holds it
   * there (storage/session_store.hpp, load_sessions_for_matcher). */
  std::optional<std::int64_t> session_scope;
  /** A WAL checkpoint starts (on its own thread) once a commit leaves this many pages in the log
   * (16,384 pages: a 64 MiB log). A page rewritten by many transactions between two checkpoints
   * is copied to the database once: against 4,096 pages the checkpointer's CPU per request fell
   * from 0.9-1.1 to 0.6-0.7 µs and the acknowledged rate rose ~3 % (docs/PERFORMANCE.md). */
  int checkpoint_pages = 16384;
  /** The most items one transaction takes. Group commit takes what queued while the previous
   * transaction ran, but a burst (a window of answers refilled at once) is committed in slices:
   * the first slice's answers go out while the next one is written, instead of every request of
   * the burst waiting for the last. Measured in docs/PERFORMANCE.md (server section). */
  std::size_t max_batch = 128;
  /** fdatasync threads (synchronous=FULL): a slice committed while another slice's fdatasync
   * runs starts its own at once instead of waiting for that one to finish. Two measured 3-10 %
   * more acknowledged requests than one at W=256, three no more than two (docs/PERFORMANCE.md). */
  int sync_workers = 2;
  /** PostgreSQL: transactions in flight at once, each on its own connection and thread, so one
   * batch is written while another's COMMIT waits for its WAL flush (docs/PERFORMANCE.md,
   * "server on PostgreSQL"). Records of one session never sit in two of them at once. */
  int pg_connections = 2;
  /** How often open sessions are checked for staleness. */
  std::chrono::milliseconds expire_every{5000};
  std::chrono::milliseconds retry_initial{50};
  std::chrono::milliseconds retry_max{1000};
  /** On stop, how long to keep retrying a failing commit before dropping what is unanswered. */
  std::chrono::milliseconds stop_grace{std::chrono::seconds(10)};
  /** Rebuild the open-session index from the database at start. A capture import sets false:
   * its sessions are its own, not continuations of whatever the database holds. */
  bool restore_sessions = true;
  /** Wall clock in unix seconds (injectable: tests, and capture imports judge staleness in
   * capture time). */
  std::function<double()> clock;
};

/**
 * What the server and a capture import write through, whatever the engine: submit packets (and
 * their records), get completions back only after the transaction holding them committed.
 * open_writer() picks the engine from the --db value.
 */
class AccountingWriter {
public:
  using CompletionHandler = std::function<void(std::vector<Completion>&&)>;
  using EventHandler = std::function<void(const WriterEvent&)>;

  virtual ~AccountingWriter() = default;
  virtual void submit(WriteItem item) = 0;
  virtual void submit(std::vector<WriteItem>& items) = 0; // moves the items out
  /** Commits what is queued, delivers its completions and stops (see RecordWriter::stop). */
  virtual void stop() = 0;
  virtual WriterStats stats() const = 0;
  virtual std::size_t queued() const = 0;
  virtual std::optional<std::int64_t> run_id() const = 0;
  virtual void set_run_report(std::string json) = 0;
};

/** A PostgreSQL URI (storage/pg_connection.hpp: is_postgres_uri) opens the PostgreSQL writer,
 * anything else is a SQLite file for RecordWriter. Throws Error. */
std::unique_ptr<AccountingWriter> open_writer(const std::string& database, WriterOptions options,
                                              AccountingWriter::CompletionHandler on_complete,
                                              AccountingWriter::EventHandler on_event = {});

/** The SQLite writer. */
class RecordWriter final : public AccountingWriter {
public:
  /** Opens and migrates the database and rebuilds the open-session index; throws Error. */
  RecordWriter(const std::string& path, WriterOptions options, CompletionHandler on_complete,
               EventHandler on_event = {});
  ~RecordWriter() override;
  RecordWriter(const RecordWriter&) = delete;
  RecordWriter& operator=(const RecordWriter&) = delete;

  void submit(WriteItem item) override;
  void submit(std::vector<WriteItem>& items) override; // moves the items out

  /**
   * Commits what is queued, delivers its completions and stops the thread. When the database
   * stays unwritable for stop_grace the uncommitted items are dropped without completions
   * (nothing acknowledged is lost: they were never acknowledged).
   */
  void stop() override;

  WriterStats stats() const override;
  std::size_t queued() const override;
  std::optional<std::int64_t> run_id() const override { return options_.run_id; }
  /** JSON stored in runs.report of the run the writer opened: with the next commit (so a
   * running server's counters can be read while it runs) and when the writer closes the run. */
  void set_run_report(std::string json) override;

private:
  struct Prepared;
  struct Statements;
  void run();
  void take_slice(std::vector<WriteItem>& batch); // the next max_batch items of backlog_
  /** Marks the copies of records stored within the window (storage/record_key.hpp) as
   * duplicates, feeds the rest to the matcher. */
  void prepare_batch(std::vector<WriteItem>& batch, Prepared& prepared);
  void write(Prepared& prepared, std::vector<Completion>& completions);

  // The failure path (storage/commit_failure.hpp): transient failures are retried, a refused
  // batch is split until its refused items stand alone.
  enum class Outcome { committed, refused, abandoned };
  /** Writes prepared, retrying transient failures with back-off. refused: the database refused
   * the batch (refusal says why); abandoned: stopping while the database stayed unwritable. */
  Outcome commit(Prepared& prepared, std::vector<Completion>& completions,
                 std::optional<Error>& refusal);
  /** Sleeps the back-off; false once a stop's grace is over. */
  bool back_off(std::chrono::milliseconds& delay);
  /** The completions of a committed batch, through the syncer when there is one. */
  void deliver(std::vector<Completion>& completions);
  /** After the database refused prepared: commits its items in parts, drops the refused ones
   * unanswered. False when the writer must stop. */
  bool isolate_refused(Prepared& prepared, const Error& refusal);
  /** The matcher forgets what a batch that was not stored did to its sessions and takes them
   * back as the database holds them. False when the writer must stop. */
  bool restore_matcher(const Prepared& prepared);
  void drop_refused(const WriteItem& item, const Error& refusal);
  /** After a refused batch that held stale marks: judges staleness again and commits the marks
   * apart from the items; each mark the database refuses is told once (WriterEvent::
   * stale_refused), counted, and not tried again. False when the writer must stop. */
  bool mark_stale();

  std::string path_;
  WriterOptions options_;
  CompletionHandler on_complete_;
  EventHandler on_event_;
  WriterLock lock_; // before db_: nothing is opened for writing without it
  Database db_;
  radius::SessionMatcher matcher_;
  RecentRecords recent_; // the records committed within the window (storage/record_key.hpp)
  std::unique_ptr<Statements> statements_; // prepared once, reused by every transaction
  std::unique_ptr<WalCheckpointer> checkpointer_;
  std::unique_ptr<WalSyncer> syncer_; // synchronous=FULL: completions wait for fdatasync
  bool owns_run_ = false;
  bool failing_ = false; // the last commit attempt failed for a transient reason
  std::optional<std::chrono::steady_clock::time_point> stop_deadline_;
  std::int64_t written_max_session_ = 0; // sessions up to this id have a row (ids only grow)
  // What the tally and search row of each open session are made of, as last committed: a record
  // that changes none of it updates only the usage columns. Grows with open sessions only.
  SessionUpsert::Row row_hint(const radius::Session& session) const;
  std::unordered_map<std::int64_t, SessionUpsert::Identity> written_identity_;
  std::string run_report_;
  bool run_report_pending_ = false; // set_run_report() since the last commit took it

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<WriteItem> queue_;
  // Taken from queue_ by the commit thread and not yet written (more than max_batch queued).
  std::vector<WriteItem> backlog_;
  std::size_t backlog_next_ = 0;
  bool stopping_ = false;
  WriterStats stats_;
  std::thread thread_;
};

} // namespace acctlab::storage
