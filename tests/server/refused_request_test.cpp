// A request the database refuses (storage/commit_failure.hpp), end to end: real UDP on loopback
// to the in-process server, a real SQLite file or a real PostgreSQL cluster with a trigger that
// refuses one session's rows. The requests around it are answered and stored with correct
// sessions; it is not answered, counted (stats line, /metrics, per NAS) and logged, each
// retransmission again; once the trigger is dropped its retransmission is stored and answered.
#include "../storage/storage_test_util.hpp"
#include "server/accounting_server.hpp"
#include "server/log_entry.hpp"
#include "server/server_metrics.hpp"
#include "server_test_util.hpp"
#include "storage/pg_connection.hpp"
#include "storage/schema.hpp"
#include "storage/sqlite.hpp"
#include "tests/support/pg_cluster.hpp"

#include <catch2/catch.hpp>
#include <map>
#include <mutex>
#include <set>
#include <thread>

using namespace acctlab;
using namespace std::chrono_literals;
using test::make_request;

namespace {

/** Answers to requests, by Identifier, that arrive within timeout (bounded, until want). */
std::set<std::uint8_t> answers(test::UdpClient& client,
                               const std::map<std::uint8_t, test::Bytes>& sent, std::size_t want,
                               std::chrono::milliseconds timeout) {
  std::set<std::uint8_t> answered;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (answered.size() < want && std::chrono::steady_clock::now() < deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    const auto response = client.receive(std::max(left, 1ms));
    if (!response) {
      break;
    }
    const auto it = sent.find((*response)[1]);
    if (it != sent.end() && test::is_valid_response(*response, it->second, "testing123")) {
      answered.insert(it->first);
    }
  }
  return answered;
}

std::uint16_t source_port(test::UdpClient& client) {
  sockaddr_in local{};
  socklen_t length = sizeof local;
  ::getsockname(client.fd(), reinterpret_cast<sockaddr*>(&local), &length);
  return ntohs(local.sin_port);
}

/** The in-process server on its own thread, its log kept as the text and the JSON formats print
 * it (test::ServerThread keeps only the line, not the NAS and fields checked here). */
class LoggedServer {
public:
  explicit LoggedServer(server::ServerOptions options) {
    options.handle_signals = false;
    options.stats_interval = 0ms;
    server_ = std::make_unique<server::AccountingServer>(
        std::move(options), [this](const server::LogEntry& entry) {
          std::lock_guard lock(mutex_);
          text_ += server::format_log_text(entry, "acctlab serve") + "\n";
          json_ += server::format_log_json(entry, 0) + "\n";
        });
    thread_ = std::thread([this] { server_->run(); });
  }
  ~LoggedServer() { stop(); }
  void stop() {
    if (thread_.joinable()) {
      server_->stop();
      thread_.join();
    }
  }
  server::AccountingServer& server() { return *server_; }
  std::uint16_t port() const { return server_->local_ports().at(0); }
  std::string text() {
    std::lock_guard lock(mutex_);
    return text_;
  }
  std::string json() {
    std::lock_guard lock(mutex_);
    return json_;
  }

private:
  std::mutex mutex_;
  std::string text_;
  std::string json_;
  std::unique_ptr<server::AccountingServer> server_;
  std::thread thread_;
};

template <class F> bool eventually(F condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) {
      return true;
    }
    std::this_thread::sleep_for(20ms);
  }
  return condition();
}

} // namespace

