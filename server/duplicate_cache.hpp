#pragma once
// The duplicate detection cache of RFC 5080 §2.2.2: a request with the same source address and
// port, Identifier and Request Authenticator as one seen within the window is a retransmission.
// It is answered with the cached response, or — while its original is still being committed —
// when that commit is done. No Asio: entries carry an opaque waiter count, the server sends.

#include "radius/packet.hpp"
#include "server/clients_file.hpp"

#include <cstdint>
#include <deque>
#include <unordered_map>
#include <vector>

namespace acctlab::server {

struct RequestKey {
  IpAddress source;
  std::uint16_t port = 0;
  std::uint8_t identifier = 0;
  radius::Authenticator authenticator{};
  bool operator==(const RequestKey&) const = default;
};
struct RequestKeyHash {
  std::size_t operator()(const RequestKey& key) const noexcept;
};

class DuplicateCache {
public:
  struct Entry {
    bool answered = false;
    std::vector<std::uint8_t> response; // set once answered
    std::uint32_t waiting = 0;          // retransmissions that arrived before the answer
    double time = 0;                    // when the original arrived
  };

  /** window: seconds an answered request is remembered; capacity: most entries kept. */
  DuplicateCache(double window, std::size_t capacity) : window_(window), capacity_(capacity) {}

  Entry* find(const RequestKey& key);
  /** Records a new request awaiting its commit. */
  Entry& insert(const RequestKey& key, double now);
  /** The answer for key; returns the entry (nullptr if it was evicted meanwhile). */
  Entry* answer(const RequestKey& key, std::vector<std::uint8_t> response);
  /** Forgets a request that will never be answered (its commit was abandoned). */
  void erase(const RequestKey& key);
  /** Forgets answered entries older than the window and enforces the capacity. */
  void expire(double now);
  std::size_t size() const { return entries_.size(); }

private:
  double window_;
  std::size_t capacity_;
  std::unordered_map<RequestKey, Entry, RequestKeyHash> entries_;
  std::deque<std::pair<RequestKey, double>> order_; // insertion order, with insertion time
};

} // namespace acctlab::server
