#include "server/serve_config.hpp"

#include "radius/host_port.hpp"
#include "storage/pg_connection.hpp"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace acctlab::server {
namespace {

namespace fs = std::filesystem;

std::string canonical_key(std::string_view key) {
  std::string name(key);
  std::replace(name.begin(), name.end(), '_', '-');
  return name;
}

std::string in_quotes(std::string_view value) {
  return "\"" + std::string(value) + "\"";
}

template <class Number>
std::optional<Number> parse_number(std::string_view text, Number low, Number high) {
  Number value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < low || value > high) {
    return std::nullopt;
  }
  return value;
}

/** "ADDR:PORT" or "[V6]:PORT" (the port optional with default_port); host_is_ip asks for an
 * address, not a name. */
std::optional<std::string> endpoint_problem(std::string_view text, bool host_is_ip,
                                            std::optional<std::uint16_t> default_port = {}) {
  const auto split = radius::split_host_port(text, default_port);
  if (!split) {
    return split.error();
  }
  const auto address = IpAddress::parse(split->host);
  if (split->bracketed && (!address || !address->v6)) {
    return "'" + split->host + "' is not an IPv6 address";
  }
  if (host_is_ip && !address) {
    return "'" + split->host + "' is not an address";
  }
  return std::nullopt;
}

std::string resolve_path(std::string_view value, std::string_view base_dir) {
  if (base_dir.empty() || value.empty() || value.front() == '/') {
    return std::string(value);
  }
  return (fs::path(base_dir) / fs::path(value)).lexically_normal().string();
}

/** The value part of a line: unquoted up to a `#`, or "quoted" (then only a comment may follow). */
std::optional<std::string> value_of(std::string_view rest, std::string& problem) {
  const auto first = rest.find_first_not_of(" \t");
  if (first == std::string_view::npos) {
    return std::string();
  }
  rest.remove_prefix(first);
  if (rest.front() == '"') {
    const auto close = rest.find('"', 1);
    if (close == std::string_view::npos) {
      problem = "unterminated quoted value";
      return std::nullopt;
    }
    const auto after = rest.substr(close + 1);
    const auto tail = after.find_first_not_of(" \t");
    if (tail != std::string_view::npos && after[tail] != '#') {
      problem = "text after the quoted value: '" + std::string(after.substr(tail)) + "'";
      return std::nullopt;
    }
    return std::string(rest.substr(1, close - 1));
  }
  const auto hash = rest.find('#');
  auto value = rest.substr(0, hash);
  const auto last = value.find_last_not_of(" \t\r");
  return std::string(value.substr(0, last == std::string_view::npos ? 0 : last + 1));
}

} // namespace

const std::vector<ServeKey>& serve_keys() {
  static const std::vector<ServeKey> keys{
      {"listen", "ADDR:PORT",
       "UDP address to listen on ([::1]:1813; default 127.0.0.1:1813); port 0 picks one", true},
      {"db", "FILE|URI",
       "SQLite database file (default ./acctlab.db), or a postgresql:// URI (libpq)", false},
      {"clients", "FILE", "clients.conf-style NAS list (FreeRADIUS format)", false},
      {"debug", "TOPICS", "debug topics, comma-separated: radius", false},
      {"web", "ADDR:PORT", "also serve the report viewer and /metrics on ADDR:PORT", false},
      {"web-tls-cert", "FILE", "PEM certificate chain: the viewer speaks HTTPS only", false},
      {"web-tls-key", "FILE", "PEM private key of web-tls-cert", false},
      {"web-accounts", "FILE", "viewer accounts (acctlab users add): every page asks for a login",
       false},
      {"web-insecure", "yes|no",
       "allow web on an address other than loopback (no TLS, no login: anyone who reaches it "
       "sees user names, addresses and usage)",
       false, true},
      {"stats", "SECONDS", "seconds between stats lines (0: off; default 60)", false},
      {"report-interval", "SECONDS",
       "seconds between writes of the counters to this server's run row (0: only at stop; default "
       "5)",
       false},
      {"interim-default", "SECONDS",
       "interim interval assumed when a session sends none (stale after 3x; default 600)", false},
      {"synchronous", "full|normal|off", "SQLite synchronous setting (default full)", false},
      {"duplicate-window", "SECONDS",
       "seconds a request is remembered for duplicate detection (RFC 5080; default 30)", false},
      {"log-format", "text|json",
       "log lines as text, or as one JSON object per line (default text)", false},
      {"listen-tls", "ADDR[:PORT]",
       "RadSec (RADIUS over TLS, RFC 6614) address, port 2083 when omitted; alone it replaces "
       "the default UDP listener",
       true},
      {"tls-cert", "FILE", "RadSec server certificate (chain), PEM", false},
      {"tls-key", "FILE", "RadSec server private key, PEM", false},
      {"tls-ca", "FILE", "CA certificates RadSec client certificates must chain to, PEM", false},
      {"tls-keylog", "FILE",
       "append the RadSec connections' TLS secrets to FILE (NSS key log format, mode 0600) to "
       "decrypt a capture of them; whoever reads it can decrypt that traffic",
       false},
      {"tls-idle-timeout", "SECONDS",
       "seconds a RadSec connection may stay silent before it is closed (0: never; default 600)",
       false},
      {"tls-max-connections", "N", "most RadSec connections open at once (default 1024)", false},
      {"pg-connections", "N",
       "PostgreSQL: connections the writer commits on, each with a transaction in flight "
       "(1..64; default 2); a SQLite file has one",
       false},
  };
  return keys;
}