TEST_CASE("a request the database refuses is not answered but counted and logged, the requests "
          "around it are answered and stored, and once the database takes it, it is",
          "[server][refused]") {
  const std::string engine = GENERATE(as<std::string>{}, "sqlite", "postgresql");
  test::TempDir dir;
  std::unique_ptr<test::PgCluster> cluster;
  server::ServerOptions options;
  options.listen = {"127.0.0.1:0"};
  options.database = dir.file("acct.db");
  options.writer.retry_initial = 10ms;
  options.writer.retry_max = 50ms;
  if (engine == "postgresql") {
    if (!test::PgCluster::available()) {
      WARN("PostgreSQL 15 is not installed: the postgresql run of this test is skipped");
      return;
    }
    cluster = std::make_unique<test::PgCluster>();
    options.database = cluster->uri();
  }
  const auto row = [&](const std::string& sql) {
    if (cluster) {
      return cluster->psql(sql);
    }
    storage::Database db(options.database);
    auto query = db.prepare(sql);
    std::string out;
    if (query.step()) {
      for (int c = 0; c < query.column_count(); ++c) {
        out += (c ? "|" : "") + query.column_text(c);
      }
    }
    return out;
  };

  LoggedServer server(options);
  // The database refuses every packet row of session P (the server has made the schema).
  if (cluster) {
    storage::PgConnection db(options.database);
    db.exec("CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN IF "
            "NEW.acct_session_id = ''P'' THEN RAISE EXCEPTION ''poisoned session %'', "
            "NEW.acct_session_id; END IF; RETURN NEW; END'");
    db.exec("CREATE TRIGGER poison BEFORE INSERT ON packets FOR EACH ROW EXECUTE FUNCTION "
            "poison()");
  } else {
    storage::Database db(options.database);
    db.exec("CREATE TRIGGER poison BEFORE INSERT ON packets WHEN NEW.acct_session_id = 'P' "
            "BEGIN SELECT RAISE(ABORT, 'poisoned session P'); END");
  }

  test::UdpClient client("127.0.0.1", server.port());
  std::map<std::uint8_t, test::Bytes> sent{
      {1, make_request({.status = 1, .session_id = "A", .identifier = 1})},
      {2, make_request({.status = 1, .session_id = "P", .identifier = 2})},
      {3, make_request({.status = 3, .session_id = "A", .identifier = 3, .input_octets = 100})},
      {4, make_request({.status = 2,
                        .session_id = "A",
                        .identifier = 4,
                        .input_octets = 200,
                        .session_time = 60})},
      {5, make_request({.status = 1, .session_id = "B", .identifier = 5})},
  };
  // Sent back to back: the writer takes what queued while its last commit ran, so the refused
  // Start shares transactions with the others as traffic allows.
  for (const auto& [id, request] : sent) {
    client.send(request);
  }
  auto answered = answers(client, sent, 5, 5s);
  CHECK(answered == std::set<std::uint8_t>{1, 3, 4, 5});
  REQUIRE(eventually([&] { return server.server().counters().refused == 1; }, 5s));

  // The NAS retransmits P: refused again, not answered, counted and logged again.
  client.send(sent.at(2));
  CHECK(answers(client, sent, 1, 1500ms).empty());
  REQUIRE(eventually([&] { return server.server().counters().refused == 2; }, 5s));
  const auto counters = server.server().counters();
  CHECK(counters.answered == 4);
  CHECK(counters.in_flight == 0);
  CHECK(counters.database_ok);
  CHECK_THAT(counters.to_line(), Catch::Contains(" refused=2 "));
  const auto metrics = server::format_prometheus(server.server().metrics(), "0", "test");
  CHECK_THAT(metrics, Catch::Contains("\nacctlab_refused_total 2\n"));
  CHECK_THAT(metrics, Catch::Contains("acctlab_nas_drops_total{nas=\"localhost\",cause=\"database-"
                                      "refused\"} 2\n"));
  const auto log = server.text();
  const std::string line = "acctlab serve: error [localhost]: dropped request from 127.0.0.1:" +
                           std::to_string(source_port(client)) +
                           ": the database refused Accounting-Request id=2 Acct-Session-Id=P "
                           "Acct-Status-Type=Start: ";
  std::size_t lines = 0;
  for (auto at = log.find(line); at != std::string::npos; at = log.find(line, at + 1)) {
    ++lines;
  }
  CHECK(lines == 2); // once per refused copy, not once per attempt
  CHECK_THAT(log, Catch::Contains("poisoned session P"));
  CHECK_THAT(log, Catch::Contains("dropped request from 127.0.0.1:"));
  CHECK_THAT(log, !Catch::Contains("DATABASE UNWRITABLE"));
  const auto json = server.json();
  CHECK_THAT(json, Catch::Contains("\"event\":\"database_refused\",\"nas\":\"localhost\""));
  CHECK_THAT(json, Catch::Contains("\"code\":4,\"identifier\":2,\"acct_session_id\":\"P\","
                                   "\"status_type\":\"Start\""));
  CHECK_THAT(json, Catch::Contains(cluster ? "\"sqlstate\":\"P0001\"" : "\"sqlite_code\":1811"));

  // The administrator drops the rule: the next retransmission is stored and answered.
  if (cluster) {
    storage::PgConnection(options.database).exec("DROP TRIGGER poison ON packets");
  } else {
    storage::Database(options.database).exec("DROP TRIGGER poison");
  }
  client.send(sent.at(2));
  CHECK(answers(client, sent, 1, 5s) == std::set<std::uint8_t>{2});
  server.stop();

  CHECK(row("SELECT state, input_octets, session_time, record_count FROM sessions WHERE "
            "acct_session_id = 'A'") == "closed|200|60|3");
  CHECK(row("SELECT state, record_count FROM sessions WHERE acct_session_id = 'B'") == "open|1");
  CHECK(row("SELECT state, record_count, flags FROM sessions WHERE acct_session_id = 'P'") ==
        "open|1|");
  CHECK(row("SELECT count(*) FROM records WHERE acct_session_id = 'P'") == "1");
  CHECK(row("SELECT count(*) FROM records") == "5");
}
