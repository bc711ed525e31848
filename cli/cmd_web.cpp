// acctlab web: serves the report viewer over HTTP, read-only over an acctlab database.

#include "cli/command_registry.hpp"
#include "server/clients_file.hpp"
#include "storage/pg_schema.hpp"
#include "storage/schema.hpp"
#include "web/auth.hpp"
#include "web/http_server.hpp"
#include "web/nas_scope.hpp"
#include "web/site.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>

namespace acctlab::cli {
namespace {

struct WebArgs {
  std::string db;
  std::string listen = "127.0.0.1:8080";
  int threads = 2;
  bool insecure = false;
  std::string tls_cert;
  std::string tls_key;
  std::string accounts;
  std::string clients;
  double operator_live_interval = 10;
};

void install_web(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<WebArgs>();
  auto* cmd = app.add_subcommand("web", "Serve the report viewer (HTML pages, JSON API, live "
                                        "overview) over HTTP, read-only");
  cmd->footer("Examples:\n  acctlab web --db acctlab.db\n"
              "  acctlab web --db postgresql://acct@db.example/acct   # what servers share\n"
              "  acctlab web --db acctlab.db --listen 127.0.0.1:9090\n"
              "  acctlab web --db acctlab.db --listen 0.0.0.0:8080 --insecure   # any address:"
              " no TLS, no login\n"
              "  acctlab web --db acctlab.db --listen 0.0.0.0:8443 --tls-cert c.pem --tls-key "
              "k.pem --accounts viewer.accounts --clients clients.conf   # operators: NAS groups\n"
              "SIGHUP reads the clients file again (its `group = NAME` lines).\n"
              "Pages: /  /sessions  /usage  /conformance  /runs  /nas; JSON twins under /api/.");
  cmd->add_option("--db", args->db,
                  "acctlab database: a SQLite file or a postgresql:// URI (read-only)")
      ->required();
  cmd->add_option("--listen", args->listen, "ADDRESS:PORT to listen on (port 0: any free port)")
      ->capture_default_str();
  cmd->add_option("--tls-cert", args->tls_cert, "PEM certificate chain: serve HTTPS only");
  cmd->add_option("--tls-key", args->tls_key, "PEM private key of --tls-cert");
  cmd->add_option("--accounts", args->accounts,
                  "accounts file (acctlab users add): every page asks for a login");
  cmd->add_option("--clients,--secrets", args->clients,
                  "clients file (as serve's): its `group = NAME` lines say which NASes an "
                  "operator account sees");
  cmd->add_flag("--insecure", args->insecure,
                "Serve on an address other than loopback: the pages show user names, addresses "
                "and usage to anyone who can reach it (no TLS, no login)");
  cmd->add_option("--operator-live-interval", args->operator_live_interval,
                  "SECONDS: an operator's live counters (/events) are recounted at most this "
                  "often, however often the database changes")
      ->check(CLI::Range(0.0, 3600.0))
      ->capture_default_str();
  cmd->add_option("--threads", args->threads, "HTTP worker threads")
      ->check(CLI::Range(1, 16))
      ->capture_default_str();
  cmd->callback([args, &exit_code] {
    web::ServerOptions options;
    if (!web::parse_listen(args->listen, options.address, options.port)) {
      std::cerr << "acctlab web: --listen wants ADDRESS:PORT, got \"" << args->listen << "\"\n";
      exit_code = 2;
      return;
    }
    options.threads = args->threads;
    options.tls_cert = args->tls_cert;
    options.tls_key = args->tls_key;
    if (args->tls_cert.empty() != args->tls_key.empty()) {
      std::cerr << "acctlab web: --tls-cert and --tls-key go together\n";
      exit_code = 2;
      return;
    }
    const bool protected_ = !args->tls_cert.empty() && !args->accounts.empty();
    if (!web::is_loopback(options.address) && !protected_) {
      if (!args->insecure) {
        std::cerr << "acctlab web: " << options.address
                  << " is not a loopback address: the viewer shows user names, addresses and "
                     "usage to anyone who can reach it. Give it --tls-cert, --tls-key and "
                     "--accounts (a login over HTTPS), serve it on 127.0.0.1, or add --insecure "
                     "to serve it there without either\n";
        exit_code = 2;
        return;
      }
      std::cerr << "acctlab web: WARNING: --insecure: serving personal data without "
                << (args->tls_cert.empty() ? "TLS" : "a login") << " on " << options.address
                << '\n';
    }
    std::unique_ptr<web::Authenticator> authenticator;
    std::vector<web::Account> account_list;
    if (!args->accounts.empty()) {
      auto accounts = web::load_accounts(args->accounts);
      if (!accounts) {
        std::cerr << "acctlab web: " << accounts.error() << '\n';
        exit_code = 2;
        return;
      }
      const bool operators = std::any_of(accounts->begin(), accounts->end(),
                                         [](const web::Account& a) { return !a.admin(); });
      if (operators && args->clients.empty()) {
        std::cerr << "acctlab web: " << args->accounts
                  << " has operator accounts, which see the NASes of their groups: give "
                     "--clients FILE, the clients file whose entries say `group = NAME`\n";
        exit_code = 2;
        return;
      }
      account_list = *accounts;
      authenticator = std::make_unique<web::Authenticator>(std::move(*accounts));
    }
    std::optional<server::ClientList> clients;
    if (!args->clients.empty()) {
      auto loaded = server::load_clients_file(args->clients);
      if (!loaded) {
        std::cerr << "acctlab web: " << loaded.error().to_string() << '\n';
        exit_code = 2;
        return;
      }
      if (!args->accounts.empty()) {
        for (const auto& group : web::unknown_groups(account_list, *loaded)) {
          std::cerr << "acctlab web: warning: NAS group " << group << " of " << args->accounts
                    << " has no client in " << args->clients << '\n';
        }
      }
      clients = std::move(*loaded);
    }
    try {
      // A database from an older build lacks what the pages read (schema version 3): bring it
      // up to date once, as any acctlab writer opening it would. A missing file is left to the
      // site to refuse (the viewer never creates a database).
      if (storage::is_postgres_uri(args->db)) {
        // The same on PostgreSQL: the read model is replaced by whichever build migrates.
        storage::PgConnection db(args->db);
        storage::migrate_postgres_if_present(db);
      } else if (std::filesystem::is_regular_file(args->db)) {
        storage::Database db(args->db, {.create = false});
        if (storage::schema_version(db) > 0 &&
            storage::schema_version(db) < storage::current_schema_version()) {
          std::cerr << "acctlab web: migrating " << args->db << " to schema version "
                    << storage::current_schema_version() << std::endl;
          storage::migrate(db);
        }
      }
      web::Site site(args->db);
      site.set_authenticator(authenticator.get());
      site.set_scoped_live_interval(std::chrono::milliseconds(
          static_cast<std::int64_t>(args->operator_live_interval * 1000)));
      if (clients) {
        site.set_clients(std::move(*clients));
        options.on_hangup = [&site, path = args->clients] {
          auto loaded = server::load_clients_file(path);
          if (!loaded) {
            std::cerr << "acctlab web: reload failed, keeping the previous NAS groups: "
                      << loaded.error().to_string() << std::endl;
            return;
          }
          std::cerr << "acctlab web: reloaded " << path << ": " << loaded->clients().size()
                    << " clients" << std::endl;
          site.set_clients(std::move(*loaded));
        };
      }
      web::HttpServer server(site, options);
      const bool v6 = options.address.find(':') != std::string::npos;
      std::cerr << "acctlab web: serving " << storage::database_display_name(args->db)
                << (options.tls_cert.empty() ? " on http://" : " on https://")
                << (v6 ? "[" + options.address + "]" : options.address) << ':' << server.port()
                << "/ (Ctrl-C stops)" << std::endl;
      server.run(true);
    } catch (const std::exception& e) {
      std::cerr << "acctlab web: " << e.what() << '\n';
      exit_code = 1;
    }
  });
}

const RegisterCommand web_registration{60, install_web};

} // namespace
} // namespace acctlab::cli