std::optional<std::string> set_serve_key(ServeConfig& config, std::string_view key_text,
                                         std::string_view value) {
  const auto key = canonical_key(key_text);
  const auto seconds = [&](std::uint32_t& to) -> std::optional<std::string> {
    if (const auto n = parse_number<std::uint32_t>(value, 0, 86400)) {
      to = *n;
      return std::nullopt;
    }
    return key + " wants a whole number of seconds 0..86400, got " + in_quotes(value);
  };
  if (key == "listen") {
    if (const auto problem = endpoint_problem(value, true)) {
      return "listen " + in_quotes(value) + ": " + *problem;
    }
    config.listen.emplace_back(value);
    return std::nullopt;
  }
  if (key == "listen-tls") {
    // The port may be left out (2083, RFC 6614 §2.3).
    if (const auto problem = endpoint_problem(value, true, 2083)) {
      return "listen-tls " + in_quotes(value) + ": " + *problem;
    }
    config.listen_tls.emplace_back(value);
    return std::nullopt;
  }
  if (key == "tls-idle-timeout") {
    if (const auto n = parse_number<std::uint32_t>(value, 0, 7 * 86400)) {
      config.tls_idle_seconds = *n;
      return std::nullopt;
    }
    return key + " wants a whole number of seconds 0..604800, got " + in_quotes(value);
  }
  if (key == "tls-max-connections") {
    if (const auto n = parse_number<std::uint32_t>(value, 1, 1u << 20)) {
      config.tls_max_connections = *n;
      return std::nullopt;
    }
    return key + " wants a whole number 1..1048576, got " + in_quotes(value);
  }
  if (key == "pg-connections") {
    if (const auto n = parse_number<std::uint32_t>(value, 1, 64)) {
      config.pg_connections = *n;
      return std::nullopt;
    }
    return key + " wants a whole number 1..64, got " + in_quotes(value);
  }
  if (key == "web") {
    if (const auto problem = endpoint_problem(value, false)) {
      return "web " + in_quotes(value) + ": " + *problem;
    }
    config.web = value;
    return std::nullopt;
  }
  if (key == "web-insecure") {
    if (value == "yes" || value == "true") {
      config.web_insecure = true;
    } else if (value == "no" || value == "false") {
      config.web_insecure = false;
    } else {
      return "web-insecure wants yes or no, got " + in_quotes(value);
    }
    return std::nullopt;
  }
  if (key == "db" || key == "clients" || key == "web-tls-cert" || key == "web-tls-key" ||
      key == "web-accounts" || key == "tls-cert" || key == "tls-key" || key == "tls-ca" ||
      key == "tls-keylog") {
    if (value.empty()) {
      return key + " wants a file name";
    }
    (key == "db"             ? config.db
     : key == "clients"      ? config.clients
     : key == "web-tls-cert" ? config.web_tls_cert
     : key == "web-tls-key"  ? config.web_tls_key
     : key == "tls-cert"     ? config.tls_cert
     : key == "tls-key"      ? config.tls_key
     : key == "tls-ca"       ? config.tls_ca
     : key == "tls-keylog"   ? config.tls_keylog
                             : config.web_accounts) = value;
    return std::nullopt;
  }
  if (key == "debug") {
    config.debug_radius = false;
    std::string_view rest = value;
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      auto topic = rest.substr(0, comma);
      while (!topic.empty() && (topic.front() == ' ' || topic.front() == '\t')) {
        topic.remove_prefix(1);
      }
      while (!topic.empty() && (topic.back() == ' ' || topic.back() == '\t')) {
        topic.remove_suffix(1);
      }
      if (topic == "radius") {
        config.debug_radius = true;
      } else if (!topic.empty()) {
        return "unknown debug topic " + in_quotes(topic) + " (known: radius)";
      }
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    }
    return std::nullopt;
  }
  if (key == "stats") {
    return seconds(config.stats_seconds);
  }
  if (key == "report-interval") {
    return seconds(config.report_seconds);
  }
  if (key == "interim-default") {
    return seconds(config.interim_default);
  }
  if (key == "synchronous") {
    if (value == "full") {
      config.synchronous = storage::Synchronous::full;
    } else if (value == "normal") {
      config.synchronous = storage::Synchronous::normal;
    } else if (value == "off") {
      config.synchronous = storage::Synchronous::off;
    } else {
      return "synchronous wants full, normal or off, got " + in_quotes(value);
    }
    return std::nullopt;
  }
  if (key == "duplicate-window") {
    // from_chars for double: accepts "30", "2.5"; the window must be positive and sane.
    double window = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), window);
    if (ec != std::errc() || end != value.data() + value.size() || !(window > 0) || window > 3600) {
      return "duplicate-window wants seconds in (0, 3600], got " + in_quotes(value);
    }
    config.duplicate_window = window;
    return std::nullopt;
  }
  if (key == "log-format") {
    if (value == "text") {
      config.log_format = LogFormat::text;
    } else if (value == "json") {
      config.log_format = LogFormat::json;
    } else {
      return "log-format wants text or json, got " + in_quotes(value);
    }
    return std::nullopt;
  }
  std::string known;
  for (const auto& k : serve_keys()) {
    known += (known.empty() ? "" : ", ") + std::string(k.name);
  }
  return "unknown key " + in_quotes(key_text) + " (known: " + known + ")";
}

