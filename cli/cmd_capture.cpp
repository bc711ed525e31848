// acctlab capture: wires the options to acctlab_pcap's live capture (pcap/live_capture.hpp); the
// analysis, import and report are `pcap analyze`'s.

#include "cli/command_registry.hpp"
#include "cli/dictionary_option.hpp"
#include "conformance/pcap_trace.hpp"
#include "conformance/profile.hpp"
#include "pcap/analysis_report.hpp"
#include "pcap/live_capture.hpp"

#include <atomic>
#include <boost/json/serialize.hpp>
#include <cmath>
#include <csignal>
#include <fstream>
#include <iostream>
#include <memory>

namespace acctlab::cli {
namespace {

std::atomic<bool> interrupted{false};

extern "C" void on_stop_signal(int) {
  interrupted.store(true);
}

void install_capture(CLI::App& app, int& exit_code) {
  struct Options {
    std::string interface;
    std::vector<std::uint16_t> ports;
    double duration = 0;
    std::string db;
    std::string write;
    std::string secrets;
    double timeout = 5.0;
    std::string csv;
    std::string report = "text";
    std::string out;
    std::string profile = "cisco-ios-ipsec";
    double interim_interval = 0;
    bool no_check = false;
    std::string dictionary;
  };
  auto options = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "capture", "Capture RADIUS on a live interface and analyse it as `pcap analyze` does");
  cmd->add_option("-i,--interface", options->interface, "Interface to capture on (lo, eth0, any)")
      ->required();
  cmd->add_option("--port", options->ports,
                  "Also capture this UDP port as RADIUS (1812, 1813, 1645, 1646 always are)");
  cmd->add_option("--duration", options->duration,
                  "Stop after this many seconds (default: at SIGINT or SIGTERM)")
      ->check(CLI::PositiveNumber);
  cmd->add_option(
      "--db", options->db,
      "Import into this SQLite database as a run of kind 'pcap' (as pcap analyze --db)");
  cmd->add_option("--write", options->write,
                  "Save the captured frames to this pcap file (frames in the report are its)");
  cmd->add_option("--secrets", options->secrets,
                  "FreeRADIUS clients.conf: verify authenticators per NAS with its secret");
  cmd->add_option("--timeout", options->timeout,
                  "Seconds after which an unanswered request counts as lost (default 5)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--csv", options->csv, "Write one CSV line per exchange to this file");
  cmd->add_option("--report", options->report, "Report format: text or json")
      ->check(CLI::IsMember({"text", "json"}));
  cmd->add_option("--out", options->out, "Write the report to this file instead of stdout");
  cmd->add_option("--profile", options->profile, "With --db: conformance profile name or file")
      ->capture_default_str();
  cmd->add_option("--interim-interval", options->interim_interval,
                  "With --db: the NAS's configured update interval in seconds");
  cmd->add_flag("--no-check", options->no_check, "With --db: import without the conformance rules");
  add_dictionary_option(*cmd, options->dictionary);
  cmd->footer("Examples:\n"
              "  acctlab capture -i eth0 --duration 60\n"
              "  acctlab capture -i any --port 18130 --db acctlab.db --write lab.pcap "
              "--secrets clients.conf\n"
              "Needs root or CAP_NET_RAW. Exit status: 0, or 1 when the capture cannot start.");
  cmd->callback([options, &exit_code] {
    capture::AnalysisOptions analysis;
    analysis.dictionary = &resolve_dictionary(options->dictionary);
    analysis.extra_ports = options->ports;
    analysis.timeout_ns = std::llround(options->timeout * 1e9);
    std::optional<capture::ClientSecrets> secrets;
    if (!options->secrets.empty()) {
      std::string error;
      secrets = capture::ClientSecrets::load(options->secrets, error);
      if (!secrets) {
        throw std::runtime_error("secrets: " + error);
      }
      analysis.secrets = &*secrets;
    }
    std::ofstream csv;
    if (!options->csv.empty()) {
      csv.open(options->csv, std::ios::binary);
      if (!csv) {
        throw std::runtime_error("cannot write " + options->csv);
      }
      analysis.csv = [&csv](std::string_view line) { csv.write(line.data(), line.size()); };
    }
    std::optional<capture::ImportOptions> import;
    capture::RunJudge judge;
    if (!options->db.empty()) {
      import.emplace();
      import->database = options->db;
      if (!options->no_check) {
        auto profile = conformance::load_profile(options->profile, *analysis.dictionary);
        if (!profile) {
          throw std::runtime_error("profile: " + profile.error().to_string());
        }
        judge = conformance::make_import_judge(
            std::move(profile).value(), analysis.dictionary, analysis.secrets,
            options->interim_interval > 0 ? std::optional<double>(options->interim_interval)
                                          : std::nullopt);
      }
    }

    capture::LiveCaptureOptions live;
    live.interface = options->interface;
    live.duration = options->duration;
    live.write_path = options->write;
    interrupted.store(false);
    struct sigaction action {};
    action.sa_handler = on_stop_signal;
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGINT, &action, nullptr);
    ::sigaction(SIGTERM, &action, nullptr);
    live.stop_requested = [] { return interrupted.load(); };
    live.on_started = [&](const std::string& filter) {
      std::cerr << "acctlab capture: capturing on " << options->interface << " (filter: " << filter
                << ")" << std::endl;
    };
    const auto result = capture::capture_live(live, analysis, import ? &*import : nullptr, judge);
    if (!result.error.empty() && result.analysis.files.empty()) {
      std::cerr << "acctlab capture: " << result.error << '\n';
      exit_code = 1;
      return;
    }
    std::cerr << "acctlab capture: stopped; " << result.analysis.stream.frames << " frames, "
              << result.kernel_drops << " dropped by the kernel"
              << (options->write.empty() ? std::string()
                                         : ", " + std::to_string(result.frames_written) +
                                               " saved to " + options->write)
              << '\n';
    // What only a live capture knows: frames the kernel or interface lost before libpcap saw
    // them (the analysis cannot count what it never read).
    std::string report;
    if (options->report == "json") {
      auto json = capture::to_json(result.analysis);
      if (json.is_object()) {
        json.as_object()["live"] = {{"interface", options->interface},
                                    {"kernel_drops", result.kernel_drops},
                                    {"frames_written", result.frames_written}};
      }
      report = boost::json::serialize(json) + "\n";
    } else {
      report = capture::to_text(result.analysis) + "live capture on " + options->interface + ": " +
               std::to_string(result.kernel_drops) + " frames lost by the kernel or interface\n";
    }
    if (options->out.empty()) {
      std::cout << report;
    } else {
      std::ofstream out(options->out, std::ios::binary);
      if (!(out << report)) {
        throw std::runtime_error("cannot write " + options->out);
      }
    }
    if (!result.error.empty()) {
      std::cerr << "acctlab capture: " << result.error << '\n';
      exit_code = 1;
    }
  });
}

const RegisterCommand reg{61, install_capture};

} // namespace
} // namespace acctlab::cli
