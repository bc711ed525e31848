// acctlab gateway: the reference IOS IPsec gateway. Wires options to acctlab_gateway.

#include "cli/command_registry.hpp"
#include "client/ios_config.hpp"
#include "client/load_generator.hpp"
#include "client/scenario.hpp"
#include "client/scenario_runner.hpp"

#include <fstream>
#include <iostream>
#include <optional>

namespace {

using namespace acctlab::gateway;

struct GatewayArgs {
  std::string check_config;
  std::string config;
  std::string scenario;
  std::vector<std::string> servers;
  std::string secret;
  // RadSec: --server-tls replaces --server; every slot then goes over TLS.
  std::vector<std::string> tls_servers;
  std::string tls_cert;
  std::string tls_key;
  std::string tls_ca;
  std::string nas_ip;
  std::optional<double> nas_clock;
  std::string interval;
  std::string clock = "virtual";
  std::string debug;
  std::string events;
  std::string timeout;
  std::string answer_wait;
  bool load = false;
  std::uint32_t peers = 10000;
  std::uint32_t window = 4096;
  std::string duration = "5s";
};

void print_diagnostics(const ConfigReadResult& read, const std::string& file, std::ostream& out) {
  // "file:line: warning: message: text", as compilers print, so editors can jump to the line.
  for (const Diagnostic& d : read.diagnostics) {
    out << file << ":" << d.line << ": "
        << (d.severity == Diagnostic::Severity::error ? "error: " : "warning: ") << d.message;
    if (!d.text.empty()) {
      out << ": " << d.text;
    }
    out << '\n';
  }
}

int check_config(const GatewayArgs& args) {
  ConfigReadResult read = read_ios_config_file(args.check_config);
  std::cout << describe(read.config);
  print_diagnostics(read, args.check_config, std::cout);
  std::cout << read.count(Diagnostic::Severity::error) << " error(s), "
            << read.count(Diagnostic::Severity::warning)
            << " warning(s): " << (read.usable() ? "usable" : "not usable") << '\n';
  return read.usable() ? 0 : 1;
}

int run(const GatewayArgs& args) {
  auto scenario = parse_scenario_file(args.scenario);
  if (!scenario) {
    std::cerr << "acctlab gateway: " << scenario.error().to_string(args.scenario) << '\n';
    return 1;
  }
  // Without --config, the configuration the scenario names ("# config: lab.cfg").
  std::string config_path =
      args.config.empty() ? scenario_config_path(args.scenario, *scenario) : args.config;
  if (config_path.empty()) {
    std::cerr << "acctlab gateway: give --config (the scenario names no configuration)\n";
    return 1;
  }
  ConfigReadResult read = read_ios_config_file(config_path);
  if (!read.usable()) {
    print_diagnostics(read, config_path, std::cerr);
    std::cerr << "acctlab gateway: " << config_path << " is not usable\n";
    return 1;
  }
  RunOptions options;
  options.servers = args.servers;
  if (!args.secret.empty()) {
    options.secret = args.secret;
  }
  if (!args.tls_servers.empty()) {
    if (!args.servers.empty()) {
      std::cerr << "acctlab gateway: give --server or --server-tls, not both\n";
      return 2;
    }
    options.servers = args.tls_servers;
    RadsecConfig tls;
    tls.certificate = args.tls_cert;
    tls.private_key = args.tls_key;
    tls.ca = args.tls_ca;
    options.tls = tls;
  }
  if (!args.nas_ip.empty()) {
    options.nas_ip = parse_ipv4(args.nas_ip);
    if (!options.nas_ip) {
      std::cerr << "acctlab gateway: --nas-ip must be an IPv4 address\n";
      return 1;
    }
  }
  options.nas_clock_at_zero = args.nas_clock;
  if (!args.interval.empty()) {
    // A bare number is minutes, as in `aaa accounting update periodic`.
    bool bare = args.interval.find_first_not_of("0123456789") == std::string::npos;
    options.interval = parse_duration(bare ? args.interval + "m" : args.interval);
    if (!options.interval) {
      std::cerr << "acctlab gateway: --interval takes minutes or a duration such as 90s\n";
      return 1;
    }
  }
  for (auto [text, target] : {std::pair{&args.timeout, &options.timeout}}) {
    if (!text->empty()) {
      *target = parse_duration(*text);
      if (!*target || target->value().count() == 0) {
        std::cerr << "acctlab gateway: --timeout takes a duration such as 2s or 300ms\n";
        return 1;
      }
    }
  }
  if (!args.answer_wait.empty()) {
    auto wait = parse_duration(args.answer_wait);
    if (!wait) {
      std::cerr << "acctlab gateway: --answer-wait takes a duration such as 500ms\n";
      return 1;
    }
    options.answer_wait = *wait;
  }
  options.real_clock = args.clock == "real";
  for (std::string_view item : {std::string_view("radius"), std::string_view("isakmp-aaa")}) {
    if (args.debug.find(item) != std::string::npos) {
      (item == "radius" ? options.debug_radius : options.debug_isakmp_aaa) = true;
    }
  }
  std::ofstream events_file;
  std::ostream* events = nullptr;
  if (args.events == "-") {
    events = &std::cout;
  } else if (!args.events.empty()) {
    events_file.open(args.events, std::ios::trunc);
    if (!events_file) {
      std::cerr << "acctlab gateway: cannot write " << args.events << '\n';
      return 1;
    }
    events = &events_file;
  }
  RunResult result = run_scenario(read.config, *scenario, options, std::cout, events);
  std::cerr << "acctlab gateway: " << result.starts << " start, " << result.interims << " interim, "
            << result.stops << " stop record(s); " << result.transmissions << " transmission(s), "
            << result.answers << " verified answer(s), " << result.failovers << " failover(s), "
            << result.gave_up << " dropped\n";
  if (!result.ok) {
    std::cerr << "acctlab gateway: " << result.error << '\n';
    return 1;
  }
  return result.gave_up == 0 && result.bad_answers == 0 ? 0 : 2;
}

int load(const GatewayArgs& args) {
  LoadOptions options;
  options.servers = args.servers;
  options.secret = args.secret;
  options.peers = args.peers;
  options.window = args.window;
  auto duration = parse_duration(args.duration);
  if (!duration || duration->count() == 0) {
    std::cerr << "acctlab gateway: --duration takes a duration such as 10s\n";
    return 1;
  }
  options.duration = *duration;
  if (!args.timeout.empty()) {
    auto timeout = parse_duration(args.timeout);
    if (!timeout || timeout->count() == 0) {
      std::cerr << "acctlab gateway: --timeout takes a duration such as 2s\n";
      return 1;
    }
    options.timeout = *timeout;
  }
  if (!args.nas_ip.empty()) {
    auto address = parse_ipv4(args.nas_ip);
    if (!address) {
      std::cerr << "acctlab gateway: --nas-ip must be an IPv4 address\n";
      return 1;
    }
    options.nas_ip = *address;
  }
  if (options.secret.empty()) {
    std::cerr << "acctlab gateway: --load needs --secret\n";
    return 1;
  }
  LoadResult r = run_load(options);
  if (!r.ok) {
    std::cerr << "acctlab gateway: " << r.error << '\n';
    return 1;
  }
  std::cout << "load: " << r.sent << " sent, " << r.answered << " verified answers, " << r.timeouts
            << " timeouts, " << r.bad_answers << " bad answers in " << r.seconds
            << " s: " << static_cast<std::uint64_t>(r.answered_per_second())
            << " answered requests/s; sessions " << r.sessions_started << " started, "
            << r.sessions_stopped << " stopped\n";
  return r.timeouts == 0 && r.bad_answers == 0 ? 0 : 2;
}

acctlab::cli::RegisterCommand reg{
    40, [](CLI::App& app, int& exit_code) {
      auto args = std::make_shared<GatewayArgs>();
      CLI::App* cmd = app.add_subcommand(
          "gateway", "Reference Cisco IOS IPsec VPN gateway: runs a scenario and sends its RADIUS "
                     "accounting to --server");
      cmd->footer(
          "Examples:\n"
          "  acctlab gateway --check-config client/scenarios/doc-no-profile.cfg\n"
          "  acctlab gateway --config client/scenarios/document-debug.cfg \\\n"
          "      --scenario client/scenarios/document-debug.scn --server 127.0.0.1:1813 \\\n"
          "      --secret testing123 --debug radius,isakmp-aaa --events run.jsonl\n"
          "  acctlab gateway --load --server 127.0.0.1:1813 --secret testing123 --peers 20000 \\\n"
          "      --duration 10s\n"
          "Exit status: 0 all records acknowledged, 1 error, 2 records dropped or bad "
          "answers.");
      cmd->add_option("--check-config", args->check_config,
                      "Read an IOS configuration, print the model and the warnings, and exit")
          ->check(CLI::ExistingFile);
      cmd->add_option("--config", args->config,
                      "IOS configuration file (default: the one the scenario names, '# config: F')")
          ->check(CLI::ExistingFile);
      cmd->add_option("--scenario", args->scenario, "Scenario file (docs/gateway.md)")
          ->check(CLI::ExistingFile);
      cmd->add_option("--server", args->servers,
                      "RADIUS accounting server HOST:PORT, once per slot (the configured servers "
                      "are never contacted)");
      cmd->add_option("--secret", args->secret, "Shared secret (overrides the configured keys)");
      // --- RadSec (TLS) ---
      cmd->add_option("--server-tls", args->tls_servers,
                      "RadSec server HOST:PORT (RADIUS over TLS, RFC 6614), once per slot, instead"
                      " of --server; the secret is radsec unless --secret is given");
      cmd->add_option("--tls-cert", args->tls_cert, "RadSec: client certificate, PEM");
      cmd->add_option("--tls-key", args->tls_key, "RadSec: client private key, PEM");
      cmd->add_option("--tls-ca", args->tls_ca, "RadSec: CA of the server's certificate, PEM");
      cmd->add_option("--nas-ip", args->nas_ip, "NAS-IP-Address to send");
      cmd->add_option("--nas-clock", args->nas_clock,
                      "Unix time on the gateway's clock at the scenario's start, for the "
                      "Event-Timestamp 'radius-server attribute 55' sends (default: the "
                      "virtual clock ends the scenario about now)")
          ->check(CLI::Range(0.0, 4294967295.0));
      cmd->add_option(
          "--interval", args->interval,
          "Interim interval: minutes, or a duration such as 90s (overrides the config)");
      cmd->add_option("--clock", args->clock, "virtual (as fast as possible) or real")
          ->check(CLI::IsMember({"virtual", "real"}));
      cmd->add_option("--debug", args->debug, "radius,isakmp-aaa: IOS-style debug output");
      cmd->add_option("--events", args->events,
                      "Write the JSON-lines event log here ('-': stdout)");
      cmd->add_option("--timeout", args->timeout,
                      "Override 'radius-server timeout' (a duration such as 500ms)");
      cmd->add_option(
          "--answer-wait", args->answer_wait,
          "Virtual clock: real time to wait for answers before time moves (default 2s)");
      cmd->add_flag("--load", args->load,
                    "Load mode: --peers simulated peers cycling through sessions, --window "
                    "requests outstanding, for --duration, round-robin over the --server options");
      cmd->add_option("--peers", args->peers, "Load mode: simulated peers (default 10000)")
          ->check(CLI::Range(1u, 1000000u));
      cmd->add_option("--window", args->window, "Load mode: requests outstanding (default 4096)")
          ->check(CLI::Range(1u, 65536u));
      cmd->add_option("--duration", args->duration, "Load mode: how long to send (default 5s)");
      cmd->callback([args, &exit_code, cmd] {
        if (args->load) {
          exit_code = load(*args);
          return;
        }
        if (!args->check_config.empty()) {
          exit_code = check_config(*args);
          return;
        }
        if (args->scenario.empty()) {
          std::cerr << "acctlab gateway: give --check-config FILE, or --scenario (and --config)\n"
                    << cmd->help();
          exit_code = 1;
          return;
        }
        exit_code = run(*args);
      });
    }};

} // namespace
