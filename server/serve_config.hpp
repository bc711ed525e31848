#pragma once
// acctlab serve's configuration file: one `key = value` per line, the keys being the long option
// names of `acctlab serve` (so the file and the command line say the same thing the same way):
//
//   # /etc/acctlab/acctlab.conf
//   listen = 0.0.0.0:1813            # repeatable
//   db = /var/lib/acctlab/acctlab.db # relative paths are relative to this file's folder
//   clients = clients.conf
//   stats = 60
//
// `#` starts a comment outside quotes; a value may be "quoted"; `_` and `-` are the same in keys.
// Every mistake is reported with file:line, all of them in one pass (as radiusd -C does), so an
// administrator fixes the file once. No Asio here.

#include "server/accounting_server.hpp"
#include "server/clients_file.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace acctlab::server {

enum class LogFormat { text, json };

/** Everything `acctlab serve` can be told, from its file or its command line. */
struct ServeConfig {
  std::vector<std::string> listen; // empty: ServerOptions' default (127.0.0.1:1813)
  std::string db = "acctlab.db";
  std::string clients; // empty: 127.0.0.1 and ::1 with secret testing123
  bool debug_radius = false;
  std::uint32_t stats_seconds = 60;
  std::uint32_t report_seconds = 5;
  std::uint32_t interim_default = 600;
  storage::Synchronous synchronous = storage::Synchronous::full;
  double duplicate_window = 30;
  std::string web;           // ADDR:PORT of the report viewer; empty: none
  bool web_insecure = false; // serve the viewer on an address other than loopback
  std::string web_tls_cert;  // PEM files: the viewer speaks HTTPS only
  std::string web_tls_key;
  std::string web_accounts; // accounts file: the viewer asks for a login
  LogFormat log_format = LogFormat::text;
  // RadSec (RFC 6614): TLS listeners and their certificates.
  std::vector<std::string> listen_tls; // ADDR[:PORT], port 2083 when omitted
  std::string tls_cert;
  std::string tls_key;
  std::string tls_ca;
  std::string tls_keylog;               // RadSec TLS secrets appended here (a debugging aid)
  std::uint32_t tls_idle_seconds = 600; // 0: never
  std::uint32_t tls_max_connections = 1024;
  // PostgreSQL: the writer's connections, each with a transaction in flight (unset: storage's
  // default, WriterOptions::pg_connections). A SQLite file has one writer connection.
  std::optional<std::uint32_t> pg_connections;
};

/** One key a configuration file (and the command line) may set. */
struct ServeKey {
  std::string_view name; // as on the command line without "--": "report-interval"
  std::string_view value_hint;
  std::string_view help;
  bool repeatable = false;
  bool flag = false; // on the command line a flag without a value; in the file yes|no
};

/** Every key, in the order docs and --help list them. */
const std::vector<ServeKey>& serve_keys();

/**
 * Sets one key from its text into config. Returns the reason when the key is unknown or the value
 * is wrong ("stats wants a whole number of seconds 0..86400, got \"ten\""); nullopt on success.
 * For a repeatable key each call adds a value.
 */
std::optional<std::string> set_serve_key(ServeConfig& config, std::string_view key,
                                         std::string_view value);

struct LoadedServeConfig {
  ServeConfig config;
  std::set<std::string> keys_set;       // canonical names the file gave
  std::string file;                     // where they came from
  std::map<std::string, int> key_lines; // canonical name -> line that (last) set it
  std::vector<ConfigError> errors;      // every error found, in file order
};

/** Parses configuration text onto base; relative paths resolve against base_dir (if non-empty). */
LoadedServeConfig parse_serve_config(std::string_view text, std::string_view file,
                                     ServeConfig base = {}, std::string_view base_dir = {});
/** Reads and parses a configuration file; relative paths resolve against its folder. */
LoadedServeConfig load_serve_config(const std::string& path, ServeConfig base = {});

/**
 * What `acctlab serve --check-config` checks beyond the syntax: the clients file parses (its
 * errors keep their own file:line), the database's folder exists. A problem with a file the
 * configuration file named is reported at the line that named it (origin, when given).
 */
std::vector<ConfigError> check_serve_config(const ServeConfig& config,
                                            const LoadedServeConfig* origin = nullptr);

/**
 * The report viewer shows personal data: on an address other than loopback (127.0.0.0/8, ::1,
 * localhost) it needs TLS and accounts (web-tls-cert, web-tls-key, web-accounts), or
 * web-insecure. The reason when refused.
 */
std::optional<std::string> web_exposure_problem(const ServeConfig& config);

/** The server's options for this configuration (web and log_format are the caller's). */
ServerOptions to_server_options(const ServeConfig& config);

} // namespace acctlab::server