LoadedServeConfig parse_serve_config(std::string_view text, std::string_view file, ServeConfig base,
                                     std::string_view base_dir) {
  LoadedServeConfig loaded;
  loaded.config = std::move(base);
  loaded.file = file;
  const auto fail = [&](int line, std::string message) {
    loaded.errors.push_back({std::string(file), line, std::move(message)});
  };
  std::set<std::string> listen_reset; // the file's first listen replaces the base's list
  int number = 0;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const auto newline = text.find('\n', pos);
    auto line = text.substr(pos, newline == std::string_view::npos ? std::string_view::npos
                                                                   : newline - pos);
    pos = newline == std::string_view::npos ? text.size() + 1 : newline + 1;
    ++number;
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string_view::npos || line[first] == '#') {
      continue;
    }
    line.remove_prefix(first);
    const auto equals = line.find('=');
    if (equals == std::string_view::npos) {
      fail(number, "expected key = value, got '" + std::string(line) + "'");
      continue;
    }
    auto key = line.substr(0, equals);
    const auto key_end = key.find_last_not_of(" \t");
    key = key.substr(0, key_end == std::string_view::npos ? 0 : key_end + 1);
    if (key.empty() || key.find_first_of(" \t") != std::string_view::npos) {
      fail(number, "bad key '" + std::string(key) + "'");
      continue;
    }
    std::string problem;
    auto value = value_of(line.substr(equals + 1), problem);
    if (!value) {
      fail(number, std::string(key) + ": " + problem);
      continue;
    }
    const auto name = canonical_key(key);
    const auto* known = [&]() -> const ServeKey* {
      for (const auto& k : serve_keys()) {
        if (k.name == name) {
          return &k;
        }
      }
      return nullptr;
    }();
    if (known && !known->repeatable && loaded.keys_set.count(name)) {
      fail(number, std::string(key) + " is given twice (only listen and listen-tls may repeat)");
      continue;
    }
    if (name == "listen" && listen_reset.insert(name).second) {
      loaded.config.listen.clear();
    }
    if (name == "listen-tls" && listen_reset.insert(name).second) {
      loaded.config.listen_tls.clear();
    }
    if (name == "db" && storage::is_postgres_uri(*value)) {
      // A postgresql:// URI is no path to resolve.
    } else if (name == "db" || name == "clients" || name.starts_with("web-tls") ||
               name == "web-accounts" || name == "tls-cert" || name == "tls-key" ||
               name == "tls-ca" || name == "tls-keylog") {
      *value = resolve_path(*value, base_dir);
    }
    if (const auto error = set_serve_key(loaded.config, key, *value)) {
      fail(number, *error);
      continue;
    }
    loaded.keys_set.insert(name);
    loaded.key_lines[name] = number;
  }
  return loaded;
}

LoadedServeConfig load_serve_config(const std::string& path, ServeConfig base) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    LoadedServeConfig loaded;
    loaded.config = std::move(base);
    loaded.errors.push_back({path, 0, "cannot read the configuration file"});
    return loaded;
  }
  std::ostringstream text;
  text << in.rdbuf();
  const auto dir = fs::path(path).parent_path().string();
  return parse_serve_config(text.str(), path, std::move(base), dir.empty() ? "." : dir);
}

