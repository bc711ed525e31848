// Tests server/accounting_server.hpp end to end: real UDP on loopback, real SQLite files or, with
// ACCTLAB_TEST_ENGINE=postgres, databases of a private PostgreSQL cluster (tests/support/
// test_engine.hpp). What was stored is read back through storage's engine-neutral reader; cases
// tagged [sqlite] are about SQLite's files and locks.
#include "../storage/storage_test_util.hpp"
#include "radius/dictionary.hpp"
#include "radius/packet_codec.hpp"
#include "radius/text_form.hpp"
#include "server/accounting_server.hpp"
#include "server_test_util.hpp"
#include "storage/sqlite.hpp"
#include "tests/support/stored_db.hpp"
#include "tests/support/test_engine.hpp"

#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <linux/fs.h>
#include <set>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <thread>
#include <unistd.h>

using namespace acctlab;
using namespace std::chrono_literals;
using test::make_request;
using test::RequestSpec;

namespace {

server::ServerOptions options_for(const test::TempDir& dir) {
  server::ServerOptions options;
  options.listen = {"127.0.0.1:0"};
  options.database = test::fresh_database(dir.file("acct.db"), "acct");
  options.writer.open.busy_timeout_ms = 50;
  options.writer.retry_initial = 10ms;
  options.writer.retry_max = 50ms;
  return options;
}

using test::stored_count;
using test::stored_text;

std::int64_t count(const std::string& database, const std::string& sql) {
  return stored_count(database, sql);
}

} // namespace

TEST_CASE("a running server's counters reach its run row while it runs", "[server][report]") {
  test::TempDir dir;
  auto options = options_for(dir);
  options.report_interval = 100ms;
  test::ServerThread server(options);
  test::UdpClient client("127.0.0.1", server.port());
  const auto request = make_request({.status = 1, .session_id = "00000001", .identifier = 4});
  client.send(request);
  REQUIRE(client.receive(3s));
  // The viewer reads the run row from its own connection, as here, while the server runs.
  const auto& db = options.database;
  const auto field = [&](const std::string& name) { return test::report_number(db, name); };
  std::int64_t accepted = -1;
  for (int i = 0; i < 60 && accepted != 1; ++i) {
    std::this_thread::sleep_for(50ms);
    accepted = count(db, "SELECT COALESCE(" + field("accepted") +
                             ", -1) FROM runs WHERE kind = 'serve' AND finished IS NULL");
  }
  CHECK(accepted == 1);
  CHECK(count(db, "SELECT " + field("commit_batches") + " FROM runs") >= 1);
  const auto counters = server.server().counters();
  CHECK_THAT(counters.to_line(), Catch::Contains(" syncs="));
  if (!test::on_postgres()) {
    // synchronous=full: the answer went out after an fdatasync, whose time is counted apart from
    // the commit's (a slow disk shows there). PostgreSQL flushes its WAL inside COMMIT.
    CHECK(counters.syncs >= 1);
    CHECK(counters.sync_latency_avg_ms > 0);
    CHECK(counters.sync_latency_max_ms >= counters.sync_latency_avg_ms);
  }
  server.stop();
  CHECK(count(db, "SELECT count(*) FROM runs WHERE finished IS NOT NULL AND " + field("answered") +
                      " = 1") == 1);
  if (!test::on_postgres()) {
    CHECK(count(db, "SELECT " + field("syncs") + " FROM runs") >= 1);
  }
}

