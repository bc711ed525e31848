// What only PostgreSQL has ([postgres]: run only with ACCTLAB_TEST_ENGINE=postgres, in the
// server_process_test suite): two `acctlab serve` processes on one database, as two accounting
// servers on two hosts (failover across them, the document's broadcast mode, Accounting-On,
// SIGKILL of one under load), and the postmaster killed under load. The cluster is the test
// process's own (tests/support/test_engine.hpp, pg_cluster.hpp); skipped (77) without PostgreSQL.
#include "../storage/storage_test_util.hpp"
#include "server_test_util.hpp"
#include "tests/support/stored_db.hpp"
#include "tests/support/test_engine.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

using namespace acctlab;
using namespace std::chrono_literals;
using test::make_request;

namespace {

std::vector<std::string> serve_args(const std::string& uri) {
  return {"serve", "--listen", "127.0.0.1:0", "--db", uri, "--stats", "0"};
}

/** Sends request and waits for its valid answer (bounded: 5 tries of 1 s). */
bool answered(std::uint16_t port, const test::Bytes& request) {
  test::UdpClient client("127.0.0.1", port);
  for (int attempt = 0; attempt < 5; ++attempt) {
    client.send(request);
    if (const auto response = client.receive(1000ms);
        response && test::is_valid_response(*response, request, "testing123")) {
      return true;
    }
  }
  return false;
}

/** The acct_session_id of every record whose id is LIKE pattern, as many times as stored. */
std::multiset<std::string> stored_ids(const std::string& uri, const std::string& pattern) {
  storage::ReadOnlyDatabase db(uri);
  auto query = db.prepare("SELECT acct_session_id FROM records WHERE acct_session_id LIKE ?1");
  query.bind(1, pattern);
  std::multiset<std::string> ids;
  while (query.step()) {
    ids.insert(query.text(0));
  }
  return ids;
}

} // namespace

