#include "radius/key_log_file.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace acctlab::radius {

std::unique_ptr<KeyLogFile> KeyLogFile::open(const std::string& path, std::string& error) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    error = path + ": " + std::strerror(errno);
    return nullptr;
  }
  std::FILE* file = ::fdopen(fd, "a");
  if (file == nullptr) {
    error = path + ": " + std::strerror(errno);
    ::close(fd);
    return nullptr;
  }
  return std::unique_ptr<KeyLogFile>(new KeyLogFile(path, file));
}

void KeyLogFile::write(const char* line) noexcept {
  std::lock_guard lock(mutex_);
  if (std::fputs(line, file_.get()) < 0 || std::fputc('\n', file_.get()) == EOF ||
      std::fflush(file_.get()) != 0) {
    ++failures_;
    return;
  }
  ++lines_;
}

std::uint64_t KeyLogFile::lines() const {
  std::lock_guard lock(mutex_);
  return lines_;
}

std::uint64_t KeyLogFile::failures() const {
  std::lock_guard lock(mutex_);
  return failures_;
}

} // namespace acctlab::radius