TEST_CASE("the counters line holds every field at its widest, and its JSON reads back",
          "[server][report][no-db]") {
  server::CounterSnapshot widest;
  for (auto* field :
       {&widest.received, &widest.accepted, &widest.answered, &widest.duplicates,
        &widest.bad_authenticator, &widest.bad_message_authenticator, &widest.unknown_client,
        &widest.malformed, &widest.status_server, &widest.overload_drops, &widest.refused,
        &widest.commit_batches, &widest.committed, &widest.syncs, &widest.max_batch,
        &widest.in_flight, &widest.open_sessions}) {
    *field = std::numeric_limits<std::uint64_t>::max();
  }
  widest.commit_latency_avg_ms = widest.commit_latency_max_ms = 1e12;
  widest.sync_latency_avg_ms = widest.sync_latency_max_ms = 1e12;
  widest.database_ok = false;
  const auto line = widest.to_line();
  CHECK_THAT(line, Catch::EndsWith("database=FAILING"));
  CHECK_THAT(line, Catch::Contains("open_sessions=18446744073709551615 "));
  const auto json = boost::json::parse(widest.to_json()).as_object();
  CHECK(json.at("database").as_string() == "FAILING");
  CHECK(json.at("open_sessions").to_number<std::uint64_t>() ==
        std::numeric_limits<std::uint64_t>::max());
}

TEST_CASE("Start, Interim-Update and Stop are stored, matched and answered after commit",
          "[server][pipeline]") {
  test::TempDir dir;
  auto options = options_for(dir);
  test::ServerThread server(options);
  test::UdpClient client("127.0.0.1", server.port());

  RequestSpec start{.status = 1, .session_id = "00000001", .identifier = 4};
  RequestSpec interim{.status = 3,
                      .session_id = "00000001",
                      .identifier = 5,
                      .input_octets = 608,
                      .output_octets = 700,
                      .session_time = 109};
  RequestSpec stop{.status = 2,
                   .session_id = "00000001",
                   .identifier = 6,
                   .input_octets = 152608,
                   .output_octets = 152609,
                   .session_time = 709};
  for (const auto& spec : {start, interim, stop}) {
    const auto request = make_request(spec);
    client.send(request);
    const auto response = client.receive(3s);
    REQUIRE(response);
    CHECK(response->size() == 20);
    CHECK(test::is_valid_response(*response, request, "testing123"));
  }
  server.stop();
  const auto path = options.database;
  CHECK(count(path, "SELECT count(*) FROM packets WHERE verdict = 'ok'") == 3);
  CHECK(count(path, "SELECT count(*) FROM records") == 3);
  CHECK(count(path, "SELECT count(*) FROM sessions") == 1);
  storage::ReadOnlyDatabase db(path);
  // FreeRADIUS's radacct columns (on PostgreSQL with their types: nasipaddress is inet, read
  // in its output form).
  auto row = db.prepare("SELECT acctsessionid, username, nasipaddress, "
                        "acctinputoctets, acctoutputoctets, acctsessiontime, "
                        "CASE WHEN acctstoptime IS NOT NULL THEN 1 ELSE 0 END, acctstate, "
                        "acctflags FROM radacct");
  REQUIRE(row.step());
  CHECK(row.text(0) == "00000001");
  CHECK(row.text(1) == "joe@cclient");
  CHECK(row.text(2) == "192.0.2.1");
  CHECK(row.int64(3) == 152608);
  CHECK(row.int64(4) == 152609);
  CHECK(row.int64(5) == 709);
  CHECK(row.int64(6) == 1);
  CHECK(row.text(7) == "closed");
  CHECK(row.text(8) == "");
  CHECK_FALSE(row.step());
  CHECK(count(path, "SELECT count(*) FROM sessions WHERE peer = '11.1.2.2'") == 1);
  // The serve session is a run; its packets point at it and its report holds the counters.
  CHECK(count(path, "SELECT count(*) FROM runs WHERE kind = 'serve' AND finished IS NOT NULL") ==
        1);
  CHECK(count(path, "SELECT count(*) FROM packets WHERE run_id = (SELECT id FROM runs)") == 3);
  CHECK(count(path, "SELECT " + test::report_number(path, "answered") + " FROM runs") == 3);
  // Every attribute is kept: the record's packet holds the request as it arrived.
  auto raw = db.prepare("SELECT p.raw FROM records AS r JOIN packets AS p ON p.id = r.packet_id "
                        "ORDER BY r.id LIMIT 1");
  REQUIRE(raw.step());
  const auto blob = raw.blob(0);
  const auto& dict = radius::Dictionary::builtin();
  auto stored = radius::decode_packet(std::vector<std::uint8_t>(blob.begin(), blob.end()), dict);
  REQUIRE(stored);
  const auto text = radius::render_packet(*stored, dict);
  CHECK_THAT(text, Catch::Contains("Acct-Session-Id = \"00000001\""));
  CHECK_THAT(text, Catch::Contains("isakmp-initiator-ip=11.1.2.2"));
}

