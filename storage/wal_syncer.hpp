#pragma once
// WalSyncer: durable acknowledgements without an fsync inside COMMIT.
//
// With synchronous=FULL, SQLite fsyncs the write-ahead log inside every COMMIT, and the commit
// thread can do nothing else meanwhile. The writer instead commits with synchronous=NORMAL (the
// frames reach the log with write(), not yet the disk) and hands the batch's completions here;
// this thread calls fdatasync on the log file and only then releases them. While it waits for
// the disk the commit thread already writes the next batch, and one fdatasync covers every batch
// committed before it started: a log is appended in order, so syncing the file makes every
// committed transaction in it durable. No answer leaves before its record is on stable storage,
// exactly as with synchronous=FULL.
//
// With more than one worker, a batch committed while a worker's fdatasync runs need not wait for
// it: another worker syncs at once (the flushes overlap on the device), and each worker releases
// only what was committed before its own fdatasync began, in the order the batches were taken. Each
// worker syncs through its own open file, so a writeback error is reported to every one of them.
//
// A failed fdatasync is final for acknowledgements (Linux may drop the failed pages and report
// success next time): what is waiting is never released, nothing after it either, and the owner
// is told once. Restarting the server after checking the disk is the way back.

#include "storage/latency_histogram.hpp"

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <sys/types.h>
#include <thread>
#include <vector>

namespace acctlab::storage {

class WalSyncer {
public:
  /** Runs on the syncer thread once what it stands for is on stable storage. */
  using Release = std::function<void()>;
  using Failure = std::function<void(const std::string& message)>;

  /** wal_path: the database's "-wal" file, which must exist (open the database first); workers:
   * how many fdatasync threads. */
  WalSyncer(std::string wal_path, Failure failure, int workers = 1);
  ~WalSyncer();
  WalSyncer(const WalSyncer&) = delete;
  WalSyncer& operator=(const WalSyncer&) = delete;

  /** For a batch whose COMMIT has returned: release runs after the next fdatasync. */
  void submit(Release release);
  /** Syncs and releases what was submitted, then stops the thread. */
  void stop();

  std::uint64_t syncs() const;
  /** Time spent in fdatasync: a slow disk shows here, not in the commit's time. */
  struct Timing {
    std::uint64_t syncs = 0;
    double total_seconds = 0;
    double max_seconds = 0;
    LatencyHistogram histogram;
  };
  Timing timing() const;
  bool failed() const;

private:
  struct Worker {
    int fd = -1; // its own open file: each sees a writeback error (Linux reports it per file)
    ino_t inode = 0;
    dev_t device = 0;
    std::thread thread;
  };
  void run(Worker& worker);
  bool sync(Worker& worker, std::string& error);

  std::string path_;
  Failure failure_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<Release> queue_;
  bool stopping_ = false;
  bool failed_ = false;
  std::uint64_t syncs_ = 0;
  double sync_seconds_ = 0;
  double max_sync_seconds_ = 0;
  LatencyHistogram histogram_;
  std::condition_variable turn_;      // a synced batch waits here for the earlier ones to go out
  std::uint64_t next_ticket_ = 0;     // handed to each batch a worker takes
  std::uint64_t released_ticket_ = 0; // the batch whose releases go out next
  std::vector<std::unique_ptr<Worker>> workers_;
};

} // namespace acctlab::storage
