#pragma once
// SessionMatcher: the pure Start / Interim-Update / Stop state machine (RFC 2866 §5.1) over
// AccountingRecords. No SQLite, no clock: callers pass event times and persist the snapshots
// it returns. The server, the pcap analyser and the tester all use this one matcher.

#include "radius/accounting_record.hpp"

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace acctlab::radius {

enum class SessionState : std::uint8_t { open, closed, stale };
std::string_view to_string(SessionState state) noexcept;
std::optional<SessionState> session_state_from_string(std::string_view name) noexcept;

/** Irregularities recorded on a session (a bit set). */
enum SessionFlag : std::uint32_t {
  flag_no_start = 1u << 0,             // Stop without Start (normal for a stop-only NAS)
  flag_duplicate_start = 1u << 1,      // a second Start for an open session
  flag_after_stop = 1u << 2,           // Interim-Update or Stop after the session closed
  flag_counters_backwards = 1u << 3,   // a counter lower than one already reported
  flag_interim_before_start = 1u << 4, // Interim-Update opened the session
};
/** "no-start,counters-backwards" — the flags' stable names, comma-separated. */
std::string session_flags_text(std::uint32_t flags);
std::uint32_t session_flags_from_text(std::string_view text);

/** The NAS (NAS-IP-Address, NAS-IPv6-Address or NAS-Identifier; else the source) + session id. */
struct SessionKey {
  std::string nas;
  std::string session_id;
  bool operator==(const SessionKey&) const = default;
};
struct SessionKeyHash {
  std::size_t operator()(const SessionKey& key) const noexcept;
};

/** The NAS part of a session key: the record's own NAS identity, else the packet's source. */
std::string session_nas_key(const AccountingRecord& record, std::string_view source_address);

struct Session {
  std::int64_t id = 0; // assigned by the matcher, used as the database row id
  SessionKey key;
  std::string unique_id; // unique per session even when the NAS reuses Acct-Session-Id
  SessionState state = SessionState::open;
  std::uint32_t flags = 0;
  std::optional<double> start_time; // unix seconds
  std::optional<double> update_time;
  std::optional<double> stop_time;
  double last_record_time = 0;
  std::optional<std::uint64_t> input_octets;
  std::optional<std::uint64_t> output_octets;
  std::optional<std::uint32_t> input_packets;
  std::optional<std::uint32_t> output_packets;
  std::optional<std::uint32_t> session_time;
  std::optional<std::uint32_t> terminate_cause;
  std::optional<std::uint32_t> interim_interval;
  std::optional<std::string> user_name;
  std::optional<std::string> framed_ip;
  std::optional<std::string> peer; // Cisco-AVPair isakmp-initiator-ip
  std::optional<std::string> nas_ip;
  std::optional<std::uint32_t> nas_port;
  std::optional<std::uint32_t> nas_port_type;
  std::optional<std::string> calling_station_id;
  std::optional<std::string> called_station_id;
  /** The Class the session's first record carrying one had (FreeRADIUS stores it in radacct
   * with the row it inserts and never changes it). */
  std::optional<std::string> class_text;
  std::uint32_t record_count = 0;
};

struct MatchResult {
  /** The session the record belongs to (0 when the record joins none, e.g. no Acct-Session-Id). */
  std::int64_t session_id = 0;
  /** Snapshots of every session this record changed, to persist (insert or replace by id). */
  std::vector<Session> changed;
};

struct MatcherOptions {
  /** Used for staleness when a session carries no Acct-Interim-Interval. */
  std::uint32_t default_interim_interval = 600;
  /** A session with no record for longer than factor × interval becomes stale. */
  std::uint32_t stale_factor = 3;
  /** Closed and stale sessions kept in memory to recognise records after Stop. */
  std::size_t recent_capacity = 65536;
};

class SessionMatcher {
public:
  explicit SessionMatcher(MatcherOptions options = {});

  /** Feeds one accounting record with its NAS key and event time; returns what changed. */
  MatchResult feed(const AccountingRecord& record, std::string_view nas_key, double event_time);

  /** Marks open sessions whose last record is older than factor × interval at now as stale. */
  std::vector<Session> expire(double now);

  /** Restores a session read back from storage at start-up (open, or recently closed/stale). */
  void restore(Session session);
  /** Forgets what it holds for this key, open or recent. A writer whose transaction was refused
   * forgets the sessions the refused batch changed and restores them as stored. */
  void forget(const SessionKey& key);
  /** Ids continue after the highest one stored. */
  void set_next_id(std::int64_t next_id);
  std::int64_t next_id() const { return next_id_; }

  const Session* find_open(const SessionKey& key) const;
  std::size_t open_count() const { return open_.size(); }
  std::size_t recent_count() const { return recent_.size(); }

private:
  Session& open_session(const SessionKey& key, double event_time);
  void remember_recent(Session session);
  void apply_common(Session& session, const AccountingRecord& record, double event_time);
  void apply_counters(Session& session, const AccountingRecord& record);
  void close(Session& session, double event_time);

  MatcherOptions options_;
  std::int64_t next_id_ = 1;
  std::unordered_map<SessionKey, Session, SessionKeyHash> open_;
  std::unordered_map<SessionKey, Session, SessionKeyHash> recent_;
  std::deque<std::pair<SessionKey, std::int64_t>> recent_order_; // oldest first, with session id
};

} // namespace acctlab::radius
