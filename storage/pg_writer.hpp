#pragma once
// The PostgreSQL writer: the group commit of RecordWriter over one PostgreSQL database that
// several `acctlab serve` processes may write at once. Everything that arrived while the previous
// transaction ran goes into the next; completions (and so the answers) leave only after COMMIT
// returned, with synchronous_commit on. A batch is one call of acctlab_store (storage/
// pg_schema.cpp) with the batch as arrays, sent with BEGIN and COMMIT in one round trip; several
// connections (WriterOptions::pg_connections) each carry a batch, so one is written while
// another's COMMIT waits for the WAL flush. Session state is arbitrated by the database, not held
// in memory: a unique key for the one open session per NAS and Acct-Session-Id, row locks for
// updates, so a Start taken by one server and the Stop taken by another close one session.
// docs/server.md, "Several servers, one database".

#include "storage/pg_connection.hpp"
#include "storage/record_key.hpp"
#include "storage/record_writer.hpp"

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace acctlab::storage {

/** What a batch in flight holds, so that no other takes a record of the same session (or of
 * the same NAS, for an Accounting-On/Off) until it committed: a session's records are stored
 * in the order they arrived whatever connection carries them. */
struct PgInFlight {
  std::unordered_set<std::string> sessions; // nas_key + '\x1f' + Acct-Session-Id
  std::unordered_map<std::string, int> nas; // records per nas_key
  std::unordered_set<std::string> nas_wide; // nas_keys with an Accounting-On/Off
};

class PgRecordWriter final : public AccountingWriter {
public:
  /** Connects, creates or upgrades the schema and opens the run; throws Error. */
  PgRecordWriter(const std::string& uri, WriterOptions options, CompletionHandler on_complete,
                 EventHandler on_event = {});
  ~PgRecordWriter() override;
  PgRecordWriter(const PgRecordWriter&) = delete;
  PgRecordWriter& operator=(const PgRecordWriter&) = delete;

  void submit(WriteItem item) override;
  void submit(std::vector<WriteItem>& items) override;
  void stop() override;
  WriterStats stats() const override;
  std::size_t queued() const override;
  std::optional<std::int64_t> run_id() const override { return options_.run_id; }
  void set_run_report(std::string json) override;

private:
  void run(std::size_t lane);

  // The failure path (storage/commit_failure.hpp): transient failures are retried, a refused
  // batch is split until its refused items stand alone.
  struct Lane {
    std::unique_ptr<PgConnection> db;
    bool failing = false; // its last commit attempt failed for a transient reason
    std::optional<std::chrono::steady_clock::time_point> stop_deadline;
  };
  enum class Outcome { committed, refused, abandoned };
  /** Writes the batch, reconnecting and retrying transient failures with back-off. refused: the
   * database refused the batch (refusal says why); abandoned: stopping while it stayed down. */
  Outcome commit(Lane& lane, std::vector<WriteItem>& batch,
                 const std::optional<std::string>& report, std::vector<Completion>& completions,
                 std::optional<PgError>& refusal);
  /** After the database refused batch: commits it in parts, drops the refused items unanswered.
   * False when the writer must stop. */
  bool isolate_refused(Lane& lane, const std::vector<WriteItem>& batch, const PgError& refusal);
  /** Under mutex_: up to max_batch queued items that touch nothing in flight, in order. */
  std::vector<WriteItem> take_batch();
  bool can_take() const;                             // under mutex_
  void release(const std::vector<WriteItem>& batch); // under mutex_
  void write(PgConnection& db, std::vector<WriteItem>& batch,
             const std::optional<std::string>& report, std::vector<Completion>& completions);
  /** acctlab_store's arguments for a batch. */
  std::vector<PgParam> store_params(const std::vector<WriteItem>& batch) const;
  void expire_sessions(PgConnection& db);
  std::unique_ptr<PgConnection> connect() const;
  /** connect(), and the shard of counters and tallies this lane's connection writes. */
  std::unique_ptr<PgConnection> connect_lane() const;

  std::string uri_;
  WriterOptions options_;
  CompletionHandler on_complete_;
  EventHandler on_event_;
  bool owns_run_ = false;
  /** Whether the owner gave a clock: expiry then judges by it (a capture's time), else by the
   * database's, the one clock every server sharing the live scope agrees on. */
  bool own_clock_ = false;
  std::int64_t scope_ = 0; // WriterOptions::session_scope; 0 is the live scope
  /** Sessions the database refused to mark stale: told once, left out of later judgements
   * (only the lane that judges staleness uses it). */
  std::unordered_set<std::int64_t> stale_refused_ids_;
  std::string run_report_;
  bool run_report_pending_ = false;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<WriteItem> queue_;
  PgInFlight in_flight_;
  bool stopping_ = false;
  int failing_lanes_ = 0; // lanes whose last commit failed: the event is said once
  WriterStats stats_;
  std::vector<std::thread> lanes_;
};

} // namespace acctlab::storage
