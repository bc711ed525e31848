// `acctlab gateway` as a user runs it: the binary, its options, its exit status and output.

#include "tests/client/loopback_responder.hpp"
#include "tests/support/run_command.hpp"

#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/wait.h>

namespace {

using acctlab::test::run_acctlab;
using Run = acctlab::test::CommandResult;

std::string scenarios() {
  return std::string(ACCTLAB_SOURCE_DIR) + "/client/scenarios/";
}

} // namespace

TEST_CASE("gateway --check-config on the document's configurations and a broken one",
          "[client][cli]") {
  Run profile = run_acctlab("gateway --check-config " + scenarios() + "doc-isakmp-profile.cfg");
  CHECK(profile.status == 0);
  CHECK(profile.output.find("hostname sheep") != std::string::npos);
  CHECK(profile.output.find("doc-isakmp-profile.cfg:39: warning: unrecognised command, "
                            "ignored: crypto-isakmp profile groupA") != std::string::npos);
  CHECK(profile.output.find("0 error(s)") != std::string::npos);
  Run plain = run_acctlab("gateway --check-config " + scenarios() + "doc-no-profile.cfg");
  CHECK(plain.status == 0);
  CHECK(plain.output.find("crypto map test client accounting list ipsecaaa") != std::string::npos);

  std::string broken = std::string(ACCTLAB_BINARY_DIR) + "/client-broken.cfg";
  std::ofstream(broken) << "aaa new-model\ncrypto isakmp profile p\n vrf v\n"
                           "radius-server timeout 0\n";
  Run bad = run_acctlab("gateway --check-config " + broken);
  CHECK(bad.status == 1);
  CHECK(bad.output.find("client-broken.cfg:2: error: ISAKMP profile 'p' has no 'match "
                        "identity'") != std::string::npos);
  CHECK(bad.output.find("client-broken.cfg:4: error:") != std::string::npos);
  CHECK(bad.output.find("not usable") != std::string::npos);
}

TEST_CASE("gateway names the file and line of a name too long for its attribute",
          "[client][cli][limits]") {
  // A VRF name of 241 octets: "vrf-id=" + 241 is one octet more than a Cisco AV pair holds.
  std::string config = std::string(ACCTLAB_BINARY_DIR) + "/client-long-vrf.cfg";
  std::ofstream(config) << "aaa new-model\ncrypto isakmp profile p\n vrf " << std::string(241, 'v')
                        << "\n match identity group g\n";
  Run bad = run_acctlab("gateway --check-config " + config);
  CHECK(bad.status == 1);
  CHECK(bad.output.find("client-long-vrf.cfg:3: error: vrf name is 241 octets; Cisco-AVPair "
                        "holds at most 247") != std::string::npos);

  std::string scenario = std::string(ACCTLAB_BINARY_DIR) + "/client-long-user.scn";
  std::ofstream(scenario) << "# config: x.cfg\npeer joe initiator 11.1.2.2 identity group g xauth "
                          << std::string(254, 'u') << "\nconnect joe\n";
  Run refused = run_acctlab("gateway --config " + scenarios() + "lab.cfg --scenario " + scenario +
                            " --server 127.0.0.1:9 --secret s");
  CHECK(refused.status == 1);
  CHECK(refused.output.find("client-long-user.scn:2: xauth user name is 254 octets; User-Name "
                            "holds at most 253: peer joe") != std::string::npos);
}

TEST_CASE("gateway runs a scenario against --server and writes the event log", "[client][cli]") {
  acctlab::test::LoopbackResponder a("testing123");
  std::string events = std::string(ACCTLAB_BINARY_DIR) + "/client-cli-events.jsonl";
  Run run = run_acctlab("gateway --config " + scenarios() + "document-debug.cfg --scenario " +
                        scenarios() + "document-debug.scn --server " + a.address() +
                        " --secret testing123 --debug radius,isakmp-aaa --events " + events);
  INFO(run.output);
  CHECK(run.status == 0);
  CHECK(run.output.find("Send Accounting-Request to " + a.address()) != std::string::npos);
  CHECK(run.output.find(", len 220") != std::string::npos);
  CHECK(run.output.find(", len 200") != std::string::npos);
  CHECK(run.output.find("ISAKMP AAA: Accounting Started") != std::string::npos);
  CHECK(a.received().size() == 5);
  std::ifstream in(events);
  int answers = 0;
  for (std::string line; std::getline(in, line);) {
    auto value = boost::json::parse(line);
    if (value.as_object().at("event") == "answer") {
      ++answers;
    }
  }
  CHECK(answers == 5);

  // A scenario step that cannot happen names its line; the exit status says so.
  std::string scenario = std::string(ACCTLAB_BINARY_DIR) + "/client-bad.scn";
  std::ofstream(scenario) << "peer joe initiator 11.1.2.2 identity group cclient\n"
                             "sa-up joe\n";
  Run bad = run_acctlab("gateway --config " + scenarios() + "document-debug.cfg --scenario " +
                        scenario + " --server " + a.address() + " --secret testing123");
  CHECK(bad.status == 1);
  CHECK(bad.output.find("scenario line 2: peer 'joe' has no IKE SA") != std::string::npos);

  // No answer at all (wrong secret): records are dropped after the retransmissions; exit 2.
  Run silent = run_acctlab("gateway --config " + scenarios() + "document-debug.cfg --scenario " +
                           scenarios() + "document-debug.scn --server " + a.address() +
                           " --secret wrong --answer-wait 200ms");
  CHECK(silent.status == 2);
  CHECK(silent.output.find("5 dropped") != std::string::npos);
}

TEST_CASE("gateway takes the configuration a scenario names", "[client][cli]") {
  acctlab::test::LoopbackResponder a("nsite");
  acctlab::test::LoopbackResponder b("nsite");
  Run run = run_acctlab("gateway --scenario " + scenarios() + "broadcast.scn --server " +
                        a.address() + " --server " + b.address());
  INFO(run.output);
  CHECK(run.status == 0);
  CHECK(a.received().size() == 3);
  CHECK(b.received().size() == 3);
}

TEST_CASE("gateway --load against a loopback responder", "[client][cli]") {
  acctlab::test::LoopbackResponder a("testing123");
  Run run = run_acctlab("gateway --load --server " + a.address() +
                        " --secret testing123 --peers 100 --window 16 --duration 200ms");
  INFO(run.output);
  CHECK(run.status == 0);
  CHECK(run.output.find(" 0 timeouts, 0 bad answers") != std::string::npos);
  CHECK(a.received().size() > 16);
}
