#include "storage/nas_counters.hpp"

#include <algorithm>

namespace acctlab::storage {

void count(NasCounters& counters, const PacketRow& packet) {
  if (counters.requests == 0) {
    counters.address = packet.src_addr;
    counters.first_seen = packet.receive_time;
  }
  counters.last_seen = std::max(counters.last_seen, packet.receive_time);
  ++counters.requests;
  switch (packet.verdict) {
    case Verdict::ok:
      ++counters.accepted;
      break;
    case Verdict::duplicate:
      ++counters.duplicates;
      break;
    case Verdict::bad_authenticator:
      ++counters.bad_authenticator;
      break;
    case Verdict::bad_message_authenticator:
      ++counters.bad_message_authenticator;
      break;
    case Verdict::malformed:
      ++counters.malformed;
      break;
    case Verdict::unknown_client:
      ++counters.unknown_client;
      break;
  }
}

} // namespace acctlab::storage
