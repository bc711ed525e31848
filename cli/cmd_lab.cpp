// acctlab lab strongswan: a real strongSwan gateway as the NAS under test. Logic lives in lab/;
// this file wires options to it.

#include "cli/command_registry.hpp"
#include "conformance/tester.hpp"
#include "lab/process.hpp"
#include "lab/scenario_translation.hpp"
#include "lab/strongswan_lab.hpp"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <unistd.h>

namespace acctlab::cli {
namespace {

namespace fs = std::filesystem;

/** Exit status of a skipped lab (ctest's SKIP_RETURN_CODE, automake's convention). */
constexpr int exit_skipped = 77;

struct LabArgs {
  std::vector<std::string> scenarios;
  bool all = false;
  bool list = false;
  std::string report = "text";
  std::string out;
  std::string keep;
  std::string auth = "psk";
  unsigned interim_interval = 3;
  double time_scale = 0;
  bool quiet = false;
};

int run_strongswan(const LabArgs& args) {
  if (args.list) {
    for (const auto& scenario : lab::lab_scenarios()) {
      std::cout << scenario.name << ": " << scenario.summary << '\n';
    }
    return 0;
  }
  std::vector<const lab::LabScenario*> chosen;
  std::vector<std::string> files; // per chosen scenario: the .scn it came from, or ""
  std::vector<std::unique_ptr<lab::LabScenario>> translated;
  if (args.all) {
    for (const auto& scenario : lab::lab_scenarios()) {
      chosen.push_back(&scenario);
      files.emplace_back();
    }
  }
  lab::TranslationOptions translation;
  translation.time_scale = args.time_scale > 0 ? args.time_scale : args.interim_interval / 60.0;
  for (const auto& name : args.scenarios) {
    if (const auto* scenario = lab::find_lab_scenario(name)) {
      chosen.push_back(scenario);
      files.emplace_back();
      continue;
    }
    // A scenario file of `acctlab conform` (a path, or a name of client/scenarios).
    const auto path = fs::exists(name) ? name : conformance::resolve_scenario(name);
    if (path.empty()) {
      std::cerr << "acctlab lab strongswan: no scenario " << name
                << " (acctlab lab strongswan --list; or a .scn file)\n";
      return 2;
    }
    auto scenario = lab::translate_scenario_file(path, translation);
    if (!scenario) {
      std::cerr << "acctlab lab strongswan: " << scenario.error() << '\n';
      return 2;
    }
    translated.push_back(std::make_unique<lab::LabScenario>(std::move(scenario).value()));
    chosen.push_back(translated.back().get());
    files.push_back(path);
  }
  if (chosen.empty()) {
    std::cerr << "acctlab lab strongswan: give --scenario NAME or --all (--list names them)\n";
    return 2;
  }
  if (const auto why = lab::lab_unavailable(); !why.empty()) {
    std::cout << "SKIPPED: acctlab lab strongswan cannot run here: " << why << '\n';
    return exit_skipped;
  }
  lab::LabOptions options;
  options.keep_dir = args.keep.empty() ? std::string() : fs::absolute(args.keep).string();
  options.acctlab = fs::read_symlink("/proc/self/exe").string();
  options.auth = args.auth;
  options.interim_interval = args.interim_interval;
  options.progress = args.quiet ? nullptr : &std::cerr;
  std::vector<lab::LabResult> results;
  lab::InterruptScope interrupts;
  for (std::size_t i = 0; i < chosen.size(); ++i) {
    const auto* scenario = chosen[i];
    try {
      results.push_back(lab::run_lab_scenario(*scenario, options));
      if (!files[i].empty()) {
        // The same file against the reference IOS model, for the side-by-side report.
        const auto model_dir =
            args.keep.empty()
                ? (fs::temp_directory_path() / ("acctlab-lab-model-" + std::to_string(::getpid())))
                : fs::absolute(args.keep) / (scenario->name + "-model");
        results.back().model = lab::run_model(files[i], model_dir.string());
        if (args.keep.empty()) {
          std::error_code ignored;
          fs::remove_all(model_dir, ignored);
        }
      }
    } catch (const lab::Interrupted&) {
      // run_lab_scenario tore everything down before it threw.
      std::cerr << "acctlab lab strongswan: interrupted; namespaces and processes removed\n";
      return 128 + lab::InterruptScope::received();
    }
  }
  std::string text;
  if (args.report == "json") {
    text = lab::render_lab_json(results);
  } else if (args.report == "junit") {
    text = lab::render_lab_junit(results);
  } else {
    text = lab::render_lab_text(results);
  }
  if (args.out.empty()) {
    std::cout << text;
  } else {
    std::ofstream file(args.out, std::ios::binary);
    if (!file || !(file << text)) {
      std::cerr << "acctlab lab strongswan: cannot write " << args.out << '\n';
      return 2;
    }
    if (args.report != "text") {
      std::cout << lab::render_lab_text(results);
    }
    std::cout << "report: " << args.out << '\n';
  }
  for (const auto& result : results) {
    if (!result.passed()) {
      return 1;
    }
  }
  return 0;
}

void install_lab(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<LabArgs>();
  auto* lab = app.add_subcommand("lab", "Drive a real NAS under test (needs root)");
  lab->require_subcommand(1);
  auto* cmd = lab->add_subcommand(
      "strongswan", "A real strongSwan gateway and road warrior in network namespaces of their "
                    "own, accounting to acctlab serve, judged with the strongswan profile");
  cmd->add_option("--scenario", args->scenarios,
                  "Scenario name (--list names them), or a scenario file of acctlab conform "
                  "(client/scenarios: also run against the IOS model, side by side); repeatable");
  cmd->add_flag("--all", args->all, "Every scenario");
  cmd->add_flag("--list", args->list, "List the scenarios and exit");
  cmd->add_option("--report", args->report, "text, json or junit")
      ->check(CLI::IsMember({"text", "json", "junit"}))
      ->capture_default_str();
  cmd->add_option("--out", args->out, "Write the report to this file");
  cmd->add_option("--keep", args->keep,
                  "Keep each scenario's configs, logs, captures and databases under DIR/NAME");
  cmd->add_option("--auth", args->auth, "psk, or cert (a CA and certificates made with pki)")
      ->check(CLI::IsMember({"psk", "cert"}))
      ->capture_default_str();
  cmd->add_option("--interim-interval", args->interim_interval,
                  "charon's accounting_interval in seconds")
      ->check(CLI::Range(1, 60))
      ->capture_default_str();
  cmd->add_option("--time-scale", args->time_scale,
                  "For a .scn file: lab seconds per scenario second (default: interim interval / "
                  "60, one IOS update period per lab period)");
  cmd->add_flag("--quiet", args->quiet, "No progress lines on standard error");
  cmd->footer(
      "Needs root with CAP_NET_ADMIN and CAP_SYS_ADMIN, and strongswan-charon, "
      "strongswan-swanctl,\n"
      "strongswan-pki, libcharon-extra-plugins, tcpdump and iproute2 (scripts/setup.sh); without\n"
      "them it says why and exits 77 (skipped). Everything it starts is stopped and its network\n"
      "namespaces removed at the end, also on failure or Ctrl-C.\n"
      "Exit status: 0 every scenario passed, 1 one failed, 2 bad input, 77 skipped.\n"
      "Examples:\n  acctlab lab strongswan --all\n"
      "  acctlab lab strongswan --scenario traffic --scenario reauth --keep lab-runs\n"
      "  acctlab lab strongswan --all --report junit --out lab.xml\n"
      "  acctlab lab strongswan --scenario rekeys      # client/scenarios/rekeys.scn, both NASes");
  cmd->callback([args, &exit_code] {
    try {
      exit_code = run_strongswan(*args);
    } catch (const std::exception& e) {
      std::cerr << "acctlab lab strongswan: " << e.what() << '\n';
      exit_code = 1;
    }
  });
}

const RegisterCommand lab_registration{66, install_lab};

} // namespace
} // namespace acctlab::cli
