#include "lab/process.hpp"
#include "lab/scenario_translation.hpp"
#include "lab/strongswan_lab.hpp"
#include "lab/swan_config.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace acctlab::lab;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {
std::string read(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}
} // namespace

TEST_CASE("run_command captures output and exit status", "[lab][process]") {
  const auto result =
      run_command({"sh", "-c", "echo hello; echo oops >&2; exit 3"}, {}, milliseconds(5000));
  CHECK(result.exit_status == 3);
  CHECK_FALSE(result.timed_out);
  CHECK(result.output.find("hello") != std::string::npos);
  CHECK(result.output.find("oops") != std::string::npos);
  CHECK_THROWS_WITH(run_checked({"sh", "-c", "echo why; exit 4"}, {}, milliseconds(5000)),
                    Catch::Contains("exit 4") && Catch::Contains("why"));
}

TEST_CASE("run_command kills a command that outlives its timeout", "[lab][process]") {
  const auto began = Clock::now();
  const auto result = run_command({"sleep", "30"}, {}, milliseconds(300));
  CHECK(result.timed_out);
  CHECK(result.exit_status == -1);
  CHECK(Clock::now() - began < std::chrono::seconds(5));
}

TEST_CASE("Processes stops what it started, also a process that ignores SIGTERM",
          "[lab][process]") {
  const auto dir = fs::temp_directory_path() / ("acctlab-lab-test-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  pid_t stubborn = 0;
  pid_t polite = 0;
  {
    Processes processes;
    stubborn =
        processes.spawn({"sh", "-c", "trap '' TERM; echo ready; while :; do sleep 0.1; done"},
                        {.output = (dir / "stubborn.out").string()});
    polite = processes.spawn({"sleep", "30"}, {});
    // Bounded wait for the trap to be installed.
    for (int i = 0; i < 100 && read(dir / "stubborn.out").empty(); ++i) {
      pause_checked(milliseconds(20));
    }
    CHECK(processes.running(stubborn));
    CHECK(processes.running(polite));
    CHECK(processes.wait(polite, milliseconds(100)) == -2); // still running: a bounded wait
    const auto began = Clock::now();
    CHECK(processes.stop(stubborn, milliseconds(300)) == -1); // killed after the grace
    CHECK(Clock::now() - began < std::chrono::seconds(3));
    CHECK_FALSE(processes.running(stubborn));
  } // the destructor stops `polite`
  CHECK(::kill(polite, 0) != 0);
  CHECK(::kill(stubborn, 0) != 0);
  fs::remove_all(dir);
}

TEST_CASE("An interrupt ends a wait", "[lab][process]") {
  InterruptScope scope;
  std::raise(SIGINT);
  CHECK(InterruptScope::received() == SIGINT);
  CHECK_THROWS_AS(pause_checked(milliseconds(5000)), Interrupted);
}

TEST_CASE("The scenarios have unique names and each ends its sessions", "[lab][scenarios]") {
  std::set<std::string> names;
  for (const auto& scenario : lab_scenarios()) {
    CHECK(names.insert(scenario.name).second);
    CHECK(find_lab_scenario(scenario.name) == &scenario);
    REQUIRE_FALSE(scenario.steps.empty());
    CHECK(scenario.steps.front().kind == LabStep::Kind::connect);
    CHECK(scenario.expect.causes.size() == scenario.expect.sessions);
    CHECK(scenario.known_check.empty() == scenario.known_defect.empty());
  }
  CHECK(names.count("connect"));
  CHECK(names.count("failover"));
  CHECK(find_lab_scenario("no-such") == nullptr);
}

TEST_CASE("A known defect passes when it shows and fails when it does not", "[lab][verdict]") {
  LabResult result;
  result.judged = true;
  result.checks = {{"sessions", true, ""}, {"session x: Stop counters", false, ""}};
  CHECK_FALSE(result.passed()); // no known defect: a failed check fails
  result.known_check = "Stop counters";
  result.known_defect = "loses traffic";
  CHECK(result.passed());
  CHECK(result.expected_failure());
  result.checks[1].passed = true; // the defect is gone: the expectation is out of date
  CHECK_FALSE(result.passed());
  result.checks[1].passed = false;
  result.checks[0].passed = false; // anything else failing still fails
  CHECK_FALSE(result.passed());
  result.checks[0].passed = true;
  result.error = "set-up failed";
  CHECK_FALSE(result.passed());
}

TEST_CASE("The configurations name both servers, the interval and the retransmissions",
          "[lab][config]") {
  const auto dir = fs::temp_directory_path() / ("acctlab-lab-config-" + std::to_string(::getpid()));
  SwanConfig config;
  config.interim_interval = 7;
  config.ike_lifetime = false;
  write_swan_configs(config, dir);
  const auto gw = read(dir / "gw" / "strongswan.conf");
  CHECK(gw.find("accounting_interval = 7") != std::string::npos);
  CHECK(gw.find("address = 127.0.0.1") != std::string::npos);
  CHECK(gw.find("address = 127.0.0.2") != std::string::npos);
  CHECK(gw.find("retransmit_tries = 4") != std::string::npos);
  CHECK(gw.find("socket = unix://" + (dir / "gw" / "charon.vici").string()) != std::string::npos);
  CHECK(read(dir / "gw" / "swanctl.conf").find("rekey_time = 0\n    dpd_delay") !=
        std::string::npos);
  CHECK(read(dir / "rw" / "swanctl.conf").find("auth = psk") != std::string::npos);
  CHECK(read(dir / "rw" / "strongswan.conf").find("eap-radius") == std::string::npos);
  // 1 + 1.4 + 1.96 + 2.744 s: sent four times, given up after the fourth wait.
  CHECK(config.radius_retransmit_budget() == Approx(7.104));
  fs::remove_all(dir);
}

TEST_CASE("A reference-gateway scenario translates into lab steps", "[lab][translation]") {
  const auto lab = translate_scenario("# Rekeys keep the session.\n"
                                      "slot A\nslot B\n"
                                      "peer joe initiator 11.1.2.2 identity group g xauth joe@g\n"
                                      "server A down\n"
                                      "connect joe\nsa-up joe lifetime 20s\n"
                                      "traffic joe in 10 1000 out 10 1000\n"
                                      "advance 60s\nrekey joe ipsec\nrekey joe ike\n"
                                      "server A up\nsa-down joe\n",
                                      "rekeys", {.time_scale = 0.05});
  REQUIRE(lab.has_value());
  CHECK(lab->name == "rekeys");
  CHECK(lab->summary == "Rekeys keep the session.");
  using Kind = LabStep::Kind;
  std::vector<Kind> kinds;
  for (const auto& step : lab->steps) {
    kinds.push_back(step.kind);
  }
  CHECK(kinds == std::vector<Kind>{Kind::server_stop, Kind::connect, Kind::traffic, Kind::wait,
                                   Kind::rekey_child_peer, Kind::rekey_ike, Kind::server_resume,
                                   Kind::disconnect});
  CHECK(lab->steps[0].count == 0); // slot A: the preferred server
  CHECK(lab->steps[2].count == 10);
  CHECK(lab->steps[2].size == 100 - 28); // 100 IP octets each: 72 octets of UDP payload
  CHECK(lab->steps[3].seconds == Approx(3.0));
  CHECK(lab->expect.sessions == 1);
  CHECK(lab->expect.causes == std::vector<unsigned>{1});
}

TEST_CASE("A dead peer is Lost-Service, a scenario left connected is disconnected",
          "[lab][translation]") {
  const auto dead = translate_scenario("peer p initiator 1.2.3.4 identity address 1.2.3.4\n"
                                       "connect p\nsa-up p\ndead p\n",
                                       "dead");
  REQUIRE(dead.has_value());
  CHECK(dead->steps.back().kind == LabStep::Kind::peer_gone);
  CHECK(dead->expect.causes == std::vector<unsigned>{3});
  const auto open = translate_scenario("peer p initiator 1.2.3.4 identity address 1.2.3.4\n"
                                       "connect p\nadvance 10s\n",
                                       "open");
  REQUIRE(open.has_value());
  CHECK(open->steps.back().kind == LabStep::Kind::disconnect);
}

TEST_CASE("What the lab cannot do is refused with its line", "[lab][translation]") {
  const std::string peer = "peer p initiator 1.2.3.4 identity address 1.2.3.4\n";
  const auto uneven =
      translate_scenario(peer + "connect p\ntraffic p in 10 1500 out 12 1800\n", "x");
  REQUIRE_FALSE(uneven.has_value());
  CHECK(uneven.error().rfind("3: ", 0) == 0);
  CHECK(uneven.error().find("in and out must be equal") != std::string::npos);
  const auto drop =
      translate_scenario("slot A\n" + peer + "server A drop-answers\nconnect p\n", "x");
  REQUIRE_FALSE(drop.has_value());
  CHECK(drop.error().find("cannot drop answers") != std::string::npos);
  const auto two = translate_scenario(peer + "peer q initiator 1.2.3.5 identity address 1.2.3.5\n"
                                             "connect p\n",
                                      "x");
  REQUIRE_FALSE(two.has_value());
  CHECK(two.error().find("one road warrior") != std::string::npos);
  const auto pair2 = translate_scenario(peer + "connect p\nsa-up p 2\n", "x");
  REQUIRE_FALSE(pair2.has_value());
  CHECK(pair2.error().find("pair 2") != std::string::npos);
  const auto bad = translate_scenario(peer + "explode p\n", "x");
  REQUIRE_FALSE(bad.has_value()); // the scenario parser's own error
}

TEST_CASE("The library's rekeys scenario runs on either NAS", "[lab][translation]") {
  const auto lab =
      translate_scenario_file(std::string(ACCTLAB_SOURCE_DIR) + "/client/scenarios/rekeys.scn");
  REQUIRE(lab.has_value());
  CHECK(lab->expect.sessions == 1);
}
