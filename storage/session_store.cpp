#include "storage/session_store.hpp"

#include <string>
#include <utility>

namespace acctlab::storage {
namespace {

constexpr std::string_view session_columns =
    "id, nas_key, acct_session_id, unique_id, state, flags, start_time, update_time, stop_time, "
    "last_record_time, input_octets, output_octets, input_packets, output_packets, session_time, "
    "terminate_cause, interim_interval, user_name, framed_ip, peer, nas_ip, nas_port, "
    "nas_port_type, calling_station_id, called_station_id, record_count, class";

template <class T> std::optional<T> narrow(const std::optional<std::int64_t>& value) {
  if (!value) {
    return std::nullopt;
  }
  return static_cast<T>(*value);
}

radius::Session read_session(const Statement& row) {
  radius::Session session;
  session.id = row.column_int64(0);
  session.key.nas = row.column_text(1);
  session.key.session_id = row.column_text(2);
  session.unique_id = row.column_text(3);
  session.state =
      radius::session_state_from_string(row.column_text(4)).value_or(radius::SessionState::open);
  session.flags = radius::session_flags_from_text(row.column_text(5));
  session.start_time = row.column_optional_double(6);
  session.update_time = row.column_optional_double(7);
  session.stop_time = row.column_optional_double(8);
  session.last_record_time = row.column_double(9);
  session.input_octets = narrow<std::uint64_t>(row.column_optional_int64(10));
  session.output_octets = narrow<std::uint64_t>(row.column_optional_int64(11));
  session.input_packets = narrow<std::uint32_t>(row.column_optional_int64(12));
  session.output_packets = narrow<std::uint32_t>(row.column_optional_int64(13));
  session.session_time = narrow<std::uint32_t>(row.column_optional_int64(14));
  session.terminate_cause = narrow<std::uint32_t>(row.column_optional_int64(15));
  session.interim_interval = narrow<std::uint32_t>(row.column_optional_int64(16));
  session.user_name = row.column_optional_text(17);
  session.framed_ip = row.column_optional_text(18);
  session.peer = row.column_optional_text(19);
  session.nas_ip = row.column_optional_text(20);
  session.nas_port = narrow<std::uint32_t>(row.column_optional_int64(21));
  session.nas_port_type = narrow<std::uint32_t>(row.column_optional_int64(22));
  session.calling_station_id = row.column_optional_text(23);
  session.called_station_id = row.column_optional_text(24);
  session.record_count = static_cast<std::uint32_t>(row.column_int64(25));
  session.class_text = row.column_optional_text(26);
  return session;
}

std::vector<radius::Session> read_all(Statement& statement) {
  std::vector<radius::Session> sessions;
  while (statement.step()) {
    sessions.push_back(read_session(statement));
  }
  return sessions;
}

// A session's run scope on SQLite (WriterOptions::session_scope), which no column holds: the run
// of the packet that opened it, 0 when that run is a server's ('serve') or there is none. A
// search of packets_session (the first packet of the session) and of the run's row.
constexpr std::string_view scope_of_session =
    "IFNULL((SELECT CASE WHEN r.kind IS NULL OR r.kind = 'serve' THEN 0 ELSE r.id END FROM "
    "packets AS p LEFT JOIN runs AS r ON r.id = p.run_id WHERE p.session_row = sessions.id ORDER "
    "BY p.id LIMIT 1), 0)";

std::string select_sessions(std::string_view tail) {
  std::string sql = "SELECT ";
  sql += session_columns;
  sql += " FROM sessions ";
  sql += tail;
  return sql;
}

} // namespace

constexpr std::string_view insert_session_sql =
    "INSERT INTO sessions (id, nas_key, acct_session_id, unique_id, state, flags, start_time, "
    "update_time, stop_time, last_record_time, input_octets, output_octets, input_packets, "
    "output_packets, session_time, terminate_cause, interim_interval, user_name, framed_ip, peer, "
    "nas_ip, nas_port, nas_port_type, calling_station_id, called_station_id, record_count, "
    "class) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, "
    "?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27)";

// Everything but the key and unique_id, which never change once a session exists.
constexpr std::string_view update_columns =
    "state = ?5, flags = ?6, start_time = ?7, update_time = ?8, stop_time = ?9, "
    "last_record_time = ?10, input_octets = ?11, output_octets = ?12, input_packets = ?13, "
    "output_packets = ?14, session_time = ?15, terminate_cause = ?16, interim_interval = ?17, "
    "user_name = ?18, framed_ip = ?19, peer = ?20, nas_ip = ?21, nas_port = ?22, "
    "nas_port_type = ?23, calling_station_id = ?24, called_station_id = ?25, record_count = ?26, "
    "class = ?27";

// What changes with most records; none of these is a column the tally or the search row is made
// of (SessionUpsert::Identity).
constexpr std::string_view usage_columns =
    "flags = ?6, update_time = ?8, stop_time = ?9, last_record_time = ?10, input_octets = ?11, "
    "output_octets = ?12, input_packets = ?13, output_packets = ?14, session_time = ?15, "
    "terminate_cause = ?16, interim_interval = ?17, nas_ip = ?21, nas_port = ?22, "
    "nas_port_type = ?23, calling_station_id = ?24, called_station_id = ?25, record_count = ?26, "
    "class = ?27";

SessionUpsert::Identity SessionUpsert::Identity::of(const radius::Session& session) {
  return {.nas_key = session.key.nas,
          .state = session.state,
          .acct_session_id = session.key.session_id,
          .user_name = session.user_name,
          .peer = session.peer,
          .framed_ip = session.framed_ip,
          .start_time = session.start_time};
}

bool SessionUpsert::Identity::same_tally(const radius::Session& session) const {
  return state == session.state && nas_key == session.key.nas;
}

bool SessionUpsert::Identity::same_search(const radius::Session& session) const {
  return acct_session_id == session.key.session_id && user_name == session.user_name &&
         peer == session.peer && framed_ip == session.framed_ip && start_time == session.start_time;
}

namespace {

// The text a viewer search matches: session id, user, peer and framed IP joined by U+001F, so a
// search does not match across two of them (schema migration 3).
std::string find_text(const radius::Session& session) {
  std::string text = session.key.session_id;
  for (const auto* part : {&session.user_name, &session.peer, &session.framed_ip}) {
    text += '\x1f';
    if (*part) {
      text += **part;
    }
  }
  return text;
}

} // namespace

SessionUpsert::SessionUpsert(Database& db, Tallies tallies)
    : db_(db), tallies_(tallies),
      insert_(db.prepare(std::string(insert_session_sql) + " ON CONFLICT (id) DO NOTHING")),
      update_(db.prepare("UPDATE sessions SET " + std::string(update_columns) + " WHERE id = ?1")),
      update_usage_(
          db.prepare("UPDATE sessions SET " + std::string(usage_columns) + " WHERE id = ?1")),
      select_identity_(db.prepare("SELECT nas_key, state, acct_session_id, user_name, peer, "
                                  "framed_ip, start_time FROM sessions WHERE id = ?1")),
      insert_find_(db.prepare("INSERT OR REPLACE INTO session_find VALUES (?1, ?2, ?3, ?4)")),
      update_find_(db.prepare("UPDATE session_find SET started = IFNULL(?2, started), "
                              "user_name = ?3, text = ?4 WHERE id = ?1")),
      upsert_tally_(db.prepare("INSERT INTO session_tally VALUES (?1, ?2, ?3) ON CONFLICT DO "
                               "UPDATE SET sessions = sessions + excluded.sessions")) {}

void SessionUpsert::write(const radius::Session& session, Row row) {
  if (row == Row::absent) {
    insert(session);
  } else if (row == Row::present_same_identity) {
    bind(update_usage_, session, row);
    update_usage_.run();
    if (db_.changes() == 0) {
      insert(session); // removed behind the writer's back: written whole rather than lost
    }
  } else if (const auto old = stored_identity(session.id)) {
    bind(update_, session, Row::present);
    update_.run();
    if (!old->same_tally(session)) {
      count(old->nas_key, old->state, -1);
      count(session.key.nas, session.state, +1);
    }
    if (!old->same_search(session)) {
      const auto text = find_text(session);
      update_find_.bind(1, session.id)
          .bind(2, session.start_time)
          .bind_static(3, session.user_name)
          .bind_static(4, text)
          .run();
    }
  } else {
    insert(session);
  }
  if (tallies_ == Tallies::immediate) {
    flush_tallies();
  }
}

void SessionUpsert::insert(const radius::Session& session) {
  bind(insert_, session, Row::absent);
  insert_.run();
  if (db_.changes() == 0) {
    // There after all (the caller believed otherwise): update it as a present row.
    write(session, Row::present);
    return;
  }
  const auto text = find_text(session);
  insert_find_.bind(1, session.id)
      .bind(2, session.start_time.value_or(session.last_record_time))
      .bind_static(3, session.user_name)
      .bind_static(4, text)
      .run();
  count(session.key.nas, session.state, +1);
}

std::optional<SessionUpsert::Identity> SessionUpsert::stored_identity(std::int64_t id) {
  select_identity_.bind(1, id);
  if (!select_identity_.step()) {
    select_identity_.reset();
    return std::nullopt;
  }
  Identity identity{
      .nas_key = select_identity_.column_text(0),
      .state = radius::session_state_from_string(select_identity_.column_text(1))
                   .value_or(radius::SessionState::open),
      .acct_session_id = select_identity_.column_text(2),
      .user_name = select_identity_.column_optional_text(3),
      .peer = select_identity_.column_optional_text(4),
      .framed_ip = select_identity_.column_optional_text(5),
      .start_time = select_identity_.column_optional_double(6),
  };
  select_identity_.reset();
  return identity;
}

void SessionUpsert::count(const std::string& nas_key, radius::SessionState state,
                          std::int64_t change) {
  tally_changes_[{nas_key, state}] += change;
}

void SessionUpsert::flush_tallies() {
  for (const auto& [key, change] : tally_changes_) {
    if (change != 0) {
      upsert_tally_.bind_static(1, key.first)
          .bind_static(2, radius::to_string(key.second))
          .bind(3, change)
          .run();
    }
  }
  tally_changes_.clear();
}

// Parameters: ?1 the id; ?2-?4 the key and unique id, which only an insert sets; ?5, ?7 and
// ?18-?20 what the tally and the search row are made of, which the usage-only update leaves out;
// the rest the usage every statement sets. Only what the statement uses is bound, text without
// SQLite's copy: the session outlives the statement's run.
void SessionUpsert::bind(Statement& s, const radius::Session& session, Row row) {
  s.bind(1, session.id)
      .bind(6, radius::session_flags_text(session.flags))
      .bind(8, session.update_time)
      .bind(9, session.stop_time)
      .bind(10, session.last_record_time)
      .bind(11, session.input_octets)
      .bind(12, session.output_octets)
      .bind(13, session.input_packets)
      .bind(14, session.output_packets)
      .bind(15, session.session_time)
      .bind(16, session.terminate_cause)
      .bind(17, session.interim_interval)
      .bind_static(21, session.nas_ip)
      .bind(22, session.nas_port)
      .bind(23, session.nas_port_type)
      .bind_static(24, session.calling_station_id)
      .bind_static(25, session.called_station_id)
      .bind(26, session.record_count)
      .bind_static(27, session.class_text);
  if (row != Row::present_same_identity) {
    s.bind_static(5, radius::to_string(session.state))
        .bind(7, session.start_time)
        .bind_static(18, session.user_name)
        .bind_static(19, session.framed_ip)
        .bind_static(20, session.peer);
  }
  if (row == Row::absent || row == Row::unknown) {
    s.bind_static(2, session.key.nas)
        .bind_static(3, session.key.session_id)
        .bind_static(4, session.unique_id);
  }
}

std::vector<radius::Session> load_sessions_for_matcher(Database& db, std::size_t recent_limit,
                                                       std::int64_t scope) {
  auto open = db.prepare(select_sessions("WHERE state = 'open' AND " +
                                         std::string(scope_of_session) + " = ?1 ORDER BY id"));
  open.bind(1, scope);
  auto sessions = read_all(open);
  auto recent = db.prepare(select_sessions(
      "WHERE id IN (SELECT id FROM sessions WHERE state != 'open' AND " +
      std::string(scope_of_session) + " = ?2 ORDER BY id DESC LIMIT ?1) ORDER BY id"));
  recent.bind(1, static_cast<std::int64_t>(recent_limit)).bind(2, scope);
  for (auto& session : read_all(recent)) {
    sessions.push_back(std::move(session));
  }
  return sessions;
}

std::optional<radius::Session> load_session(Database& db, std::int64_t id) {
  auto statement = db.prepare(select_sessions("WHERE id = ?1"));
  statement.bind(1, id);
  if (!statement.step()) {
    return std::nullopt;
  }
  return read_session(statement);
}

std::vector<radius::Session> load_sessions_by_key(Database& db, std::string_view nas_key,
                                                  std::string_view acct_session_id,
                                                  std::int64_t scope) {
  auto statement = db.prepare(select_sessions("WHERE nas_key = ?1 AND acct_session_id = ?2 AND " +
                                              std::string(scope_of_session) + " = ?3 ORDER BY id"));
  statement.bind(1, nas_key).bind(2, acct_session_id).bind(3, scope);
  return read_all(statement);
}

std::int64_t max_session_id(Database& db) {
  return db.query_int64("SELECT max(id) FROM sessions").value_or(0);
}

} // namespace acctlab::storage
