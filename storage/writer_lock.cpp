#include "storage/writer_lock.hpp"

#include "storage/sqlite.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <unistd.h>

namespace acctlab::storage {

WriterLock::WriterLock(const std::string& database_path) {
  const std::string path = database_path + "-writer";
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    throw Error(SQLITE_CANTOPEN, "open " + path + ": " + std::strerror(errno));
  }
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    char holder[32] = {};
    const auto n = ::pread(fd_, holder, sizeof holder - 1, 0);
    ::close(fd_);
    fd_ = -1;
    if (error == EWOULDBLOCK) {
      throw Error(SQLITE_BUSY,
                  database_path + " is being written by another acctlab process" +
                      (n > 0 ? " (pid " + std::string(holder, static_cast<std::size_t>(n)) + ")"
                             : std::string()) +
                      "; one writer per database: stop it, or use another database");
    }
    throw Error(SQLITE_IOERR, "lock " + path + ": " + std::strerror(error));
  }
  // The holder's pid, for the message above; the lock, not the text, is what counts.
  const auto pid = std::to_string(::getpid());
  if (::ftruncate(fd_, 0) == 0) {
    [[maybe_unused]] const auto written = ::pwrite(fd_, pid.data(), pid.size(), 0);
  }
}

WriterLock::~WriterLock() {
  if (fd_ >= 0) {
    ::close(fd_); // releases the lock; the file stays, empty of meaning until the next writer
  }
}

} // namespace acctlab::storage
