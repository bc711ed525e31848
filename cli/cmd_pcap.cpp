// acctlab pcap analyze: wires the options to acctlab_pcap's analyser; no logic of its own.

#include "cli/analysis_options.hpp"
#include "cli/command_registry.hpp"
#include "cli/input_files.hpp"
#include "pcap/analysis_report.hpp"
#include "pcap/capture_analysis.hpp"
#include "pcap/capture_import.hpp"
#include "pcap/capture_replay.hpp"
#include "pcap/clients_file.hpp"

#include <boost/json/serialize.hpp>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <unistd.h>

namespace acctlab::cli {
namespace {

// A progress bar on stderr when it is a terminal (long captures); none otherwise.
std::function<void(std::uint64_t, std::uint64_t)> progress_bar() {
  if (::isatty(STDERR_FILENO) == 0) {
    return {};
  }
  return [](std::uint64_t done, std::uint64_t total) {
    const double fraction = total ? static_cast<double>(done) / total : 1.0;
    std::fprintf(stderr, "\r[%-40s] %3.0f%%", std::string(std::lround(fraction * 40), '#').c_str(),
                 fraction * 100);
    std::fflush(stderr);
  };
}

void install_pcap(CLI::App& app, int& exit_code) {
  struct Options {
    std::vector<std::string> files;
    AnalysisArgs shared;
  };
  auto options = std::make_shared<Options>();
  auto* pcap = app.add_subcommand("pcap", "Analyse RADIUS traffic in pcap and pcapng captures");
  pcap->require_subcommand(1);
  auto* cmd = pcap->add_subcommand(
      "analyze", "Decode and pair RADIUS requests and responses in captures (one time-ordered "
                 "stream when several files are given)");
  cmd->add_option("files", options->files, "pcap or pcapng files")->required();
  add_analysis_options(
      *cmd, options->shared,
      "Also treat this UDP port as RADIUS (1812, 1813, 1645, 1646 always are)",
      "Import into this database (a SQLite file, or a postgresql:// URI: the run's sessions "
      "kept apart from live servers') as a run of kind 'pcap' (packets with file and frame, "
      "records, sessions), then store the conformance findings under it");
  cmd->footer(std::string(exit_status::judged_help) +
              " Without --db nothing is judged: 0 when the capture was read whole and holds "
              "accounting traffic.\nExamples:\n"
              "  acctlab pcap analyze radius.pcapng\n"
              "  acctlab pcap analyze lab.pcapng --db acctlab.db --secrets clients.conf\n"
              "  acctlab pcap analyze a.pcap b.pcap --port 18130 --secrets clients.conf "
              "--report json --out report.json --csv exchanges.csv");
  cmd->callback([options, &exit_code] {
    if (!inputs_readable(options->files, "pcap analyze")) {
      exit_code = exit_status::usage;
      return;
    }
    PreparedAnalysis prepared(options->shared);
    prepared.analysis.progress = progress_bar();
    const auto result = prepared.import
                            ? capture::import_captures(options->files, prepared.analysis,
                                                       *prepared.import, prepared.judge)
                            : capture::analyze_captures(options->files, prepared.analysis);
    if (prepared.analysis.progress) {
      std::fputs("\n", stderr);
    }
    prepared.write_report(options->shared.report == "json"
                              ? boost::json::serialize(capture::to_json(result)) + "\n"
                              : capture::to_text(result));
    print_refused(result, "acctlab pcap analyze");
    // A damaged capture is reported with what was not read, and never passes (docs/cli.md).
    const auto verdict = capture::report_verdict(result);
    if (verdict == "incomplete" || verdict == "no accounting traffic") {
      std::cerr << "acctlab pcap analyze: " << verdict << '\n';
    }
    exit_code = analysis_status(verdict);
  });
}

/** "127.0.0.1:1813" or "[::1]:1813": an address literal and a port. */
capture::Endpoint parse_server(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon + 1 == text.size()) {
    throw std::runtime_error("--server " + text + ": give ADDRESS:PORT");
  }
  std::string host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const auto address = capture::IpAddress::parse(host);
  unsigned long port = 0;
  try {
    port = std::stoul(text.substr(colon + 1));
  } catch (const std::exception&) {
    port = 0;
  }
  if (!address || port == 0 || port > 65535) {
    throw std::runtime_error("--server " + text + ": give an IPv4 or [IPv6] address and a port");
  }
  return {*address, static_cast<std::uint16_t>(port)};
}

void install_replay(CLI::App& pcap, int& exit_code) {
  struct Options {
    std::vector<std::string> files;
    std::string server;
    std::string secret;
    std::string secrets;
    std::string speed = "max";
    std::size_t window = 32;
    double timeout = 1.0;
    unsigned retries = 2;
    std::vector<std::uint16_t> ports;
    std::string report = "text";
    std::string out;
  };
  auto options = std::make_shared<Options>();
  auto* cmd = pcap.add_subcommand(
      "replay", "Send a capture's Accounting-Requests to a server again, re-signed, and report "
                "the answers");
  cmd->add_option("files", options->files, "pcap or pcapng files (one time-ordered stream)")
      ->required();
  cmd->add_option("--server", options->server, "Server ADDRESS:PORT ([v6]:port)")->required();
  cmd->add_option("--secret", options->secret,
                  "Re-sign every request with this secret and verify the answers with it");
  cmd->add_option("--secrets", options->secrets,
                  "Without --secret: each NAS's secret from this clients.conf");
  cmd->add_option("--speed", options->speed,
                  "original (the capture's pacing), max (as fast as the window allows) or N/s")
      ->capture_default_str();
  cmd->add_option("--window", options->window, "Requests outstanding at most (1-255)")
      ->check(CLI::Range(1, 255))
      ->capture_default_str();
  cmd->add_option("--timeout", options->timeout, "Seconds before a retransmission")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--retries", options->retries, "Retransmissions before giving up")
      ->check(CLI::Range(0, 10))
      ->capture_default_str();
  cmd->add_option("--port", options->ports, "Also treat this UDP port as RADIUS in the capture");
  cmd->add_option("--report", options->report, "text or json")
      ->check(CLI::IsMember({"text", "json"}));
  cmd->add_option("--out", options->out, "Write the report to this file instead of stdout");
  cmd->footer("Examples:\n"
              "  acctlab pcap replay field.pcapng --server 127.0.0.1:1813 --secret testing123\n"
              "  acctlab pcap replay field.pcapng --server [::1]:1813 --secrets clients.conf "
              "--speed original\n"
              "Exit status (docs/cli.md): 0 every request validly answered, 1 some were not, the "
              "capture held none, or the replay could not run; 2 bad usage.");
  cmd->callback([options, &exit_code] {
    capture::ReplayOptions replay;
    replay.server = parse_server(options->server);
    if (!options->secret.empty()) {
      replay.secret = options->secret;
    }
    std::optional<capture::ClientSecrets> secrets;
    if (!options->secrets.empty()) {
      std::string error;
      secrets = capture::ClientSecrets::load(options->secrets, error);
      if (!secrets) {
        throw std::runtime_error("secrets: " + error);
      }
      replay.secrets = &*secrets;
    }
    if (options->speed == "original") {
      replay.speed = capture::ReplayOptions::Speed::original;
    } else if (options->speed == "max") {
      replay.speed = capture::ReplayOptions::Speed::max;
    } else {
      std::string number = options->speed;
      if (number.size() > 2 && number.substr(number.size() - 2) == "/s") {
        number.resize(number.size() - 2);
      }
      char* end = nullptr;
      replay.rate = std::strtod(number.c_str(), &end);
      if (number.empty() || end != number.c_str() + number.size() || !(replay.rate > 0)) {
        throw std::runtime_error("--speed " + options->speed + ": give original, max or N/s");
      }
      replay.speed = capture::ReplayOptions::Speed::rate;
    }
    replay.window = options->window;
    replay.timeout_ns = std::llround(options->timeout * 1e9);
    replay.retries = options->retries;
    replay.extra_ports = options->ports;
    replay.progress = progress_bar();
    const auto result = capture::replay_capture(options->files, replay);
    if (replay.progress) {
      std::fputs("\n", stderr);
    }
    write_report_file(options->report == "json"
                          ? boost::json::serialize(capture::to_json(result)) + "\n"
                          : capture::to_text(result),
                      options->out);
    if (!result.error.empty()) {
      std::cerr << "acctlab pcap replay: " << result.error << '\n';
      exit_code = exit_status::failed;
    } else if (result.valid_answers != result.sent || result.accounting_requests == 0) {
      exit_code = exit_status::failed; // not every request validly answered, or none to send
    }
  });
}

const RegisterCommand reg{60, [](CLI::App& app, int& exit_code) {
                            install_pcap(app, exit_code);
                            install_replay(*app.get_subcommand("pcap"), exit_code);
                          }};

} // namespace
} // namespace acctlab::cli
