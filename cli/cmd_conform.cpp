// acctlab rules | check | conform: the conformance engine on the command line. Logic lives in
// conformance/; this file wires options to it.

#include "cli/command_registry.hpp"
#include "cli/dictionary_option.hpp"
#include "cli/exit_status.hpp"
#include "cli/input_files.hpp"
#include "cli/profile_option.hpp"
#include "cli/radsec_probe_command.hpp"
#include "conformance/catalog.hpp"
#include "conformance/db_trace.hpp"
#include "conformance/engine.hpp"
#include "conformance/pcap_trace.hpp"
#include "conformance/profile.hpp"
#include "conformance/report.hpp"
#include "conformance/run_judge.hpp"
#include "conformance/tester.hpp"
#include "pcap/clients_file.hpp"
#include "pcap/tls_decrypt.hpp"
#include "storage/pg_connection.hpp"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <unistd.h>

namespace acctlab::cli {
namespace {

using namespace acctlab::conformance;

constexpr const char* default_profile = default_profile_name;

void install_rules(CLI::App& app, int& exit_code) {
  struct Options {
    std::string id;
    std::string profile = default_profile;
    std::string dictionary;
  };
  auto options = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("rules", "List the conformance rules, or explain one");
  cmd->add_option("id", options->id, "A rule id: explain this rule");
  cmd->add_option("--profile", options->profile,
                  "Profile name (conformance/profiles) or file whose rows to add")
      ->capture_default_str();
  add_dictionary_option(*cmd, options->dictionary);
  cmd->footer("Examples:\n  acctlab rules\n  acctlab rules SES-REKEY-NEW-SESSION\n"
              "  acctlab rules --profile rfc2866 RFC2866-ANY-USER-PASSWORD");
  cmd->callback([options, &exit_code] {
    const auto& dict = resolve_dictionary(options->dictionary);
    const auto profile = require_profile(options->profile, dict);
    const auto rules = rules_for(profile);
    if (!options->id.empty()) {
      const auto* rule = find_rule(rules, options->id);
      if (!rule) {
        std::cerr << "acctlab rules: no rule " << options->id << " (profile " << profile.name
                  << ")\n";
        exit_code = exit_status::usage;
        return;
      }
      std::cout << rule->id << "\n  summary:  " << rule->summary << "\n  source:   " << rule->source
                << "\n  severity: " << to_string(rule->severity)
                << "\n  scope:    " << to_string(rule->scope)
                << "\n  party:    " << to_string(rule->party) << '\n';
      if (!rule->detail.empty()) {
        std::cout << "  detail:   " << rule->detail << '\n';
      }
      if (!rule->example_pass.empty()) {
        std::cout << "  passes:   " << rule->example_pass << '\n';
      }
      if (!rule->example_fail.empty()) {
        std::cout << "  fails:    " << rule->example_fail << '\n';
      }
      return;
    }
    std::cout << rules.size() << " rules (built-in and profile " << profile.name << ")\n";
    for (const auto& rule : rules) {
      std::string id = rule.id;
      id.resize(std::max<std::size_t>(id.size(), 44), ' ');
      std::string severity(to_string(rule.severity));
      severity.resize(8, ' ');
      std::string scope(to_string(rule.scope));
      scope.resize(9, ' ');
      std::cout << id << severity << scope << rule.summary << "  [" << rule.source << "]\n";
    }
  });
}

void render(const VerdictSource& verdict, const std::string& format, std::ostream& to,
            bool colour) {
  if (format == "json") {
    render_json(verdict, to);
  } else if (format == "junit") {
    render_junit(verdict, to);
  } else {
    render_text(verdict, to, {.colour = colour});
  }
}

/** Writes the report as it is rendered (a staged verdict's findings are never all in memory). */
void write_report(const VerdictSource& verdict, const std::string& format, const std::string& out,
                  const std::string& colour) {
  if (out.empty()) {
    const bool tty = ::isatty(STDOUT_FILENO);
    render(verdict, format, std::cout, colour == "always" || (colour == "auto" && tty));
    return;
  }
  {
    std::ofstream file(out, std::ios::binary);
    if (file) {
      render(verdict, format, file, colour == "always");
      file.close();
    }
    if (!file) {
      throw std::runtime_error("cannot write " + out);
    }
  }
  if (format != "text") {
    render_text(verdict, std::cout,
                {.colour = colour == "always" || (colour == "auto" && ::isatty(STDOUT_FILENO))});
  }
  std::cout << "report: " << out << '\n';
}

/** `--fail-on`: which party's error findings fail `check` (docs/cli.md). */
bool fails(const VerdictSummary& summary, const std::string& fail_on) {
  if (fail_on == "nas") {
    return summary.parties.errors_of(Party::nas) > 0;
  }
  return summary.errors > 0;
}

/** check's exit status: an incomplete or empty source before anything; then --fail-on. */
int check_status(const VerdictSummary& summary, const std::string& fail_on) {
  const auto outcome = summary.outcome();
  if (outcome == OverallVerdict::incomplete || outcome == OverallVerdict::no_accounting_traffic) {
    return exit_status::of(outcome);
  }
  return fails(summary, fail_on) ? exit_status::failed : exit_status::ok;
}

void install_check(CLI::App& app, int& exit_code) {
  struct Options {
    std::string trace;
    std::string db;
    std::vector<std::string> pcap;
    std::string events;
    std::string profile; // empty: each NAS's clients-file profile, else the default
    std::string secret;
    std::string secrets;
    std::vector<std::uint16_t> ports;
    std::string tls_keylog;
    std::int64_t run = 0;
    double interim_interval = 0;
    std::string report = "text";
    std::string out;
    std::string colour = "auto";
    std::string fail_on = "any";
    bool no_store = false;
    std::size_t judge_part = RunJudgeOptions{}.part_packets;
    std::string dictionary;
  };
  auto options = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "check", "Check what a NAS sent (a server database, a capture or a trace) against a profile");
  auto* trace_option =
      cmd->add_option("--trace", options->trace, "A trace file (acctlab trace format)");
  auto* db_option = cmd->add_option("--db", options->db, "An acctlab serve database");
  auto* pcap_option =
      cmd->add_option("--pcap", options->pcap, "Capture files (pcap or pcapng), merged in time");
  auto* events_option = cmd->add_option(
      "--events", options->events, "A reference gateway's event log (acctlab gateway --events)");
  trace_option->excludes(db_option);
  pcap_option->excludes(trace_option);
  pcap_option->excludes(db_option);
  events_option->excludes(trace_option);
  events_option->excludes(db_option);
  events_option->excludes(pcap_option);
  cmd->add_option("--profile", options->profile,
                  std::string("Profile name or file for every NAS (default: each NAS's profile "
                              "in --secrets, else ") +
                      default_profile_name + ")");
  cmd->add_option("--secret", options->secret, "Shared secret of every NAS: verify authenticators");
  cmd->add_option("--secrets", options->secrets,
                  "FreeRADIUS clients.conf: each NAS's secret and `profile =`, matched by address "
                  "as the server matches clients");
  cmd->add_option("--tls-keylog", options->tls_keylog,
                  "With --pcap: a TLS key log (NSS format, e.g. acctlab serve --tls-keylog) to "
                  "read the RADIUS inside RadSec sessions; without one they are not read and the "
                  "capture is incomplete");
  cmd->add_option("--port", options->ports,
                  "With --pcap: also treat this UDP port as RADIUS (1812, 1813, 1645, 1646 always "
                  "are)");
  cmd->add_option("--run", options->run, "With --db: only this run's packets");
  cmd->add_option("--interim-interval", options->interim_interval,
                  "The NAS's update interval in seconds (aaa accounting update periodic x 60)");
  cmd->add_option("--report", options->report, "text, json or junit")
      ->check(CLI::IsMember({"text", "json", "junit"}))
      ->capture_default_str();
  cmd->add_option("--out", options->out, "Write the report to this file");
  cmd->add_option("--colour", options->colour, "auto, always or never")
      ->check(CLI::IsMember({"auto", "always", "never"}));
  cmd->add_option("--fail-on", options->fail_on,
                  "Whose error findings fail the check: any party's, or only the NAS's (lab "
                  "validation of a NAS: a server's unanswered requests do not fail it)")
      ->check(CLI::IsMember({"any", "nas"}))
      ->capture_default_str();
  cmd->add_flag("--no-store", options->no_store, "With --db: do not write the findings table");
  cmd->add_option("--judge-part", options->judge_part,
                  "With --db: judge in parts of about this many packets, so memory does not grow "
                  "with the database (0: load it whole, as before parts)")
      ->capture_default_str();
  add_dictionary_option(*cmd, options->dictionary);
  cmd->footer(std::string(exit_status::judged_help) +
              "\nExamples:\n  acctlab check --db acctlab.db --profile cisco-ios-ipsec\n"
              "  acctlab check --trace lab.trace --report junit --out conformance.xml\n"
              "  acctlab check --pcap lab.pcapng --secret testing123 --interim-interval 60\n"
              "  acctlab check --pcap field.pcapng --secrets clients.conf --fail-on nas");
  cmd->callback([options, &exit_code] {
    const int sources = !options->trace.empty() + !options->db.empty() + !options->pcap.empty() +
                        !options->events.empty();
    if (sources != 1) {
      std::cerr << "acctlab check: give --trace FILE, --db FILE, --pcap FILE... or --events FILE\n";
      exit_code = exit_status::usage;
      return;
    }
    if (!options->ports.empty() && options->pcap.empty()) {
      std::cerr << "acctlab check: --port applies to --pcap\n";
      exit_code = exit_status::usage;
      return;
    }
    const auto& dict = resolve_dictionary(options->dictionary);
    std::optional<capture::ClientSecrets> secrets;
    if (!options->secrets.empty()) {
      std::string error;
      secrets = capture::ClientSecrets::load(options->secrets, error);
      if (!secrets) {
        std::cerr << "acctlab check: secrets: " << error << '\n';
        exit_code = exit_status::usage;
        return;
      }
    }
    // With --db --run: the profiles the run was judged with, unless --profile names one.
    std::optional<RunProfileSet> of_run;
    if (!options->db.empty() && options->run > 0) {
      auto stored = stored_run_profiles(options->db, options->run, dict);
      if (!stored) {
        std::cerr << "acctlab check: " << stored.error() << '\n';
        exit_code = exit_status::usage;
        return;
      }
      of_run = std::move(stored).value();
      if (of_run && !options->profile.empty()) {
        std::cerr << "acctlab check: --profile " << options->profile << " overrides run "
                  << options->run << "'s own profile (" << of_run->names << ")\n";
        of_run.reset();
      } else if (of_run) {
        std::cerr << "acctlab check: judging run " << options->run
                  << " with the profile it was judged with: " << of_run->names
                  << " (--profile overrides)\n";
      }
    }
    const auto profiles =
        of_run ? std::move(of_run->profiles)
               : resolve_profiles(options->profile, secrets ? &secrets->clients() : nullptr, dict);
    // Either path's store: the run it wrote, or why nothing was (exit 2).
    const auto announce_stored = [&](const Expected<std::int64_t, std::string>& stored) {
      if (!stored) {
        std::cerr << "acctlab check: findings not stored: " << stored.error() << '\n';
        exit_code = exit_status::usage;
        return false;
      }
      std::cout << "findings stored in " << storage::database_display_name(options->db) << " (run "
                << *stored << ")\n";
      return true;
    };
    Trace trace;
    if (!options->trace.empty()) {
      auto loaded = load_trace_file(options->trace);
      if (!loaded) {
        std::cerr << "acctlab check: " << options->trace << ": " << loaded.error().to_string()
                  << '\n';
        exit_code = exit_status::usage;
        return;
      }
      trace = std::move(loaded).value();
    } else if (!options->events.empty()) {
      std::ifstream in(options->events, std::ios::binary);
      std::ostringstream text;
      text << in.rdbuf();
      auto loaded = in ? trace_from_event_log(text.str())
                       : Expected<Trace, std::string>(Unexpected(std::string("cannot read")));
      if (!loaded) {
        std::cerr << "acctlab check: " << options->events << ": " << loaded.error() << '\n';
        exit_code = exit_status::usage;
        return;
      }
      trace = std::move(loaded).value();
    } else if (!options->pcap.empty()) {
      if (!inputs_readable(options->pcap, "check")) {
        exit_code = exit_status::usage;
        return;
      }
      // A damaged capture is judged for what it holds and reported incomplete (trace.unread).
      std::optional<capture::TlsKeyLog> keys;
      if (!options->tls_keylog.empty()) {
        std::string error;
        keys = capture::TlsKeyLog::load(options->tls_keylog, error);
        if (!keys) {
          std::cerr << "acctlab check: --tls-keylog: " << error << '\n';
          exit_code = exit_status::usage;
          return;
        }
        for (const auto& problem : keys->problems()) {
          std::cerr << "acctlab check: key log line not read: " << problem << '\n';
        }
      }
      auto loaded = load_trace_from_pcap(options->pcap, options->ports, keys ? &*keys : nullptr);
      for (const auto& error : loaded.errors) {
        std::cerr << "acctlab check: " << error << '\n';
      }
      trace = std::move(loaded.trace);
    } else if (options->judge_part == 0 || !profiles.single()) {
      // Whole in memory: asked for, or several profiles (parts judge with one).
      DbTraceOptions db_options;
      if (options->run > 0) {
        db_options.run_id = options->run;
      }
      if (!options->secret.empty()) {
        db_options.secret = options->secret;
      }
      auto loaded = load_trace_from_db(options->db, db_options);
      if (!loaded) {
        std::cerr << "acctlab check: " << loaded.error() << '\n';
        exit_code = exit_status::usage;
        return;
      }
      trace = std::move(loaded).value();
    } else {
      // A database is judged in parts with its findings staged on disk (conformance/run_judge),
      // so memory does not grow with the database; the verdict is check_trace's.
      DbJudgeOptions db_options;
      if (options->run > 0) {
        db_options.run_id = options->run;
      }
      if (!options->secret.empty()) {
        db_options.secret = options->secret;
      }
      if (secrets) {
        db_options.secrets = secret_lookup(*secrets);
      }
      if (options->interim_interval > 0) {
        db_options.interim_interval = options->interim_interval;
      }
      db_options.writable = !options->no_store;
      db_options.parts.part_packets = options->judge_part;
      auto judged = judge_database(options->db, profiles.fallback(), dict, db_options);
      if (!judged) {
        std::cerr << "acctlab check: " << judged.error() << '\n';
        exit_code = exit_status::usage;
        return;
      }
      const auto& verdict = **judged;
      write_report(verdict, options->report, options->out, options->colour);
      if (!options->no_store) {
        // runs.report holds the JSON report: rendered to a temporary file, then streamed in.
        const auto report = std::filesystem::temp_directory_path() /
                            ("acctlab-check-" + std::to_string(::getpid()) + ".json");
        {
          std::ofstream file(report, std::ios::binary);
          if (file) {
            render_json(verdict, file);
            file.close();
          }
          if (!file) {
            std::cerr << "acctlab check: findings not stored: cannot write " << report << '\n';
            exit_code = exit_status::usage;
            return;
          }
        }
        const auto stored = (*judged)->store(report.string());
        std::error_code ignored;
        std::filesystem::remove(report, ignored);
        if (!announce_stored(stored)) {
          return;
        }
      }
      exit_code = check_status(verdict.summary(), options->fail_on);
      return;
    }
    if (!options->secret.empty()) {
      trace.default_secret = options->secret;
    }
    if (secrets) {
      learn_secrets(trace, *secrets);
    }
    if (options->interim_interval > 0) {
      trace.interim_interval = options->interim_interval;
    }
    const auto verdict = check_trace(trace, profiles, dict);
    const VerdictView view(verdict);
    write_report(view, options->report, options->out, options->colour);
    if (!options->db.empty() && !options->no_store) {
      if (!announce_stored(store_findings(options->db, verdict, render_json(verdict)))) {
        return;
      }
    }
    exit_code = check_status(view.summary(), options->fail_on);
  });
}

void install_conform(CLI::App& app, int& exit_code) {
  struct Options {
    std::vector<std::string> scenarios;
    bool all = false;
    std::string server;
    std::string secret = "testing123";
    std::string secrets;
    std::string profile; // empty: the gateway's clients-file profile, else the default
    std::string report = "text";
    std::string out;
    std::string work_dir = "acctlab-conform";
    std::string db;
    std::string colour = "auto";
    std::string dictionary;
    // --- RadSec (TLS) ---
    bool tls = false;
    std::string tls_cert;
    std::string tls_key;
    std::string tls_ca;
    std::string probe_radsec;
    std::string probe_out;
    int probe_idle = 0;
  };
  auto options = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "conform", "Run gateway scenarios against an embedded (or given) server and judge them");
  cmd->add_option("--scenario", options->scenarios,
                  "Scenario name (client/scenarios) or file; repeatable");
  cmd->add_flag("--all", options->all, "Every scenario of the library");
  cmd->add_option("--server", options->server,
                  "Target HOST:PORT instead of the embedded server (no database checks)");
  cmd->add_option("--secret", options->secret, "Shared secret")->capture_default_str();
  cmd->add_option("--secrets", options->secrets,
                  "FreeRADIUS clients.conf: the gateway's (127.0.0.1) secret and `profile =`");
  cmd->add_option("--profile", options->profile,
                  std::string("Profile name or file (default: the gateway's profile in "
                              "--secrets, else ") +
                      default_profile + ")");
  cmd->add_option("--report", options->report, "text, json or junit")
      ->check(CLI::IsMember({"text", "json", "junit"}))
      ->capture_default_str();
  cmd->add_option("--out", options->out, "Write the report to this file");
  cmd->add_option("--work-dir", options->work_dir, "Where the embedded servers' databases go")
      ->capture_default_str();
  cmd->add_option("--db", options->db,
                  "A postgresql:// URI the embedded servers write instead of SQLite files in "
                  "--work-dir: each scenario a 'conform' run there, its sessions apart from the "
                  "live servers'");
  cmd->add_option("--colour", options->colour, "auto, always or never")
      ->check(CLI::IsMember({"auto", "always", "never"}));
  add_dictionary_option(*cmd, options->dictionary);
  // --- RadSec (TLS) options ---
  auto* secret_option = cmd->get_option("--secret");
  cmd->add_flag("--tls", options->tls,
                "Send over RadSec (TLS): embedded servers listen on TLS with lab certificates;"
                " with --server, give --tls-cert/--tls-key/--tls-ca (secret radsec by default)");
  cmd->add_option("--tls-cert", options->tls_cert, "RadSec: the gateway's certificate, PEM");
  cmd->add_option("--tls-key", options->tls_key, "RadSec: the gateway's private key, PEM");
  cmd->add_option("--tls-ca", options->tls_ca, "RadSec: the CA of the server's certificate, PEM");
  cmd->add_option("--probe-radsec", options->probe_radsec,
                  "Probe a RadSec server at HOST:PORT (framing, malformed packets, refusals,"
                  " Status-Server, idle timeout) and judge it by the RADSEC-* rules;"
                  " needs --tls-cert/--tls-key/--tls-ca");
  cmd->add_option("--probe-idle", options->probe_idle,
                  "With --probe-radsec: seconds to wait for the idle timeout (0: skip that probe)")
      ->check(CLI::Range(0, 3600));
  cmd->footer("Asserts per scenario: every request answered with a valid Response Authenticator;\n"
              "the embedded server stored exactly what it answered (records, sessions, counters,\n"
              "states); every packet and session passes the profile's rules.\n"
              "Exit status (docs/cli.md): 0 every scenario passed, 1 one failed, 2 bad usage or "
              "input.\n"
              "Examples:\n  acctlab conform --all\n  acctlab conform --scenario rekeys "
              "--report junit --out conform.xml");
  cmd->callback([options, &exit_code, secret_option] {
    if (!options->probe_radsec.empty()) {
      RadsecProbeArgs probe;
      probe.target = options->probe_radsec;
      probe.certificate = options->tls_cert;
      probe.private_key = options->tls_key;
      probe.ca = options->tls_ca;
      probe.secret = secret_option->count() ? options->secret : "radsec";
      probe.idle_wait_seconds = options->probe_idle;
      probe.report = options->report;
      probe.out = options->out;
      probe.work_dir = options->work_dir;
      exit_code = run_radsec_probe_command(probe);
      return;
    }
    const auto& dict = resolve_dictionary(options->dictionary);
    const auto nas = resolve_gateway_nas(options->profile, options->secrets, dict);
    const auto& profile = nas.profile;
    if (nas.secret && secret_option->count() == 0) {
      options->secret = *nas.secret;
    }
    std::vector<std::string> paths;
    if (options->all) {
      paths = scenario_library();
    }
    for (const auto& name : options->scenarios) {
      const auto path = resolve_scenario(name);
      if (path.empty()) {
        std::cerr << "acctlab conform: no scenario " << name << '\n';
        exit_code = exit_status::usage;
        return;
      }
      paths.push_back(path);
    }
    if (paths.empty()) {
      std::cerr << "acctlab conform: give --scenario NAME or --all\n";
      exit_code = exit_status::usage;
      return;
    }
    TesterOptions tester;
    if (!options->server.empty()) {
      tester.server = options->server;
    }
    tester.secret = options->secret;
    if (!options->secrets.empty()) {
      tester.clients_file = options->secrets;
    }
    tester.work_dir = options->work_dir;
    if (!options->db.empty()) {
      if (!storage::is_postgres_uri(options->db)) {
        // Each embedded server writes its own SQLite file (one writer per file): a shared
        // database is PostgreSQL's.
        std::cerr << "acctlab conform: --db takes a postgresql:// URI; the embedded servers write "
                     "SQLite files in --work-dir\n";
        exit_code = exit_status::usage;
        return;
      }
      if (!options->server.empty()) {
        std::cerr << "acctlab conform: --db is for the embedded servers, not with --server\n";
        exit_code = exit_status::usage;
        return;
      }
      tester.database = options->db;
    }
    if (options->tls) {
      tester.tls = true;
      tester.tls_client.certificate = options->tls_cert;
      tester.tls_client.private_key = options->tls_key;
      tester.tls_client.ca = options->tls_ca;
      if (!secret_option->count()) {
        tester.secret = "radsec"; // RFC 6614 §2.3
      }
    }
    std::vector<ScenarioResult> results;
    const bool progress = ::isatty(STDERR_FILENO);
    for (const auto& path : paths) {
      if (progress) {
        std::cerr << "conform: " << path << "\n";
      }
      results.push_back(run_conformance(path, profile, dict, tester));
    }
    const bool colour =
        options->colour == "always" || (options->colour == "auto" && ::isatty(STDOUT_FILENO));
    std::string text;
    if (options->report == "json") {
      text = render_conform_json(results);
    } else if (options->report == "junit") {
      text = render_conform_junit(results);
    } else {
      text = render_conform_text(results, colour && options->out.empty());
    }
    if (options->out.empty()) {
      std::cout << text;
    } else {
      std::ofstream file(options->out, std::ios::binary);
      if (!file || !(file << text)) {
        throw std::runtime_error("cannot write " + options->out);
      }
      if (options->report != "text") {
        std::cout << render_conform_text(results, colour);
      }
      std::cout << "report: " << options->out << '\n';
    }
    const bool failed = std::any_of(results.begin(), results.end(),
                                    [](const ScenarioResult& r) { return !r.passed(); });
    exit_code = failed ? exit_status::failed : exit_status::ok;
  });
}

RegisterCommand rules_command{60, install_rules};
RegisterCommand conform_command{62, install_conform};
RegisterCommand check_command{61, install_check};

} // namespace
} // namespace acctlab::cli