TEST_CASE("two serve processes on one PostgreSQL database: failover, broadcast, Accounting-On "
          "and SIGKILL under load",
          "[server][postgres]") {
  test::TempDir dir;
  const auto uri = test::fresh_database(dir.file("unused.db"), "two_servers");
  const auto psql = [&](const std::string& sql) { return test::stored_row(uri, sql); };
  test::ServerProcess a(serve_args(uri), dir.file("a.log"));
  const auto port_a = a.wait_for_port();
  REQUIRE(port_a != 0);
  test::ServerProcess b(serve_args(uri), dir.file("b.log"));
  const auto port_b = b.wait_for_port();
  REQUIRE(port_b != 0);

  // Failover: the Start answered by A, then A is unreachable and the NAS turns to B.
  REQUIRE(answered(port_a, make_request({.status = 1, .session_id = "fo", .identifier = 1})));
  REQUIRE(answered(port_b, make_request({.status = 3,
                                         .session_id = "fo",
                                         .identifier = 2,
                                         .input_octets = 100,
                                         .session_time = 60})));
  REQUIRE(answered(port_b, make_request({.status = 2,
                                         .session_id = "fo",
                                         .identifier = 3,
                                         .input_octets = 200,
                                         .session_time = 120})));
  CHECK(psql("SELECT count(*), min(state), min(record_count), min(input_octets), "
             "min(flags) FROM sessions WHERE acct_session_id = 'fo'") == "1|closed|3|200|");

  // Broadcast: the same Accounting-Request to both server groups; both answer, it is stored once.
  for (std::uint8_t id = 10; id < 13; ++id) {
    const auto status = id == 10 ? 1u : id == 11 ? 3u : 2u;
    const auto request =
        make_request({.status = status,
                      .session_id = "bc",
                      .identifier = id,
                      .input_octets = id == 10 ? std::nullopt : std::optional<std::uint32_t>(id),
                      .session_time = id == 10 ? std::nullopt : std::optional<std::uint32_t>(id)});
    std::thread to_b([&] { CHECK(answered(port_b, request)); });
    CHECK(answered(port_a, request));
    to_b.join();
  }
  CHECK(psql("SELECT count(*) FROM records WHERE acct_session_id = 'bc'") == "3");
  CHECK(psql("SELECT count(*) FROM packets WHERE verdict = 'duplicate' AND "
             "acct_session_id IS NULL") == "3");
  CHECK(psql("SELECT count(*), min(state), min(record_count) FROM sessions WHERE "
             "acct_session_id = 'bc'") == "1|closed|3");

  // A copy that the other server stored already, its event time in the previous 30-second step
  // of the clock: the NAS's copy to B carries an Acct-Delay-Time one second longer than the
  // time since the step began (sent to A and B at the same moment, A's with none). Still one
  // record (docs/server.md, "The same record is stored once").
  constexpr int straddles = 6;
  const auto wall = [] {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  std::map<std::string, std::uint32_t> delays;
  for (int i = 0; i < straddles; ++i) {
    if (std::fmod(wall(), 30) > 25) { // a delay of at most 26 s: well within the window
      std::this_thread::sleep_for(std::chrono::duration<double>(30.2 - std::fmod(wall(), 30)));
    }
    const auto id = "step-" + std::to_string(i);
    const auto delay = static_cast<std::uint32_t>(std::fmod(wall(), 30)) + 1;
    delays[id] = delay;
    const auto identifier = static_cast<std::uint8_t>(30 + i);
    const test::RequestSpec spec{.status = 2,
                                 .session_id = id,
                                 .identifier = identifier,
                                 .input_octets = 4000,
                                 .session_time = 600};
    auto delayed = spec;
    delayed.delay = delay;
    std::thread to_b([&] { CHECK(answered(port_b, make_request(delayed))); });
    CHECK(answered(port_a, make_request(spec)));
    to_b.join();
  }
  CHECK(psql("SELECT count(*), count(DISTINCT acct_session_id) FROM records WHERE "
             "acct_session_id LIKE 'step-%'") ==
        std::to_string(straddles) + "|" + std::to_string(straddles));
  // The copies did straddle a step: the stored record's event time and the duplicate's (its
  // receive time less the delay it carried: the other copy's, whichever server stored first)
  // fall in different 30-second steps.
  int straddled = 0;
  for (const auto& [id, delay] : delays) {
    straddled +=
        psql("SELECT trunc(r.event_time / 30) <> trunc((d.receive_time - " + std::to_string(delay) +
             " + r.delay) / 30) FROM records AS r JOIN packets AS d ON d.reason = "
             "'the same record is stored as packet ' || r.id WHERE r.acct_session_id = '" +
             id + "'") == "t";
  }
  // Only if the clock passed the next whole second between choosing the delay and B receiving
  // its copy does B's copy fall in A's step.
  CHECK(straddled >= straddles - 1);

  // Accounting-On received by B closes the sessions A opened.
  REQUIRE(answered(port_a, make_request({.status = 1, .session_id = "on-1", .identifier = 20})));
  REQUIRE(answered(port_a, make_request({.status = 1, .session_id = "on-2", .identifier = 21})));
  REQUIRE(
      answered(port_b, make_request({.status = 7, .session_id = "00000000", .identifier = 22})));
  CHECK(psql("SELECT count(*), min(state), min(terminate_cause) FROM sessions WHERE "
             "acct_session_id LIKE 'on-%'") == "2|closed|11");

  // SIGKILL of A while both answer a load: every request A or B acknowledged is stored.
  std::set<std::string> acked;
  std::mutex acked_mutex;
  std::atomic<bool> stop{false};
  auto load = [&](std::uint16_t port, const std::string& prefix) {
    test::UdpClient client("127.0.0.1", port);
    std::map<std::uint8_t, std::pair<std::string, test::Bytes>> outstanding;
    std::uint64_t next = 0;
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!stop && std::chrono::steady_clock::now() < deadline) {
      while (outstanding.size() < 32) {
        const auto identifier = static_cast<std::uint8_t>(next % 256);
        const auto id = prefix + std::to_string(next++);
        if (outstanding.count(identifier)) {
          break;
        }
        auto request = make_request({.status = 1, .session_id = id, .identifier = identifier});
        client.send(request);
        outstanding[identifier] = {id, std::move(request)};
      }
      if (const auto response = client.receive(50ms)) {
        const auto it = outstanding.find((*response)[1]);
        if (it != outstanding.end() &&
            test::is_valid_response(*response, it->second.second, "testing123")) {
          std::lock_guard lock(acked_mutex);
          acked.insert(it->second.first);
          outstanding.erase(it);
        }
      } else {
        outstanding.clear(); // a dead server: nothing more will come
      }
    }
  };
  std::thread load_a([&] { load(port_a, "ka-"); });
  std::thread load_b([&] { load(port_b, "kb-"); });
  std::this_thread::sleep_for(700ms);
  a.signal(SIGKILL);
  CHECK(a.wait() != -1);
  std::this_thread::sleep_for(300ms);
  stop = true;
  load_a.join();
  load_b.join();
  INFO(acked.size() << " acknowledged");
  CHECK(acked.size() > 0);
  const auto stored = stored_ids(uri, "k_-%");
  std::size_t missing = 0;
  for (const auto& id : acked) {
    missing += stored.count(id) == 1 ? 0 : 1;
  }
  CHECK(missing == 0);
  b.signal(SIGTERM);
  CHECK(b.wait() == 0);
}

