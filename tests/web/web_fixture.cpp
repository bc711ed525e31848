#include "tests/web/web_fixture.hpp"

#include "radius/authenticator.hpp"
#include "radius/packet_codec.hpp"
#include "radius/text_form.hpp"
#include "storage/detail/read_engine.hpp"
#include "storage/pg_connection.hpp"
#include "storage/pg_schema.hpp"
#include "storage/schema.hpp"
#include "tests/support/test_engine.hpp"

#include <charconv>
#include <filesystem>
#include <sqlite3.h>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace acctlab::web::test {

struct TestSql::Engine {
  sqlite3* lite = nullptr;
  std::unique_ptr<storage::PgConnection> pg;
};

TestSql::TestSql(const std::string& database) : engine_(std::make_unique<Engine>()) {
  if (storage::is_postgres_uri(database)) {
    engine_->pg = std::make_unique<storage::PgConnection>(database);
    return;
  }
  if (sqlite3_open(database.c_str(), &engine_->lite) != SQLITE_OK) {
    sqlite3_close(engine_->lite);
    throw std::runtime_error("open " + database);
  }
  sqlite3_busy_timeout(engine_->lite, 5000);
}

TestSql::~TestSql() {
  sqlite3_close(engine_->lite);
}

void TestSql::exec(const std::string& sql) {
  if (engine_->pg) {
    engine_->pg->exec(sql);
    return;
  }
  char* error = nullptr;
  if (sqlite3_exec(engine_->lite, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    std::string message = error ? error : "?";
    sqlite3_free(error);
    throw std::runtime_error("sql: " + message + " in " + sql);
  }
}

std::int64_t TestSql::insert(const std::string& sql, const std::vector<SqlValue>& values) {
  if (engine_->pg) {
    std::vector<storage::PgParam> params;
    for (const auto& v : values) {
      switch (v.kind) {
        case SqlValue::Kind::null:
          params.emplace_back();
          break;
        case SqlValue::Kind::integer:
          params.emplace_back(std::to_string(v.i));
          break;
        case SqlValue::Kind::real: {
          char buffer[32];
          params.emplace_back(std::string(buffer, std::to_chars(buffer, buffer + 32, v.d).ptr));
          break;
        }
        case SqlValue::Kind::text:
          params.emplace_back(v.s);
          break;
        case SqlValue::Kind::blob: {
          static constexpr char digits[] = "0123456789abcdef";
          std::string hex = "\\x";
          for (const auto byte : v.b) {
            hex.push_back(digits[byte >> 4]);
            hex.push_back(digits[byte & 15]);
          }
          params.emplace_back(std::move(hex));
          break;
        }
      }
    }
    auto result =
        engine_->pg->query(storage::detail::postgres_parameters(sql) + " RETURNING id", params);
    return result.rows() > 0 ? result.int64(0, 0) : 0;
  }
  sqlite3* db = engine_->lite;
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    throw std::runtime_error(std::string("prepare: ") + sqlite3_errmsg(db) + " in " + sql);
  }
  int index = 1;
  for (const auto& v : values) {
    switch (v.kind) {
      case SqlValue::Kind::null:
        sqlite3_bind_null(stmt, index);
        break;
      case SqlValue::Kind::integer:
        sqlite3_bind_int64(stmt, index, v.i);
        break;
      case SqlValue::Kind::real:
        sqlite3_bind_double(stmt, index, v.d);
        break;
      case SqlValue::Kind::text:
        sqlite3_bind_text(stmt, index, v.s.data(), static_cast<int>(v.s.size()), SQLITE_TRANSIENT);
        break;
      case SqlValue::Kind::blob:
        sqlite3_bind_blob(stmt, index, v.b.data(), static_cast<int>(v.b.size()), SQLITE_TRANSIENT);
        break;
    }
    ++index;
  }
  const int rc = sqlite3_step(stmt);
  sqlite3_finalize(stmt);
  if (rc != SQLITE_DONE) {
    throw std::runtime_error(std::string("insert: ") + sqlite3_errmsg(db) + " in " + sql);
  }
  return sqlite3_last_insert_rowid(db);
}

std::string TestSql::value(const std::string& sql) {
  if (engine_->pg) {
    auto result = engine_->pg->query(storage::detail::postgres_parameters(sql));
    return result.rows() > 0 && !result.is_null(0, 0) ? result.text(0, 0) : std::string();
  }
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(engine_->lite, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    throw std::runtime_error(std::string("prepare: ") + sqlite3_errmsg(engine_->lite));
  }
  std::string out;
  if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_type(stmt, 0) != SQLITE_NULL) {
    // Byte for byte (a report may hold NUL octets).
    const auto* bytes = static_cast<const char*>(sqlite3_column_blob(stmt, 0));
    out.assign(bytes ? bytes : "", static_cast<std::size_t>(sqlite3_column_bytes(stmt, 0)));
  }
  sqlite3_finalize(stmt);
  return out;
}

