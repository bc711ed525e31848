// The RadSec probe of `acctlab conform --probe-radsec` (options in cmd_conform.cpp).

#include "cli/radsec_probe_command.hpp"
#include "client/radius_transport.hpp"
#include "conformance/radsec_probe.hpp"
#include "conformance/report.hpp"

#include <fstream>
#include <iostream>
#include <unistd.h>

namespace acctlab::cli {

int run_radsec_probe_command(const RadsecProbeArgs& args) {
  const auto target = gateway::parse_host_port(args.target);
  if (!target) {
    std::cerr << "acctlab conform: --probe-radsec wants HOST:PORT, got \"" << args.target << "\"\n";
    return 2;
  }
  if (args.certificate.empty() || args.private_key.empty() || args.ca.empty()) {
    std::cerr << "acctlab conform: --probe-radsec needs --tls-cert, --tls-key and --tls-ca (a "
                 "certificate the server accepts, and the CA of the server's)\n";
    return 2;
  }
  conformance::RadsecProbeOptions options;
  options.host = target->first;
  options.port = target->second;
  options.tls.certificate = args.certificate;
  options.tls.private_key = args.private_key;
  options.tls.ca = args.ca;
  options.secret = args.secret;
  options.idle_wait = std::chrono::seconds(args.idle_wait_seconds);
  options.work_dir = args.work_dir;
  const auto verdict = conformance::probe_radsec(options);
  std::string text;
  if (args.report == "json") {
    text = conformance::render_json(verdict);
  } else if (args.report == "junit") {
    text = conformance::render_junit(verdict);
  } else {
    conformance::TextReportOptions text_options;
    text = conformance::render_text(verdict, text_options);
  }
  if (args.out.empty()) {
    std::cout << text;
  } else {
    std::ofstream file(args.out, std::ios::binary);
    if (!file || !(file << text)) {
      std::cerr << "acctlab conform: cannot write " << args.out << '\n';
      return 2;
    }
    std::cout << "report: " << args.out << '\n';
  }
  return verdict.has_errors() ? 1 : 0;
}

} // namespace acctlab::cli
