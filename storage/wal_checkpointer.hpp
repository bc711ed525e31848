#pragma once
// WalCheckpointer: copies the write-ahead log back into the database file on its own connection
// and thread. Left to SQLite, the checkpoint runs inside whichever COMMIT crosses the threshold,
// on the commit thread, and every answer waiting for that commit waits for the copy and its
// fsync too. Here the commit only signals; a PASSIVE checkpoint never blocks the writer, and once
// it has copied every frame the writer starts the log over at its next commit.

#include "storage/sqlite.hpp"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace acctlab::storage {

class WalCheckpointer {
public:
  /** Takes over checkpointing for `writer` (its auto-checkpoint is replaced): a checkpoint runs
   * when a commit leaves at least threshold_pages frames in the log. Throws Error when the second
   * connection cannot be opened. */
  WalCheckpointer(Database& writer, OpenOptions options, int threshold_pages = 4096);
  ~WalCheckpointer();
  WalCheckpointer(const WalCheckpointer&) = delete;
  WalCheckpointer& operator=(const WalCheckpointer&) = delete;

  /** Stops the thread; the writer gets SQLite's own auto-checkpoint back. */
  void stop();
  /** Checkpoints that copied frames, and attempts that could not run (the database was busy or
   * failing; the next commit signals again). */
  std::uint64_t completed() const { return completed_.load(std::memory_order_relaxed); }
  std::uint64_t failed() const { return failed_.load(std::memory_order_relaxed); }

private:
  static int on_commit(void* self, sqlite3* db, const char* schema, int pages);
  void run();

  Database& writer_;
  Database connection_;
  int threshold_pages_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool requested_ = false;
  bool stopping_ = false;
  std::atomic<std::uint64_t> completed_{0};
  std::atomic<std::uint64_t> failed_{0};
  std::thread thread_;
};

} // namespace acctlab::storage
