#pragma once
// Reading and writing radius::Session rows of the sessions table. The matcher assigns the ids, so
// a snapshot is written with its own id (insert, or update when the row exists).

#include "radius/session_matcher.hpp"
#include "storage/sqlite.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace acctlab::storage {

/**
 * Prepared statements that persist session snapshots; reuse them across a transaction. They also
 * keep what the report viewer reads beside `sessions` (schema migration 5): `session_tally`
 * (sessions per NAS and state) and `session_find` (one search row per session).
 */
class SessionUpsert {
public:
  /** What the caller knows about the row: a plain INSERT or UPDATE is one b-tree search, where
   * an upsert first tries the insert and then updates. */
  enum class Row {
    unknown,
    absent,
    present,
    /** Present, and its state, user, peer, framed IP and start time are as last written: only
     * the usage columns are set, and neither the tally nor the search row changes. */
    present_same_identity,
  };
  /** What the tally and the search row of a session are made of: its key, state, user, peer,
   * framed IP and start time. A write whose session matches what is stored changes neither. */
  struct Identity {
    std::string nas_key;
    radius::SessionState state{};
    std::string acct_session_id;
    std::optional<std::string> user_name;
    std::optional<std::string> peer;
    std::optional<std::string> framed_ip;
    std::optional<double> start_time;

    static Identity of(const radius::Session& session);
    /** Same NAS and state: the session counts where it did. */
    bool same_tally(const radius::Session& session) const;
    /** Same session id, user, peer, framed IP and start time: the search row stays. */
    bool same_search(const radius::Session& session) const;
    bool matches(const radius::Session& session) const {
      return same_tally(session) && same_search(session);
    }
  };

  /** immediate: the tally changes of each write() are stored at once. batched: they add up
   * until flush_tallies(), one upsert per NAS and state per transaction (the record writer). */
  enum class Tallies { immediate, batched };

  explicit SessionUpsert(Database& db, Tallies tallies = Tallies::immediate);
  void write(const radius::Session& session, Row row = Row::unknown);
  /** Stores the tally changes added up since the last flush, inside the caller's transaction. */
  void flush_tallies();
  /** Forgets unflushed tally changes (a transaction that will be retried from the start). */
  void discard_tallies() { tally_changes_.clear(); }

private:
  static void bind(Statement& s, const radius::Session& session, Row row);
  std::optional<Identity> stored_identity(std::int64_t id);
  void insert(const radius::Session& session);
  void count(const std::string& nas_key, radius::SessionState state, std::int64_t change);

  Database& db_;
  Tallies tallies_;
  Statement insert_;
  Statement update_;
  Statement update_usage_;
  Statement select_identity_;
  Statement insert_find_;
  Statement update_find_;
  Statement upsert_tally_;
  std::map<std::pair<std::string, radius::SessionState>, std::int64_t> tally_changes_;
};

/** Open sessions, and up to recent_limit of the most recent closed or stale ones, of one run
 * scope (WriterOptions::session_scope: 0 the live servers', else a capture import's or a
 * conformance run's run id). No column holds the scope on SQLite: it is the run of the packet
 * that opened the session, 0 when that run is a server's ('serve') or none. */
std::vector<radius::Session> load_sessions_for_matcher(Database& db, std::size_t recent_limit,
                                                       std::int64_t scope);

/** The session with this row id, if any. */
std::optional<radius::Session> load_session(Database& db, std::int64_t id);

/** Every session with this NAS key and Acct-Session-Id in this run scope, oldest first. */
std::vector<radius::Session> load_sessions_by_key(Database& db, std::string_view nas_key,
                                                  std::string_view acct_session_id,
                                                  std::int64_t scope);

/** The highest session id stored (0 when none). */
std::int64_t max_session_id(Database& db);

} // namespace acctlab::storage
