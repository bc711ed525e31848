#pragma once
// The nas table's counters, as both writers keep them (SQLite's record_writer.cpp and
// PostgreSQL's pg_writer.cpp): per request the server received from a NAS, by the verdict the
// server gave it. One definition, so the two engines count alike.

#include "storage/record_writer.hpp"

#include <cstdint>
#include <string>

namespace acctlab::storage {

struct NasCounters {
  std::string address;
  double first_seen = 0;
  double last_seen = 0;
  std::int64_t requests = 0;
  std::int64_t accepted = 0;
  std::int64_t duplicates = 0;
  std::int64_t bad_authenticator = 0;
  std::int64_t bad_message_authenticator = 0;
  std::int64_t malformed = 0;
  std::int64_t unknown_client = 0;
};

/** Counts one received request: its source and time, and its verdict's counter. */
void count(NasCounters& counters, const PacketRow& packet);

} // namespace acctlab::storage
