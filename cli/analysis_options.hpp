#pragma once
// The options `acctlab pcap analyze` and `acctlab capture` share (ports, secrets, timeout, CSV,
// report, import into a database and its conformance judge), declared once and turned into the
// pcap module's options once. Header-only, included by those two command files.

#include "cli/dictionary_option.hpp"
#include "cli/exit_status.hpp"
#include "cli/profile_option.hpp"
#include "conformance/pcap_trace.hpp"
#include "conformance/profile.hpp"
#include "pcap/analysis_report.hpp"
#include "pcap/capture_analysis.hpp"
#include "pcap/capture_import.hpp"
#include "pcap/clients_file.hpp"

#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace acctlab::cli {

/** The exit status of an analysis report's verdict (pcap/analysis_report.hpp, docs/cli.md). */
inline int analysis_status(const std::string& verdict) {
  if (verdict == "incomplete") {
    return exit_status::incomplete;
  }
  if (verdict == "no accounting traffic") {
    return exit_status::no_accounting_traffic;
  }
  return verdict == "fail" ? exit_status::failed : exit_status::ok;
}

/** Each packet the database refused during an import, one stderr line each (also when the
 * report goes to a file): file, frame, NAS, Acct-Session-Id and the database's message. */
inline void print_refused(const capture::AnalysisResult& result, const char* command) {
  if (!result.import) {
    return;
  }
  for (const auto& packet : result.import->refused_packets) {
    std::cerr << command << ": " << capture::refused_packet_text(packet) << '\n';
  }
  for (const auto& mark : result.import->stale_refused) {
    std::cerr << command << ": " << capture::refused_mark_text(mark) << '\n';
  }
  if (result.import->refused > result.import->refused_packets.size()) {
    std::cerr << command << ": " << result.import->refused
              << " packets refused by the database in all\n";
  }
}

/** A report to stdout, or to the file --out names. */
inline void write_report_file(const std::string& text, const std::string& path) {
  if (path.empty()) {
    std::cout << text;
    return;
  }
  std::ofstream out(path, std::ios::binary);
  if (!(out << text)) {
    throw std::runtime_error("cannot write " + path);
  }
}

struct AnalysisArgs {
  std::vector<std::uint16_t> ports;
  std::string secret;
  std::string secrets;
  double timeout = 5.0;
  double duplicate_window = 30.0;
  std::string csv;
  std::string tls_keylog;
  std::string report = "text";
  std::string out;
  std::string db;
  std::string profile; // empty: each NAS's clients-file profile, else cisco-ios-ipsec
  double interim_interval = 0;
  bool no_check = false;
  std::size_t judge_part = conformance::RunJudgeOptions{}.part_packets;
  std::string dictionary;
};

/** Adds the shared options; db_help says what --db does for this command. */
inline void add_analysis_options(CLI::App& cmd, AnalysisArgs& args, const std::string& port_help,
                                 const std::string& db_help) {
  cmd.add_option("--port", args.ports, port_help);
  cmd.add_option("--secret", args.secret,
                 "Shared secret of every NAS (with --secrets: of every NAS it does not name)");
  cmd.add_option("--secrets", args.secrets,
                 "FreeRADIUS clients.conf: verify authenticators per NAS with its secret (and, "
                 "with --db, judge each NAS with its `profile =`)");
  cmd.add_option("--timeout", args.timeout,
                 "Seconds after which an unanswered request counts as lost (default 5)")
      ->check(CLI::PositiveNumber);
  cmd.add_option("--duplicate-window", args.duplicate_window,
                 "Seconds an answered request is remembered: the same request again within it "
                 "is a duplicate (RFC 5080 §2.2.2; default 30, the server's window)")
      ->check(CLI::NonNegativeNumber);
  cmd.add_option("--csv", args.csv, "Write one CSV line per exchange to this file");
  cmd.add_option("--tls-keylog", args.tls_keylog,
                 "RadSec: an SSLKEYLOGFILE-format key log; TLS 1.3 and TLS 1.2 (AES-GCM, "
                 "ChaCha20-Poly1305, AES-CBC suites) sessions on TCP 2083 (or a --port) it has "
                 "secrets for are decrypted and their RADIUS packets analysed");
  cmd.add_option("--report", args.report, "text or json")->check(CLI::IsMember({"text", "json"}));
  cmd.add_option("--out", args.out, "Write the report to this file");
  cmd.add_option("--db", args.db, db_help);
  cmd.add_option("--profile", args.profile,
                 "With --db: conformance profile name or file for every NAS (default: each NAS's "
                 "profile in --secrets, else cisco-ios-ipsec)");
  cmd.add_option("--interim-interval", args.interim_interval,
                 "With --db: the NAS's update interval in seconds (aaa accounting update periodic "
                 "x 60)");
  cmd.add_flag("--no-check", args.no_check, "With --db: import without the conformance rules");
  cmd.add_option("--judge-part", args.judge_part,
                 "With --db: judge the run in parts of about this many packets, so memory does "
                 "not grow with the capture (0: the whole run in memory at once)")
      ->capture_default_str();
  add_dictionary_option(cmd, args.dictionary);
}

