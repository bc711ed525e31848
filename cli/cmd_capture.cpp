// acctlab capture: wires the options to acctlab_pcap's live capture (pcap/live_capture.hpp); the
// analysis, import and report are `pcap analyze`'s.

#include "cli/analysis_options.hpp"
#include "cli/command_registry.hpp"
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
    double duration = 0;
    std::string write;
    AnalysisArgs shared;
  };
  auto options = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "capture", "Capture RADIUS on a live interface and analyse it as `pcap analyze` does");
  cmd->add_option("-i,--interface", options->interface, "Interface to capture on (lo, eth0, any)")
      ->required();
  cmd->add_option("--duration", options->duration,
                  "Stop after this many seconds (default: at SIGINT or SIGTERM)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--write", options->write,
                  "Save the captured frames to this pcap file (frames in the report are its)");
  add_analysis_options(
      *cmd, options->shared,
      "Also capture this UDP port as RADIUS (1812, 1813, 1645, 1646 always are)",
      "Import into this database (a SQLite file or a postgresql:// URI) as a run of kind 'pcap' "
      "(as pcap analyze --db)");
  cmd->footer("Examples:\n"
              "  acctlab capture -i eth0 --duration 60\n"
              "  acctlab capture -i any --port 18130 --db acctlab.db --write lab.pcap "
              "--secrets clients.conf\n"
              "Needs root or CAP_NET_RAW. Exit status (docs/cli.md): as pcap analyze's (0 read "
              "whole, 1 fail with --db, 3 frames not read, 4 no accounting traffic), or 1 when "
              "the capture cannot start or ends in an error; 2 bad usage.");
  cmd->callback([options, &exit_code] {
    PreparedAnalysis prepared(options->shared);
    auto& analysis = prepared.analysis;

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
    const auto result = capture::capture_live(
        live, analysis, prepared.import ? &*prepared.import : nullptr, prepared.judge);
    if (!result.error.empty() && result.analysis.files.empty()) {
      std::cerr << "acctlab capture: " << result.error << '\n';
      exit_code = exit_status::failed;
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
    if (options->shared.report == "json") {
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
    prepared.write_report(report);
    print_refused(result.analysis, "acctlab capture");
    exit_code = analysis_status(capture::report_verdict(result.analysis));
    if (!result.error.empty()) {
      std::cerr << "acctlab capture: " << result.error << '\n';
      exit_code = exit_status::failed;
    }
  });
}

const RegisterCommand reg{61, install_capture};

} // namespace
} // namespace acctlab::cli