namespace {

using Db = TestSql;

const radius::Dictionary& dict() {
  return radius::Dictionary::builtin();
}

std::uint8_t attr(std::string_view name) {
  const auto* def = dict().find(name);
  if (!def) {
    throw std::runtime_error("no attribute " + std::string(name));
  }
  return static_cast<std::uint8_t>(def->number);
}

radius::Packet parse(const std::string& text) {
  auto packet = radius::parse_packet_text(text, dict());
  if (!packet) {
    throw std::runtime_error("fixture packet: " + packet.error().message);
  }
  return *packet;
}

struct Stored {
  std::int64_t packet_id = 0;
  std::int64_t record_id = 0;
};

/** Encodes and signs packet, stores the datagram and (when session_row) its record. */
Stored store(Db& db, const radius::Packet& packet, double time, std::int64_t run_id,
             std::int64_t session_row, int status_type, const std::string& session_id,
             const std::string& nas, const char* user, std::vector<std::int64_t> counters = {},
             const std::string& source = "127.0.0.1") {
  auto wire = radius::encode_packet(packet, dict());
  radius::sign_request(wire, "testing123");
  auto decoded = radius::decode_packet(wire, dict());
  if (!decoded) {
    throw std::runtime_error("fixture packet does not decode: " + decoded.error().message());
  }
  Stored s;
  counters.resize(5);
  SqlValue c[5];
  for (int i = 0; i < 5; ++i) {
    c[i] = status_type == 1 ? SqlValue() : SqlValue(counters[static_cast<std::size_t>(i)]);
  }
  // A record is its packet's row (schema migration 6; the same on PostgreSQL): its id is the
  // packet's.
  s.packet_id = db.insert(
      "INSERT INTO packets (run_id, receive_time, src_addr, src_port, dst_addr, dst_port, code, "
      "identifier, verdict, raw, session_row, status_type, acct_session_id, nas_identity, "
      "user_name, event_time, delay, session_time, input_octets, output_octets, input_packets, "
      "output_packets) VALUES (?1, ?2, ?16, 1646, '127.0.0.1', 1813, 4, ?3, 'ok', ?4, "
      "?5, ?6, ?7, ?8, ?9, ?10, 0, ?11, ?12, ?13, ?14, ?15)",
      {run_id, time + 0.002, static_cast<int>(packet.identifier()),
       std::vector<std::uint8_t>(wire.begin(), wire.end()), session_row, status_type, session_id,
       nas, user ? SqlValue(user) : SqlValue(), time, c[0], c[1], c[2], c[3], c[4], source});
  s.record_id = s.packet_id;
  return s;
}

} // namespace

std::string test_directory(const std::string& name) {
  const auto dir = std::filesystem::path(ACCTLAB_BINARY_DIR) / "test-output" / "web" / name;
  std::filesystem::create_directories(dir);
  return dir.string();
}

std::string test_database(const std::string& name) {
  return acctlab::test::fresh_database(test_directory(name) + "/acct.db", name);
}

namespace {

/** The tallies the pages read: SQLite's are tables its writer keeps, counted again here because
 * the rows went in by hand; PostgreSQL's triggers count rows however they arrive
 * (storage/pg_schema.cpp, tally_functions). */
void recount(const std::string& database) {
  if (!storage::is_postgres_uri(database)) {
    storage::Database tallies(database);
    storage::recount_tallies(tallies);
  }
}

} // namespace

