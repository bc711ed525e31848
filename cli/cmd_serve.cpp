// acctlab serve: the accounting server. Options are wired to server::AccountingServer.

#include "cli/command_registry.hpp"
#include "server/accounting_server.hpp"
#include "web/http_server.hpp"
#include "web/site.hpp"

#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <mutex>

namespace {

using namespace acctlab;

struct ServeArgs {
  std::vector<std::string> listen;
  std::string db = "acctlab.db";
  std::string clients;
  std::vector<std::string> debug;
  int stats_seconds = 60;
  int report_seconds = 5;
  std::uint32_t interim_default = 600;
  std::string synchronous = "full";
  double duplicate_window = 30;
  std::string web; // ADDR:PORT of the report viewer, empty: none
};

int serve(const ServeArgs& args) {
  server::ServerOptions options;
  if (!args.listen.empty()) {
    options.listen = args.listen;
  }
  options.database = args.db;
  if (!args.clients.empty()) {
    options.clients_file = args.clients;
  }
  for (const auto& topic : args.debug) {
    if (topic == "radius") {
      options.debug_radius = true;
    } else {
      std::cerr << "acctlab serve: unknown --debug topic '" << topic << "' (known: radius)\n";
      return 2;
    }
  }
  options.stats_interval = std::chrono::seconds(args.stats_seconds);
  options.report_interval = std::chrono::seconds(args.report_seconds);
  options.duplicate_window = args.duplicate_window;
  options.writer.matcher.default_interim_interval = args.interim_default;
  if (args.synchronous == "normal") {
    options.writer.open.synchronous = storage::Synchronous::normal;
  } else if (args.synchronous == "off") {
    options.writer.open.synchronous = storage::Synchronous::off;
  }
  std::mutex log_mutex;
  auto sink = [&log_mutex](server::LogLevel level, std::string_view nas, std::string_view line) {
    std::lock_guard lock(log_mutex);
    if (level == server::LogLevel::debug) {
      std::cout << line << '\n' << std::flush;
      return;
    }
    std::cerr << "acctlab serve: " << server::to_string(level);
    if (!nas.empty()) {
      std::cerr << " [" << nas << "]";
    }
    std::cerr << ": " << line << '\n' << std::flush;
  };
  try {
    server::AccountingServer accounting(options, sink);
    // --web: the report viewer over the same database, read-only (WAL lets both run).
    std::unique_ptr<web::Site> site;
    std::unique_ptr<web::HttpServer> viewer;
    if (!args.web.empty()) {
      web::ServerOptions web_options;
      if (!web::parse_listen(args.web, web_options.address, web_options.port)) {
        std::cerr << "acctlab serve: --web wants ADDRESS:PORT, got \"" << args.web << "\"\n";
        return 2;
      }
      site = std::make_unique<web::Site>(args.db);
      viewer = std::make_unique<web::HttpServer>(*site, web_options);
      viewer->start();
      std::cerr << "acctlab serve: report viewer on http://" << args.web << "/\n";
    }
    accounting.run();
    if (viewer) {
      viewer->stop();
    }
  } catch (const std::exception& e) {
    std::cerr << "acctlab serve: " << e.what() << '\n';
    return 1;
  }
  return 0;
}

acctlab::cli::RegisterCommand reg{
    10, [](CLI::App& app, int& exit_code) {
      auto args = std::make_shared<ServeArgs>();
      auto* cmd = app.add_subcommand("serve", "Run the RADIUS accounting server (RFC 2866)");
      cmd->footer(
          "Examples:\n"
          "  acctlab serve                                   # 127.0.0.1:1813, ./acctlab.db,"
          " 127.0.0.1 with secret testing123\n"
          "  acctlab serve --listen 0.0.0.0:1646 --listen [::]:1813 --clients clients.conf"
          " --db /var/lib/acctlab.db\n"
          "  acctlab serve --debug radius --stats 10\n"
          "  acctlab serve --db postgresql://acct@db.example/acct   # servers sharing one "
          "database\n"
          "SIGHUP reloads the clients file; SIGTERM/SIGINT commit and answer what is in flight"
          " and exit 0.");
      cmd->add_option("--listen", args->listen, "ADDR:PORT to listen on, repeatable ([::1]:1813)");
      cmd->add_option("--db", args->db, "SQLite database file, or a postgresql:// URI (libpq)")
          ->capture_default_str();
      cmd->add_option("--clients", args->clients, "clients.conf-style NAS list");
      cmd->add_option("--debug", args->debug, "debug topics: radius")->delimiter(',');
      cmd->add_option("--web", args->web, "Also serve the report viewer on ADDR:PORT");
      cmd->add_option("--stats", args->stats_seconds, "seconds between stats lines (0: off)")
          ->capture_default_str();
      cmd->add_option("--report-interval", args->report_seconds,
                      "seconds between writes of the counters to this server's run row, which the"
                      " viewer shows (0: only at stop)")
          ->check(CLI::Range(0, 86400))
          ->capture_default_str();
      cmd->add_option("--interim-default", args->interim_default,
                      "interim interval assumed when a session sends none (stale after 3x)")
          ->capture_default_str();
      cmd->add_option("--synchronous", args->synchronous, "SQLite synchronous: full, normal, off")
          ->check(CLI::IsMember({"full", "normal", "off"}))
          ->capture_default_str();
      cmd->add_option("--duplicate-window", args->duplicate_window,
                      "seconds a request is remembered for duplicate detection (RFC 5080)")
          ->capture_default_str();
      cmd->callback([args, &exit_code] { exit_code = serve(*args); });
    }};

} // namespace