TEST_CASE("bad input is dropped unanswered, counted, and kept only as evidence",
          "[server][pipeline][verdicts]") {
  test::TempDir dir;
  const auto clients = dir.file("clients.conf");
  std::ofstream(clients) << "client local {\n  ipaddr = 127.0.0.1\n  secret = testing123\n}\n"
                            "client strict {\n  ipaddr = 127.0.0.3\n  secret = strict\n"
                            "  require_message_authenticator = yes\n}\n";
  auto options = options_for(dir);
  options.clients_file = clients;
  test::ServerThread server(options);
  const auto port = server.port();

  test::UdpClient local("127.0.0.1", port);
  test::UdpClient unknown("127.0.0.1", port, "127.0.0.2");
  test::UdpClient strict("127.0.0.1", port, "127.0.0.3");

  unknown.send(make_request({}));                                   // unknown-client
  local.send({4, 1, 0, 10, 0, 0});                                  // malformed
  local.send(make_request({.identifier = 2, .secret = "wrong"}));   // bad-authenticator
  strict.send(make_request({.identifier = 3, .secret = "strict"})); // M-A required, absent
  auto tampered =
      make_request({.identifier = 4, .secret = "strict", .message_authenticator = true});
  tampered[tampered.size() - 1] ^= 0xff; // corrupt the Message-Authenticator value...
  // ...and re-sign so only the Message-Authenticator is wrong, not the Request Authenticator.
  std::fill(tampered.begin() + 4, tampered.begin() + 20, 0);
  {
    std::vector<std::uint8_t> to_hash(tampered);
    const std::string secret = "strict";
    to_hash.insert(to_hash.end(), secret.begin(), secret.end());
    const auto digest = radius::md5({std::span<const std::uint8_t>(to_hash)});
    std::copy(digest.begin(), digest.end(), tampered.begin() + 4);
  }
  strict.send(tampered); // bad-message-authenticator
  local.send({1, 9, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}); // Access-Request

  CHECK_FALSE(unknown.receive(300ms));
  CHECK_FALSE(local.receive(100ms));
  CHECK_FALSE(strict.receive(100ms));
  // A valid request from the strict client (with Message-Authenticator) is answered.
  const auto good =
      make_request({.identifier = 5, .secret = "strict", .message_authenticator = true});
  strict.send(good);
  const auto answer = strict.receive(3s);
  REQUIRE(answer);
  CHECK(test::is_valid_response(*answer, good, "strict"));

  const auto counters = server.server().counters();
  CHECK(counters.unknown_client == 1);
  CHECK(counters.malformed == 2);
  CHECK(counters.bad_authenticator == 1);
  CHECK(counters.bad_message_authenticator == 2);
  CHECK(counters.answered == 1);
  server.stop();
  const auto path = options.database;
  CHECK(count(path, "SELECT count(*) FROM records") == 1);
  CHECK(count(path, "SELECT count(*) FROM packets WHERE verdict = 'unknown-client'") == 1);
  CHECK(count(path, "SELECT count(*) FROM packets WHERE verdict = 'malformed'") == 2);
  CHECK(count(path, "SELECT count(*) FROM packets WHERE verdict = 'bad-authenticator'") == 1);
  CHECK(count(path, "SELECT count(*) FROM packets WHERE verdict = 'bad-message-authenticator'") ==
        2);
  CHECK(count(path, "SELECT count(*) FROM packets WHERE reason IS NULL OR reason = ''") == 1);
  CHECK(count(path, "SELECT bad_authenticator FROM nas WHERE identity = 'local'") == 1);
  // Logged once per cause per NAS.
  const auto log = server.log();
  CHECK_THAT(log, Catch::Contains("unknown-client"));
  CHECK_THAT(log, Catch::Contains("bad-authenticator"));
}