TEST_CASE("SIGKILL of the PostgreSQL postmaster under load, then a restart: the server stops "
          "answering, recovers by itself, and every acknowledged request is stored",
          "[server][postgres]") {
  // A cluster of its own: the test kills its postmaster.
  test::PgCluster::require();
  test::PgCluster cluster;
  test::TempDir dir;
  test::ServerProcess server(serve_args(cluster.uri()), dir.file("serve.log"));
  const auto port = server.wait_for_port();
  REQUIRE(port != 0);

  std::set<std::string> acked;
  std::atomic<bool> stop{false};
  std::atomic<std::size_t> acked_count{0};
  std::thread load([&] {
    test::UdpClient client("127.0.0.1", port);
    std::map<std::uint8_t, std::pair<std::string, test::Bytes>> outstanding;
    std::uint64_t next = 0;
    const auto deadline = std::chrono::steady_clock::now() + 40s;
    while (!stop && std::chrono::steady_clock::now() < deadline) {
      // Requests stay outstanding while the database is gone: the server answers them once it
      // has stored them.
      while (outstanding.size() < 32) {
        const auto identifier = static_cast<std::uint8_t>(next % 256);
        if (outstanding.count(identifier)) {
          ++next;
          continue;
        }
        const auto id = "pm-" + std::to_string(next++);
        auto request = make_request({.status = 1, .session_id = id, .identifier = identifier});
        client.send(request);
        outstanding[identifier] = {id, std::move(request)};
      }
      if (const auto response = client.receive(50ms)) {
        const auto it = outstanding.find((*response)[1]);
        if (it != outstanding.end() &&
            test::is_valid_response(*response, it->second.second, "testing123")) {
          acked.insert(it->second.first);
          outstanding.erase(it);
          ++acked_count;
        }
      }
    }
  });
  std::this_thread::sleep_for(700ms);
  const auto before = acked_count.load();
  const auto postmaster = cluster.postmaster_pid();
  REQUIRE(postmaster > 0);
  REQUIRE(::kill(postmaster, SIGKILL) == 0); // the cluster is this test's own
  std::this_thread::sleep_for(1500ms);
  const auto during = acked_count.load();
  std::this_thread::sleep_for(1000ms);
  CHECK(acked_count.load() == during); // nothing is answered while nothing can be stored
  cluster.restart_after_crash();
  // Bounded: the server reconnects within its back-off (at most a second between attempts).
  for (int i = 0; i < 100 && acked_count.load() == during; ++i) {
    std::this_thread::sleep_for(100ms);
  }
  std::this_thread::sleep_for(1000ms);
  stop = true;
  load.join();
  INFO(before << " acknowledged before the kill, " << during << " by the outage, " << acked.size()
              << " in all");
  CHECK(before > 0);
  CHECK(acked.size() > during); // answering again after the restart
  const auto stored = stored_ids(cluster.uri(), "pm-%");
  std::size_t missing = 0;
  for (const auto& id : acked) {
    missing += stored.count(id) == 1 ? 0 : 1;
  }
  CHECK(missing == 0);
  // Said once, loudly, and once that it recovered.
  std::ifstream log(dir.file("serve.log"));
  std::stringstream text;
  text << log.rdbuf();
  INFO(text.str());
  server.signal(SIGTERM);
  CHECK(server.wait() == 0);
}

