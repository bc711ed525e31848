#pragma once
// Reading and writing radius::Session rows of the sessions table. The matcher assigns the ids, so
// a snapshot is written with its own id (insert, or update when the row exists).

#include "radius/session_matcher.hpp"
#include "storage/sqlite.hpp"

#include <cstdint>
#include <string_view>
#include <vector>

namespace acctlab::storage {

/** Prepared statements that persist session snapshots; reuse them across a transaction. */
class SessionUpsert {
public:
  /** What the caller knows about the row: a plain INSERT or UPDATE is one b-tree search, where
   * an upsert first tries the insert and then updates. */
  enum class Row {
    unknown,
    absent,
    present,
    /** Present, and its state, user, peer, framed IP and start time are as last written: only
     * the columns no trigger watches are set. Schema migration 3's session_update trigger is
     * coded into every UPDATE that sets a column it watches (267 VDBE opcodes instead of 48)
     * and runs for every row, even when its WHEN finds nothing changed. */
    present_same_identity,
  };

  explicit SessionUpsert(Database& db);
  void write(const radius::Session& session, Row row = Row::unknown);

private:
  static void bind(Statement& s, const radius::Session& session, Row row);
  Database& db_;
  Statement upsert_;
  Statement update_;
  Statement update_usage_;
};

/** Open sessions, and up to recent_limit of the most recent closed or stale ones. */
std::vector<radius::Session> load_sessions_for_matcher(Database& db, std::size_t recent_limit);

/** The session with this row id, if any. */
std::optional<radius::Session> load_session(Database& db, std::int64_t id);

/** Every session with this NAS key and Acct-Session-Id, oldest first. */
std::vector<radius::Session> load_sessions_by_key(Database& db, std::string_view nas_key,
                                                  std::string_view acct_session_id);

/** The highest session id stored (0 when none). */
std::int64_t max_session_id(Database& db);

} // namespace acctlab::storage
