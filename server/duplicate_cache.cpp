#include "server/duplicate_cache.hpp"

#include <algorithm>

namespace acctlab::server {

std::size_t DuplicateCache::SourceKeyHash::operator()(const SourceKey& key) const noexcept {
  std::uint64_t hash = 0xcbf29ce484222325ULL ^ key.port;
  for (std::size_t i = 0; i < (key.address.v6 ? 16u : 4u); ++i) {
    hash = (hash ^ key.address.bytes[i]) * 0x100000001b3ULL;
  }
  return static_cast<std::size_t>(hash ^ (hash >> 29));
}

DuplicateCache::DuplicateCache(double window, std::size_t max_sources)
    : window_(window), max_sources_(std::max<std::size_t>(max_sources, 1)) {}

DuplicateCache::Source* DuplicateCache::source_of(const RequestKey& key) {
  if (last_source_ && last_key_.port == key.port && last_key_.address == key.source) {
    return last_source_;
  }
  const auto it = sources_.find(SourceKey{key.source, key.port});
  if (it == sources_.end()) {
    return nullptr;
  }
  last_key_ = it->first;
  last_source_ = it->second.get();
  return last_source_;
}

DuplicateCache::Entry* DuplicateCache::slot_of(const RequestKey& key) {
  Source* source = source_of(key);
  if (!source) {
    return nullptr;
  }
  Entry& entry = source->slots[key.identifier];
  if (!entry.used || entry.authenticator != key.authenticator) {
    return nullptr;
  }
  return &entry;
}

DuplicateCache::Entry* DuplicateCache::find(const RequestKey& key) {
  return slot_of(key);
}

DuplicateCache::Entry& DuplicateCache::insert(const RequestKey& key, double now) {
  Source* source = source_of(key);
  if (!source) {
    auto [it, inserted] =
        sources_.emplace(SourceKey{key.source, key.port}, std::make_unique<Source>());
    last_key_ = it->first;
    last_source_ = it->second.get();
    source = last_source_;
  }
  source->last_used = std::max(source->last_used, now);
  Entry& entry = source->slots[key.identifier];
  if (!entry.used) {
    ++used_;
  }
  entry.authenticator = key.authenticator;
  entry.time = now;
  entry.used = true;
  entry.answered = false;
  entry.waiting = 0;
  entry.response.clear();
  return entry;
}

DuplicateCache::Entry* DuplicateCache::answer(const RequestKey& key,
                                              std::span<const std::uint8_t> response) {
  Entry* entry = slot_of(key);
  if (entry) {
    entry->answered = true;
    entry->response.assign(response.begin(), response.end());
  }
  return entry;
}

void DuplicateCache::erase(const RequestKey& key) {
  if (Entry* entry = slot_of(key)) {
    entry->used = false;
    entry->answered = false;
    --used_;
  }
}

void DuplicateCache::expire(double now) {
  struct Idle {
    double last_used;
    SourceKey key;
  };
  std::vector<Idle> idle; // sources without pending requests, candidates for the capacity
  for (auto it = sources_.begin(); it != sources_.end();) {
    bool pending = false;
    bool any = false;
    for (auto& entry : it->second->slots) {
      if (!entry.used) {
        continue;
      }
      if (entry.answered && now - entry.time > window_) {
        entry.used = false;
        entry.answered = false;
        --used_;
        continue;
      }
      any = true;
      pending = pending || !entry.answered;
    }
    if (!any) {
      if (last_source_ == it->second.get()) {
        last_source_ = nullptr;
      }
      it = sources_.erase(it);
      continue;
    }
    if (!pending) {
      idle.push_back({it->second->last_used, it->first});
    }
    ++it;
  }
  if (sources_.size() <= max_sources_) {
    return;
  }
  // Over capacity: forget the least recently used sources whose requests are all answered.
  // Pending slots are never dropped: they are needed to answer retransmissions.
  std::sort(idle.begin(), idle.end(),
            [](const Idle& a, const Idle& b) { return a.last_used < b.last_used; });
  for (const auto& candidate : idle) {
    if (sources_.size() <= max_sources_) {
      break;
    }
    const auto it = sources_.find(candidate.key);
    for (const auto& entry : it->second->slots) {
      used_ -= entry.used ? 1 : 0;
    }
    if (last_source_ == it->second.get()) {
      last_source_ = nullptr;
    }
    sources_.erase(it);
  }
}

} // namespace acctlab::server
