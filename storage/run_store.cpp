#include "storage/run_store.hpp"

#include "storage/commit_failure.hpp"
#include "storage/pg_connection.hpp"
#include "storage/pg_schema.hpp"
#include "storage/read_db.hpp"
#include "storage/schema.hpp"
#include "storage/session_store.hpp"
#include "storage/sqlite.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <charconv>
#include <filesystem>
#include <span>

namespace acctlab::storage {
namespace {

namespace fs = std::filesystem;

/** The sessions a run's records joined. */
constexpr std::string_view run_sessions =
    "SELECT DISTINCT r.session_row FROM records AS r JOIN packets AS p ON p.id = r.packet_id "
    "WHERE p.run_id = ?1 AND r.session_row IS NOT NULL";

/** PostgreSQL's: a run's records are its packets rows that have one (the records view). */
constexpr std::string_view pg_run_sessions =
    "SELECT DISTINCT session_row FROM packets WHERE run_id = $1 AND session_row IS NOT NULL";

/** A double as the shortest text that reads back as the same value (a PgParam). */
std::string real_text(double value) {
  char buffer[32];
  return std::string(buffer, std::to_chars(buffer, buffer + sizeof buffer, value).ptr);
}

} // namespace

std::int64_t open_run(const std::string& path, std::string_view kind, double started) {
  if (is_postgres_uri(path)) {
    PgConnection db(path);
    migrate_postgres(db);
    return db
        .query("INSERT INTO runs (kind, started) VALUES ($1, $2) RETURNING id",
               {std::string(kind), real_text(started)})
        .int64(0, 0);
  }
  Database db(path);
  migrate(db);
  db.prepare("INSERT INTO runs (kind, started) VALUES (?1, ?2)")
      .bind(1, kind)
      .bind(2, started)
      .run();
  return db.last_insert_rowid();
}

void close_run(const std::string& path, std::int64_t run_id, double finished,
               const std::string& verdict, const std::string& report_json) {
  if (is_postgres_uri(path)) {
    PgConnection db(path);
    db.query("UPDATE runs SET finished = $1, verdict = $2, report = $3 WHERE id = $4",
             {real_text(finished), verdict, report_json, std::to_string(run_id)});
    return;
  }
  Database db(path);
  db.prepare("UPDATE runs SET finished = ?1, verdict = ?2, report = ?3 WHERE id = ?4")
      .bind(1, finished)
      .bind(2, verdict)
      .bind(3, report_json)
      .bind(4, run_id)
      .run();
}

std::size_t expire_run_sessions(const std::string& path, std::int64_t run_id,
                                const radius::MatcherOptions& options, double end_time,
                                std::vector<RefusedMark>* refused) {
  // A mark the database refuses (a trigger, a constraint: commit_failure.hpp) is told to the
  // caller and the others are stored: one refused session must not fail the whole judgement.
  const auto tell = [&](std::string nas_key, std::string acct_session_id, const Error& error) {
    if (refused) {
      refused->push_back(
          {std::move(nas_key), std::move(acct_session_id), first_line(error.what())});
    }
  };
  if (is_postgres_uri(path)) {
    // The matcher's rule (radius::SessionMatcher::expire) in one statement, on the run's
    // sessions only: a live server's, or another run's, are never judged by this run's clock.
    PgConnection db(path);
    const std::string judged =
        "state = 'open' AND id IN (" + std::string(pg_run_sessions) +
        ") AND $2 - last_record_time > $3 * COALESCE(NULLIF(interim_interval, 0), $4)";
    const std::vector<PgParam> params{std::to_string(run_id), real_text(end_time),
                                      std::to_string(options.stale_factor),
                                      std::to_string(options.default_interim_interval)};
    try {
      return static_cast<std::size_t>(
          db.query("UPDATE sessions SET state = 'stale' WHERE " + judged + " RETURNING id", params)
              .rows());
    } catch (const PgError& error) {
      if (classify(error) != CommitFailure::refused) {
        throw;
      }
    }
    const auto candidates = db.query("SELECT id, nas_key, acct_session_id FROM sessions WHERE " +
                                         judged + " ORDER BY id",
                                     params);
    std::size_t marked = 0;
    for (int row = 0; row < candidates.rows(); ++row) {
      auto one = params;
      one.push_back(std::to_string(candidates.int64(row, 0)));
      try {
        marked += static_cast<std::size_t>(
            db.query("UPDATE sessions SET state = 'stale' WHERE id = $5 AND " + judged +
                         " RETURNING id",
                     one)
                .rows());
      } catch (const PgError& error) {
        if (classify(error) != CommitFailure::refused) {
          throw;
        }
        tell(candidates.text(row, 1), candidates.text(row, 2), error);
      }
    }
    return marked;
  }
  Database db(path);
  radius::SessionMatcher matcher(options);
  auto open = db.prepare("SELECT id FROM sessions WHERE state = 'open' AND id IN (" +
                         std::string(run_sessions) + ")");
  open.bind(1, run_id);
  while (open.step()) {
    if (auto session = load_session(db, open.column_int64(0))) {
      matcher.restore(std::move(*session));
    }
  }
  const auto stale = matcher.expire(end_time);
  const auto store = [&db](std::span<const radius::Session> sessions) {
    Transaction transaction(db);
    SessionUpsert upsert(db);
    for (const auto& session : sessions) {
      upsert.write(session);
    }
    transaction.commit();
  };
  if (stale.empty()) {
    return 0;
  }
  try {
    store(stale);
    return stale.size();
  } catch (const Error& error) {
    if (classify(error) != CommitFailure::refused) {
      throw;
    }
  }
  std::size_t marked = 0;
  for (const auto& session : stale) {
    try {
      store({&session, 1});
      ++marked;
    } catch (const Error& error) {
      if (classify(error) != CommitFailure::refused) {
        throw;
      }
      tell(session.key.nas, session.key.session_id, error);
    }
  }
  return marked;
}

std::optional<RunProfiles> read_run_profiles(const std::string& path, std::int64_t run_id) {
  ReadOnlyDatabase db(path);
  // Only the few fields, extracted by the engine: a report of `check --db` holds every finding
  // and can be hundreds of megabytes. A report that is no JSON gives NULLs (json_valid first on
  // SQLite; acctlab_json_or_null on PostgreSQL, storage/pg_schema.cpp), not an error.
  auto query = db.prepare(
      db.engine() == Engine::sqlite
          ? "SELECT kind, CASE WHEN json_valid(r) THEN COALESCE(json_extract(r, '$.profile'), "
            "json_extract(r, '$.import.conformance.profile')) END, CASE WHEN json_valid(r) THEN "
            "COALESCE(json_extract(r, '$.profiles'), json_extract(r, "
            "'$.import.conformance.profiles')) END FROM (SELECT kind, CAST(report AS TEXT) AS r "
            "FROM runs WHERE id = ?1)"
          : "SELECT kind, COALESCE(j ->> 'profile', j #>> '{import,conformance,profile}'), "
            "COALESCE(j -> 'profiles', j #> '{import,conformance,profiles}')::text FROM (SELECT "
            "kind, acctlab_json_or_null(report) AS j FROM runs WHERE id = ?1) AS r");
  query.bind(1, run_id);
  if (!query.step()) {
    return std::nullopt;
  }
  RunProfiles profiles;
  profiles.kind = query.text(0);
  if (!query.is_null(1)) {
    profiles.profile = query.text(1);
  }
  if (!query.is_null(2)) {
    boost::system::error_code ec;
    const auto list = boost::json::parse(query.text(2), ec);
    if (!ec && list.is_array()) {
      for (const auto& item : list.get_array()) {
        const auto* nas = item.is_object() ? item.get_object().if_contains("nas") : nullptr;
        const auto* name = item.is_object() ? item.get_object().if_contains("profile") : nullptr;
        if (nas && name && nas->is_string() && name->is_string()) {
          profiles.nas_profiles.emplace_back(std::string(nas->get_string()),
                                             std::string(name->get_string()));
        }
      }
    }
  }
  return profiles;
}

RunCounts count_run(const std::string& path, std::int64_t run_id) {
  RunCounts counts;
  if (is_postgres_uri(path)) {
    PgConnection db(path);
    const std::vector<PgParam> run{std::to_string(run_id)};
    auto verdicts =
        db.query("SELECT verdict, count(*) FROM packets WHERE run_id = $1 GROUP BY verdict", run);
    for (int row = 0; row < verdicts.rows(); ++row) {
      const auto n = static_cast<std::uint64_t>(verdicts.int64(row, 1));
      counts.packets_by_verdict[verdicts.text(row, 0)] = n;
      counts.packets += n;
    }
    counts.records = static_cast<std::uint64_t>(
        db.query("SELECT count(*) FROM packets WHERE run_id = $1 AND nas_identity IS NOT NULL", run)
            .int64(0, 0));
    auto sessions = db.query("SELECT nas_key, state, count(*) FROM sessions WHERE id IN (" +
                                 std::string(pg_run_sessions) +
                                 ") GROUP BY nas_key, state ORDER BY nas_key, state",
                             run);
    for (int row = 0; row < sessions.rows(); ++row) {
      counts.sessions.push_back({sessions.text(row, 0), sessions.text(row, 1),
                                 static_cast<std::uint64_t>(sessions.int64(row, 2))});
    }
    return counts;
  }
  Database db(path);
  auto verdicts =
      db.prepare("SELECT verdict, count(*) FROM packets WHERE run_id = ?1 GROUP BY verdict");
  verdicts.bind(1, run_id);
  while (verdicts.step()) {
    const auto n = static_cast<std::uint64_t>(verdicts.column_int64(1));
    counts.packets_by_verdict[verdicts.column_text(0)] = n;
    counts.packets += n;
  }
  auto records = db.prepare("SELECT count(*) FROM records AS r JOIN packets AS p ON p.id = "
                            "r.packet_id WHERE p.run_id = ?1");
  records.bind(1, run_id);
  if (records.step()) {
    counts.records = static_cast<std::uint64_t>(records.column_int64(0));
  }
  auto sessions = db.prepare("SELECT nas_key, state, count(*) FROM sessions WHERE id IN (" +
                             std::string(run_sessions) + ") GROUP BY nas_key, state");
  sessions.bind(1, run_id);
  while (sessions.step()) {
    counts.sessions.push_back({sessions.column_text(0), sessions.column_text(1),
                               static_cast<std::uint64_t>(sessions.column_int64(2))});
  }
  return counts;
}

std::size_t combine_databases(const std::string& target,
                              const std::vector<LabelledDatabase>& sources) {
  for (const char* suffix : {"", "-wal", "-shm"}) {
    fs::remove(target + suffix);
  }
  Database db(target);
  migrate(db);
  // Which columns hold an id of which table.
  const std::vector<std::pair<std::string, std::vector<std::pair<std::string, std::string>>>>
      tables{
          {"runs", {{"id", "runs"}}},
          {"sessions", {{"id", "sessions"}}},
          // A record is its packet's row (its id is the packet's), so it moves with it.
          {"packets", {{"id", "packets"}, {"run_id", "runs"}, {"session_row", "sessions"}}},
          {"findings",
           {{"id", "findings"},
            {"run_id", "runs"},
            {"packet_id", "packets"},
            {"record_id", "packets"},
            {"session_id", "sessions"}}},
      };
  std::size_t copied = 0;
  for (const auto& source : sources) {
    if (!fs::is_regular_file(source.path)) {
      continue; // ATTACH would create it empty
    }
    db.prepare("ATTACH DATABASE ?1 AS src").bind(1, source.path).run();
    try {
      Transaction transaction(db);
      std::map<std::string, std::int64_t> offset;
      for (const auto& [table, ids] : tables) {
        offset[table] = db.query_int64("SELECT max(id) FROM main." + table).value_or(0);
      }
      for (const auto& [table, ids] : tables) {
        std::string columns;
        std::string values;
        auto info = db.prepare("SELECT name FROM pragma_table_info(?1, 'main') ORDER BY cid");
        info.bind(1, table);
        while (info.step()) {
          const auto column = info.column_text(0);
          columns += (columns.empty() ? "" : ", ") + column;
          std::string value = column;
          for (const auto& [id_column, of] : ids) {
            if (id_column == column) {
              value = column + " + " + std::to_string(offset[of]);
            }
          }
          if (table == "sessions" && column == "unique_id") {
            value = "?1 || '/' || unique_id";
          }
          values += (values.empty() ? "" : ", ") + value;
        }
        auto insert = db.prepare("INSERT INTO main." + table + " (" + columns + ") SELECT " +
                                 values + " FROM src." + table);
        if (table == "sessions") {
          insert.bind(1, source.label);
        }
        insert.run();
      }
      db.exec("INSERT INTO main.nas (identity, address, first_seen, last_seen, requests, "
              "accepted, duplicates, bad_authenticator, bad_message_authenticator, malformed, "
              "unknown_client) SELECT identity, address, first_seen, last_seen, requests, "
              "accepted, duplicates, bad_authenticator, bad_message_authenticator, malformed, "
              "unknown_client FROM src.nas WHERE true ON CONFLICT (identity) DO UPDATE SET "
              "first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, "
              "excluded.last_seen), requests = requests + excluded.requests, accepted = "
              "accepted + excluded.accepted, duplicates = duplicates + excluded.duplicates, "
              "bad_authenticator = bad_authenticator + excluded.bad_authenticator, "
              "bad_message_authenticator = bad_message_authenticator + "
              "excluded.bad_message_authenticator, malformed = malformed + excluded.malformed, "
              "unknown_client = unknown_client + excluded.unknown_client");
      transaction.commit();
    } catch (...) {
      db.exec("DETACH DATABASE src");
      throw;
    }
    db.exec("DETACH DATABASE src");
    ++copied;
  }
  // The rows came in by SQL, not through the record writer that keeps the tallies.
  recount_tallies(db);
  return copied;
}

RowCounts count_rows(const std::string& path) {
  Database db(path);
  return {db.query_int64("SELECT count(*) FROM sessions").value_or(0),
          db.query_int64("SELECT count(*) FROM records").value_or(0)};
}

std::optional<std::int64_t> find_session(const std::string& path,
                                         const std::string& unique_id_prefix,
                                         const std::string& acct_session_id) {
  Database db(path);
  auto query = db.prepare("SELECT min(id) FROM sessions WHERE substr(unique_id, 1, length(?1)) = "
                          "?1 AND (?2 = '' OR acct_session_id = ?2)");
  query.bind(1, unique_id_prefix).bind(2, acct_session_id);
  if (!query.step() || query.is_null(0)) {
    return std::nullopt;
  }
  return query.column_int64(0);
}

} // namespace acctlab::storage
