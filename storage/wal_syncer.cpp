#include "storage/wal_syncer.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace acctlab::storage {

WalSyncer::WalSyncer(std::string wal_path, Failure failure, int workers)
    : path_(std::move(wal_path)), failure_(std::move(failure)) {
  for (int i = 0; i < std::max(workers, 1); ++i) {
    workers_.push_back(std::make_unique<Worker>());
  }
  for (auto& worker : workers_) {
    worker->thread = std::thread([this, w = worker.get()] { run(*w); });
  }
}

WalSyncer::~WalSyncer() {
  stop();
}

void WalSyncer::submit(Release release) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(release));
  }
  wake_.notify_one();
}

void WalSyncer::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& worker : workers_) {
    if (worker->thread.joinable()) {
      worker->thread.join();
    }
    if (worker->fd >= 0) {
      ::close(worker->fd);
      worker->fd = -1;
    }
  }
}

std::uint64_t WalSyncer::syncs() const {
  std::lock_guard lock(mutex_);
  return syncs_;
}

WalSyncer::Timing WalSyncer::timing() const {
  std::lock_guard lock(mutex_);
  return {syncs_, sync_seconds_, max_sync_seconds_, histogram_};
}

bool WalSyncer::failed() const {
  std::lock_guard lock(mutex_);
  return failed_;
}

void WalSyncer::run(Worker& worker) {
  for (;;) {
    std::vector<Release> batch;
    std::uint64_t ticket = 0;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) {
        return; // stopping, and everything submitted was handled
      }
      batch.swap(queue_);
      if (failed_) {
        continue; // never released after a failed sync
      }
      ticket = next_ticket_++;
    }
    // One fdatasync for every batch committed before it started. Another worker may be syncing
    // meanwhile for batches committed earlier: the two flushes overlap on the device.
    std::string error;
    const auto started = std::chrono::steady_clock::now();
    const bool ok = sync(worker, error);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    bool release = false;
    {
      std::unique_lock lock(mutex_);
      if (ok) {
        ++syncs_;
        sync_seconds_ += seconds;
        max_sync_seconds_ = std::max(max_sync_seconds_, seconds);
        histogram_.add(seconds);
      }
      if (!ok && !failed_) {
        failed_ = true;
      } else if (!ok) {
        error.clear(); // told once
      }
      // Releases go out in the order the batches were taken, so completions keep commit order.
      turn_.wait(lock, [this, ticket] { return released_ticket_ == ticket; });
      release = ok && !failed_;
    }
    if (!ok && !error.empty() && failure_) {
      failure_(error);
    }
    if (release) {
      for (auto& r : batch) {
        r();
      }
    }
    {
      std::lock_guard lock(mutex_);
      ++released_ticket_;
    }
    turn_.notify_all();
  }
}

bool WalSyncer::sync(Worker& worker, std::string& error) {
  // SQLite keeps its log file while a connection is open, but check that the descriptor still
  // names the file at the path: syncing a replaced file would promise something about another.
  struct stat now {};
  if (::stat(path_.c_str(), &now) != 0) {
    error = "stat " + path_ + ": " + std::strerror(errno);
    return false;
  }
  if (worker.fd < 0 || now.st_ino != worker.inode || now.st_dev != worker.device) {
    if (worker.fd >= 0) {
      ::close(worker.fd);
    }
    worker.fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (worker.fd < 0) {
      error = "open " + path_ + ": " + std::strerror(errno);
      return false;
    }
    worker.inode = now.st_ino;
    worker.device = now.st_dev;
  }
  // fdatasync through any descriptor of the file flushes its data: Linux syncs the inode.
  if (::fdatasync(worker.fd) != 0) {
    error = "fdatasync " + path_ + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

} // namespace acctlab::storage