TEST_CASE("an empty datagram is malformed evidence, the server keeps answering",
          "[server][pipeline][verdicts]") {
  // Found by bench/reliability/malformed-storm.sh: a zero-length datagram's raw octets bound as
  // SQL NULL broke packets.raw's NOT NULL, and the poisoned batch held back every answer.
  test::TempDir dir;
  auto options = options_for(dir);
  test::ServerThread server(options);
  test::UdpClient local("127.0.0.1", server.port());
  local.send({});
  const auto good = make_request({.identifier = 7});
  local.send(good);
  const auto answer = local.receive(3s);
  REQUIRE(answer);
  CHECK(test::is_valid_response(*answer, good, "testing123"));
  CHECK(server.server().counters().malformed == 1);
  server.stop();
  CHECK(count(options.database,
              "SELECT count(*) FROM packets WHERE verdict = 'malformed' AND length(raw) = 0") == 1);
  CHECK(count(options.database, "SELECT count(*) FROM records") == 1);
}

TEST_CASE("strings that are not UTF-8 are stored and answered, and match as sent",
          "[server][pipeline]") {
  // A NAS's strings are octets: a User-Name with a control character and a byte that is no
  // UTF-8, an Acct-Session-Id with NUL and 0xff in it. Found by the suite on PostgreSQL, whose
  // text refused them: the batch failed for good and no NAS was answered.
  test::TempDir dir;
  auto options = options_for(dir);
  test::ServerThread server(options);
  test::UdpClient client("127.0.0.1", server.port());
  const std::string session("s\0\xff-1", 5);
  const std::string user = "jo\x01\xff"
                           "e";
  std::uint8_t id = 1;
  for (const std::uint32_t status : {1u, 2u}) {
    const auto request =
        make_request({.status = status, .session_id = session, .identifier = id++, .user = user});
    client.send(request);
    const auto response = client.receive(3s);
    REQUIRE(response);
    CHECK(test::is_valid_response(*response, request, "testing123"));
  }
  // A good request after them is answered too.
  const auto good = make_request({.session_id = "after", .identifier = id++});
  client.send(good);
  REQUIRE(client.receive(3s));
  server.stop();
  const auto& db = options.database;
  CHECK(count(db, "SELECT count(*) FROM records") == 3);
  // The Stop closed the Start's session: the two matched on the same Acct-Session-Id.
  CHECK(count(db, "SELECT count(*) FROM sessions WHERE state = 'closed' AND record_count = 2") ==
        1);
  // SQLite keeps the octets; PostgreSQL's text has each octet that is not UTF-8 (and NUL) as \xHH.
  const auto stored_user =
      stored_text(db, "SELECT user_name FROM sessions WHERE acct_session_id <> 'after'");
  CHECK(stored_user == (test::on_postgres() ? std::string("jo\x01\\xffe") : user));
  if (test::on_postgres()) {
    CHECK(stored_text(db, "SELECT acct_session_id FROM sessions WHERE state = 'closed'") ==
          "s\\x00\\xff-1");
  }
}

