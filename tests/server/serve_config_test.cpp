// server/serve_config.hpp: acctlab serve's configuration file, as an administrator writes it.
#include "../storage/storage_test_util.hpp"
#include "server/serve_config.hpp"

#include <catch2/catch.hpp>
#include <fstream>

using namespace acctlab;
using server::parse_serve_config;

TEST_CASE("a good configuration file sets every option it names", "[server][config]") {
  const auto loaded = parse_serve_config(R"(# acctlab.conf
listen = 127.0.0.1:1813
listen = "[::1]:1813"      # quoted, then a comment
db = state/acct.db
clients = /etc/acctlab/clients.conf
debug = radius
web = localhost:8080
stats = 10
report_interval = 2        # '_' and '-' are the same in keys
interim-default = 300
synchronous = normal
duplicate-window = 2.5
pg-connections = 3
)",
                                         "a.conf", {}, "/srv/acctlab");
  REQUIRE(loaded.errors.empty());
  const auto& c = loaded.config;
  CHECK(c.listen == std::vector<std::string>{"127.0.0.1:1813", "[::1]:1813"});
  CHECK(c.db == "/srv/acctlab/state/acct.db"); // relative to the file's folder
  CHECK(c.clients == "/etc/acctlab/clients.conf");
  CHECK(c.debug_radius);
  CHECK(c.web == "localhost:8080");
  CHECK(c.stats_seconds == 10);
  CHECK(c.report_seconds == 2);
  CHECK(c.interim_default == 300);
  CHECK(c.synchronous == storage::Synchronous::normal);
  CHECK(c.duplicate_window == 2.5);
  CHECK(c.pg_connections == 3u);
  CHECK(loaded.key_lines.at("report-interval") == 9);

  const auto options = server::to_server_options(c);
  CHECK(options.listen == c.listen);
  CHECK(options.database == c.db);
  CHECK(options.clients_file == c.clients);
  CHECK(options.stats_interval == std::chrono::seconds(10));
  CHECK(options.writer.matcher.default_interim_interval == 300);
  CHECK(options.writer.open.synchronous == storage::Synchronous::normal);
  CHECK(options.writer.pg_connections == 3);
}

TEST_CASE("an empty file keeps the defaults of the command line", "[server][config]") {
  const auto loaded = parse_serve_config("\n# nothing\n   \n", "empty.conf");
  REQUIRE(loaded.errors.empty());
  CHECK(loaded.config.db == "acctlab.db");
  CHECK(loaded.config.stats_seconds == 60);
  CHECK(loaded.config.synchronous == storage::Synchronous::full);
  CHECK(server::to_server_options(loaded.config).listen ==
        std::vector<std::string>{"127.0.0.1:1813"});
  // Unset: the writer's own default.
  CHECK(server::to_server_options(loaded.config).writer.pg_connections ==
        storage::WriterOptions{}.pg_connections);
}

TEST_CASE("every mistake of a file is reported with its line, in one pass", "[server][config]") {
  const auto loaded = parse_serve_config(R"(listen = 127.0.0.1
stats = ten
bogus = 1
db = a.db
db = b.db
synchronous = sometimes
just text
web = "unterminated
listen = 300.1.1.1:1813
listen = 127.0.0.1:70000
duplicate-window = 0
debug = radius,isakmp
report-interval = 86401
pg-connections = 65
pg_connections = two
stats = 5
)",
                                         "bad.conf");
  std::vector<std::string> errors;
  for (const auto& e : loaded.errors) {
    errors.push_back(e.to_string());
  }
  CHECK(errors ==
        std::vector<std::string>{
            "bad.conf:1: listen \"127.0.0.1\": expected ADDR:PORT (IPv6 as [ADDR]:PORT)",
            "bad.conf:2: stats wants a whole number of seconds 0..86400, got \"ten\"",
            "bad.conf:3: unknown key \"bogus\" (known: listen, db, clients, debug, web, "
            "web-tls-cert, web-tls-key, web-accounts, web-insecure, "
            "stats, report-interval, interim-default, synchronous, duplicate-window, "
            "log-format, listen-tls, tls-cert, tls-key, tls-ca, tls-keylog, tls-idle-timeout, "
            "tls-max-connections, pg-connections)",
            "bad.conf:5: db is given twice (only listen and listen-tls may repeat)",
            "bad.conf:6: synchronous wants full, normal or off, got \"sometimes\"",
            "bad.conf:7: expected key = value, got 'just text'",
            "bad.conf:8: web: unterminated quoted value",
            "bad.conf:9: listen \"300.1.1.1:1813\": '300.1.1.1' is not an address",
            "bad.conf:10: listen \"127.0.0.1:70000\": bad port '70000'",
            "bad.conf:11: duplicate-window wants seconds in (0, 3600], got \"0\"",
            "bad.conf:12: unknown debug topic \"isakmp\" (known: radius)",
            "bad.conf:13: report-interval wants a whole number of seconds 0..86400, got "
            "\"86401\"",
            "bad.conf:14: pg-connections wants a whole number 1..64, got \"65\"",
            "bad.conf:15: pg-connections wants a whole number 1..64, got \"two\""});
  // A line after the errors still counts: the file is read to its end.
  CHECK(loaded.config.stats_seconds == 5);
}

