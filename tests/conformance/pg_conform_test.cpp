// `acctlab conform --db postgresql://...`: the embedded servers of a scenario write one private
// PostgreSQL 15 database (tests/support/pg_cluster.hpp), the scenario passes as it does on SQLite
// files, and `acctlab web --db` on that database shows its run and findings. Skipped (77) without
// PostgreSQL.

#include "tests/support/loopback_socket.hpp"
#include "tests/support/pg_cluster.hpp"
#include "tests/web/http_client.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <csignal>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace acctlab;
using namespace std::chrono_literals;

namespace {

const std::string binary = std::string(ACCTLAB_BINARY_DIR) + "/acctlab";

std::filesystem::path scratch(const std::string& name) {
  auto dir = std::filesystem::path(ACCTLAB_BINARY_DIR) / "test-scratch" / "conformance" / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

/** `acctlab conform ARGS --report json --out FILE`: its exit code and report. */
std::pair<int, boost::json::object> conform(const std::string& args,
                                            const std::filesystem::path& out) {
  const int status = std::system((binary + " conform " + args + " --report json --out " +
                                  out.string() + " 2>" + out.string() + ".err")
                                     .c_str());
  INFO(read_text(out.string() + ".err"));
  const auto text = read_text(out);
  REQUIRE(!text.empty());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, boost::json::parse(text).as_object()};
}

/** `acctlab web` as a child, killed at the end. */
class WebProcess {
public:
  WebProcess(const std::string& db, std::uint16_t port, const std::filesystem::path& log) {
    pid_ = ::fork();
    if (pid_ == 0) {
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      const std::string listen = "127.0.0.1:" + std::to_string(port);
      ::execl(binary.c_str(), binary.c_str(), "web", "--db", db.c_str(), "--listen", listen.c_str(),
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
  }
  ~WebProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  WebProcess(const WebProcess&) = delete;
  WebProcess& operator=(const WebProcess&) = delete;

private:
  pid_t pid_ = -1;
};

/** GET target's JSON, retried while the viewer is not up yet (bounded: 40 x 250 ms). */
boost::json::object api(std::uint16_t port, const std::string& target) {
  for (int attempt = 0; attempt < 40; ++attempt) {
    web::test::HttpReply reply;
    try {
      reply = web::test::http_get(port, target);
    } catch (const std::runtime_error&) {
      // Not listening yet.
    }
    if (reply.status == 200) {
      return boost::json::parse(reply.body).as_object();
    }
    INFO(target << " -> " << reply.status << " " << reply.body.substr(0, 300));
    REQUIRE(reply.status == 0);
    std::this_thread::sleep_for(250ms);
  }
  FAIL("no answer from the viewer on port " << port);
  return {};
}

std::int64_t count_findings(const boost::json::array& by_rule) {
  std::int64_t total = 0;
  for (const auto& rule : by_rule) {
    total += rule.as_object().at("count").to_number<std::int64_t>();
  }
  return total;
}

} // namespace

TEST_CASE("conform --db postgresql:// passes as on SQLite files, and the viewer reads its runs",
          "[conformance][postgres]") {
  test::PgCluster::require();
  test::PgCluster cluster;
  const auto uri = cluster.uri();
  const auto dir = scratch("pg-conform");
  // One server; two servers that share the database (failover: a Start on one, the Stop on the
  // other; broadcast: the same record to both, stored once).
  const std::string scenarios = "--scenario one-session --scenario failover --scenario broadcast";
  const auto [sqlite_code, on_sqlite] =
      conform(scenarios + " --work-dir " + (dir / "work").string(), dir / "sqlite.json");
  const auto [pg_code, on_pg] =
      conform(scenarios + " --work-dir " + (dir / "work").string() + " --db '" + uri + "'",
              dir / "pg.json");
  INFO(boost::json::serialize(on_pg));
  CHECK(sqlite_code == 0);
  CHECK(pg_code == sqlite_code);
  CHECK(on_pg.at("verdict") == on_sqlite.at("verdict"));
  const auto& pg_scenarios = on_pg.at("scenarios").as_array();
  const auto& sqlite_scenarios = on_sqlite.at("scenarios").as_array();
  REQUIRE(pg_scenarios.size() == 3);
  REQUIRE(sqlite_scenarios.size() == 3);

  const auto web_port = test::free_loopback_port(SOCK_STREAM);
  WebProcess web(uri, web_port, dir / "web.log");
  const auto runs = api(web_port, "/api/runs").at("runs").as_array();
  CHECK(runs.size() == 3);
  for (std::size_t i = 0; i < pg_scenarios.size(); ++i) {
    const auto& scenario = pg_scenarios[i].as_object();
    INFO(scenario.at("name").as_string());
    CHECK(scenario.at("passed").as_bool());
    CHECK(scenario.at("pipeline_failures").as_array().empty());
    CHECK(scenario.at("passed") == sqlite_scenarios[i].as_object().at("passed"));
    // Each scenario is one 'conform' run holding every server's packets and its findings.
    const auto run_id = scenario.at("run_id").as_int64();
    const auto run = std::to_string(run_id);
    CHECK(cluster.psql("SELECT kind, verdict FROM runs WHERE id = " + run) == "conform|pass");
    CHECK(cluster.psql("SELECT count(*) > 0 FROM packets WHERE run_id = " + run) == "t");
    CHECK(cluster.psql("SELECT count(*) FROM sessions WHERE scope = " + run) ==
          cluster.psql("SELECT count(DISTINCT session_row) FROM packets WHERE run_id = " + run));
    const auto report = scenario.at("report").as_object();
    const auto detail = api(web_port, "/api/runs/" + run);
    CHECK(detail.at("run").as_object().at("kind") == "conform");
    CHECK(detail.at("run").as_object().at("verdict") == "pass");
    CHECK(count_findings(detail.at("findings_by_rule").as_array()) ==
          std::stoll(cluster.psql("SELECT count(*) FROM findings WHERE run_id = " + run)));
    CHECK(cluster.psql("SELECT count(*) FROM findings WHERE run_id = " + run) ==
          std::to_string(report.at("findings").as_array().size()));
  }
  // No scenario's session is in the live scope: a server on this database would not see them.
  CHECK(cluster.psql("SELECT count(*) FROM sessions WHERE scope = 0") == "0");
}
