#pragma once
// WriterLock: one writing acctlab process per database. The record writer numbers sessions from
// the highest id it finds at start and keeps the open ones in memory, so a second writer (an
// `acctlab serve` and a capture import, or two servers) would hand out the same ids and match
// against stale sessions. An exclusive flock on "<database>-writer" beside the database file
// (never the database file itself: closing any descriptor of that file would drop the POSIX
// locks SQLite holds on it) makes the second writer fail at once, naming the first. Readers
// (the web viewer, `acctlab check`) take no part.

#include <string>

namespace acctlab::storage {

class WriterLock {
public:
  /** Takes the lock; throws storage::Error naming the holder's pid when another writer has it. */
  explicit WriterLock(const std::string& database_path);
  ~WriterLock();
  WriterLock(const WriterLock&) = delete;
  WriterLock& operator=(const WriterLock&) = delete;

private:
  int fd_ = -1;
};

} // namespace acctlab::storage
