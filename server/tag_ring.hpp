#pragma once
// TagRing: values waiting for a completion, found by the tag issued when they were added. The
// server's requests await their commit this way: the writer completes tags in the order they
// were issued, so a ring indexed by tag does what a hash map would without a node allocation or
// a hash per request. A tag completed out of order only delays the ring's shrinking.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>

namespace acctlab::server {

template <class T> class TagRing {
public:
  /** Stores value; returns its tag (never 0, which callers use for "no completion wanted"). */
  std::uint64_t push(T value) {
    slots_.emplace_back(std::move(value));
    ++count_;
    return first_ + slots_.size() - 1;
  }

  T* find(std::uint64_t tag) {
    if (tag < first_ || tag - first_ >= slots_.size()) {
      return nullptr;
    }
    auto& slot = slots_[static_cast<std::size_t>(tag - first_)];
    return slot ? &*slot : nullptr;
  }

  void erase(std::uint64_t tag) {
    if (tag < first_ || tag - first_ >= slots_.size()) {
      return;
    }
    auto& slot = slots_[static_cast<std::size_t>(tag - first_)];
    if (!slot) {
      return;
    }
    slot.reset();
    --count_;
    while (!slots_.empty() && !slots_.front()) {
      slots_.pop_front();
      ++first_;
    }
  }

  /** Values still waiting. */
  std::size_t size() const { return count_; }

private:
  std::deque<std::optional<T>> slots_;
  std::uint64_t first_ = 1;
  std::size_t count_ = 0;
};

} // namespace acctlab::server
