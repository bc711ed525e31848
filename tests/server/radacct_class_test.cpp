// The Class attribute (RFC 2865 §5.25) a NAS sends in its accounting requests, through a real
// server on loopback into radacct.class, on SQLite and on PostgreSQL (a throwaway cluster,
// tests/support/pg_cluster.hpp; that half is skipped with a warning without PostgreSQL 15).
#include "../storage/storage_test_util.hpp"
#include "server_test_util.hpp"
#include "storage/sqlite.hpp"
#include "tests/support/pg_cluster.hpp"

#include <catch2/catch.hpp>

using namespace acctlab;
using namespace std::chrono_literals;

namespace {

/** A signed Accounting-Request from NAS 192.0.2.1 carrying Class. */
test::Bytes request_with_class(std::uint32_t status, std::uint8_t identifier,
                               std::string_view class_value) {
  radius::Packet packet(radius::Code::accounting_request, identifier);
  packet.add(test::attr("Acct-Session-Id"), std::string_view("class-1"));
  packet.add_integer(test::attr("Acct-Status-Type"), status);
  const std::uint8_t nas_ip[4] = {192, 0, 2, 1};
  packet.add(test::attr("NAS-IP-Address"), std::span<const std::uint8_t>(nas_ip));
  packet.add(test::attr("Class"),
             std::span<const std::uint8_t>(
                 reinterpret_cast<const std::uint8_t*>(class_value.data()), class_value.size()));
  packet.add_integer(test::attr("Acct-Delay-Time"), 0);
  auto wire = radius::encode_packet(packet, test::dict());
  radius::sign_request(wire, "testing123");
  return wire;
}

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

} // namespace

TEST_CASE("the Class a session's Start carried is radacct.class, on either engine",
          "[server][class]") {
  const std::string engine = GENERATE(as<std::string>{}, "sqlite", "postgresql");
  test::TempDir dir;
  std::unique_ptr<test::PgCluster> cluster;
  std::string database = dir.file("acct.db");
  if (engine == "postgresql") {
    if (!test::PgCluster::available()) {
      WARN("PostgreSQL 15 is not installed: the postgresql run of this test is skipped");
      return;
    }
    cluster = std::make_unique<test::PgCluster>();
    database = cluster->uri();
  }
  {
    server::ServerOptions options;
    options.listen = {"127.0.0.1:0"};
    options.database = database;
    test::ServerThread server(options);
    REQUIRE(answered(server.port(), request_with_class(1, 1, "acct")));
    // A later record's Class does not replace it (FreeRADIUS writes it with the row it inserts).
    REQUIRE(answered(server.port(), request_with_class(3, 2, "other")));
  }
  std::string stored;
  if (cluster) {
    stored = cluster->psql("SELECT class FROM radacct WHERE acctsessionid = 'class-1'");
  } else {
    storage::Database db(database);
    auto query = db.prepare("SELECT class FROM radacct WHERE acctsessionid = 'class-1'");
    REQUIRE(query.step());
    stored = query.column_text(0);
  }
  CHECK(stored == "0x61636374"); // "acct", as FreeRADIUS prints octets
}
