#include "storage/wal_syncer.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace acctlab::storage {

WalSyncer::WalSyncer(std::string wal_path, Failure failure)
    : path_(std::move(wal_path)), failure_(std::move(failure)) {
  thread_ = std::thread([this] { run(); });
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
  wake_.notify_one();
  if (thread_.joinable()) {
    thread_.join();
  }
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

std::uint64_t WalSyncer::syncs() const {
  std::lock_guard lock(mutex_);
  return syncs_;
}

bool WalSyncer::failed() const {
  std::lock_guard lock(mutex_);
  return failed_;
}

void WalSyncer::run() {
  for (;;) {
    std::vector<Release> batch;
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
    }
    // One fdatasync for every batch committed before it started.
    std::string error;
    const bool ok = sync(error);
    {
      std::lock_guard lock(mutex_);
      syncs_ += ok ? 1 : 0;
      failed_ = !ok;
    }
    if (!ok) {
      if (failure_) {
        failure_(error);
      }
      continue;
    }
    for (auto& release : batch) {
      release();
    }
  }
}

bool WalSyncer::sync(std::string& error) {
  // SQLite keeps its log file while a connection is open, but check that the descriptor still
  // names the file at the path: syncing a replaced file would promise something about another.
  struct stat now {};
  if (::stat(path_.c_str(), &now) != 0) {
    error = "stat " + path_ + ": " + std::strerror(errno);
    return false;
  }
  if (fd_ < 0 || now.st_ino != inode_ || now.st_dev != device_) {
    if (fd_ >= 0) {
      ::close(fd_);
    }
    fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) {
      error = "open " + path_ + ": " + std::strerror(errno);
      return false;
    }
    inode_ = now.st_ino;
    device_ = now.st_dev;
  }
  // fdatasync through any descriptor of the file flushes its data: Linux syncs the inode.
  if (::fdatasync(fd_) != 0) {
    error = "fdatasync " + path_ + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

} // namespace acctlab::storage