TEST_CASE("duplicates get the cached answer and are stored once (RFC 5080)",
          "[server][pipeline][dedup]") {
  test::TempDir dir;
  auto options = options_for(dir);
  test::ServerThread server(options);
  test::UdpClient client("127.0.0.1", server.port());
  // With Event-Timestamp, as a NAS that sends one: PostgreSQL's idempotency key then holds it,
  // not the receive time in 30-second steps, whose step a copy may fall past.
  const std::uint32_t when = 1'700'000'000;
  const auto request = make_request({.identifier = 7, .event_timestamp = when});
  client.send(request);
  const auto first = client.receive(3s);
  REQUIRE(first);
  client.send(request);
  const auto second = client.receive(3s);
  REQUIRE(second);
  CHECK(*first == *second);
  // Same Identifier, new content (a new Acct-Delay-Time) is a new request, RFC 5080 §2.2.1 aside.
  const auto changed = make_request({.identifier = 7, .delay = 5, .event_timestamp = when});
  client.send(changed);
  const auto third = client.receive(3s);
  REQUIRE(third);
  CHECK(test::is_valid_response(*third, changed, "testing123"));
  CHECK(server.server().counters().duplicates == 1);
  server.stop();
  // On either engine the record's idempotency key leaves Acct-Delay-Time out (docs/server.md,
  // "The same record is stored once"): the changed copy is stored as a duplicate packet, the
  // record once, and the session has no duplicate-start.
  CHECK(count(options.database, "SELECT count(*) FROM records") == 1);
  CHECK(count(options.database, "SELECT count(*) FROM packets WHERE verdict = 'duplicate'") == 2);
  CHECK(stored_text(options.database, "SELECT flags FROM sessions") == "");
}

namespace {
/**
 * The outage the issue asks for, once the database cannot be written: a request and the NAS's two
 * retransmissions get no answer, the counters and the log say why; once `recover` has made it
 * writable again, all three are answered, the log says so, and the record is stored once.
 */
void check_outage_and_recovery(test::ServerThread& server, test::UdpClient& client,
                               const std::string& database, const std::string& session_id,
                               const std::function<void()>& recover) {
  const auto request = make_request({.session_id = session_id, .identifier = 2});
  client.send(request);
  CHECK_FALSE(client.receive(600ms));
  client.send(request); // the NAS retransmits
  client.send(request);
  CHECK_FALSE(client.receive(400ms));
  CHECK_FALSE(server.server().counters().database_ok);
  CHECK_THAT(server.log(), Catch::Contains("DATABASE UNWRITABLE"));

  recover();
  int answers = 0;
  while (auto response = client.receive(3s)) {
    CHECK(test::is_valid_response(*response, request, "testing123"));
    if (++answers == 3) {
      break;
    }
  }
  CHECK(answers == 3); // the original and both retransmissions, after the commit
  CHECK(server.server().counters().database_ok);
  CHECK_THAT(server.log(), Catch::Contains("writable again"));
  server.stop();
  CHECK(count(database,
              "SELECT count(*) FROM records WHERE acct_session_id = '" + session_id + "'") == 1);
}
} // namespace

TEST_CASE("an unwritable database stops answers, retransmissions wait, it recovers by itself",
          "[server][pipeline][unwritable][sqlite]") {
  // SQLite: another writer holds the file's lock (on PostgreSQL a lock only makes the writer wait).
  test::TempDir dir;
  auto options = options_for(dir);
  test::ServerThread server(options);
  test::UdpClient client("127.0.0.1", server.port());
  // Warm up so the schema exists before another connection takes the lock.
  const auto warm = make_request({.session_id = "warm", .identifier = 1});
  client.send(warm);
  REQUIRE(client.receive(3s));

  storage::Database blocker(options.database);
  blocker.exec("BEGIN IMMEDIATE"); // the database is locked by another writer
  check_outage_and_recovery(server, client, options.database, "locked",
                            [&] { blocker.exec("ROLLBACK"); });
}

namespace {
/** A 1 MiB tmpfs mounted for the test's lifetime: a disk that really fills up. */
class SmallDisk {
public:
  explicit SmallDisk(const std::string& path) : path_(path) {
    std::filesystem::create_directories(path_);
    mounted_ = ::geteuid() == 0 &&
               ::mount("acctlab-test", path_.c_str(), "tmpfs", 0, "size=1m,mode=0700") == 0;
    why_ = mounted_ ? "" : std::string("cannot mount a tmpfs here (") + std::strerror(errno) + ")";
  }
  ~SmallDisk() {
    if (mounted_) {
      ::umount2(path_.c_str(), MNT_DETACH);
    }
  }
  bool mounted() const { return mounted_; }
  const std::string& why() const { return why_; }
  /** Writes a file until the disk is full; returns its path. */
  std::string fill() const {
    const auto filler = path_ + "/filler";
    std::ofstream out(filler, std::ios::binary);
    const std::string chunk(4096, 'x');
    for (int i = 0; i < 1024 && out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
         ++i) {
    }
    return filler;
  }

private:
  std::string path_;
  bool mounted_ = false;
  std::string why_;
};
} // namespace

