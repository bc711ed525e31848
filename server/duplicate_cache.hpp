#pragma once
// The duplicate detection cache of RFC 5080 §2.2.2: a request with the same source address and
// port, Identifier and Request Authenticator as one seen within the window is a retransmission.
// It is answered with the cached response, or — while its original is still being committed —
// when that commit is done. No Asio: entries carry an opaque waiter count, the server sends.
//
// One slot per (source address, source port, Identifier). A NAS gives an Identifier on a source
// port to a new request only once the previous one was answered or abandoned (RFC 2865 §3), so the
// newest request of a slot is the only one that can still be retransmitted; a request with a
// different authenticator in the same slot is a new request and takes the slot over. Memory is
// therefore 256 slots per active source port, however many requests arrive in the window.

#include "radius/packet.hpp"
#include "server/clients_file.hpp"

#include <array>
#include <cstdint>
#include <memory>
#include <span>
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

class DuplicateCache {
public:
  struct Entry {
    radius::Authenticator authenticator{};
    double time = 0; // when the original arrived
    bool used = false;
    bool answered = false;
    std::uint32_t waiting = 0;          // retransmissions that arrived before the answer
    std::vector<std::uint8_t> response; // set once answered; its buffer is reused by the slot
  };

  /** window: seconds an answered request is remembered; max_sources: most source address and
   * port pairs tracked (each costs 256 slots). */
  DuplicateCache(double window, std::size_t max_sources);

  /** The entry of this exact request (same authenticator), or nullptr. */
  Entry* find(const RequestKey& key);
  /** Records a new request awaiting its commit; it replaces whatever its slot held. */
  Entry& insert(const RequestKey& key, double now);
  /** Stores the answer; returns the entry, or nullptr when a newer request took the slot. */
  Entry* answer(const RequestKey& key, std::span<const std::uint8_t> response);
  /** Forgets a request that will never be answered (its commit was abandoned). */
  void erase(const RequestKey& key);
  /** Frees answered slots older than the window and sources with nothing left; when more
   * sources than max_sources remain, the least recently used ones without pending requests go. */
  void expire(double now);
  /** Requests remembered (used slots). */
  std::size_t size() const { return used_; }
  std::size_t sources() const { return sources_.size(); }

private:
  struct SourceKey {
    IpAddress address;
    std::uint16_t port = 0;
    bool operator==(const SourceKey&) const = default;
  };
  struct SourceKeyHash {
    std::size_t operator()(const SourceKey& key) const noexcept;
  };
  struct Source {
    std::array<Entry, 256> slots;
    double last_used = 0;
  };

  Source* source_of(const RequestKey& key);
  Entry* slot_of(const RequestKey& key);

  double window_;
  std::size_t max_sources_;
  std::size_t used_ = 0;
  std::unordered_map<SourceKey, std::unique_ptr<Source>, SourceKeyHash> sources_;
  // The hot path usually sees one NAS port after another: remember the last lookup.
  SourceKey last_key_{};
  Source* last_source_ = nullptr;
};

} // namespace acctlab::server
