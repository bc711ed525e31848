#pragma once
// A real database in the acctlab schema, filled with packets encoded by the radius core (the
// feature document's Start/Interim/Stop, a hostile session, a malformed datagram), sessions,
// runs, NASes and findings, for the web tests. A SQLite file, or with ACCTLAB_TEST_ENGINE=postgres
// a database of the test's private PostgreSQL cluster (tests/support/test_engine.hpp): the same
// rows, the same SQL. Two NASes from two client addresses, for the NAS groups of the operator
// role: 10.1.1.147 sends from 127.0.0.1 (the document's and the stale session, the serve run's
// other packets), the hostile NAS from 127.0.0.2 (the hostile session, the capture run's
// malformed datagram).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace acctlab::web::test {

/** Unix time of the fixture's first record: 2026-11-20 08:00:00 UTC. */
inline constexpr double fixture_base_time = 1795161600.0;

/** The hostile values the fixture stores and the pages must show as text. */
inline constexpr const char* hostile_user = "<script>alert(1)</script>";
inline constexpr const char* hostile_session_id = "q\"uote&amp;'<b>x";
inline constexpr const char* hostile_avpair = "isakmp-initator-ip=<img src=x onerror=alert(3)>";
inline constexpr const char* hostile_message = "<img src=x onerror=alert(2)> & \"quoted\"";
inline constexpr const char* hostile_nas = "nas\"<b>&amp;";

struct FixtureIds {
  std::int64_t document_session = 0; // closed: Start, Interim-Update, Stop of the document
  std::int64_t hostile_session = 0;  // open
  std::int64_t stale_session = 0;
  std::int64_t start_packet = 0;
  std::int64_t malformed_packet = 0;
  std::int64_t conform_run = 0;
  std::int64_t serve_run = 0; // still running: its report holds the counters as last written
  std::int64_t pcap_run = 0;  // the malformed datagram from 127.0.0.2 only
  std::int64_t hostile_packet = 0;
};

/** Creates the database (a path or a postgresql:// URI; a file is removed first) in the schema
 * its writers create, and fills it. */
FixtureIds make_fixture_database(const std::string& database);

/** Adds one more open session (and its Start record) through a read-write connection: of NAS
 * 10.1.1.147 from 127.0.0.1 (group east), or with west of the hostile NAS from 127.0.0.2. */
void add_open_session(const std::string& database, const std::string& acct_session_id,
                      bool west = false);

/** A fresh directory under the build tree for this test's files. */
std::string test_directory(const std::string& name);

/** Where this test's fixture goes: test_directory(name)/acct.db, or on PostgreSQL a new
 * database named after name (its URI). Nothing is created there yet. */
std::string test_database(const std::string& name);

/** A value for TestSql: NULL, integer, real, text or bytes. */
struct SqlValue {
  enum class Kind { null, integer, real, text, blob } kind = Kind::null;
  std::int64_t i = 0;
  double d = 0;
  std::string s;
  std::vector<std::uint8_t> b;
  SqlValue() = default;
  SqlValue(std::nullptr_t) {}
  SqlValue(int v) : kind(Kind::integer), i(v) {}
  SqlValue(std::int64_t v) : kind(Kind::integer), i(v) {}
  SqlValue(double v) : kind(Kind::real), d(v) {}
  SqlValue(const char* v) : kind(Kind::text), s(v) {}
  SqlValue(std::string v) : kind(Kind::text), s(std::move(v)) {}
  SqlValue(std::vector<std::uint8_t> v) : kind(Kind::blob), b(std::move(v)) {}
};

/** A read-write connection to a test database of either engine, for rows a test puts there by
 * hand: SQL written once with ?N parameters. Throws std::runtime_error. */
class TestSql {
public:
  explicit TestSql(const std::string& database);
  ~TestSql();
  TestSql(const TestSql&) = delete;
  TestSql& operator=(const TestSql&) = delete;
  void exec(const std::string& sql);
  /** One INSERT; returns the new row's id. */
  std::int64_t insert(const std::string& sql, const std::vector<SqlValue>& values);
  /** The first column of the first row as text ("" when NULL or no row). */
  std::string value(const std::string& sql);

private:
  struct Engine;
  std::unique_ptr<Engine> engine_;
};

} // namespace acctlab::web::test