std::vector<ConfigError> check_serve_config(const ServeConfig& config,
                                            const LoadedServeConfig* origin) {
  std::vector<ConfigError> errors;
  // A file named by the configuration file is blamed on the line that named it; one named on
  // the command line has no line.
  const auto blame = [&](const std::string& key, std::string message) {
    if (origin && origin->key_lines.count(key)) {
      errors.push_back({origin->file, origin->key_lines.at(key), key + ": " + message});
    } else {
      errors.push_back({"command line", 0, "--" + key + ": " + message});
    }
  };
  if (!config.clients.empty()) {
    if (auto clients = load_clients_file(config.clients); !clients) {
      if (clients.error().line > 0) {
        errors.push_back(clients.error()); // inside the clients file: its own file:line
      } else {
        blame("clients", "cannot read " + config.clients);
      }
    }
  }
  if (const auto problem = web_exposure_problem(config)) {
    blame("web", *problem);
  }
  if (config.web_tls_cert.empty() != config.web_tls_key.empty()) {
    blame(config.web_tls_cert.empty() ? "web-tls-key" : "web-tls-cert",
          "web-tls-cert and web-tls-key go together");
  }
  for (const auto* key : {"web-tls-cert", "web-tls-key", "web-accounts"}) {
    const auto& path = std::string_view(key) == "web-tls-cert"  ? config.web_tls_cert
                       : std::string_view(key) == "web-tls-key" ? config.web_tls_key
                                                                : config.web_accounts;
    if (std::error_code exists_ec; !path.empty() && !fs::is_regular_file(path, exists_ec)) {
      blame(key, "cannot read " + path);
    }
  }
  const auto db_dir = fs::path(config.db).parent_path();
  std::error_code ec;
  if (storage::is_postgres_uri(config.db)) {
    // A PostgreSQL database is the server's to reach: libpq reports it when serve starts.
  } else if (!db_dir.empty() && !fs::is_directory(db_dir, ec)) {
    blame("db", "the database's folder " + db_dir.string() + " does not exist");
  } else if (std::error_code exists_ec;
             fs::exists(config.db, exists_ec) && !fs::is_regular_file(config.db, exists_ec)) {
    blame("db", config.db + " exists and is not a file");
  }
  return errors;
}

std::optional<std::string> web_exposure_problem(const ServeConfig& config) {
  if (config.web.empty() || config.web_insecure ||
      (!config.web_tls_cert.empty() && !config.web_tls_key.empty() &&
       !config.web_accounts.empty())) {
    return std::nullopt;
  }
  std::string_view host = config.web;
  if (!host.empty() && host.front() == '[') {
    host = host.substr(1, host.find(']') - 1);
  } else {
    host = host.substr(0, host.rfind(':'));
  }
  const auto address = IpAddress::parse(host);
  const bool loopback =
      host == "localhost" || (address && ((!address->v6 && address->bytes[0] == 127) ||
                                          (address->v6 && *address == *IpAddress::parse("::1"))));
  if (loopback) {
    return std::nullopt;
  }
  return "web " + in_quotes(config.web) +
         " is not a loopback address: the viewer shows user names, addresses and usage to anyone "
         "who can reach it; give it web-tls-cert, web-tls-key and web-accounts (a login over "
         "HTTPS), serve it on 127.0.0.1, or set web-insecure = yes";
}

ServerOptions to_server_options(const ServeConfig& config) {
  ServerOptions options;
  if (!config.listen.empty()) {
    options.listen = config.listen;
  } else if (!config.listen_tls.empty()) {
    options.listen.clear(); // listen-tls alone: RadSec only
  }
  options.tls.listen = config.listen_tls;
  options.tls.certificate = config.tls_cert;
  options.tls.private_key = config.tls_key;
  options.tls.ca = config.tls_ca;
  options.tls.keylog_file = config.tls_keylog;
  options.tls.idle_timeout = std::chrono::seconds(config.tls_idle_seconds);
  options.tls.max_connections = config.tls_max_connections;
  options.database = config.db;
  if (!config.clients.empty()) {
    options.clients_file = config.clients;
  }
  options.debug_radius = config.debug_radius;
  options.stats_interval = std::chrono::seconds(config.stats_seconds);
  options.report_interval = std::chrono::seconds(config.report_seconds);
  options.duplicate_window = config.duplicate_window;
  options.writer.matcher.default_interim_interval = config.interim_default;
  options.writer.open.synchronous = config.synchronous;
  if (config.pg_connections) {
    options.writer.pg_connections = static_cast<int>(*config.pg_connections);
  }
  return options;
}

} // namespace acctlab::server
