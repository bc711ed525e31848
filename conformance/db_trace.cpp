#include "conformance/db_trace.hpp"

#include "conformance/detail/db_rows.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <sqlite3.h>

namespace acctlab::conformance {
namespace {

using detail::Db;
using detail::Statement;

Expected<Db, std::string> open(const std::string& path, int flags) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  Db db(raw);
  if (rc != SQLITE_OK) {
    return Unexpected(path + ": " + (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  }
  sqlite3_busy_timeout(raw, 5000);
  return db;
}

Expected<Statement, std::string> prepare(sqlite3* db, const char* sql) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &raw, nullptr) != SQLITE_OK) {
    return Unexpected(std::string(sqlite3_errmsg(db)));
  }
  return Statement(raw);
}

std::string text_column(sqlite3_stmt* statement, int column) {
  const auto* text = sqlite3_column_text(statement, column);
  return text ? reinterpret_cast<const char*>(text) : "";
}

std::string endpoint(const std::string& address, std::int64_t port) {
  if (address.find(':') != std::string::npos) {
    return "[" + address + "]:" + std::to_string(port);
  }
  return address + ":" + std::to_string(port);
}

bool is_response_code(int code) {
  return code == 2 || code == 3 || code == 5 || code == 11 || code == 41 || code == 42 ||
         code == 44 || code == 45;
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

Expected<std::size_t, std::string> insert_findings(sqlite3* db, std::int64_t run_id,
                                                   const Verdict& verdict, const Trace* trace) {
  auto record = prepare(db, "SELECT id, session_row FROM records WHERE packet_id = ?1");
  auto insert = prepare(db, "INSERT INTO findings (run_id, rule_id, severity, scope, message, "
                            "packet_id, record_id, session_id, file, frame) "
                            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
  if (!record) {
    return Unexpected(record.error());
  }
  if (!insert) {
    return Unexpected(insert.error());
  }
  for (const auto& finding : verdict.findings) {
    auto* st = insert->get();
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    sqlite3_bind_int64(st, 1, run_id);
    sqlite3_bind_text(st, 2, finding.rule_id.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, std::string(to_string(finding.severity)).c_str(), -1,
                      SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, std::string(to_string(finding.scope)).c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 5, finding.message.c_str(), -1, SQLITE_TRANSIENT);
    const auto& evidence = finding.evidence;
    // The last stored packet is the one the finding is about (a retransmission, a late record,
    // an answer); earlier ones are context.
    if (!evidence.packet_ids.empty()) {
      const auto packet_id = evidence.packet_ids.back();
      sqlite3_bind_int64(st, 6, packet_id);
      sqlite3_reset(record->get());
      sqlite3_bind_int64(record->get(), 1, packet_id);
      if (sqlite3_step(record->get()) == SQLITE_ROW) {
        sqlite3_bind_int64(st, 7, sqlite3_column_int64(record->get(), 0));
        if (sqlite3_column_type(record->get(), 1) != SQLITE_NULL) {
          sqlite3_bind_int64(st, 8, sqlite3_column_int64(record->get(), 1));
        }
      }
    }
    // The file and frame of the packet the finding is about: from the trace when given (the
    // evidence's file is its first packet's, which differs when a finding spans two files).
    const TracePacket* subject =
        trace && !evidence.packets.empty() && evidence.packets.back() < trace->packets.size()
            ? &trace->packets[evidence.packets.back()]
            : nullptr;
    if (subject) {
      if (subject->file) {
        sqlite3_bind_text(st, 9, subject->file->c_str(), -1, SQLITE_TRANSIENT);
      }
      if (subject->frame) {
        sqlite3_bind_int64(st, 10, static_cast<std::int64_t>(*subject->frame));
      }
    } else {
      if (!evidence.file.empty()) {
        sqlite3_bind_text(st, 9, evidence.file.c_str(), -1, SQLITE_TRANSIENT);
      }
      if (!evidence.frames.empty()) {
        sqlite3_bind_int64(st, 10, static_cast<std::int64_t>(evidence.frames.back()));
      }
    }
    if (sqlite3_step(st) != SQLITE_DONE) {
      return Unexpected(std::string(sqlite3_errmsg(db)));
    }
  }
  return verdict.findings.size();
}

} // namespace

std::optional<std::pair<double, double>> detail::serve_window(sqlite3* db,
                                                              std::optional<std::int64_t> run_id) {
  // A server run spans from its start to its stop (or its last packet while it still runs).
  auto statement = prepare(db, "SELECT min(started), max(coalesce(finished, started)) FROM runs "
                               "WHERE kind = 'serve' AND (?1 IS NULL OR id = ?1) AND EXISTS "
                               "(SELECT 1 FROM packets WHERE packets.run_id = runs.id)");
  if (!statement) {
    return std::nullopt;
  }
  if (run_id) {
    sqlite3_bind_int64(statement->get(), 1, *run_id);
  }
  if (sqlite3_step(statement->get()) != SQLITE_ROW ||
      sqlite3_column_type(statement->get(), 0) == SQLITE_NULL) {
    return std::nullopt;
  }
  return std::pair{sqlite3_column_double(statement->get(), 0),
                   sqlite3_column_double(statement->get(), 1)};
}

void detail::add_file_windows(Trace& trace) {
  std::map<std::string, Trace::Window> by_file;
  for (const auto& packet : trace.packets) {
    if (!packet.file) {
      continue;
    }
    auto [it, inserted] = by_file.try_emplace(*packet.file);
    auto& window = it->second;
    if (inserted) {
      window = {packet.time, packet.time, *packet.file};
    }
    window.begin = std::min(window.begin, packet.time);
    window.end = std::max(window.end, packet.time);
  }
  if (by_file.size() > 1) {
    for (auto& [file, window] : by_file) {
      trace.windows.push_back(std::move(window));
    }
  }
}

TracePacket detail::read_packet_row(sqlite3_stmt* row, bool& response, int first) {
  const auto column = [first](int i) { return first + i; };
  TracePacket packet;
  packet.packet_id = sqlite3_column_int64(row, column(0));
  packet.time = sqlite3_column_double(row, column(1));
  packet.source = endpoint(text_column(row, column(2)), sqlite3_column_int64(row, column(3)));
  if (sqlite3_column_type(row, column(4)) != SQLITE_NULL) {
    packet.destination =
        endpoint(text_column(row, column(4)), sqlite3_column_int64(row, column(5)));
  }
  // A server stores requests only; a capture import stores the answers too.
  response = sqlite3_column_type(row, column(6)) != SQLITE_NULL &&
             is_response_code(sqlite3_column_int(row, column(6)));
  packet.direction = response ? Direction::from_server : Direction::to_server;
  packet.verdict = text_column(row, column(7));
  if (sqlite3_column_type(row, column(8)) != SQLITE_NULL) {
    packet.file = text_column(row, column(8));
  }
  if (sqlite3_column_type(row, column(9)) != SQLITE_NULL) {
    packet.frame = static_cast<std::uint64_t>(sqlite3_column_int64(row, column(9)));
  }
  const auto* blob = static_cast<const std::uint8_t*>(sqlite3_column_blob(row, column(10)));
  packet.raw.assign(blob, blob + sqlite3_column_bytes(row, column(10)));
  return packet;
}

Expected<Trace, std::string> load_trace_from_db(const std::string& path,
                                                const DbTraceOptions& options) {
  auto db = open(path, SQLITE_OPEN_READONLY);
  if (!db) {
    return Unexpected(db.error());
  }
  auto statement = prepare(db->get(), (std::string("SELECT ") + detail::packet_columns +
                                       " FROM packets WHERE (?1 IS NULL OR run_id = ?1) "
                                       "ORDER BY receive_time, id")
                                          .c_str());
  if (!statement) {
    return Unexpected(path + ": " + statement.error());
  }
  if (options.run_id) {
    sqlite3_bind_int64(statement->get(), 1, *options.run_id);
  }
  Trace trace;
  trace.default_secret = options.secret;
  trace.responses_recorded = false;
  int rc = SQLITE_ROW;
  while ((rc = sqlite3_step(statement->get())) == SQLITE_ROW) {
    bool response = false;
    TracePacket packet = detail::read_packet_row(statement->get(), response);
    trace.responses_recorded = trace.responses_recorded || response;
    trace.packets.push_back(std::move(packet));
  }
  if (rc != SQLITE_DONE) {
    return Unexpected(path + ": " + sqlite3_errmsg(db->get()));
  }
  detail::add_file_windows(trace);
  if (const auto window = detail::serve_window(db->get(), options.run_id);
      window && !trace.packets.empty()) {
    trace.begin = std::min(window->first, trace.packets.front().time);
    trace.end = std::max(window->second, trace.packets.back().time);
  }
  return trace;
}

Expected<std::int64_t, std::string> store_findings(const std::string& path, const Verdict& verdict,
                                                   const std::string& json_report) {
  auto db = open(path, SQLITE_OPEN_READWRITE);
  if (!db) {
    return Unexpected(db.error());
  }
  auto fail = [&](const std::string& what) {
    sqlite3_exec(db->get(), "ROLLBACK", nullptr, nullptr, nullptr);
    return Unexpected(path + ": " + what);
  };
  if (sqlite3_exec(db->get(), "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK) {
    return Unexpected(path + ": " + sqlite3_errmsg(db->get()));
  }
  auto run = prepare(db->get(), "INSERT INTO runs (kind, started, finished, verdict, report) "
                                "VALUES ('conform', ?1, ?1, ?2, ?3)");
  if (!run) {
    return fail(run.error());
  }
  sqlite3_bind_double(run->get(), 1, now_seconds());
  sqlite3_bind_text(run->get(), 2, verdict.has_errors() ? "fail" : "pass", -1, SQLITE_STATIC);
  // A BLOB of the JSON's UTF-8 bytes, as StagedVerdict::store must store a report too large to
  // build in memory (run_judge.cpp): every conformance report has the one type.
  sqlite3_bind_blob64(run->get(), 3, json_report.data(), json_report.size(), SQLITE_STATIC);
  if (sqlite3_step(run->get()) != SQLITE_DONE) {
    return fail(sqlite3_errmsg(db->get()));
  }
  const std::int64_t run_id = sqlite3_last_insert_rowid(db->get());

  if (auto inserted = insert_findings(db->get(), run_id, verdict, nullptr); !inserted) {
    return fail(inserted.error());
  }
  if (sqlite3_exec(db->get(), "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
    return fail(sqlite3_errmsg(db->get()));
  }
  return run_id;
}

Expected<std::size_t, std::string> store_findings_in_run(const std::string& path,
                                                         const Verdict& verdict,
                                                         std::int64_t run_id, const Trace& trace) {
  auto db = open(path, SQLITE_OPEN_READWRITE);
  if (!db) {
    return Unexpected(db.error());
  }
  if (sqlite3_exec(db->get(), "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK) {
    return Unexpected(path + ": " + sqlite3_errmsg(db->get()));
  }
  auto inserted = insert_findings(db->get(), run_id, verdict, &trace);
  if (!inserted || sqlite3_exec(db->get(), "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
    const std::string error = inserted ? sqlite3_errmsg(db->get()) : inserted.error();
    sqlite3_exec(db->get(), "ROLLBACK", nullptr, nullptr, nullptr);
    return Unexpected(path + ": " + error);
  }
  return *inserted;
}

} // namespace acctlab::conformance