TEST_CASE("a full disk stops answers, retransmissions wait, freeing space recovers by itself",
          "[server][pipeline][unwritable][disk-full][sqlite]") {
  // SQLite: the database file on a full filesystem (PostgreSQL's disk is its server's).
  test::TempDir dir;
  SmallDisk disk(dir.file("small"));
  if (!disk.mounted()) {
    WARN("disk-full test skipped: " << disk.why() << "; it needs root (CI runs as root)");
    return;
  }
  auto options = options_for(dir);
  options.database = dir.file("small") + "/acct.db";
  test::ServerThread server(options);
  test::UdpClient client("127.0.0.1", server.port());
  const auto warm = make_request({.session_id = "warm", .identifier = 1});
  client.send(warm);
  REQUIRE(client.receive(3s));

  const auto filler = disk.fill();
  std::vector<test::Bytes> requests;
  for (std::uint8_t i = 0; i < 5; ++i) {
    requests.push_back(make_request({.session_id = "full-" + std::to_string(i),
                                     .identifier = static_cast<std::uint8_t>(10 + i)}));
    client.send(requests.back());
  }
  CHECK_FALSE(client.receive(600ms)); // nothing is acknowledged that is not stored
  for (const auto& request : requests) {
    client.send(request); // the NAS retransmits
  }
  CHECK_FALSE(client.receive(400ms));
  CHECK_FALSE(server.server().counters().database_ok);
  CHECK_THAT(server.log(), Catch::Contains("DATABASE UNWRITABLE"));

  std::filesystem::remove(filler);
  std::set<std::uint8_t> answered;
  for (int i = 0; i < 10 && answered.size() < requests.size(); ++i) {
    const auto response = client.receive(3s);
    if (!response) {
      break;
    }
    const auto& request = requests.at((*response)[1] - 10u);
    CHECK(test::is_valid_response(*response, request, "testing123"));
    answered.insert((*response)[1]);
  }
  CHECK(answered.size() == requests.size());
  CHECK(server.server().counters().database_ok);
  CHECK_THAT(server.log(), Catch::Contains("writable again"));
  server.stop();
  CHECK(count(options.database, "SELECT count(*) FROM records WHERE acct_session_id LIKE "
                                "'full-%'") == 5);
}

namespace {
/** Sets or clears the immutable attribute (chattr +i): the file refuses writes even to root and
 * even through descriptors opened before. Returns false where the filesystem or the process
 * cannot. */
bool set_immutable(const std::string& path, bool on) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return false;
  }
  int flags = 0;
  bool ok = ::ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0;
  if (ok) {
    flags = on ? (flags | FS_IMMUTABLE_FL) : (flags & ~FS_IMMUTABLE_FL);
    ok = ::ioctl(fd, FS_IOC_SETFLAGS, &flags) == 0;
  }
  ::close(fd);
  return ok;
}
} // namespace

TEST_CASE("a read-only database file stops answers and recovers when writable again",
          "[server][pipeline][unwritable][read-only][sqlite]") {
  // SQLite: the database's WAL file made immutable.
  test::TempDir dir;
  auto options = options_for(dir);
  test::ServerThread server(options);
  test::UdpClient client("127.0.0.1", server.port());
  client.send(make_request({.session_id = "warm", .identifier = 1}));
  REQUIRE(client.receive(3s));

  const auto wal = options.database + "-wal";
  if (!set_immutable(wal, true)) {
    WARN("read-only test skipped: cannot set the immutable attribute on "
         << wal << " (needs root and a filesystem with chattr +i; CI has both)");
    server.stop();
    return;
  }
  struct Restore {
    std::string path;
    ~Restore() { set_immutable(path, false); }
  } restore{wal};
  check_outage_and_recovery(server, client, options.database, "read-only",
                            [&] { REQUIRE(set_immutable(wal, false)); });
}

