#pragma once
// The PostgreSQL writer: the group commit of RecordWriter over one PostgreSQL database that
// several `acctlab serve` processes may write at once. Everything that arrived while the previous
// transaction ran goes into the next; completions (and so the answers) leave only after COMMIT
// returned, with synchronous_commit on. Session state is arbitrated by the database, not held
// in memory: each record's session change is one conditional statement (a unique key for the
// one open session per NAS and Acct-Session-Id, row locks for updates), so a Start taken by one
// server and the Stop taken by another close one session. docs/server.md, "Several servers, one
// database".

#include "storage/record_writer.hpp"

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace acctlab::storage {

class PgConnection;

/** The idempotency key of a record: what the NAS sent that makes it this record and no other
 * (docs/server.md). Two copies of one record (broadcast to two servers, a retransmission with a
 * new Acct-Delay-Time) have the same key; two records of one session do not. */
std::string record_idempotency_text(const RecordInput& input);

class PgRecordWriter final : public AccountingWriter {
public:
  /** Connects, creates the schema when there is none and opens the run; throws Error. */
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
  void run();
  void write(std::vector<WriteItem>& batch, const std::optional<std::string>& report,
             std::vector<Completion>& completions);
  Completion write_item(const WriteItem& item);
  std::int64_t write_session(std::int64_t packet_id, const RecordInput& input);
  void expire_sessions();

  std::string uri_;
  WriterOptions options_;
  CompletionHandler on_complete_;
  EventHandler on_event_;
  std::unique_ptr<PgConnection> db_; // the commit thread's
  bool owns_run_ = false;
  std::string run_report_;
  bool run_report_pending_ = false;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<WriteItem> queue_;
  bool stopping_ = false;
  WriterStats stats_;
  std::thread thread_;
};

} // namespace acctlab::storage
