#pragma once
// Fills an acctlab database as a server's writer leaves it, for tests that judge a stored run:
// the schema (storage's own migrations), runs, packets, sessions and records rows, on a SQLite
// file or a PostgreSQL database, in one transaction. On PostgreSQL records is a view over
// packets: a record is its packet's columns, set by record().

#include "storage/pg_connection.hpp"
#include "storage/pg_schema.hpp"
#include "storage/schema.hpp"
#include "storage/sqlite.hpp"

#include <charconv>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace acctlab::test {

/** A packets row as a server or a capture import stores it. */
struct PacketRow {
  std::optional<std::int64_t> run_id; // none: a packet of no run
  double receive_time = 0;
  std::string src_addr;
  std::int64_t src_port = 0;
  std::string dst_addr;
  std::int64_t dst_port = 0;
  std::optional<std::int64_t> code; // the first octet, when there is one
  std::optional<std::int64_t> identifier;
  std::optional<std::string> file; // a capture import's file and frame
  std::optional<std::int64_t> frame;
  std::vector<std::uint8_t> raw;
};

class StoredRunWriter {
public:
  /** Creates the schema in database (a new SQLite file or an empty PostgreSQL database) and
   * begins the transaction. */
  explicit StoredRunWriter(const std::string& database) {
    if (storage::is_postgres_uri(database)) {
      pg_ = std::make_unique<storage::PgConnection>(database);
      storage::migrate_postgres(*pg_);
      pg_->exec("BEGIN");
    } else {
      sqlite_ = std::make_unique<storage::Database>(database);
      storage::migrate(*sqlite_);
      sqlite_->exec("BEGIN");
    }
  }
  StoredRunWriter(const StoredRunWriter&) = delete;
  StoredRunWriter& operator=(const StoredRunWriter&) = delete;

  void commit() {
    if (pg_) {
      // Runs were given their ids: the identity goes on after the largest.
      pg_->query("SELECT setval(pg_get_serial_sequence('runs', 'id'), max(id)) FROM runs");
      pg_->exec("COMMIT");
    } else {
      sqlite_->exec("COMMIT");
    }
  }

  /** A 'serve' run with this id, unless there is one. */
  void run(std::int64_t id) {
    if (pg_) {
      pg_->query("INSERT INTO runs (id, kind, started) VALUES ($1, 'serve', 0) "
                 "ON CONFLICT DO NOTHING",
                 {std::to_string(id)});
    } else {
      sqlite_->prepare("INSERT OR IGNORE INTO runs (id, kind, started) VALUES (?1, 'serve', 0)")
          .bind(1, id)
          .run();
    }
  }

  /** A packet with verdict 'ok'; returns its id. */
  std::int64_t packet(const PacketRow& p) {
    if (pg_) {
      return pg_
          ->query("INSERT INTO packets (run_id, receive_time, src_addr, src_port, dst_addr, "
                  "dst_port, code, identifier, verdict, file, frame, raw) VALUES ($1, $2, $3, "
                  "$4, $5, $6, $7, $8, 'ok', $9, $10, $11) RETURNING id",
                  {optional(p.run_id), number(p.receive_time), p.src_addr,
                   std::to_string(p.src_port), p.dst_addr, std::to_string(p.dst_port),
                   optional(p.code), optional(p.identifier), p.file, optional(p.frame),
                   bytea(p.raw)})
          .int64(0, 0);
    }
    auto insert = sqlite_->prepare("INSERT INTO packets (run_id, receive_time, src_addr, "
                                   "src_port, dst_addr, dst_port, code, identifier, verdict, "
                                   "file, frame, raw) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
                                   "'ok', ?9, ?10, ?11)");
    insert.bind(1, p.run_id)
        .bind(2, p.receive_time)
        .bind(3, p.src_addr)
        .bind(4, p.src_port)
        .bind(5, p.dst_addr)
        .bind(6, p.dst_port)
        .bind(7, p.code)
        .bind(8, p.identifier)
        .bind(9, p.file)
        .bind(10, p.frame)
        .bind_blob(11, p.raw);
    insert.run();
    return sqlite_->last_insert_rowid();
  }

  /** A session of nas and Acct-Session-Id; returns its id. Closed: several runs in one database
   * may each have one of the same Acct-Session-Id (PostgreSQL allows one open). */
  std::int64_t session(const std::string& nas, const std::string& session_id,
                       const std::string& unique_id) {
    const std::string sql = "INSERT INTO sessions (nas_key, acct_session_id, unique_id, state, "
                            "last_record_time) VALUES ($1, $2, $3, 'closed', 0)";
    if (pg_) {
      return pg_->query(sql + " RETURNING id", {nas, session_id, unique_id}).int64(0, 0);
    }
    sqlite_->prepare(storage_sql(sql)).bind(1, nas).bind(2, session_id).bind(3, unique_id).run();
    return sqlite_->last_insert_rowid();
  }

  /** The record stored from packet_id, of session_row. */
  void record(std::int64_t packet_id, std::int64_t session_row, const std::string& session_id,
              const std::string& nas) {
    if (pg_) {
      pg_->query("UPDATE packets SET session_row = $1, acct_session_id = $2, nas_identity = $3, "
                 "event_time = 0 WHERE id = $4",
                 {std::to_string(session_row), session_id, nas, std::to_string(packet_id)});
      return;
    }
    sqlite_
        ->prepare("INSERT INTO records (packet_id, session_row, acct_session_id, nas_identity, "
                  "event_time, receive_time) VALUES (?1, ?2, ?3, ?4, 0, 0)")
        .bind(1, packet_id)
        .bind(2, session_row)
        .bind(3, session_id)
        .bind(4, nas)
        .run();
  }

private:
  static std::string number(double value) {
    char buffer[64];
    const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
    return std::string(buffer, end);
  }
  static storage::PgParam optional(const std::optional<std::int64_t>& value) {
    return value ? storage::PgParam(std::to_string(*value)) : std::nullopt;
  }
  static std::string bytea(const std::vector<std::uint8_t>& bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string text = "\\x";
    for (const auto b : bytes) {
      text.push_back(digits[b >> 4]);
      text.push_back(digits[b & 15]);
    }
    return text;
  }
  /** $1..$N as SQLite's ?1..?N. */
  static std::string storage_sql(std::string sql) {
    for (auto at = sql.find('$'); at != std::string::npos; at = sql.find('$', at)) {
      sql[at] = '?';
    }
    return sql;
  }
  std::unique_ptr<storage::PgConnection> pg_;
  std::unique_ptr<storage::Database> sqlite_;
};

} // namespace acctlab::test
