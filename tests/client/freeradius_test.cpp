// The gateway against a real FreeRADIUS 3.2 (the Debian package): a private configuration in a
// temporary directory, one accounting listener on a free loopback port, a client for 127.0.0.1,
// and the `detail` module writing every accepted record to the temporary directory. The test
// checks that FreeRADIUS acknowledged every record and that its detail file shows each one.

#include "client/scenario_runner.hpp"
#include "tests/client/loopback_responder.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <map>
#include <spawn.h>
#include <sstream>
#include <sys/wait.h>
#include <thread>

extern char** environ;

using namespace acctlab::gateway;
namespace fs = std::filesystem;

namespace {

constexpr const char* freeradius_binary = "/usr/sbin/freeradius";

std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

class FreeRadius {
public:
  FreeRadius() {
    dir_ = fs::temp_directory_path() /
           ("acctlab-freeradius-" + std::to_string(::getpid()) + "-" +
            std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
    fs::create_directories(dir_ / "radacct");
    fs::create_directories(dir_ / "run");
    fs::create_directories(dir_ / "log");
    port_ = acctlab::test::free_loopback_port();
    std::ofstream(dir_ / "dictionary") << "$INCLUDE /usr/share/freeradius/dictionary\n";
    std::string d = dir_.string();
    std::ofstream(dir_ / "radiusd.conf")
        << "prefix = /usr\nexec_prefix = /usr\nsysconfdir = /etc\nlocalstatedir = /var\n"
        << "sbindir = /usr/sbin\nlogdir = " << d << "/log\nraddbdir = " << d
        << "\nradacctdir = " << d << "/radacct\nname = freeradius\nconfdir = " << d
        << "\nmodconfdir = " << d << "/mods-config\nrun_dir = " << d << "/run\ndb_dir = " << d
        << "\nlibdir = /usr/lib/freeradius\npidfile = " << d << "/run/radiusd.pid\n"
        << "max_request_time = 30\ncleanup_delay = 5\nmax_requests = 4096\n"
        << "hostname_lookups = no\nlog {\n destination = stdout\n}\n"
        << "security {\n allow_core_dumps = no\n max_attributes = 200\n reject_delay = 0\n"
        << " status_server = no\n}\n"
        << "client lab {\n ipaddr = 127.0.0.1\n secret = testing123\n}\n"
        << "modules {\n detail {\n  filename = " << d << "/radacct/detail\n"
        << "  escape_filenames = no\n  permissions = 0600\n  header = \"%t\"\n }\n}\n"
        << "server default {\n listen {\n  type = acct\n  ipaddr = 127.0.0.1\n  port = " << port_
        << "\n }\n preacct {\n }\n accounting {\n  detail\n }\n}\n";
    std::string log = (dir_ / "freeradius.log").string();
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    std::vector<std::string> args = {freeradius_binary, "-X", "-d", d};
    std::vector<char*> argv;
    for (auto& a : args) {
      argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    started_ = posix_spawn(&pid_, freeradius_binary, &actions, nullptr, argv.data(), environ) == 0;
    posix_spawn_file_actions_destroy(&actions);
    // Bounded wait for "Ready to process requests" (10 s).
    for (int i = 0; started_ && i < 200; ++i) {
      if (read_file(log).find("Ready to process requests") != std::string::npos) {
        ready_ = true;
        break;
      }
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        started_ = false;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  ~FreeRadius() {
    if (started_) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
  bool ready() const { return ready_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  std::string log() const { return read_file(dir_ / "freeradius.log"); }

  /** The detail file's records: blocks of "\tName = value" lines after a date line. */
  std::vector<std::multimap<std::string, std::string>> detail() const {
    std::vector<std::multimap<std::string, std::string>> records;
    std::istringstream in(read_file(dir_ / "radacct" / "detail"));
    for (std::string line; std::getline(in, line);) {
      if (line.empty()) {
        continue;
      }
      if (line[0] != '\t') {
        records.emplace_back();
        continue;
      }
      auto eq = line.find(" = ");
      if (eq == std::string::npos || records.empty()) {
        continue;
      }
      std::string value = line.substr(eq + 3);
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
      }
      records.back().emplace(line.substr(1, eq - 1), value);
    }
    return records;
  }

private:
  fs::path dir_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
  bool started_ = false;
  bool ready_ = false;
};

std::string first(const std::multimap<std::string, std::string>& record, const std::string& key) {
  auto it = record.find(key);
  return it == record.end() ? "<absent>" : it->second;
}

RunResult run(const std::string& config_name, const std::string& scenario_name,
              std::vector<std::string> servers) {
  std::string base = std::string(ACCTLAB_SOURCE_DIR) + "/client/scenarios/";
  ConfigReadResult config = read_ios_config_file(base + config_name);
  REQUIRE(config.usable());
  auto scenario = parse_scenario_file(base + scenario_name);
  REQUIRE(scenario);
  RunOptions options;
  options.servers = std::move(servers);
  options.secret = "testing123";
  std::ostringstream debug;
  return run_scenario(config.config, *scenario, options, debug, nullptr);
}

} // namespace

TEST_CASE("FreeRADIUS 3.2 records every accounting record the gateway sends",
          "[client][freeradius]") {
  if (!fs::exists(freeradius_binary)) {
    WARN("skipped: " << freeradius_binary << " is not installed");
    return;
  }
  FreeRadius server;
  INFO(server.log());
  REQUIRE(server.ready());

  RunResult doc = run("document-debug.cfg", "document-debug.scn", {server.address()});
  REQUIRE(doc.ok);
  CHECK(doc.answers == 5);
  CHECK(doc.gave_up == 0);
  CHECK(doc.bad_answers == 0);
  auto records = server.detail();
  REQUIRE(records.size() == 5);
  // Start 00000001, Start and Stop 00000002, Start and Interim-Update 00000003.
  const std::vector<std::pair<std::string, std::string>> expected_records = {
      {"Start", "00000001"},
      {"Start", "00000002"},
      {"Stop", "00000002"},
      {"Start", "00000003"},
      {"Interim-Update", "00000003"}};
  for (std::size_t i = 0; i < records.size(); ++i) {
    CHECK(first(records[i], "Acct-Status-Type") == expected_records[i].first);
    CHECK(first(records[i], "Acct-Session-Id") == expected_records[i].second);
    CHECK(first(records[i], "NAS-IP-Address") == (i == 0 ? "10.1.1.147" : "100.1.1.147"));
    CHECK(first(records[i], "Cisco-NAS-Port") == "FastEthernet0/0.1");
  }
  CHECK(first(records[0], "User-Name") == "joe@cclient");
  CHECK(first(records[0], "Framed-IP-Address") == "10.13.13.1");
  auto avpairs = records[0].equal_range("Cisco-AVPair");
  std::vector<std::string> pairs;
  for (auto it = avpairs.first; it != avpairs.second; ++it) {
    pairs.push_back(it->second);
  }
  CHECK(pairs == std::vector<std::string>{"isakmp-group-id=cclient", "vrf-id=cisco",
                                          "isakmp-initator-ip=11.1.2.2",
                                          "connect-progress=No Progress"});
  CHECK(first(records[2], "Acct-Session-Time") == "709");
  CHECK(first(records[2], "Acct-Input-Octets") == "152608");
  CHECK(first(records[2], "Acct-Output-Packets") == "1004");
  CHECK(first(records[2], "Acct-Input-Gigawords") == "0");
  CHECK(first(records[4], "Acct-Session-Time") == "109");
  CHECK(first(records[4], "Acct-Input-Octets") == "608");

  // The lab scenarios, both slots on the one FreeRADIUS: every verified answer is one more
  // record in the detail file.
  std::size_t expected = records.size();
  for (const char* scenario : {"one-session.scn", "gigawords.scn", "dead-peer.scn", "stop-only.scn",
                               "several-pairs.scn", "churn.scn"}) {
    INFO(scenario);
    RunResult r = run("lab.cfg", scenario, {server.address(), server.address()});
    REQUIRE(r.ok);
    CHECK(r.gave_up == 0);
    CHECK(r.answers == r.starts + r.interims + r.stops);
    expected += r.answers;
    CHECK(server.detail().size() == expected);
  }
  records = server.detail();
  // gigawords.scn's Stop: 5 GiB + 100 in, as FreeRADIUS decoded it.
  bool found = false;
  for (const auto& r : records) {
    if (first(r, "Acct-Status-Type") == "Stop" && first(r, "Acct-Input-Gigawords") == "1") {
      CHECK(first(r, "Acct-Input-Octets") == std::to_string((1ull << 30) + 100));
      CHECK(first(r, "Acct-Output-Gigawords") == "1");
      found = true;
    }
  }
  CHECK(found);
}