TEST_CASE("serve pg-connections: the writer commits on as many PostgreSQL connections as told, "
          "from the configuration file or the command line",
          "[server][postgres][config]") {
  test::TempDir dir;
  // The server's connections carry an application_name of their own; the reader counting them
  // connects without it.
  const auto uri = test::fresh_database(dir.file("unused.db"), "lanes");
  const auto conf = dir.file("acctlab.conf");
  std::ofstream(conf) << "listen = 127.0.0.1:0\nstats = 0\ndb = " << uri
                      << "&application_name=acctlab-lanes\npg-connections = 4\n";
  const auto most_connections = [&](const std::vector<std::string>& extra, const std::string& log,
                                    std::int64_t expected) {
    std::vector<std::string> args{"serve", "--config", conf};
    args.insert(args.end(), extra.begin(), extra.end());
    test::ServerProcess server(args, dir.file(log));
    const auto port = server.wait_for_port();
    REQUIRE(port != 0);
    // A lane connects when it first takes a batch: a window of 64 Starts keeps them all busy.
    // Bounded: at most 8 s of load, sampling every 50 ms.
    std::atomic<bool> stop{false};
    std::atomic<std::size_t> acked{0};
    std::thread load([&] {
      test::UdpClient client("127.0.0.1", port);
      std::uint64_t next = 0;
      int outstanding = 0;
      const auto deadline = std::chrono::steady_clock::now() + 8s;
      while (!stop && std::chrono::steady_clock::now() < deadline) {
        for (; outstanding < 64; ++outstanding, ++next) {
          client.send(make_request({.status = 1,
                                    .session_id = log + "-" + std::to_string(next),
                                    .identifier = static_cast<std::uint8_t>(next % 256)}));
        }
        while (client.receive(outstanding == 64 ? 200ms : 0ms)) {
          --outstanding;
          ++acked;
        }
        if (outstanding == 64) {
          outstanding = 0; // lost in the socket buffer: send a new window
        }
      }
    });
    std::int64_t most = 0;
    const std::string count = "SELECT count(*) FROM pg_stat_activity WHERE application_name = "
                              "'acctlab-lanes' AND backend_type = 'client backend'";
    for (int i = 0; i < 160; ++i) {
      most = std::max(most, test::stored_count(uri, count));
      std::this_thread::sleep_for(50ms);
      if (i >= 40 && acked > 0 && most >= expected) {
        break; // two seconds of load seen, and as many connections as asked for
      }
    }
    stop = true;
    load.join();
    CHECK(acked > 0);
    server.signal(SIGTERM);
    CHECK(server.wait() == 0);
    return most;
  };
  // The file's 4.
  CHECK(most_connections({}, "file", 4) == 4);
  // The command line's 1 wins over the file's.
  CHECK(most_connections({"--pg-connections", "1"}, "command-line", 1) == 1);
  // Both paths validate the value the same way.
  auto result = test::run_acctlab("serve --config " + conf + " --pg-connections 0 --check-config");
  CHECK(result.status == 2);
  CHECK_THAT(result.output, Catch::Contains("--pg-connections wants a whole number 1..64"));
}
