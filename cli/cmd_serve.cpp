// acctlab serve: the accounting server. Options come from --config FILE (server/serve_config.hpp)
// and the command line, which overrides the file key by key; both go through one validator.

#include "cli/command_registry.hpp"
#include "cli/version.hpp" // generated: ACCTLAB_VERSION, ACCTLAB_GIT_COMMIT
#include "server/accounting_server.hpp"
#include "server/serve_config.hpp"
#include "web/auth.hpp"
#include "web/http_server.hpp"
#include "web/site.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>

namespace {

using namespace acctlab;

struct ServeArgs {
  std::string config_file;
  bool check_config = false;
  // Each key of server::serve_keys() as given on the command line, unparsed: the same validator
  // reads them as reads the file, so both say the same thing about the same mistake.
  std::map<std::string, std::vector<std::string>, std::less<>> given;
};

/** The configuration from the file (if any) with the command line on top; false on errors. */
bool resolve_config(const ServeArgs& args, server::ServeConfig& config,
                    server::LoadedServeConfig* origin = nullptr) {
  bool ok = true;
  if (!args.config_file.empty()) {
    auto loaded = server::load_serve_config(args.config_file);
    for (const auto& error : loaded.errors) {
      std::cerr << error.to_string() << '\n';
      ok = false;
    }
    config = loaded.config;
    if (origin) {
      *origin = std::move(loaded);
    }
  }
  for (const auto& key : server::serve_keys()) {
    const auto it = args.given.find(key.name);
    if (it == args.given.end() || it->second.empty()) {
      continue;
    }
    if (key.name == "listen") {
      config.listen.clear(); // the command line's listeners replace the file's
    } else if (key.name == "listen-tls") {
      config.listen_tls.clear();
    }
    for (const auto& value : it->second) {
      if (const auto error = server::set_serve_key(config, key.name, value)) {
        std::cerr << "acctlab serve: --" << *error << '\n';
        ok = false;
      }
    }
  }
  return ok;
}

int check_config(const ServeArgs& args) {
  server::ServeConfig config;
  server::LoadedServeConfig origin;
  bool ok = resolve_config(args, config, &origin);
  // A key the command line overrode is not the file's to blame.
  for (const auto& [key, values] : args.given) {
    if (!values.empty()) {
      origin.key_lines.erase(key);
    }
  }
  for (const auto& error : server::check_serve_config(config, &origin)) {
    std::cerr << (error.line == 0 && error.file == "command line"
                      ? "acctlab serve: " + error.message
                      : error.to_string())
              << '\n';
    ok = false;
  }
  if (!ok) {
    std::cerr << "acctlab serve: configuration has errors\n";
    return 2;
  }
  std::cout << "acctlab serve: configuration OK"
            << (args.config_file.empty() ? std::string() : " (" + args.config_file + ")") << '\n';
  return 0;
}

int serve(const ServeArgs& args) {
  if (args.check_config) {
    return check_config(args);
  }
  server::ServeConfig config;
  if (!resolve_config(args, config)) {
    return 2;
  }
  if (const auto problem = server::web_exposure_problem(config)) {
    std::cerr << "acctlab serve: " << *problem << '\n';
    return 2;
  }
  auto options = server::to_server_options(config);
  // Every line goes through one printer: text for people, or one JSON object per line
  // (log-format json) for journald and log shippers. Debug lines go to stdout, the rest to stderr.
  std::mutex log_mutex;
  const auto format = config.log_format;
  server::LogSink sink = [&log_mutex, format](const server::LogEntry& entry) {
    using namespace std::chrono;
    const auto line =
        format == server::LogFormat::json
            ? server::format_log_json(
                  entry, duration<double>(system_clock::now().time_since_epoch()).count())
            : server::format_log_text(entry, "acctlab serve");
    std::lock_guard lock(log_mutex);
    (entry.level == server::LogLevel::debug ? std::cout : std::cerr) << line << '\n' << std::flush;
  };
  const auto say = [&sink](server::LogLevel level, std::string_view event, const std::string& line,
                           std::vector<server::LogField> fields = {}) {
    sink(server::LogEntry{level, event, {}, line, fields});
  };
  try {
    // The viewer's NAS groups (operators) come from the server's clients file and follow its
    // reloads (SIGHUP), which run() handles once the site below is set.
    std::unique_ptr<web::Site> site;
    options.on_clients_reloaded = [&site](const server::ClientList& reloaded) {
      if (site) {
        site->set_clients(reloaded);
      }
    };
    server::AccountingServer accounting(options, sink);
    // web: the report viewer over the same database, read-only (WAL lets both run).
    std::unique_ptr<web::Authenticator> authenticator;
    std::unique_ptr<web::HttpServer> viewer;
    if (!config.web.empty()) {
      web::ServerOptions web_options;
      web_options.tls_cert = config.web_tls_cert;
      web_options.tls_key = config.web_tls_key;
      if (!web::parse_listen(config.web, web_options.address, web_options.port)) {
        say(server::LogLevel::error, "config_error",
            "web wants ADDRESS:PORT, got \"" + config.web + "\"");
        return 2;
      }
      site = std::make_unique<web::Site>(config.db);
      if (!config.clients.empty()) {
        // The server has read it already (it would have stopped on an error).
        if (auto clients = server::load_clients_file(config.clients)) {
          site->set_clients(std::move(*clients));
        }
      }
      if (!config.web_accounts.empty()) {
        auto accounts = web::load_accounts(config.web_accounts);
        if (!accounts) {
          say(server::LogLevel::error, "config_error", accounts.error());
          return 2;
        }
        if (config.clients.empty() &&
            std::any_of(accounts->begin(), accounts->end(),
                        [](const web::Account& a) { return !a.admin(); })) {
          say(server::LogLevel::error, "config_error",
              config.web_accounts +
                  " has operator accounts, which see the NASes of their groups: the clients "
                  "file (clients = FILE) says which NAS is in which group (`group = NAME`)");
          return 2;
        }
        authenticator = std::make_unique<web::Authenticator>(std::move(*accounts));
        site->set_authenticator(authenticator.get());
      }
      site->set_metrics_source([&accounting] {
        return server::format_prometheus(accounting.metrics(), ACCTLAB_VERSION, ACCTLAB_GIT_COMMIT);
      });
      viewer = std::make_unique<web::HttpServer>(*site, web_options);
      viewer->start();
      if (!web::is_loopback(web_options.address) &&
          (config.web_tls_cert.empty() || config.web_accounts.empty())) {
        say(server::LogLevel::warning, "web_insecure",
            "web-insecure: serving personal data without " +
                std::string(config.web_tls_cert.empty() ? "TLS" : "a login") + " on " + config.web,
            {{"web", config.web}});
      }
      say(server::LogLevel::info, "web_listening", "report viewer on http://" + config.web + "/",
          {{"web", config.web}});
    }
    if (!config.tls_keylog.empty() && !config.listen_tls.empty()) {
      say(server::LogLevel::warning, "tls_keylog",
          "tls-keylog: the RadSec connections' TLS secrets are written to " + config.tls_keylog +
              "; whoever reads it can decrypt their traffic",
          {{"file", config.tls_keylog}});
    }
    accounting.run();
    if (viewer) {
      viewer->stop();
    }
  } catch (const std::exception& e) {
    say(server::LogLevel::error, "fatal", e.what());
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
          "  acctlab serve --config /etc/acctlab/acctlab.conf --stats 10\n"
          "  acctlab serve --config /etc/acctlab/acctlab.conf --check-config\n"
          "  acctlab serve --debug radius --stats 10\n"
          "  acctlab serve --db postgresql://acct@db.example/acct   # servers sharing one "
          "database\n"
          "The configuration file takes the options below as `key = value` lines (docs/server.md);"
          " the command line overrides it.\n"
          "SIGHUP reloads the clients file; SIGTERM/SIGINT commit and answer what is in flight"
          " and exit 0.");
      cmd->add_option("--config", args->config_file,
                      "configuration file: one `key = value` per option below");
      cmd->add_flag("--check-config", args->check_config,
                    "validate the configuration (file:line for each error) and exit: 0 when good");
      for (const auto& key : server::serve_keys()) {
        if (key.flag) {
          // A flag on the command line ("--web-insecure"), yes|no in the file.
          auto& values = args->given[std::string(key.name)];
          cmd->add_flag_callback(
              "--" + std::string(key.name), [&values] { values = {"yes"}; }, std::string(key.help));
          continue;
        }
        // --secrets is what every other command calls the clients file.
        const auto names = key.name == "clients" ? std::string("--clients,--secrets")
                                                 : "--" + std::string(key.name);
        auto* option =
            cmd->add_option(names, args->given[std::string(key.name)], std::string(key.help));
        option->type_name(std::string(key.value_hint));
        if (key.name == "debug") {
          option->delimiter(',');
        } else if (!key.repeatable) {
          option->expected(1);
          option->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
        }
      }
      cmd->callback([args, &exit_code] { exit_code = serve(*args); });
    }};

} // namespace
