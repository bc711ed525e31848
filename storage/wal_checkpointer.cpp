#include "storage/wal_checkpointer.hpp"

#include <sqlite3.h>

namespace acctlab::storage {

WalCheckpointer::WalCheckpointer(Database& writer, OpenOptions options, int threshold_pages)
    : writer_(writer), connection_(writer.path(), options), threshold_pages_(threshold_pages) {
  sqlite3_wal_hook(writer_.handle(), &WalCheckpointer::on_commit, this);
  thread_ = std::thread([this] { run(); });
}

WalCheckpointer::~WalCheckpointer() {
  stop();
}

void WalCheckpointer::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) {
    thread_.join();
    // Back to SQLite's default (1000 pages) for whatever the writer still commits.
    sqlite3_wal_autocheckpoint(writer_.handle(), 1000);
  }
}

int WalCheckpointer::on_commit(void* self, sqlite3*, const char*, int pages) {
  // Runs on the committing thread right after its COMMIT: only hand over, never touch the
  // writer's connection from here.
  auto* checkpointer = static_cast<WalCheckpointer*>(self);
  if (pages >= checkpointer->threshold_pages_) {
    {
      std::lock_guard lock(checkpointer->mutex_);
      checkpointer->requested_ = true;
    }
    checkpointer->wake_.notify_one();
  }
  return SQLITE_OK;
}

void WalCheckpointer::run() {
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return requested_ || stopping_; });
      // A checkpoint asked for before the stop still runs: the log it was asked for is there.
      if (!requested_) {
        return;
      }
      requested_ = false;
    }
    int log_frames = 0;
    int copied = 0;
    const int rc = sqlite3_wal_checkpoint_v2(connection_.handle(), nullptr,
                                             SQLITE_CHECKPOINT_PASSIVE, &log_frames, &copied);
    if (rc == SQLITE_OK && copied > 0) {
      completed_.fetch_add(1, std::memory_order_relaxed);
    } else if (rc != SQLITE_OK) {
      failed_.fetch_add(1, std::memory_order_relaxed);
    }
  }
}

} // namespace acctlab::storage
