#pragma once
// A real SQLite file in the acctlab schema, filled with packets encoded by the radius core (the
// feature document's Start/Interim/Stop, a hostile session, a malformed datagram), sessions,
// runs, NASes and findings, for the web tests. Two NASes from two client addresses, for the NAS
// groups of the operator role: 10.1.1.147 sends from 127.0.0.1 (the document's and the stale
// session, the serve run's other packets), the hostile NAS from 127.0.0.2 (the hostile session,
// the capture run's malformed datagram).

#include <cstdint>
#include <string>

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

/** Creates the database at path (removed first) and fills it. */
FixtureIds make_fixture_database(const std::string& path);

/** Adds one more open session (and its Start record) through a read-write connection. */
void add_open_session(const std::string& path, const std::string& acct_session_id);

/** A fresh directory under the build tree for this test's files. */
std::string test_directory(const std::string& name);

} // namespace acctlab::web::test
