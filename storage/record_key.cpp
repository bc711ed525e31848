#include "storage/record_key.hpp"

#include "storage/record_writer.hpp"

#include <cmath>
#include <functional>

namespace acctlab::storage {

std::string record_idempotency_text(const RecordInput& input) {
  const auto& r = input.record;
  // Without Event-Timestamp the key holds no time ("~" in its place): a stored record of the
  // same key is this one only when their event times are within the window. The two copies of a
  // broadcast arrive within milliseconds; a NAS reusing an Acct-Session-Id after a reboot, with
  // the same counters, sends it later than that. With Event-Timestamp the event time is that
  // timestamp (every door sets it so), so copies of the same key have the same event time.
  std::string key = input.nas_key;
  const auto field = [&key](const auto& value) {
    key.push_back('\x1f');
    if (value) {
      key += std::to_string(*value);
    }
  };
  key.push_back('\x1f');
  key += r.session_id;
  field(r.status_type);
  if (r.event_timestamp) {
    field(r.event_timestamp);
  } else {
    key += "\x1f~";
  }
  field(r.session_time);
  field(r.input_octets);
  field(r.output_octets);
  field(r.input_packets);
  field(r.output_packets);
  field(r.terminate_cause);
  return key;
}

RecentRecords::Key RecentRecords::key_of(std::string_view text) noexcept {
  // Two independent 64-bit hashes: the library's, and FNV-1a. A false match needs both to
  // collide at once.
  std::uint64_t fnv = 14695981039346656037ull;
  for (const unsigned char c : text) {
    fnv = (fnv ^ c) * 1099511628211ull;
  }
  return {static_cast<std::uint64_t>(std::hash<std::string_view>{}(text)), fnv};
}

std::optional<std::int64_t> RecentRecords::find(const Key& key, double event_time) const {
  const auto it = entries_.find(key);
  if (it == entries_.end() ||
      std::abs(it->second.event_time - event_time) > duplicate_record_window) {
    return std::nullopt;
  }
  return it->second.packet_id;
}

void RecentRecords::remember(const Key& key, double event_time, double arrival,
                             std::int64_t packet_id) {
  entries_[key] = {event_time, packet_id};
  order_.push_back({arrival, key, packet_id});
  newest_ = std::max(newest_, arrival);
  // Oldest first; a key remembered again later has a newer element of its own, so an old element
  // removes its key only while the key still names that element's packet.
  while (!order_.empty() &&
         (order_.front().arrival < newest_ - retention_ || order_.size() > capacity_)) {
    const auto& old = order_.front();
    const auto it = entries_.find(old.key);
    if (it != entries_.end() && it->second.packet_id == old.packet_id) {
      entries_.erase(it);
    }
    order_.pop_front();
  }
}

} // namespace acctlab::storage
