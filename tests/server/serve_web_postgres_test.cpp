// `acctlab serve --web` over the PostgreSQL database it writes: the viewer reads what the server
// stored, and its live counters move when the server commits. A throwaway cluster
// (tests/support/pg_cluster.hpp); skipped (77) without PostgreSQL.
#include "../storage/storage_test_util.hpp"
#include "server_test_util.hpp"
#include "tests/support/loopback_socket.hpp"
#include "tests/support/pg_cluster.hpp"
#include "tests/web/http_client.hpp"

#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>

using namespace acctlab;
using namespace std::chrono_literals;
using test::make_request;

namespace {

/** Sends request and waits for its valid answer (bounded: 5 tries of 1 s). */
bool answered(std::uint16_t port, const test::Bytes& request) {
  test::UdpClient client("127.0.0.1", port);
  for (int attempt = 0; attempt < 5; ++attempt) {
    client.send(request);
    if (const auto response = client.receive(1000ms);
        response && test::is_valid_response(*response, request, "testing123")) {
      return true;
    }
  }
  return false;
}

/** GET target's JSON object, retried while the viewer is not up yet (bounded: 40 x 250 ms). */
boost::json::object api(std::uint16_t port, const std::string& target) {
  for (int attempt = 0; attempt < 40; ++attempt) {
    const auto reply = web::test::http_get(port, target);
    if (reply.status == 200) {
      return boost::json::parse(reply.body).as_object();
    }
    INFO(target << " -> " << reply.status << " " << reply.body.substr(0, 300));
    REQUIRE(reply.status == 0); // not listening yet; any answer but 200 is a failure
    std::this_thread::sleep_for(250ms);
  }
  FAIL("no answer from the viewer on port " << port);
  return {};
}

} // namespace

TEST_CASE("serve --web over PostgreSQL: the viewer shows what the server stored",
          "[server][postgres][web]") {
  test::PgCluster::require();
  test::PgCluster cluster;
  test::TempDir dir;
  const auto web_port = test::free_loopback_port(SOCK_STREAM);
  test::ServerProcess serve({"serve", "--listen", "127.0.0.1:0", "--db", cluster.uri(), "--stats",
                             "0", "--web", "127.0.0.1:" + std::to_string(web_port)},
                            dir.file("serve.log"));
  const auto port = serve.wait_for_port();
  REQUIRE(port != 0);

  const auto empty = api(web_port, "/api/overview");
  CHECK(empty.at("live").at("records").as_int64() == 0);

  REQUIRE(answered(port, make_request({.status = 1, .session_id = "web-1", .identifier = 1})));
  REQUIRE(answered(port, make_request({.status = 2,
                                       .session_id = "web-1",
                                       .identifier = 2,
                                       .input_octets = 300,
                                       .session_time = 60})));
  REQUIRE(answered(port, make_request({.status = 1, .session_id = "web-2", .identifier = 3})));
  const auto overview = api(web_port, "/api/overview");
  CHECK(overview.at("live").at("records").as_int64() == 3);
  CHECK(overview.at("live").at("sessions").at("open").as_int64() == 1);
  CHECK(overview.at("live").at("sessions").at("closed").as_int64() == 1);
  const auto sessions = api(web_port, "/api/sessions?q=web-1");
  REQUIRE(sessions.at("total").as_int64() == 1);
  const auto& session = sessions.at("sessions").as_array()[0].as_object();
  CHECK(session.at("input_octets").as_int64() == 300);
  const auto detail = api(web_port, "/api/sessions/" + std::to_string(session.at("id").as_int64()));
  CHECK(detail.at("records").as_array().size() == 2);
  // The server's own run, with the counters it writes as its report.
  CHECK(api(web_port, "/api/runs").at("runs").as_array().size() >= 1);
  // A page over the server's metrics and the database's tallies.
  const auto metrics = web::test::http_get(web_port, "/metrics");
  CHECK(metrics.status == 200);
  CHECK(metrics.body.find("acctlab_db_records 3") != std::string::npos);

  serve.signal(SIGTERM);
  CHECK(serve.wait() == 0);
}
