// acctlab rules | check | conform: the conformance engine on the command line. Logic lives in
// conformance/; this file wires options to it.

#include "cli/command_registry.hpp"
#include "cli/dictionary_option.hpp"
#include "conformance/catalog.hpp"
#include "conformance/db_trace.hpp"
#include "conformance/engine.hpp"
#include "conformance/profile.hpp"
#include "conformance/report.hpp"

#include <fstream>
#include <iostream>
#include <memory>
#include <unistd.h>

namespace acctlab::cli {
namespace {

using namespace acctlab::conformance;

constexpr const char* default_profile = "cisco-ios-ipsec";

Profile require_profile(const std::string& name, const radius::Dictionary& dict) {
  auto profile = load_profile(name, dict);
  if (!profile) {
    throw std::runtime_error("profile: " + profile.error().to_string());
  }
  return std::move(profile).value();
}

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
        exit_code = 2;
        return;
      }
      std::cout << rule->id << "\n  summary:  " << rule->summary << "\n  source:   " << rule->source
                << "\n  severity: " << to_string(rule->severity)
                << "\n  scope:    " << to_string(rule->scope) << '\n';
      if (!rule->detail.empty()) {
        std::cout << "  detail:   " << rule->detail << '\n';
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

void write_report(const Verdict& verdict, const std::string& format, const std::string& out,
                  const std::string& colour) {
  std::string text;
  if (format == "json") {
    text = render_json(verdict);
  } else if (format == "junit") {
    text = render_junit(verdict);
  } else {
    const bool tty = out.empty() && ::isatty(STDOUT_FILENO);
    text = render_text(verdict, {.colour = colour == "always" || (colour == "auto" && tty)});
  }
  if (out.empty()) {
    std::cout << text;
    return;
  }
  std::ofstream file(out, std::ios::binary);
  if (!file || !(file << text)) {
    throw std::runtime_error("cannot write " + out);
  }
  if (format != "text") {
    std::cout << render_text(
        verdict, {.colour = colour == "always" || (colour == "auto" && ::isatty(STDOUT_FILENO))});
  }
  std::cout << "report: " << out << '\n';
}

void install_check(CLI::App& app, int& exit_code) {
  struct Options {
    std::string trace;
    std::string db;
    std::string profile = default_profile;
    std::string secret;
    std::int64_t run = 0;
    double interim_interval = 0;
    std::string report = "text";
    std::string out;
    std::string colour = "auto";
    bool no_store = false;
    std::string dictionary;
  };
  auto options = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "check", "Check what a NAS sent (a server database or a trace file) against a profile");
  auto* trace_option =
      cmd->add_option("--trace", options->trace, "A trace file (acctlab trace format)");
  auto* db_option = cmd->add_option("--db", options->db, "An acctlab serve database");
  trace_option->excludes(db_option);
  cmd->add_option("--profile", options->profile, "Profile name or file")->capture_default_str();
  cmd->add_option("--secret", options->secret, "Shared secret: verify authenticators");
  cmd->add_option("--run", options->run, "With --db: only this run's packets");
  cmd->add_option("--interim-interval", options->interim_interval,
                  "The NAS's update interval in seconds (aaa accounting update periodic x 60)");
  cmd->add_option("--report", options->report, "text, json or junit")
      ->check(CLI::IsMember({"text", "json", "junit"}))
      ->capture_default_str();
  cmd->add_option("--out", options->out, "Write the report to this file");
  cmd->add_option("--colour", options->colour, "auto, always or never")
      ->check(CLI::IsMember({"auto", "always", "never"}));
  cmd->add_flag("--no-store", options->no_store, "With --db: do not write the findings table");
  add_dictionary_option(*cmd, options->dictionary);
  cmd->footer("Exit status: 0 when no error-severity finding, 1 when there is one, 2 on bad "
              "input.\nExamples:\n  acctlab check --db acctlab.db --profile cisco-ios-ipsec\n"
              "  acctlab check --trace lab.trace --report junit --out conformance.xml");
  cmd->callback([options, &exit_code] {
    if (options->trace.empty() == options->db.empty()) {
      std::cerr << "acctlab check: give --trace FILE or --db FILE\n";
      exit_code = 2;
      return;
    }
    const auto& dict = resolve_dictionary(options->dictionary);
    const auto profile = require_profile(options->profile, dict);
    Trace trace;
    if (!options->trace.empty()) {
      auto loaded = load_trace_file(options->trace);
      if (!loaded) {
        std::cerr << "acctlab check: " << options->trace << ": " << loaded.error().to_string()
                  << '\n';
        exit_code = 2;
        return;
      }
      trace = std::move(loaded).value();
    } else {
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
        exit_code = 2;
        return;
      }
      trace = std::move(loaded).value();
    }
    if (!options->secret.empty()) {
      trace.default_secret = options->secret;
    }
    if (options->interim_interval > 0) {
      trace.interim_interval = options->interim_interval;
    }
    const auto verdict = check_trace(trace, profile, dict);
    write_report(verdict, options->report, options->out, options->colour);
    if (!options->db.empty() && !options->no_store) {
      const auto stored = store_findings(options->db, verdict, render_json(verdict));
      if (!stored) {
        std::cerr << "acctlab check: findings not stored: " << stored.error() << '\n';
        exit_code = 2;
        return;
      }
      std::cout << "findings stored in " << options->db << " (run " << *stored << ")\n";
    }
    exit_code = verdict.has_errors() ? 1 : 0;
  });
}

RegisterCommand rules_command{60, install_rules};
RegisterCommand check_command{61, install_check};

} // namespace
} // namespace acctlab::cli