TEST_CASE("an answer returns the request's Proxy-State attributes unmodified and in order",
          "[server][proxy]") {
  // RFC 2865 §5.33: a proxy in front adds Proxy-State and finds its request by it in the answer.
  test::TempDir dir;
  auto options = options_for(dir);
  test::ServerThread server(options);
  test::UdpClient client("127.0.0.1", server.port());
  const test::Bytes short_state = {'6', '6'};
  const test::Bytes long_state(253, 0xa5); // the longest: the answer outgrows its inline buffer
  const auto request = make_request({.session_id = "proxied",
                                     .identifier = 21,
                                     .proxy_states = {short_state, long_state, short_state}});
  const auto expect_states = [&](const test::Bytes& response) {
    REQUIRE(test::is_valid_response(response, request, "testing123"));
    CHECK(response.size() == 20 + (2 + 2) + (2 + 253) + (2 + 2));
    CHECK((response[2] << 8 | response[3]) == static_cast<int>(response.size()));
    auto decoded = radius::decode_packet(response, test::dict());
    REQUIRE(decoded);
    std::vector<test::Bytes> states;
    for (const auto& attribute : decoded->attributes()) {
      CHECK(attribute.type == radius::proxy_state_type);
      const auto value = decoded->value(attribute);
      states.emplace_back(value.begin(), value.end());
    }
    CHECK(states == std::vector<test::Bytes>{short_state, long_state, short_state});
  };
  client.send(request);
  const auto response = client.receive(3s);
  REQUIRE(response);
  expect_states(*response);
  // A retransmission gets the cached answer, Proxy-State included.
  client.send(request);
  const auto again = client.receive(3s);
  REQUIRE(again);
  CHECK(*again == *response);
  // A request without Proxy-State still gets the bare 20 octets.
  const auto direct = make_request({.session_id = "direct", .identifier = 22});
  client.send(direct);
  const auto plain = client.receive(3s);
  REQUIRE(plain);
  CHECK(plain->size() == 20);
  CHECK(test::is_valid_response(*plain, direct, "testing123"));
}

TEST_CASE("Status-Server is answered on the accounting port (RFC 5997)", "[server][status]") {
  test::TempDir dir;
  auto options = options_for(dir);
  options.listen = {"127.0.0.1:0", "[::1]:0"};
  test::ServerThread server(options);
  for (std::size_t i = 0; i < 2; ++i) {
    test::UdpClient client(i == 0 ? "127.0.0.1" : "::1", server.port(i));
    radius::Packet status(radius::Code::status_server, 9);
    status.set_authenticator(radius::random_authenticator());
    const std::uint8_t zeros[16] = {};
    status.add(radius::message_authenticator_type, std::span<const std::uint8_t>(zeros));
    auto wire = radius::encode_packet(status, test::dict());
    radius::sign_request(wire, "testing123");
    client.send(wire);
    const auto response = client.receive(3s);
    REQUIRE(response);
    CHECK((*response)[0] == 5);
    CHECK(test::is_valid_response(*response, wire, "testing123"));
    const auto authenticator = test::request_authenticator(wire);
    CHECK(radius::check_message_authenticator(*response, "testing123", &authenticator) ==
          radius::MessageAuthenticatorCheck::valid);

    // Without a Message-Authenticator it is discarded.
    radius::Packet bare(radius::Code::status_server, 10);
    bare.set_authenticator(radius::random_authenticator());
    client.send(radius::encode_packet(bare, test::dict()));
    CHECK_FALSE(client.receive(300ms));

    // Accounting over IPv6 works too.
    const auto request = make_request({.session_id = "v6-" + std::to_string(i), .identifier = 3});
    client.send(request);
    const auto answer = client.receive(3s);
    REQUIRE(answer);
    CHECK(test::is_valid_response(*answer, request, "testing123"));
  }
  CHECK(server.server().counters().status_server == 2);
}

