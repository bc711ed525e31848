#pragma once
// The same record stored once, on every engine. A record is identified by what the NAS sent that
// makes it this record and no other (record_idempotency_text). Two copies of one record — a
// broadcast to two server groups, a retransmission with a new Acct-Delay-Time and Identifier, an
// unchanged copy a NAS resends from a new source port (radiusplugin does) — have the same key;
// two records of one session do not. Copies of one key whose event times are within
// duplicate_record_window of each other are one record: the first is stored, the others are
// kept as packets with verdict 'duplicate' naming it, and answered. PostgreSQL decides this in
// acctlab_store (storage/pg_schema.cpp) under a per-key lock, across servers; the SQLite writer,
// the only writer of its file, in memory (RecentRecords). docs/server.md, "The same record is
// stored once".

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace acctlab::storage {

struct RecordInput; // storage/record_writer.hpp

/** Seconds of event time within which copies of one key are one record (acctlab_store's
 * c_window holds the same value). */
inline constexpr double duplicate_record_window = 30;

/** The idempotency key of a record: NAS, Acct-Session-Id, Acct-Status-Type, Event-Timestamp
 * (or "~" without one), Acct-Session-Time, the four counters and Acct-Terminate-Cause.
 * Acct-Delay-Time is left out: a retransmission raises it (RFC 2866 §5.2) and it is still the
 * same record. */
std::string record_idempotency_text(const RecordInput& input);

/**
 * The keys of the records a writer stored recently, and the packet each was stored as. A copy
 * matches when its event time is within duplicate_record_window of the stored record's. Keys are
 * kept as 128 bits of two independent hashes of the text, for `retention` seconds of arrival
 * (the packets' receive time: a capture's time for an import) and at most `capacity` of them,
 * oldest first: what a NAS resends, it resends within that (retry timers are seconds).
 */
class RecentRecords {
public:
  struct Key {
    std::uint64_t a = 0;
    std::uint64_t b = 0;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const noexcept { return static_cast<std::size_t>(k.a); }
  };
  static Key key_of(std::string_view text) noexcept;

  explicit RecentRecords(double retention = 120, std::size_t capacity = 1'000'000)
      : retention_(retention), capacity_(capacity) {}

  /** The packet stored for key with an event time within the window of event_time, if any. */
  std::optional<std::int64_t> find(const Key& key, double event_time) const;
  /** A record of key, with that event time, received at arrival, stored as packet_id. */
  void remember(const Key& key, double event_time, double arrival, std::int64_t packet_id);
  std::size_t size() const { return entries_.size(); }

private:
  struct Entry {
    double event_time = 0;
    std::int64_t packet_id = 0;
  };
  struct Remembered {
    double arrival = 0;
    Key key;
    std::int64_t packet_id = 0;
  };
  double retention_;
  std::size_t capacity_;
  std::unordered_map<Key, Entry, KeyHash> entries_;
  std::deque<Remembered> order_; // as remembered
  double newest_ = 0;            // the latest arrival
};

} // namespace acctlab::storage