FixtureIds make_fixture_database(const std::string& path) {
  if (storage::is_postgres_uri(path)) {
    storage::PgConnection schema(path);
    storage::migrate_postgres(schema);
  } else {
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
      std::filesystem::remove(path + suffix);
    }
    // The schema exactly as the server creates it.
    storage::Database schema(path);
    storage::migrate(schema);
  }
  FixtureIds ids;
  Db db(path);
  db.exec("BEGIN");
  const double t0 = fixture_base_time;

  const auto serve_run = db.insert(
      "INSERT INTO runs (kind, started, report) VALUES ('serve', ?1, '{\"received\":17213,"
      "\"accepted\":17212,\"malformed\":1,\"commit_ms_avg\":0.17,\"database\":\"ok\"}')",
      {t0 - 60});
  ids.serve_run = serve_run;
  const auto pcap_run = db.insert(
      "INSERT INTO runs (kind, started, finished, verdict) VALUES ('pcap', ?1, ?2, 'fail')",
      {t0 + 4000, t0 + 4001});
  ids.pcap_run = pcap_run;
  ids.conform_run = db.insert("INSERT INTO runs (kind, started, finished, verdict, report) VALUES "
                              "('conform', ?1, ?2, 'pass', ?3)",
                              {t0 + 5000, t0 + 5010, R"({"scenarios":4,"note":"<b>","rules":[
                                 {"id":"RFC2866-ACCT-SESSION-ID","source":"RFC 2866 §5.5",
                                  "severity":"error","scope":"packet","passed":false,
                                  "summary":"Every Accounting-Request carries <Acct-Session-Id>"},
                                 {"id":"PKT-MALFORMED","source":"RFC 2865 §3","severity":"error",
                                  "scope":"packet","passed":true,
                                  "summary":"Every datagram is a well-formed RADIUS packet"},
                                 "not a rule", {"passed":true}]})"});

  db.insert("INSERT INTO nas (identity, address, first_seen, last_seen, requests, accepted, "
            "duplicates, malformed) VALUES ('10.1.1.147', '127.0.0.1', ?1, ?2, 7, 6, 1, 0)",
            {t0, t0 + 3600});
  db.insert("INSERT INTO nas (identity, address, first_seen, last_seen, requests, accepted, "
            "malformed) VALUES (?1, '127.0.0.2', ?2, ?2, 1, 0, 1)",
            {hostile_nas, t0 + 4000});

  // The document's session: Start, Interim-Update (109 s), Stop (709 s).
  ids.document_session = db.insert(
      "INSERT INTO sessions (nas_key, acct_session_id, unique_id, state, start_time, update_time, "
      "stop_time, last_record_time, input_octets, output_octets, input_packets, output_packets, "
      "session_time, terminate_cause, user_name, framed_ip, peer, nas_ip, nas_port, "
      "record_count) VALUES ('10.1.1.147', '00000001', 'u-doc', 'closed', ?1, ?2, ?3, ?3, "
      "152608, 152608, 1004, 1004, 709, 2, 'joe@cclient', '10.13.13.1', '11.1.2.2', "
      "'10.1.1.147', 0, 3)",
      {t0, t0 + 109, t0 + 709});
  const std::string avpairs =
      R"(Cisco-AVPair = "vrf-id=cisco", Cisco-AVPair = "isakmp-initator-ip=11.1.2.2", Cisco-AVPair = "connect-progress=No Progress")";
  const auto start = store(
      db,
      parse(
          R"(Accounting-Request id=4 { Acct-Session-Id = "00000001", Cisco-AVPair = "isakmp-group-id=cclient", Framed-IP-Address = 10.13.13.1, )" +
          avpairs +
          R"(, User-Name = "joe@cclient", Acct-Status-Type = Start, Cisco-NAS-Port = "FastEthernet0/0.1", NAS-Port = 0, NAS-IP-Address = 10.1.1.147, Acct-Delay-Time = 0 })"),
      t0, serve_run, ids.document_session, 1, "00000001", "10.1.1.147", "joe@cclient");
  ids.start_packet = start.packet_id;
  store(
      db,
      parse(
          R"(Accounting-Request id=22 { Acct-Session-Id = "00000001", )" + avpairs +
          R"(, Acct-Session-Time = 109, Acct-Input-Octets = 608, Acct-Output-Octets = 608, Acct-Input-Packets = 4, Acct-Output-Packets = 4, Acct-Status-Type = Interim-Update, NAS-Port = 0, NAS-IP-Address = 10.1.1.147, Acct-Delay-Time = 0 })"),
      t0 + 109, serve_run, ids.document_session, 3, "00000001", "10.1.1.147", "joe@cclient",
      {109, 608, 608, 4, 4});
  const auto stop = store(
      db,
      parse(
          R"(Accounting-Request id=19 { Acct-Session-Id = "00000001", )" + avpairs +
          R"(, Acct-Session-Time = 709, Acct-Input-Octets = 152608, Acct-Output-Octets = 152608, Acct-Input-Packets = 1004, Acct-Output-Packets = 1004, Acct-Terminate-Cause = 2, Cisco-AVPair = "disc-cause-ext=No Reason", Acct-Status-Type = Stop, NAS-Port = 0, NAS-IP-Address = 10.1.1.147, Acct-Delay-Time = 0 })"),
      t0 + 709, serve_run, ids.document_session, 2, "00000001", "10.1.1.147", "joe@cclient",
      {709, 152608, 152608, 1004, 1004});

  // A hostile session: every text a packet can carry is markup.
  ids.hostile_session = db.insert(
      "INSERT INTO sessions (nas_key, acct_session_id, unique_id, state, flags, start_time, "
      "last_record_time, user_name, peer, framed_ip, record_count) VALUES (?1, ?2, 'u-hostile', "
      "'open', 'no-start', ?3, ?3, ?4, ?5, '10.13.13.9', 1)",
      {hostile_nas, hostile_session_id, t0 + 3600, hostile_user, "<i>peer</i>"});
  radius::Packet hostile(radius::Code::accounting_request, 77);
  hostile.add(attr("Acct-Session-Id"), hostile_session_id);
  hostile.add(attr("User-Name"), hostile_user);
  hostile.add_integer(attr("Acct-Status-Type"), 1);
  hostile.add_vendor(9, 1, hostile_avpair);
  hostile.add(attr("NAS-Identifier"), hostile_nas);
  // From the other NAS group's client (web_auth_test's clients file: 127.0.0.1 is group east,
  // 127.0.0.2 group west).
  const auto hostile_start = store(db, hostile, t0 + 3600, serve_run, ids.hostile_session, 1,
                                   hostile_session_id, hostile_nas, hostile_user, {}, "127.0.0.2");
  ids.hostile_packet = hostile_start.packet_id;

  ids.stale_session = db.insert(
      "INSERT INTO sessions (nas_key, acct_session_id, unique_id, state, start_time, "
      "last_record_time, user_name, input_octets, output_octets, session_time, record_count) "
      "VALUES ('10.1.1.147', '00000007', 'u-stale', 'stale', ?1, ?2, 'ann@cclient', 5000, "
      "90000, 600, 2)",
      {t0 + 600, t0 + 1200});
  store(
      db,
      parse(
          R"(Accounting-Request id=30 { Acct-Session-Id = "00000007", User-Name = "ann@cclient", Acct-Status-Type = Start, NAS-IP-Address = 10.1.1.147 })"),
      t0 + 600, serve_run, ids.stale_session, 1, "00000007", "10.1.1.147", "ann@cclient");
  store(
      db,
      parse(
          R"(Accounting-Request id=31 { Acct-Session-Id = "00000007", User-Name = "ann@cclient", Acct-Status-Type = Interim-Update, Acct-Session-Time = 600, Acct-Input-Octets = 5000, Acct-Output-Octets = 90000, NAS-IP-Address = 10.1.1.147 })"),
      t0 + 1200, serve_run, ids.stale_session, 3, "00000007", "10.1.1.147", "ann@cclient",
      {600, 5000, 90000, 20, 70});

  // A datagram from a capture whose Length exceeds what arrived.
  ids.malformed_packet =
      db.insert("INSERT INTO packets (run_id, receive_time, src_addr, src_port, code, identifier, "
                "verdict, reason, file, frame, raw) VALUES (?1, ?2, '127.0.0.2', 1646, 4, 7, "
                "'malformed', 'length_exceeds_datagram at offset 2', 'capture<1>.pcap', 12, ?3)",
                {pcap_run, t0 + 4000, std::vector<std::uint8_t>{0x04, 0x07, 0x00, 0x40, 0x01}});

  db.insert("INSERT INTO findings (run_id, rule_id, severity, scope, message, packet_id, "
            "record_id, session_id) VALUES (?1, 'RFC2866-ACCT-SESSION-ID', 'error', 'packet', ?2, "
            "?3, ?4, ?5)",
            {ids.conform_run, hostile_message, hostile_start.packet_id, hostile_start.record_id,
             ids.hostile_session});
  db.insert("INSERT INTO findings (run_id, rule_id, severity, scope, message, session_id, "
            "packet_id) VALUES (?1, 'DOC-STOP-COUNTERS', 'warning', 'session', 'Stop counters "
            "below the last Interim-Update', ?2, ?3)",
            {ids.conform_run, ids.document_session, stop.packet_id});
  db.insert("INSERT INTO findings (run_id, rule_id, severity, scope, message, packet_id, file, "
            "frame) VALUES (?1, 'RFC2865-LENGTH', 'error', 'packet', 'Length exceeds the "
            "datagram', ?2, 'capture<1>.pcap', 12)",
            {pcap_run, ids.malformed_packet});
  db.exec("COMMIT");
  // The rows went in by hand, not through the record writer, which keeps the tallies.
  recount(path);
  return ids;
}

void add_open_session(const std::string& path, const std::string& acct_session_id, bool west) {
  Db db(path);
  db.exec("BEGIN");
  const double t = fixture_base_time + 7200;
  const std::string nas = west ? hostile_nas : "10.1.1.147";
  const auto session =
      db.insert("INSERT INTO sessions (nas_key, acct_session_id, unique_id, state, start_time, "
                "last_record_time, user_name, record_count) VALUES (?4, ?1, ?2, 'open', ?3, ?3, "
                "'live@cclient', 1)",
                {acct_session_id, "u-" + acct_session_id, t, nas});
  radius::Packet start(radius::Code::accounting_request, 90);
  start.add(attr("Acct-Session-Id"), acct_session_id);
  start.add_integer(attr("Acct-Status-Type"), 1);
  store(db, start, t, 1, session, 1, acct_session_id, nas, "live@cclient", {},
        west ? "127.0.0.2" : "127.0.0.1");
  db.exec("COMMIT");
  recount(path);
}

} // namespace acctlab::web::test