TEST_CASE("Acct-Session-Id reuse after Stop opens a new session with a new acctuniqueid",
          "[server][matching]") {
  test::TempDir dir;
  auto options = options_for(dir);
  test::ServerThread server(options);
  test::UdpClient client("127.0.0.1", server.port());
  // Event-Timestamp tells the second Start from a copy of the first (on PostgreSQL a record
  // that repeats the first's key is a duplicate: docs/server.md, "The same record is stored
  // once").
  const std::uint32_t t = 1'700'000'000;
  const RequestSpec sequence[] = {
      {.status = 1, .identifier = 1, .event_timestamp = t},
      {.status = 2,
       .identifier = 2,
       .input_octets = 10,
       .output_octets = 20,
       .event_timestamp = t + 60},
      {.status = 3, .identifier = 3, .input_octets = 11, .event_timestamp = t + 70}, // after Stop
      {.status = 1, .identifier = 4, .event_timestamp = t + 300}, // the NAS rebooted: a new session
      {.status = 2, .identifier = 5, .event_timestamp = t + 400}, // Stop without counters
  };
  for (const auto& spec : sequence) {
    const auto request = make_request(spec);
    client.send(request);
    const auto response = client.receive(3s);
    REQUIRE(response);
  }
  server.stop();
  CHECK(count(options.database, "SELECT count(DISTINCT acctuniqueid) FROM radacct") == 2);
  storage::ReadOnlyDatabase db(options.database);
  auto rows = db.prepare("SELECT acctstate, acctflags, acctinputoctets FROM radacct ORDER BY "
                         "radacctid");
  REQUIRE(rows.step());
  CHECK(rows.text(0) == "closed");
  CHECK(rows.text(1) == "after-stop");
  CHECK(rows.int64(2) == 10);
  REQUIRE(rows.step());
  CHECK(rows.text(0) == "closed");
  CHECK(rows.text(1) == "");
  CHECK(rows.is_null(2));
}

TEST_CASE("a periodic stats line carries the counters, overload drops unanswered",
          "[server][stats]") {
  test::TempDir dir;
  auto options = options_for(dir);
  options.stats_interval = 100ms;
  options.max_in_flight = 1;
  test::ServerThread server(options, true);
  test::UdpClient client("127.0.0.1", server.port());
  test::CommitBlocker blocker(options.database);
  const auto warm = make_request({.session_id = "warm", .identifier = 1});
  client.send(warm);
  REQUIRE(client.receive(3s));
  blocker.hold(); // one request in flight fills max_in_flight = 1
  const auto first = make_request({.session_id = "a", .identifier = 2});
  const auto second = make_request({.session_id = "b", .identifier = 3});
  client.send(first);
  std::this_thread::sleep_for(100ms);
  client.send(second);
  std::this_thread::sleep_for(300ms);
  blocker.release();
  const auto answer = client.receive(3s);
  REQUIRE(answer);
  CHECK(test::is_valid_response(*answer, first, "testing123"));
  CHECK_FALSE(client.receive(300ms)); // the second was dropped, not stored, not answered
  CHECK(server.server().counters().overload_drops == 1);
  std::string log;
  for (int i = 0; i < 50 && log.find("answered=2") == std::string::npos; ++i) {
    std::this_thread::sleep_for(50ms);
    log = server.log();
  }
  CHECK_THAT(log, Catch::Contains("stats received=3 accepted=2 answered=2"));
  CHECK_THAT(log, Catch::Contains("overload_drops=1"));
  CHECK_THAT(log, Catch::Contains("requests await their commit"));
  server.stop();
  CHECK(count(options.database, "SELECT count(*) FROM records WHERE acct_session_id = 'b'") == 0);
}
