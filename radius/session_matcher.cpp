#include "radius/session_matcher.hpp"

#include <algorithm>
#include <array>
#include <cstdio>

namespace acctlab::radius {
namespace {

constexpr std::uint32_t terminate_cause_nas_reboot = 11; // RFC 2866 §5.10

struct FlagName {
  std::uint32_t flag;
  std::string_view name;
};
constexpr std::array flag_names{
    FlagName{flag_no_start, "no-start"},
    FlagName{flag_duplicate_start, "duplicate-start"},
    FlagName{flag_after_stop, "after-stop"},
    FlagName{flag_counters_backwards, "counters-backwards"},
    FlagName{flag_interim_before_start, "interim-before-start"},
};

std::uint64_t fnv1a(std::string_view text, std::uint64_t hash) {
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

/** 32 hex digits like FreeRADIUS's acctuniqueid; the id half makes it unique per session. The id
 *  comes first so that new sessions' ids sort after the old ones: the unique index on it grows
 *  at its right edge instead of taking each new session on a random page. */
std::string make_unique_id(const SessionKey& key, std::int64_t id) {
  std::uint64_t hash = fnv1a(key.nas, 0xcbf29ce484222325ULL);
  hash = fnv1a(std::string_view("\0", 1), hash);
  hash = fnv1a(key.session_id, hash);
  char buffer[33];
  std::snprintf(buffer, sizeof buffer, "%016llx%016llx", static_cast<unsigned long long>(id),
                static_cast<unsigned long long>(hash));
  return buffer;
}

const std::string* find_avpair(const AccountingRecord& record, std::string_view name) {
  for (const auto& pair : record.cisco_avpairs) {
    if (pair.name == name) {
      return &pair.value;
    }
  }
  return nullptr;
}

/** Session start derived from a later record: event time minus Acct-Session-Time (RFC 2866 §5.7).
 */
std::optional<double> derived_start(const AccountingRecord& record, double event_time) {
  if (record.session_time) {
    return event_time - static_cast<double>(*record.session_time);
  }
  return std::nullopt;
}

template <class T> void take(std::optional<T>& stored, const std::optional<T>& reported) {
  if (reported) {
    stored = reported;
  }
}

} // namespace

std::string_view to_string(SessionState state) noexcept {
  switch (state) {
    case SessionState::open:
      return "open";
    case SessionState::closed:
      return "closed";
    case SessionState::stale:
      return "stale";
  }
  return "open";
}

std::optional<SessionState> session_state_from_string(std::string_view name) noexcept {
  for (auto state : {SessionState::open, SessionState::closed, SessionState::stale}) {
    if (to_string(state) == name) {
      return state;
    }
  }
  return std::nullopt;
}

std::string session_flags_text(std::uint32_t flags) {
  std::string text;
  for (const auto& entry : flag_names) {
    if (flags & entry.flag) {
      if (!text.empty()) {
        text += ',';
      }
      text += entry.name;
    }
  }
  return text;
}

std::uint32_t session_flags_from_text(std::string_view text) {
  std::uint32_t flags = 0;
  while (!text.empty()) {
    const auto comma = text.find(',');
    const auto name = text.substr(0, comma);
    for (const auto& entry : flag_names) {
      if (entry.name == name) {
        flags |= entry.flag;
      }
    }
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
  }
  return flags;
}

std::size_t SessionKeyHash::operator()(const SessionKey& key) const noexcept {
  std::uint64_t hash = fnv1a(key.nas, 0xcbf29ce484222325ULL);
  hash = fnv1a(std::string_view("\0", 1), hash);
  return static_cast<std::size_t>(fnv1a(key.session_id, hash));
}

std::string session_nas_key(const AccountingRecord& record, std::string_view source_address) {
  std::string identity = record.nas_identity();
  if (identity.empty()) {
    identity = source_address;
  }
  return identity;
}

SessionMatcher::SessionMatcher(MatcherOptions options) : options_(options) {}

void SessionMatcher::set_next_id(std::int64_t next_id) {
  next_id_ = std::max(next_id_, next_id);
}

const Session* SessionMatcher::find_open(const SessionKey& key) const {
  const auto it = open_.find(key);
  return it == open_.end() ? nullptr : &it->second;
}

void SessionMatcher::restore(Session session) {
  set_next_id(session.id + 1);
  if (session.state == SessionState::open) {
    auto key = session.key;
    open_.insert_or_assign(std::move(key), std::move(session));
  } else {
    remember_recent(std::move(session));
  }
}

void SessionMatcher::forget(const SessionKey& key) {
  open_.erase(key);
  // Its entry in recent_order_ stays: eviction checks the id it was queued with.
  recent_.erase(key);
}

void SessionMatcher::remember_recent(Session session) {
  recent_order_.emplace_back(session.key, session.id);
  auto key = session.key;
  recent_.insert_or_assign(std::move(key), std::move(session));
  while (recent_order_.size() > options_.recent_capacity) {
    const auto& [old_key, old_id] = recent_order_.front();
    const auto it = recent_.find(old_key);
    // The key may since hold a newer session: only forget the one this entry was queued for.
    if (it != recent_.end() && it->second.id == old_id) {
      recent_.erase(it);
    }
    recent_order_.pop_front();
  }
}

Session& SessionMatcher::open_session(const SessionKey& key, double event_time) {
  Session session;
  session.id = next_id_++;
  session.key = key;
  session.unique_id = make_unique_id(key, session.id);
  session.state = SessionState::open;
  session.last_record_time = event_time;
  return open_.insert_or_assign(key, std::move(session)).first->second;
}

void SessionMatcher::apply_common(Session& session, const AccountingRecord& record,
                                  double event_time) {
  ++session.record_count;
  session.last_record_time = std::max(session.last_record_time, event_time);
  take(session.user_name, record.user_name);
  if (record.framed_ip) {
    session.framed_ip = to_string(*record.framed_ip);
  }
  if (record.nas_ip) {
    session.nas_ip = to_string(*record.nas_ip);
  } else if (record.nas_ipv6) {
    session.nas_ip = to_string(*record.nas_ipv6);
  }
  // The feature document's Table 1 spells it isakmp-initiator-ip; its debug output shows IOS
  // also sending the misspelt isakmp-initator-ip.
  const std::string* peer = find_avpair(record, "isakmp-initiator-ip");
  if (!peer) {
    peer = find_avpair(record, "isakmp-initator-ip");
  }
  if (peer) {
    session.peer = *peer;
  }
  take(session.nas_port, record.nas_port);
  take(session.nas_port_type, record.nas_port_type);
  take(session.calling_station_id, record.calling_station_id);
  take(session.called_station_id, record.called_station_id);
  take(session.interim_interval, record.interim_interval);
  if (!session.class_text) {
    session.class_text = record.class_text;
  }
}

void SessionMatcher::apply_counters(Session& session, const AccountingRecord& record) {
  // A record that lacks a counter leaves the stored one alone: a Stop without octets must not
  // zero the usage the interims already reported.
  bool backwards = false;
  auto update = [&backwards](auto& stored, const auto& reported) {
    if (!reported) {
      return;
    }
    if (stored && *reported < *stored) {
      backwards = true;
    }
    stored = reported;
  };
  update(session.input_octets, record.input_octets);
  update(session.output_octets, record.output_octets);
  update(session.input_packets, record.input_packets);
  update(session.output_packets, record.output_packets);
  update(session.session_time, record.session_time);
  if (backwards) {
    session.flags |= flag_counters_backwards;
  }
}

void SessionMatcher::close(Session& session, double event_time) {
  session.state = SessionState::closed;
  session.stop_time = event_time;
}

MatchResult SessionMatcher::feed(const AccountingRecord& record, std::string_view nas_key,
                                 double event_time) {
  MatchResult result;
  if (!record.status_type) {
    return result;
  }
  const auto status = static_cast<AcctStatusType>(*record.status_type);

  if (status == AcctStatusType::accounting_on || status == AcctStatusType::accounting_off) {
    // RFC 2866 §5.1: Accounting-On/Off mark a NAS (re)start or shutdown, so every session the NAS
    // had open is over. Their usage is kept; the cause says why they ended: the one the NAS sent
    // in this record (an Accounting-Off may say Admin-Reboot), else NAS-Reboot.
    for (auto it = open_.begin(); it != open_.end();) {
      if (it->first.nas != nas_key) {
        ++it;
        continue;
      }
      Session session = std::move(it->second);
      it = open_.erase(it);
      close(session, std::max(event_time, session.last_record_time));
      session.terminate_cause = record.terminate_cause.value_or(terminate_cause_nas_reboot);
      result.changed.push_back(session);
      remember_recent(std::move(session));
    }
    return result;
  }
  if (record.session_id.empty()) {
    return result;
  }
  if (status != AcctStatusType::start && status != AcctStatusType::stop &&
      status != AcctStatusType::interim_update) {
    return result;
  }

  SessionKey key{std::string(nas_key), record.session_id};
  auto open_it = open_.find(key);

  if (status == AcctStatusType::start) {
    if (open_it != open_.end()) {
      Session& session = open_it->second;
      session.flags |= flag_duplicate_start;
      apply_common(session, record, event_time);
      result.session_id = session.id;
      result.changed.push_back(session);
      return result;
    }
    // A Start whose key belongs to a closed session is a new session: NASes reuse
    // Acct-Session-Id after a reboot, and a new unique id keeps the two apart.
    Session& session = open_session(key, event_time);
    session.start_time = event_time;
    apply_common(session, record, event_time);
    apply_counters(session, record);
    result.session_id = session.id;
    result.changed.push_back(session);
    return result;
  }

  if (open_it == open_.end()) {
    auto recent_it = recent_.find(key);
    if (recent_it != recent_.end() && recent_it->second.state == SessionState::stale) {
      // A stale session that speaks again was only quiet; it continues.
      Session revived = std::move(recent_it->second);
      recent_.erase(recent_it);
      revived.state = SessionState::open;
      open_it = open_.insert_or_assign(key, std::move(revived)).first;
    } else if (recent_it != recent_.end()) {
      // Records after Stop never reopen the session; they are attached to it and flagged.
      Session& session = recent_it->second;
      session.flags |= flag_after_stop;
      ++session.record_count;
      session.last_record_time = std::max(session.last_record_time, event_time);
      result.session_id = session.id;
      result.changed.push_back(session);
      return result;
    }
  }

  const bool existed = open_it != open_.end();
  Session& session = existed ? open_it->second : open_session(key, event_time);
  if (!existed) {
    session.flags |= status == AcctStatusType::stop ? flag_no_start : flag_interim_before_start;
    session.start_time = derived_start(record, event_time);
  }
  apply_common(session, record, event_time);
  apply_counters(session, record);
  result.session_id = session.id;
  if (status == AcctStatusType::interim_update) {
    session.update_time = event_time;
    result.changed.push_back(session);
    return result;
  }
  take(session.terminate_cause, record.terminate_cause);
  close(session, event_time);
  result.changed.push_back(session);
  Session closed = std::move(session);
  open_.erase(key);
  remember_recent(std::move(closed));
  return result;
}

std::vector<Session> SessionMatcher::expire(double now) {
  std::vector<Session> stale;
  for (auto it = open_.begin(); it != open_.end();) {
    const Session& session = it->second;
    const double interval = session.interim_interval && *session.interim_interval > 0
                                ? *session.interim_interval
                                : options_.default_interim_interval;
    // Judged from the last record, not from the Start: a session that sends interims is alive.
    if (now - session.last_record_time > interval * options_.stale_factor) {
      Session moved = std::move(it->second);
      it = open_.erase(it);
      moved.state = SessionState::stale;
      stale.push_back(moved);
      remember_recent(std::move(moved));
    } else {
      ++it;
    }
  }
  return stale;
}

} // namespace acctlab::radius