/** --secrets FILE and --secret S as one client list, read by the server's parser: the file's
 * entries, and S for every address no entry holds (a /0 entry per family: the longest prefix
 * wins, as the server matches). Throws std::runtime_error naming the file and line. */
inline capture::ClientSecrets load_secrets(const std::string& file, const std::string& secret) {
  std::string text;
  if (!file.empty()) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream buffer;
    buffer << in.rdbuf();
    if (!in) {
      throw std::runtime_error("secrets: cannot read " + file);
    }
    text = buffer.str();
  }
  if (!secret.empty()) {
    std::string quoted;
    for (const char c : secret) {
      quoted += (c == '"' || c == '\\') ? std::string("\\") + c : std::string(1, c);
    }
    text += "\nclient every-ipv4-nas {\n  ipaddr = 0.0.0.0/0\n  secret = \"" + quoted +
            "\"\n}\nclient every-ipv6-nas {\n  ipv6addr = ::/0\n  secret = \"" + quoted + "\"\n}\n";
  }
  std::string error;
  auto secrets = capture::ClientSecrets::parse(text, file.empty() ? "--secret" : file, error);
  if (!secrets) {
    throw std::runtime_error("secrets: " + error);
  }
  return std::move(*secrets);
}

/** The pcap module's options built from the arguments; it owns what they point at, so it stays
 * where it was made. Throws std::runtime_error naming the bad input. */
class PreparedAnalysis {
public:
  explicit PreparedAnalysis(const AnalysisArgs& args) : args_(args) {
    analysis.dictionary = &resolve_dictionary(args.dictionary);
    analysis.extra_ports = args.ports;
    analysis.timeout_ns = std::llround(args.timeout * 1e9);
    analysis.duplicate_window_ns = std::llround(args.duplicate_window * 1e9);
    if (!args.secrets.empty() || !args.secret.empty()) {
      secrets_ = load_secrets(args.secrets, args.secret);
      analysis.secrets = &*secrets_;
    }
    if (!args.tls_keylog.empty()) {
      std::string error;
      keys_ = capture::TlsKeyLog::load(args.tls_keylog, error);
      if (!keys_) {
        throw std::runtime_error("--tls-keylog: " + error);
      }
      analysis.tls_keys = &*keys_;
    }
    if (!args.csv.empty()) {
      csv_.open(args.csv, std::ios::binary);
      if (!csv_) {
        throw std::runtime_error("cannot write " + args.csv);
      }
      analysis.csv = [this](std::string_view line) { csv_.write(line.data(), line.size()); };
    }
    if (!args.db.empty()) {
      import.emplace();
      import->database = args.db;
      import->duplicate_window = args.duplicate_window;
      if (!args.no_check) {
        judge = conformance::make_import_judge(
            resolve_profiles(args.profile, secrets_ ? &secrets_->clients() : nullptr,
                             *analysis.dictionary),
            analysis.dictionary, analysis.secrets,
            args.interim_interval > 0 ? std::optional<double>(args.interim_interval) : std::nullopt,
            args.judge_part);
      }
    }
  }
  PreparedAnalysis(const PreparedAnalysis&) = delete;
  PreparedAnalysis& operator=(const PreparedAnalysis&) = delete;

  /** Writes the report where --out says (stdout without it) and checks the CSV was written. */
  void write_report(const std::string& report) {
    write_report_file(report, args_.out);
    if (csv_.is_open() && !csv_.flush()) {
      throw std::runtime_error("cannot write " + args_.csv);
    }
  }

  capture::AnalysisOptions analysis;
  std::optional<capture::ImportOptions> import; // with --db
  capture::RunJudge judge;                      // with --db and without --no-check

private:
  const AnalysisArgs& args_;
  std::optional<capture::ClientSecrets> secrets_;
  std::optional<capture::TlsKeyLog> keys_;
  std::ofstream csv_;
};

} // namespace acctlab::cli
