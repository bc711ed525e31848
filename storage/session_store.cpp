#include "storage/session_store.hpp"

#include <string>

namespace acctlab::storage {
namespace {

constexpr std::string_view session_columns =
    "id, nas_key, acct_session_id, unique_id, state, flags, start_time, update_time, stop_time, "
    "last_record_time, input_octets, output_octets, input_packets, output_packets, session_time, "
    "terminate_cause, interim_interval, user_name, framed_ip, peer, nas_ip, nas_port, "
    "nas_port_type, calling_station_id, called_station_id, record_count";

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
  return session;
}

std::vector<radius::Session> read_all(Statement& statement) {
  std::vector<radius::Session> sessions;
  while (statement.step()) {
    sessions.push_back(read_session(statement));
  }
  return sessions;
}

std::string select_sessions(std::string_view tail) {
  std::string sql = "SELECT ";
  sql += session_columns;
  sql += " FROM sessions ";
  sql += tail;
  return sql;
}

} // namespace

SessionUpsert::SessionUpsert(Database& db)
    : statement_(db.prepare(
          "INSERT INTO sessions (id, nas_key, acct_session_id, unique_id, state, flags, "
          "start_time, update_time, stop_time, last_record_time, input_octets, output_octets, "
          "input_packets, output_packets, session_time, terminate_cause, interim_interval, "
          "user_name, framed_ip, peer, nas_ip, nas_port, nas_port_type, calling_station_id, "
          "called_station_id, record_count) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
          "?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26) "
          "ON CONFLICT (id) DO UPDATE SET state = excluded.state, flags = excluded.flags, "
          "start_time = excluded.start_time, update_time = excluded.update_time, "
          "stop_time = excluded.stop_time, last_record_time = excluded.last_record_time, "
          "input_octets = excluded.input_octets, output_octets = excluded.output_octets, "
          "input_packets = excluded.input_packets, output_packets = excluded.output_packets, "
          "session_time = excluded.session_time, terminate_cause = excluded.terminate_cause, "
          "interim_interval = excluded.interim_interval, user_name = excluded.user_name, "
          "framed_ip = excluded.framed_ip, peer = excluded.peer, nas_ip = excluded.nas_ip, "
          "nas_port = excluded.nas_port, nas_port_type = excluded.nas_port_type, "
          "calling_station_id = excluded.calling_station_id, "
          "called_station_id = excluded.called_station_id, "
          "record_count = excluded.record_count")) {}

void SessionUpsert::write(const radius::Session& session) {
  auto& s = statement_;
  s.bind(1, session.id)
      .bind(2, session.key.nas)
      .bind(3, session.key.session_id)
      .bind(4, session.unique_id)
      .bind(5, radius::to_string(session.state))
      .bind(6, radius::session_flags_text(session.flags))
      .bind(7, session.start_time)
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
      .bind(18, session.user_name)
      .bind(19, session.framed_ip)
      .bind(20, session.peer)
      .bind(21, session.nas_ip)
      .bind(22, session.nas_port)
      .bind(23, session.nas_port_type)
      .bind(24, session.calling_station_id)
      .bind(25, session.called_station_id)
      .bind(26, session.record_count);
  s.run();
}

std::vector<radius::Session> load_sessions_for_matcher(Database& db, std::size_t recent_limit) {
  auto open = db.prepare(select_sessions("WHERE state = 'open' ORDER BY id"));
  auto sessions = read_all(open);
  auto recent = db.prepare(
      select_sessions("WHERE id IN (SELECT id FROM sessions WHERE state != 'open' ORDER BY id "
                      "DESC LIMIT ?1) ORDER BY id"));
  recent.bind(1, static_cast<std::int64_t>(recent_limit));
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
                                                  std::string_view acct_session_id) {
  auto statement =
      db.prepare(select_sessions("WHERE nas_key = ?1 AND acct_session_id = ?2 ORDER BY id"));
  statement.bind(1, nas_key).bind(2, acct_session_id);
  return read_all(statement);
}

std::int64_t max_session_id(Database& db) {
  return db.query_int64("SELECT max(id) FROM sessions").value_or(0);
}

} // namespace acctlab::storage