TEST_CASE("check-config blames a missing file on the line that named it", "[server][config]") {
  test::TempDir dir;
  const auto conf = dir.file("acctlab.conf");
  std::ofstream(conf) << "db = nowhere/acct.db\n\nclients = missing.conf\n";
  const auto loaded = server::load_serve_config(conf);
  REQUIRE(loaded.errors.empty());
  const auto errors = server::check_serve_config(loaded.config, &loaded);
  REQUIRE(errors.size() == 2);
  CHECK(errors[0].to_string() == conf + ":3: clients: cannot read " + dir.file("missing.conf"));
  CHECK(errors[1].to_string() ==
        conf + ":1: db: the database's folder " + dir.file("nowhere") + " does not exist");

  // A clients file that exists but is wrong keeps its own file:line.
  std::ofstream(dir.file("missing.conf")) << "client x {\n  ipaddr = 1.2.3.400\n  secret = s\n}\n";
  std::filesystem::create_directory(dir.file("nowhere"));
  const auto again = server::check_serve_config(loaded.config, &loaded);
  REQUIRE(again.size() == 1);
  CHECK(again[0].file == dir.file("missing.conf"));
  CHECK(again[0].line == 2);
}

TEST_CASE("an unreadable configuration file is an error, not the defaults", "[server][config]") {
  const auto loaded = server::load_serve_config("/nonexistent/acctlab.conf");
  REQUIRE(loaded.errors.size() == 1);
  CHECK(loaded.errors[0].to_string() ==
        "/nonexistent/acctlab.conf:0: cannot read the configuration file");
}

TEST_CASE("the viewer stays on loopback unless web-insecure says otherwise", "[server][config]") {
  const auto problem = [](std::string web, bool insecure = false) {
    server::ServeConfig config;
    config.web = std::move(web);
    config.web_insecure = insecure;
    return server::web_exposure_problem(config).has_value();
  };
  CHECK_FALSE(problem(""));
  CHECK_FALSE(problem("127.0.0.1:8080"));
  CHECK_FALSE(problem("127.9.8.7:8080"));
  CHECK_FALSE(problem("localhost:8080"));
  CHECK_FALSE(problem("[::1]:8080"));
  CHECK(problem("0.0.0.0:8080"));
  CHECK(problem("192.0.2.10:8080"));
  CHECK(problem("[::]:8080"));
  CHECK(problem("viewer.example:8080"));
  CHECK_FALSE(problem("0.0.0.0:8080", true));

  auto loaded = parse_serve_config("web = 0.0.0.0:8080\n", "w.conf");
  REQUIRE(loaded.errors.empty());
  auto errors = server::check_serve_config(loaded.config, &loaded);
  REQUIRE(errors.size() == 1);
  CHECK_THAT(errors[0].to_string(), Catch::StartsWith("w.conf:1: web: web \"0.0.0.0:8080\" is "
                                                      "not a loopback address"));
  loaded = parse_serve_config("web = 0.0.0.0:8080\nweb_insecure = yes\n", "w.conf");
  REQUIRE(loaded.errors.empty());
  CHECK(server::check_serve_config(loaded.config, &loaded).empty());
  CHECK(parse_serve_config("web-insecure = maybe\n", "w.conf").errors.size() == 1);
}
