#include "server/duplicate_cache.hpp"

#include <cstring>

namespace acctlab::server {

std::size_t RequestKeyHash::operator()(const RequestKey& key) const noexcept {
  // The Request Authenticator is an MD5 output (RFC 2866 §3): its octets are already well mixed.
  std::uint64_t hash = 0;
  std::memcpy(&hash, key.authenticator.data(), sizeof hash);
  hash ^= static_cast<std::uint64_t>(key.port) << 8 ^ key.identifier;
  for (std::size_t i = 0; i < (key.source.v6 ? 16u : 4u); ++i) {
    hash = (hash ^ key.source.bytes[i]) * 0x100000001b3ULL;
  }
  return static_cast<std::size_t>(hash);
}

DuplicateCache::Entry* DuplicateCache::find(const RequestKey& key) {
  const auto it = entries_.find(key);
  return it == entries_.end() ? nullptr : &it->second;
}

DuplicateCache::Entry& DuplicateCache::insert(const RequestKey& key, double now) {
  auto& entry = entries_[key];
  entry = Entry{};
  entry.time = now;
  order_.emplace_back(key, now);
  return entry;
}

DuplicateCache::Entry* DuplicateCache::answer(const RequestKey& key,
                                              std::vector<std::uint8_t> response) {
  Entry* entry = find(key);
  if (entry) {
    entry->answered = true;
    entry->response = std::move(response);
  }
  return entry;
}

void DuplicateCache::erase(const RequestKey& key) {
  entries_.erase(key);
}

void DuplicateCache::expire(double now) {
  while (!order_.empty()) {
    const auto& [key, time] = order_.front();
    const auto it = entries_.find(key);
    if (it == entries_.end() || it->second.time != time) {
      order_.pop_front(); // already gone, or the key was reused by a later request
      continue;
    }
    const bool too_many = entries_.size() > capacity_;
    if (!too_many && now - time <= window_) {
      break;
    }
    if (!it->second.answered && !too_many) {
      break; // an entry awaiting its commit stays until it is answered
    }
    if (!it->second.answered) {
      // Over capacity while still pending: keep it, it is needed to answer; drop from order only
      // after it is answered. Re-queue it at the back.
      order_.emplace_back(key, time);
      order_.pop_front();
      break;
    }
    entries_.erase(it);
    order_.pop_front();
  }
}

} // namespace acctlab::server
