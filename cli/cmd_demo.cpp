// acctlab demo: the README's main job, the whole lab in one command. It checks the codec against
// the feature document's Start record, then runs every reference-gateway scenario against an
// embedded accounting server on loopback through the tester (answers, database contents,
// conformance rules), prints the verdict, and says where the databases and reports are.

#include "cli/command_registry.hpp"
#include "conformance/profile.hpp"
#include "conformance/tester.hpp"
#include "radius/authenticator.hpp"
#include "radius/ios_debug.hpp"
#include "radius/packet_codec.hpp"
#include "radius/text_form.hpp"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <unistd.h>

namespace acctlab::cli {
namespace {

namespace fs = std::filesystem;

// The feature document's account start record (debug radius, id 4, len 220).
constexpr const char* document_start = R"(Accounting-Request id=4 {
  Acct-Session-Id = "00000001"
  Cisco-AVPair = "isakmp-group-id=cclient"
  Framed-IP-Address = 10.13.13.1
  Cisco-AVPair = "vrf-id=cisco"
  Cisco-AVPair = "isakmp-initator-ip=11.1.2.2"
  Cisco-AVPair = "connect-progress=No Progress"
  User-Name = "joe@cclient"
  Acct-Status-Type = Start
  Cisco-NAS-Port = "FastEthernet0/0.1"
  NAS-Port = 0
  NAS-IP-Address = 10.1.1.147
  Acct-Delay-Time = 0
})";

// Step 1: the codec reproduces the document's Start record octet for octet (len 220).
bool show_document_record(const std::string& secret) {
  const auto& dict = radius::Dictionary::builtin();
  auto packet = radius::parse_packet_text(document_start, dict);
  if (!packet) {
    std::cerr << "acctlab demo: " << packet.error().message << '\n';
    return false;
  }
  auto wire = radius::encode_packet(*packet, dict);
  radius::sign_request(wire, secret);
  auto decoded = radius::decode_packet(wire, dict);
  if (!decoded) {
    std::cerr << "acctlab demo: " << decoded.error().message() << '\n';
    return false;
  }
  std::cout << "== 1. The feature document's Start record, encoded, signed and decoded back\n"
            << "RADIUS(00000001): Encoded Accounting-Request id " << unsigned{decoded->identifier()}
            << ", len " << wire.size() << '\n';
  for (const auto& line : radius::ios_debug_lines(*decoded, dict)) {
    std::cout << line << '\n';
  }
  const bool valid = radius::verify_request_authenticator(wire, secret);
  auto unsigned_copy = *decoded;
  unsigned_copy.set_authenticator(packet->authenticator());
  const bool same = unsigned_copy == *packet;
  std::cout << "Request Authenticator: " << (valid ? "valid" : "INVALID")
            << "; decoded equals encoded: " << (same ? "yes" : "NO")
            << "; length as the document prints it (220): " << (wire.size() == 220 ? "yes" : "NO")
            << "\n\n";
  return valid && same && wire.size() == 220;
}

struct DemoOptions {
  std::string dir = "acctlab-demo";
  std::string profile = "cisco-ios-ipsec";
  std::string secret = "testing123";
};

void install_demo(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<DemoOptions>();
  auto* cmd = app.add_subcommand("demo", "Run the lab demo: every gateway scenario against an "
                                         "embedded server, checked by the tester");
  cmd->add_option("--dir", options->dir, "Where the databases and reports go")
      ->capture_default_str();
  cmd->add_option("--profile", options->profile, "Conformance profile")->capture_default_str();
  cmd->add_option("--secret", options->secret, "Shared secret for the demo")->capture_default_str();
  cmd->callback([options, &exit_code] {
    const bool record_ok = show_document_record(options->secret);

    const auto& dict = radius::Dictionary::builtin();
    auto profile = conformance::load_profile(options->profile, dict);
    if (!profile) {
      std::cerr << "acctlab demo: profile: " << profile.error().to_string() << '\n';
      exit_code = 2;
      return;
    }
    const auto scenarios = conformance::scenario_library();
    if (scenarios.empty()) {
      std::cerr << "acctlab demo: no scenarios found (client/scenarios)\n";
      exit_code = 2;
      return;
    }
    fs::create_directories(options->dir);
    conformance::TesterOptions tester;
    tester.secret = options->secret;
    tester.work_dir = options->dir;
    std::cout << "== 2. The reference IOS gateway runs " << scenarios.size()
              << " scenarios against an embedded acctlab server on loopback (profile "
              << options->profile << ")\n";
    std::vector<conformance::ScenarioResult> results;
    for (const auto& path : scenarios) {
      std::cout << "   " << fs::path(path).stem().string() << " ..." << std::flush;
      results.push_back(conformance::run_conformance(path, *profile, dict, tester));
      std::cout << (results.back().passed() ? " pass" : " FAIL") << '\n';
    }
    std::cout << '\n'
              << conformance::render_conform_text(results, ::isatty(STDOUT_FILENO) != 0) << '\n';

    const auto json_path = fs::path(options->dir) / "report.json";
    const auto junit_path = fs::path(options->dir) / "report.junit.xml";
    std::ofstream(json_path) << conformance::render_conform_json(results);
    std::ofstream(junit_path) << conformance::render_conform_junit(results);

    std::size_t passed = 0;
    for (const auto& result : results) {
      passed += result.passed() ? 1 : 0;
    }
    std::cout << "== 3. Where things are\n"
              << "   reports:   " << json_path.string() << ", " << junit_path.string() << '\n';
    // The document-debug scenario's database holds the document's three records: the one to
    // open first.
    std::string first_db;
    for (const auto& result : results) {
      if (!result.databases.empty() && (first_db.empty() || result.name == "document-debug")) {
        first_db = result.databases.front();
      }
    }
    std::cout << "   databases: one per scenario and server under " << options->dir << "/\n";
    if (!first_db.empty()) {
      std::cout << "   browse:    acctlab web --db " << first_db << "   (http://127.0.0.1:8080)\n"
                << "   query:     sqlite3 " << first_db
                << " 'select acctsessionid, username, acctsessiontime from radacct'\n";
    }
    std::cout << "\nacctlab demo: " << passed << " of " << results.size()
              << " scenarios passed; document record "
              << (record_ok ? "reproduced" : "NOT reproduced") << '\n';
    exit_code = record_ok && passed == results.size() ? 0 : 1;
  });
}

const RegisterCommand demo_registration{1, install_demo};

} // namespace
} // namespace acctlab::cli
