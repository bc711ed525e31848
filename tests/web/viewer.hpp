#pragma once
// The report viewer served over real HTTP on 127.0.0.1 (port 0) from an SQLite file, asked by the
// tests' plain socket client.

#include "tests/web/http_client.hpp"
#include "web/http_server.hpp"
#include "web/site.hpp"

#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <string>

namespace acctlab::web::test {

struct Viewer {
  explicit Viewer(const std::string& path,
                  std::chrono::milliseconds poll = std::chrono::milliseconds(1000))
      : site(path), server(site, options(poll)) {
    server.start();
  }
  static ServerOptions options(std::chrono::milliseconds poll) {
    ServerOptions o;
    o.address = "127.0.0.1";
    o.port = 0;
    o.poll_interval = poll;
    return o;
  }
  HttpReply get(const std::string& target) { return http_get(server.port(), target); }
  /** A JSON route's reply: 200, application/json, an object. */
  boost::json::object api(const std::string& target) {
    auto reply = get(target);
    INFO(target << " -> " << reply.status << " " << reply.body.substr(0, 300));
    REQUIRE(reply.status == 200);
    REQUIRE(reply.header("content-type") == "application/json");
    auto value = boost::json::parse(reply.body);
    REQUIRE(value.is_object());
    return value.as_object();
  }

  Site site;
  HttpServer server;
};

} // namespace acctlab::web::test
