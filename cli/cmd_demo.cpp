// acctlab demo: the README's main job, the whole lab in one command. It checks the codec against
// the feature document's Start record, then runs every reference-gateway scenario against an
// embedded accounting server on loopback through the tester (answers, database contents,
// conformance rules), runs a real strongSwan gateway through two scenarios where it can (root and
// the packages; lab/), prints the verdict, says where the databases and reports are, gathers every
// scenario's database into one, and serves that over HTTP with the report viewer.

#include "cli/command_registry.hpp"
#include "conformance/profile.hpp"
#include "conformance/tester.hpp"
#include "lab/process.hpp"
#include "lab/strongswan_lab.hpp"
#include "radius/authenticator.hpp"
#include "radius/document_records.hpp"
#include "radius/ios_debug.hpp"
#include "radius/packet_codec.hpp"
#include "radius/text_form.hpp"
#include "storage/run_store.hpp"
#include "storage/schema.hpp"
#include "web/http_get.hpp"
#include "web/http_server.hpp"
#include "web/site.hpp"

#include <boost/json/parse.hpp>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <unistd.h>

namespace acctlab::cli {
namespace {

namespace fs = std::filesystem;

// Step 1: the codec reproduces the document's Start record octet for octet (len 220).
bool show_document_record(const std::string& secret) {
  const auto& dict = radius::Dictionary::builtin();
  auto packet = radius::parse_packet_text(radius::document_start_text, dict);
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
  std::string web = "127.0.0.1:8080";
  bool no_web = false;
  bool no_lab = false;
};

/** What the self-check saw of one page. */
struct PageCheck {
  std::string url;
  web::HttpGetResult reply;
  bool ok = false;
};

PageCheck check_page(const std::string& address, std::uint16_t port, const std::string& target,
                     const std::string& content_type, const std::vector<std::string>& expected) {
  const bool v6 = address.find(':') != std::string::npos;
  PageCheck check;
  check.url =
      "http://" + (v6 ? "[" + address + "]" : address) + ":" + std::to_string(port) + target;
  check.reply = web::http_get(address, port, target);
  check.ok = check.reply.status == 200 && check.reply.content_type.rfind(content_type, 0) == 0;
  for (const auto& text : expected) {
    check.ok = check.ok && check.reply.body.find(text) != std::string::npos;
  }
  return check;
}

/**
 * Step 4: the viewer over the combined database. On a terminal it serves until Ctrl-C; otherwise
 * (a script, CI, a test) it serves just long enough to fetch the overview and the document's
 * session over real HTTP, prints what came back, and stops. Returns false when the check fails
 * or the address cannot be served.
 */
bool serve_reports(const DemoOptions& options, bool web_given, const std::string& db_path,
                   bool interactive) {
  web::ServerOptions server_options;
  if (!web::parse_listen(options.web, server_options.address, server_options.port)) {
    std::cerr << "acctlab demo: --web wants ADDRESS:PORT, got \"" << options.web << "\"\n";
    return false;
  }
  // Unattended, the check needs no fixed port: any free one, so a viewer or a test already on
  // 8080 cannot make the demo fail.
  if (!interactive && !web_given) {
    server_options.port = 0;
  }
  // The document's session, as the document-debug scenario stored it.
  std::int64_t session = 0;
  std::int64_t interims = 0; // a session with Interim-Updates: periodic-interims.scn's
  std::int64_t sessions = 0;
  std::int64_t records = 0;
  {
    session = storage::find_session(db_path, "document-debug-", "00000001").value_or(0);
    interims = storage::find_session(db_path, "periodic-interims-").value_or(0);
    const auto counts = storage::count_rows(db_path);
    sessions = counts.sessions;
    records = counts.records;
  }
  web::Site site(db_path);
  std::unique_ptr<web::HttpServer> server;
  try {
    server = std::make_unique<web::HttpServer>(site, server_options);
  } catch (const std::exception& e) {
    if (web_given || server_options.port == 0) {
      std::cerr << "acctlab demo: cannot serve on " << options.web << ": " << e.what() << '\n';
      return false;
    }
    std::cout << "   " << options.web << " is in use (" << e.what() << "); any free port instead\n";
    server_options.port = 0;
    server = std::make_unique<web::HttpServer>(site, server_options);
  }
  const auto port = server->port();
  const bool v6 = server_options.address.find(':') != std::string::npos;
  const std::string base = "http://" +
                           (v6 ? "[" + server_options.address + "]" : server_options.address) +
                           ":" + std::to_string(port);
  const std::string session_target = "/sessions/" + std::to_string(session);
  const std::string interims_target = "/sessions/" + std::to_string(interims);
  std::cout << "\n== 4. The reports in a browser: every scenario's runs in " << db_path << '\n'
            << "   overview:    " << base << "/\n"
            << "   sessions:    " << base << "/sessions\n"
            << "   document's:  " << base << session_target << '\n'
            << "   interims:    " << base << interims_target
            << " (counters by session time and by the NAS's clock)\n"
            << "   conformance: " << base << "/conformance\n"
            << "   runs:        " << base << "/runs\n"
            << "   JSON twins under " << base << "/api/\n";
  if (interactive) {
    std::cout << "   serving until Ctrl-C\n" << std::flush;
    server->run(true);
    return true;
  }
  server->start();
  const auto overview =
      check_page(server_options.address, port, "/", "text/html", {"Overview", "Sessions"});
  const auto document = check_page(server_options.address, port, session_target, "text/html",
                                   {"00000001", "joe@cclient", "Start"});
  const auto shape = check_page(server_options.address, port, interims_target, "text/html",
                                {"Interim-Update", "Stop", "NAS (Event-Timestamp)", "5m 30s"});
  auto api = check_page(server_options.address, port, "/api/overview", "application/json", {});
  server->stop();
  // The figures the viewer serves agree with the database it serves.
  if (api.ok) {
    boost::system::error_code ec;
    const auto json = boost::json::parse(api.reply.body, ec);
    const auto* live = !ec && json.is_object() ? json.as_object().if_contains("live") : nullptr;
    const auto* total =
        live && live->is_object() ? live->as_object().if_contains("sessions") : nullptr;
    const auto* n = total && total->is_object() ? total->as_object().if_contains("total") : nullptr;
    const auto* r = live && live->is_object() ? live->as_object().if_contains("records") : nullptr;
    api.ok = n && r && n->is_int64() && r->is_int64() && n->as_int64() == sessions &&
             r->as_int64() == records;
  }
  std::cout << "   self-check over HTTP, then stopped (on a terminal it keeps serving):\n";
  for (const PageCheck* check :
       {&overview, &document, &shape, static_cast<const PageCheck*>(&api)}) {
    std::cout << "   GET " << check->url << " -> ";
    if (check->reply.status == 0) {
      std::cout << check->reply.error;
    } else {
      std::cout << check->reply.status << ' ' << check->reply.content_type << ", "
                << check->reply.body.size() << " bytes in " << std::fixed << std::setprecision(1)
                << check->reply.milliseconds << " ms";
    }
    std::cout << (check->ok ? "  ok" : "  NOT AS EXPECTED") << '\n';
  }
  std::cout << "   served: " << sessions << " sessions, " << records << " records\n";
  return overview.ok && document.ok && shape.ok && api.ok;
}

void install_demo(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<DemoOptions>();
  auto* cmd = app.add_subcommand("demo", "Run the lab demo: every gateway scenario against an "
                                         "embedded server, checked by the tester");
  cmd->add_option("--dir", options->dir, "Where the databases and reports go")
      ->capture_default_str();
  cmd->add_option("--profile", options->profile, "Conformance profile")->capture_default_str();
  cmd->add_option("--secret", options->secret, "Shared secret for the demo")->capture_default_str();
  auto* web_option =
      cmd->add_option("--web", options->web,
                      "Serve the reports on ADDRESS:PORT at the end (until Ctrl-C on a terminal; "
                      "otherwise a self-check over HTTP, then exit)")
          ->capture_default_str();
  cmd->add_flag("--no-web", options->no_web, "Do not serve the reports at the end");
  cmd->add_flag("--no-lab", options->no_lab,
                "Skip the strongSwan lab step (it runs only as root with the strongSwan packages)");
  cmd->callback([options, web_option, &exit_code] {
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
    // The gateway plays each scenario on its virtual clock in milliseconds; the lab's NAS
    // stamps its records with that clock (Event-Timestamp). The demo sets the clock so the
    // library reads as a day in the lab: one scenario an hour, the last begun an hour ago.
    const double now =
        std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    for (std::size_t i = 0; i < scenarios.size(); ++i) {
      const auto& path = scenarios[i];
      tester.nas_clock_at_zero =
          std::floor(now) - 3600.0 * static_cast<double>(scenarios.size() - i);
      std::cout << "   " << fs::path(path).stem().string() << " ..." << std::flush;
      results.push_back(conformance::run_conformance(path, *profile, dict, tester));
      std::cout << (results.back().passed() ? " pass" : " FAIL") << '\n';
    }
    std::cout << '\n'
              << conformance::render_conform_text(results, ::isatty(STDOUT_FILENO) != 0) << '\n';

    // Step 2b: a real strongSwan gateway, where this machine allows it (root, packages).
    bool lab_ok = true;
    std::string lab_status = "skipped (--no-lab)";
    if (options->no_lab) {
      std::cout << "== 2b. A real NAS (strongSwan): skipped (--no-lab)\n\n";
    } else {
      lab::InterruptScope interrupts;
      try {
        const auto step =
            lab::run_lab_demo_step(fs::absolute(fs::path(options->dir) / "strongswan-lab").string(),
                                   fs::read_symlink("/proc/self/exe").string(), std::cout);
        lab_ok = !step.ran || step.passed;
        lab_status =
            step.ran ? (step.passed ? "passed" : "FAILED") : "skipped (" + step.skipped + ")";
      } catch (const lab::Interrupted&) {
        std::cerr << "acctlab demo: interrupted; the lab's namespaces and processes removed\n";
        exit_code = 130;
        return;
      }
    }

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
    // One database with every scenario's runs, for the viewer (docs/web.md says why).
    std::vector<storage::LabelledDatabase> sources;
    for (const auto& result : results) {
      for (const auto& db : result.databases) {
        // The file's name (scenario and server slot, e.g. failover-2) labels its sessions.
        sources.push_back({fs::path(db).stem().string(), db});
      }
    }
    const auto all_db = (fs::path(options->dir) / "all-scenarios.db").string();
    bool combined = false;
    try {
      const auto copied = storage::combine_databases(all_db, sources);
      std::cout << "   all runs:  " << all_db << " (the " << copied << " databases in one)\n";
      combined = true;
    } catch (const std::exception& e) {
      std::cerr << "acctlab demo: gathering the databases: " << e.what() << '\n';
    }
    if (combined) {
      std::cout << "   browse:    acctlab web --db " << all_db << "   (http://127.0.0.1:8080)\n";
    }
    if (!first_db.empty()) {
      std::cout << "   query:     sqlite3 " << first_db
                << " 'select acctsessionid, username, acctsessiontime from radacct'\n";
    }
    std::cout << "\nacctlab demo: " << passed << " of " << results.size()
              << " scenarios passed; document record "
              << (record_ok ? "reproduced" : "NOT reproduced") << "; strongSwan lab " << lab_status
              << '\n'
              << std::flush;
    exit_code = record_ok && passed == results.size() && combined && lab_ok ? 0 : 1;
    if (combined && !options->no_web) {
      try {
        if (!serve_reports(*options, web_option->count() > 0, all_db,
                           ::isatty(STDOUT_FILENO) != 0)) {
          exit_code = 1;
        }
      } catch (const std::exception& e) {
        std::cerr << "acctlab demo: report viewer: " << e.what() << '\n';
        exit_code = 1;
      }
    }
  });
}

const RegisterCommand demo_registration{1, install_demo};

} // namespace
} // namespace acctlab::cli
