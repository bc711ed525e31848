// `acctlab pcap analyze --db postgresql://...` beside a live `acctlab serve` on the same database
// (tests/support/pg_cluster.hpp: a private PostgreSQL 15 cluster). The live server holds open
// sessions with the very NAS and Acct-Session-Ids the capture holds (its Starts, sent again): the
// import must leave them alone, close its own as the capture says, and report what the same
// import into SQLite reports. Two imports of one capture are two runs that do not meet.

#include "capture_test_support.hpp"
#include "process_support.hpp"
#include "radius/accounting_record.hpp"
#include "radius/packet_codec.hpp"
#include "storage/sqlite.hpp"
#include "tests/support/pg_cluster.hpp"

#include <arpa/inet.h>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace acctlab;
using namespace acctlab::capture;
using namespace acctlab::capture::test;

namespace {

const std::string binary = std::string(ACCTLAB_BINARY_DIR) + "/acctlab";
const std::string captures = std::string(ACCTLAB_SOURCE_DIR) + "/tests/captures/";

/** The raw Accounting-Request Starts of a capture, in capture order. */
std::vector<std::vector<std::uint8_t>> starts_of(const std::string& path) {
  std::vector<std::vector<std::uint8_t>> starts;
  DatagramStream stream({path});
  UdpDatagram datagram;
  for (int guard = 0; guard < 100000 && stream.next(datagram); ++guard) {
    const auto packet = radius::decode_packet(datagram.payload, radius::Dictionary::builtin());
    if (!packet || packet->code() != radius::Code::accounting_request) {
      continue;
    }
    const auto record = radius::make_accounting_record(*packet, radius::Dictionary::builtin());
    if (record.status_type == static_cast<std::uint32_t>(radius::AcctStatusType::start)) {
      starts.emplace_back(datagram.payload.begin(), datagram.payload.end());
    }
  }
  return starts;
}

/** Sends each request from 127.0.0.1 to the server and waits (2 s each) for its answer; how many
 * were answered. */
std::size_t send_and_wait(const std::vector<std::vector<std::uint8_t>>& requests,
                          std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  REQUIRE(fd >= 0);
  timeval timeout{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  sockaddr_in server{};
  server.sin_family = AF_INET;
  server.sin_port = htons(port);
  server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::size_t answered = 0;
  for (const auto& request : requests) {
    ::sendto(fd, request.data(), request.size(), 0, reinterpret_cast<sockaddr*>(&server),
             sizeof server);
    std::uint8_t answer[4096];
    const auto n = ::recv(fd, answer, sizeof answer, 0);
    if (n >= 20 && answer[0] == 5 && answer[1] == request[1]) {
      ++answered;
    }
  }
  ::close(fd);
  return answered;
}

struct Import {
  int exit_code = -1;
  boost::json::object summary; // the report's "import" section
};

Import import_capture(const std::string& capture, const std::string& database,
                      const std::string& extra, const std::filesystem::path& out) {
  int status = 0;
  run(binary + " pcap analyze " + capture + " --db '" + database + "' " + extra +
          " --report json --out " + out.string() + " 2>" + out.string() + ".err",
      &status);
  Import result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  const auto text = read_text(out);
  INFO(text << read_text(out.string() + ".err"));
  REQUIRE(!text.empty());
  result.summary = boost::json::parse(text).as_object().at("import").as_object();
  return result;
}

/** What an import's summary says, without what differs by database: its name, run id, time. */
std::string comparable(boost::json::object summary) {
  summary.erase("database");
  summary.erase("run_id");
  summary.erase("seconds");
  return boost::json::serialize(summary);
}

} // namespace

TEST_CASE("A capture imported into PostgreSQL beside a live server with the same sessions leaves "
          "them alone and reports what the import into SQLite reports",
          "[pcap][import][postgres]") {
  acctlab::test::PgCluster::require();
  struct Case {
    std::string file;
    std::string options;
    std::string secret;
  };
  for (const auto& c :
       {Case{"strongswan-lifecycle.pcap",
             "--secret acctlab-swan-secret --profile strongswan --interim-interval 5",
             "acctlab-swan-secret"},
        Case{"document-records.pcap", "--secret nsite --profile cisco-ios-ipsec", "nsite"}}) {
    SECTION(c.file) {
      acctlab::test::PgCluster cluster;
      const auto uri = cluster.uri();
      const auto dir = scratch_dir("pg-import-" + c.file);
      const auto capture = captures + c.file;
      write_text(dir / "clients.conf", loopback_clients(c.secret));

      AcctlabProcess live(std::vector<std::string>{"serve", "--listen", "127.0.0.1:0", "--db", uri,
                                                   "--clients", (dir / "clients.conf").string(),
                                                   "--stats", "0"},
                          dir / "serve.log");
      const auto port = live.wait_for_port();
      INFO(live.log());
      REQUIRE(port != 0);

      // The live traffic: the capture's Starts again, from the same NAS (NAS-IP-Address or
      // NAS-Identifier, else 127.0.0.1 as in the capture) with the same Acct-Session-Ids.
      const auto starts = starts_of(capture);
      REQUIRE(!starts.empty());
      REQUIRE(send_and_wait(starts, port) == starts.size());
      const std::string live_rows =
          "SELECT string_agg(nas_key || '/' || acct_session_id || '/' || state || '/' || "
          "record_count || '/' || flags || '/' || last_record_time, ',' ORDER BY id) FROM "
          "sessions WHERE scope = 0";
      const auto live_before = cluster.psql(live_rows);
      CHECK(cluster.psql("SELECT count(*) FROM sessions WHERE scope = 0 AND state = 'open'") ==
            std::to_string(starts.size()));

      const auto sqlite =
          import_capture(capture, (dir / "import.db").string(), c.options, dir / "sqlite.json");
      const auto first = import_capture(capture, uri, c.options, dir / "pg-1.json");
      const auto second = import_capture(capture, uri, c.options, dir / "pg-2.json");

      // The same import, whatever the engine, and again on the same database: the same verdict,
      // packets by verdict, records and sessions by NAS and state.
      CHECK(first.exit_code == sqlite.exit_code);
      CHECK(second.exit_code == sqlite.exit_code);
      CHECK(comparable(first.summary) == comparable(sqlite.summary));
      CHECK(comparable(second.summary) == comparable(sqlite.summary));
      const auto run_1 = std::to_string(first.summary.at("run_id").as_int64());
      const auto run_2 = std::to_string(second.summary.at("run_id").as_int64());
      CHECK(run_1 != run_2);

      // The capture's sessions collide with the live ones: the same NAS and Acct-Session-Ids.
      const auto collisions = cluster.psql(
          "SELECT count(DISTINCT l.id) FROM sessions AS l JOIN sessions AS r ON r.nas_key = "
          "l.nas_key AND r.acct_session_id = l.acct_session_id WHERE l.scope = 0 AND r.scope = " +
          run_1);
      CHECK(collisions == std::to_string(starts.size()));

      // The live sessions are as the live server left them: open, one record, no flag.
      CHECK(cluster.psql(live_rows) == live_before);
      CHECK(cluster.psql("SELECT count(*) FROM sessions WHERE scope = 0 AND state = 'open' AND "
                         "record_count = 1 AND flags = ''") == std::to_string(starts.size()));

      // Each run's sessions are its own and closed as the capture says; nothing the live server
      // received is a duplicate of an imported record, nor one run's of the other's.
      const auto closed = first.summary.at("sessions").as_object().at("closed").as_int64();
      CHECK(closed > 0);
      for (const auto& run_id : std::vector<std::string>{run_1, run_2}) {
        CHECK(cluster.psql("SELECT count(*) FROM sessions WHERE scope = " + run_id +
                           " AND state = 'closed'") == std::to_string(closed));
        CHECK(cluster.psql("SELECT count(*) FROM packets WHERE run_id = " + run_id +
                           " AND session_row IN (SELECT id FROM sessions WHERE scope <> " + run_id +
                           ")") == "0");
      }
      CHECK(cluster.psql("SELECT count(*) FROM packets WHERE verdict = 'duplicate' AND run_id IN "
                         "(SELECT id FROM runs WHERE kind = 'serve')") == "0");

      // Judged on PostgreSQL as on SQLite: the same findings under each run.
      storage::Database db((dir / "import.db").string());
      const auto sqlite_findings =
          db.query_int64("SELECT count(*) FROM findings WHERE run_id = " +
                         std::to_string(sqlite.summary.at("run_id").as_int64()))
              .value_or(-1);
      CHECK(cluster.psql("SELECT count(*) FROM findings WHERE run_id = " + run_1) ==
            std::to_string(sqlite_findings));
      CHECK(cluster.psql("SELECT count(*) FROM findings WHERE run_id = " + run_2) ==
            std::to_string(sqlite_findings));
      CHECK(cluster.psql("SELECT kind, verdict FROM runs WHERE id = " + run_1) ==
            "pcap|" + std::string(first.summary.at("run_verdict").as_string()));

      // check --db of an imported run reads it from PostgreSQL as from SQLite: the same verdict,
      // counts and findings.
      const auto check = [&](const std::string& database, const std::string& run_id,
                             const std::string& name) {
        int status = 0;
        const auto out = (dir / name).string();
        run(binary + " check --db '" + database + "' --run " + run_id + " " + c.options +
                " --no-store --report json --out " + out + " 2>" + out + ".err",
            &status);
        const auto text = read_text(out);
        INFO(text << read_text(out + ".err"));
        REQUIRE(!text.empty());
        auto report = boost::json::parse(text).as_object();
        return std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) + " " +
               boost::json::serialize(report.at("verdict")) + " " +
               boost::json::serialize(report.at("counts")) + " " +
               std::to_string(report.at("findings").as_array().size());
      };
      const auto checked_sqlite =
          check((dir / "import.db").string(),
                std::to_string(sqlite.summary.at("run_id").as_int64()), "check-sqlite.json");
      CHECK(check(uri, run_1, "check-pg.json") == checked_sqlite);

      live.signal(SIGTERM);
      CHECK(live.wait() == 0);
      CHECK(cluster.psql(live_rows) == live_before);
    }
  }
}
