// `acctlab serve` as a process: signals, crash durability, and a real independent client. On a
// SQLite file, or a PostgreSQL database with ACCTLAB_TEST_ENGINE=postgres (tests/support/
// test_engine.hpp); what was stored is read through storage's engine-neutral reader.
#include "../storage/storage_test_util.hpp"
#include "server_test_util.hpp"
#include "tests/support/stored_db.hpp"
#include "tests/support/test_engine.hpp"

#include <catch2/catch.hpp>
#include <map>
#include <random>
#include <set>
#include <thread>

using namespace acctlab;
using namespace std::chrono_literals;
using test::make_request;

namespace {

/** The test's database: a file in dir, or a fresh PostgreSQL database. */
std::string database(const test::TempDir& dir) {
  return test::fresh_database(dir.file("acct.db"), "acct");
}

std::vector<std::string> serve_args(const std::string& db, std::vector<std::string> extra = {}) {
  std::vector<std::string> args{"serve", "--listen", "127.0.0.1:0", "--db", db, "--stats", "0"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

/** Keeps `window` Start requests outstanding until stop is set; returns acknowledged ids. */
std::set<std::string> generate_load(std::uint16_t port, const std::string& prefix, int window,
                                    const std::atomic<bool>& stop) {
  test::UdpClient client("127.0.0.1", port);
  std::set<std::string> acked;
  std::map<std::uint8_t, std::pair<std::string, test::Bytes>> outstanding;
  std::uint64_t next = 0;
  auto send_one = [&] {
    for (int probe = 0; probe < 256; ++probe) {
      const auto identifier = static_cast<std::uint8_t>(next % 256);
      if (!outstanding.count(identifier)) {
        const auto id = prefix + std::to_string(next++);
        auto request = make_request({.status = 1, .session_id = id, .identifier = identifier});
        client.send(request);
        outstanding[identifier] = {id, std::move(request)};
        return;
      }
      ++next;
    }
  };
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (!stop && std::chrono::steady_clock::now() < deadline) {
    while (static_cast<int>(outstanding.size()) < window) {
      send_one();
    }
    const auto response = client.receive(50ms);
    if (!response) {
      continue;
    }
    const auto it = outstanding.find((*response)[1]);
    if (it != outstanding.end() &&
        test::is_valid_response(*response, it->second.second, "testing123")) {
      acked.insert(it->second.first);
      outstanding.erase(it);
    }
  }
  // Answers the server sent before it died are acknowledgements too.
  while (const auto response = client.receive(100ms)) {
    const auto it = outstanding.find((*response)[1]);
    if (it != outstanding.end() &&
        test::is_valid_response(*response, it->second.second, "testing123")) {
      acked.insert(it->second.first);
      outstanding.erase(it);
    }
  }
  return acked;
}

} // namespace

TEST_CASE("SIGKILL during load loses no acknowledged request", "[server][durability]") {
  test::TempDir dir;
  const auto db = database(dir);
  std::mt19937 random(std::random_device{}());
  std::size_t total_acked = 0;
  constexpr int runs = 4;
  for (int run = 0; run < runs; ++run) {
    test::ServerProcess process(serve_args(db), dir.file("serve-" + std::to_string(run) + ".log"));
    const auto port = process.wait_for_port();
    REQUIRE(port != 0);
    std::atomic<bool> stop{false};
    std::set<std::string> acked;
    std::thread load(
        [&] { acked = generate_load(port, "r" + std::to_string(run) + "-", 64, stop); });
    std::this_thread::sleep_for(std::chrono::milliseconds(150 + random() % 400));
    process.signal(SIGKILL);
    CHECK(process.wait() != -1);
    stop = true;
    load.join();
    INFO("run " << run << ": " << acked.size() << " acknowledged");
    CHECK(acked.size() > 0);
    total_acked += acked.size();
    storage::ReadOnlyDatabase reader(db);
    std::multiset<std::string> stored;
    auto all = reader.prepare("SELECT acct_session_id FROM records");
    while (all.step()) {
      stored.insert(all.text(0));
    }
    std::size_t missing = 0;
    for (const auto& id : acked) {
      if (stored.count(id) != 1) {
        ++missing;
      }
    }
    CHECK(missing == 0);
  }
  // After the crashes the server starts again, rebuilds its open sessions, and matches a Stop.
  test::ServerProcess process(serve_args(db), dir.file("serve-final.log"));
  const auto port = process.wait_for_port();
  REQUIRE(port != 0);
  test::UdpClient client("127.0.0.1", port);
  const auto session_id =
      test::stored_text(db, "SELECT acct_session_id FROM records ORDER BY id LIMIT 1");
  REQUIRE(session_id != "<none>");
  const auto stop =
      make_request({.status = 2, .session_id = session_id, .identifier = 1, .input_octets = 5});
  client.send(stop);
  REQUIRE(client.receive(5s));
  process.signal(SIGTERM);
  CHECK(process.wait() == 0);
  CHECK(test::stored_count(db, "SELECT count(*) FROM sessions WHERE acct_session_id = '" +
                                   session_id + "' AND state = 'closed' AND flags = ''") == 1);
  WARN("acknowledged across " << runs << " SIGKILL runs: " << total_acked);
}

TEST_CASE("SIGTERM stops receiving, commits and answers what is in flight, exits 0",
          "[server][signals]") {
  test::TempDir dir;
  const auto db = database(dir);
  test::ServerProcess process(serve_args(db), dir.file("serve.log"));
  const auto port = process.wait_for_port();
  REQUIRE(port != 0);
  test::UdpClient client("127.0.0.1", port);
  const auto warm = make_request({.session_id = "warm"});
  client.send(warm);
  REQUIRE(client.receive(5s));

  test::CommitBlocker blocker(db);
  blocker.hold(); // hold the commit back so requests are in flight
  std::vector<test::Bytes> requests;
  for (int i = 0; i < 20; ++i) {
    requests.push_back(make_request({.session_id = "inflight-" + std::to_string(i),
                                     .identifier = static_cast<std::uint8_t>(i)}));
    client.send(requests.back());
  }
  CHECK_FALSE(client.receive(500ms));
  process.signal(SIGTERM);
  std::this_thread::sleep_for(300ms);
  blocker.release();
  std::set<std::uint8_t> answered;
  while (const auto response = client.receive(5s)) {
    const auto& request = requests.at((*response)[1]);
    CHECK(test::is_valid_response(*response, request, "testing123"));
    answered.insert((*response)[1]);
    if (answered.size() == requests.size()) {
      break;
    }
  }
  CHECK(answered.size() == requests.size());
  CHECK(process.wait() == 0);
  CHECK(test::stored_count(db, "SELECT count(*) FROM records WHERE acct_session_id LIKE "
                               "'inflight-%'") == 20);
}

TEST_CASE("a report interval puts a running server's counters in its run row", "[server][report]") {
  test::TempDir dir;
  const auto db = database(dir);
  test::ServerProcess process(serve_args(db, {"--report-interval", "1"}), dir.file("serve.log"));
  const auto port = process.wait_for_port();
  REQUIRE(port != 0);
  test::UdpClient client("127.0.0.1", port);
  const auto accepted_after = [&](int count, std::chrono::milliseconds limit) {
    for (std::uint8_t i = 0; i < count; ++i) {
      const auto request =
          make_request({.session_id = "live-" + std::to_string(count) + "-" + std::to_string(i),
                        .identifier = static_cast<std::uint8_t>(10 * count + i)});
      client.send(request);
      REQUIRE(client.receive(5s));
    }
    std::int64_t accepted = -1;
    const auto deadline = std::chrono::steady_clock::now() + limit;
    do {
      std::this_thread::sleep_for(50ms);
      accepted =
          test::stored_count(db, "SELECT COALESCE(" + test::report_number(db, "accepted") +
                                     ", -1) FROM runs WHERE kind = 'serve' AND finished IS NULL");
    } while (std::chrono::steady_clock::now() < deadline && accepted < 0);
    return accepted;
  };
  // The first report comes with the first tick; the next within the interval asked for (1 s),
  // before the default's 5 s.
  std::int64_t accepted = -1;
  for (int i = 0; i < 60 && accepted != 3; ++i) {
    accepted = accepted_after(i == 0 ? 3 : 0, 100ms);
  }
  REQUIRE(accepted == 3);
  const auto sent = std::chrono::steady_clock::now();
  accepted = accepted_after(2, 0ms);
  while (accepted != 5 && std::chrono::steady_clock::now() - sent < 3500ms) {
    accepted = accepted_after(0, 50ms);
  }
  CHECK(accepted == 5);
  process.signal(SIGTERM);
  CHECK(process.wait() == 0);
}

TEST_CASE("SIGHUP reloads the clients file, a bad file keeps the old one", "[server][signals]") {
  test::TempDir dir;
  const auto clients = dir.file("clients.conf");
  std::ofstream(clients) << "client lab {\n  ipaddr = 127.0.0.1/32\n  secret = one\n}\n";
  test::ServerProcess process(serve_args(database(dir), {"--clients", clients}),
                              dir.file("serve.log"));
  const auto port = process.wait_for_port();
  REQUIRE(port != 0);
  test::UdpClient client("127.0.0.1", port);
  const auto with_two = make_request({.identifier = 1, .secret = "two"});
  client.send(with_two);
  CHECK_FALSE(client.receive(300ms));

  std::ofstream(clients) << "client lab {\n  ipaddr = 127.0.0.1/32\n  secret = two\n}\n";
  process.signal(SIGHUP);
  std::optional<test::Bytes> answer;
  for (int i = 0; i < 50 && !answer; ++i) {
    client.send(make_request({.identifier = static_cast<std::uint8_t>(10 + i), .secret = "two"}));
    answer = client.receive(100ms);
  }
  REQUIRE(answer);

  std::ofstream(clients) << "client lab {\n  ipaddr = 127.0.0.1/99\n  secret = three\n}\n";
  process.signal(SIGHUP);
  for (int i = 0; i < 100 && process.log().find("reload failed") == std::string::npos; ++i) {
    std::this_thread::sleep_for(20ms);
  }
  CHECK_THAT(process.log(), Catch::Contains(clients + ":2:"));
  const auto still_two =
      make_request({.session_id = "after-bad-reload", .identifier = 99, .secret = "two"});
  client.send(still_two);
  // Answers to the earlier tries may still come (each try waited 100 ms; a commit on PostgreSQL
  // under load took longer): the one asked for is the one with Identifier 99 (bounded: 20).
  test::Bytes still_answer;
  for (int i = 0; i < 20 && still_answer.empty(); ++i) {
    const auto response = client.receive(3s);
    if (!response) {
      break;
    }
    if (response->size() >= 20 && (*response)[1] == 99) {
      still_answer = *response;
    }
  }
  REQUIRE_FALSE(still_answer.empty());
  CHECK(test::is_valid_response(still_answer, still_two, "two"));
  process.signal(SIGTERM);
  CHECK(process.wait() == 0);
}

TEST_CASE("FreeRADIUS radclient: Start, Interim-Update, Stop", "[server][radclient]") {
  if (::access("/usr/bin/radclient", X_OK) != 0) {
    FAIL("radclient is not installed (Debian package freeradius-utils)");
  }
  test::TempDir dir;
  const auto db = database(dir);
  test::ServerProcess process(serve_args(db), dir.file("serve.log"));
  const auto port = process.wait_for_port();
  REQUIRE(port != 0);
  const std::string common = "Acct-Session-Id = \"rc-00000001\"\n"
                             "User-Name = \"joe@cclient\"\n"
                             "NAS-IP-Address = 192.0.2.147\n"
                             "NAS-Port = 0\n"
                             "Framed-IP-Address = 10.13.13.1\n"
                             "Cisco-AVPair = \"isakmp-initiator-ip=11.1.2.2\"\n"
                             "Acct-Delay-Time = 0\n";
  const std::pair<const char*, std::string> packets[] = {
      {"start", common + "Acct-Status-Type = Start\n"},
      {"interim", common + "Acct-Status-Type = Interim-Update\nAcct-Session-Time = 109\n"
                           "Acct-Input-Octets = 608\nAcct-Output-Octets = 608\n"},
      {"stop", common + "Acct-Status-Type = Stop\nAcct-Session-Time = 709\n"
                        "Acct-Input-Octets = 152608\nAcct-Output-Octets = 152608\n"
                        "Acct-Input-Gigawords = 1\nAcct-Terminate-Cause = User-Request\n"},
  };
  for (const auto& [name, body] : packets) {
    const auto file = dir.file(std::string(name) + ".txt");
    std::ofstream(file) << body;
    const auto output = dir.file(std::string(name) + ".out");
    const std::string command = "radclient -x -r 1 -t 3 -D /usr/share/freeradius -f " + file +
                                " 127.0.0.1:" + std::to_string(port) + " acct testing123 > " +
                                output + " 2>&1";
    const int status = std::system(command.c_str());
    INFO(test::read_file(output));
    CHECK(status == 0);
    CHECK_THAT(test::read_file(output), Catch::Contains("Received Accounting-Response"));
  }
  process.signal(SIGTERM);
  CHECK(process.wait() == 0);
  storage::ReadOnlyDatabase reader(db);
  auto row = reader.prepare("SELECT acctstate, acctflags, username, nasipaddress, acctinputoctets, "
                            "acctsessiontime, acctterminatecause, framedipaddress FROM radacct");
  REQUIRE(row.step());
  CHECK(row.text(0) == "closed");
  CHECK(row.text(1) == "");
  CHECK(row.text(2) == "joe@cclient");
  CHECK(row.text(3) == "192.0.2.147");
  CHECK(row.int64(4) == (std::int64_t{1} << 32) + 152608);
  CHECK(row.int64(5) == 709);
  CHECK(row.text(6) == "User-Request");
  CHECK(row.text(7) == "10.13.13.1");
  CHECK_FALSE(row.step());
  CHECK(test::stored_count(db, "SELECT count(*) FROM records") == 3);
}
