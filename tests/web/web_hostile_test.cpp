// Hostile values: User-Name "<script>alert(1)</script>", session ids and AV pairs with quotes,
// ampersands and markup, a hostile NAS identity and finding message. Every page that shows them
// must show them as text: escaped in HTML, intact in JSON.

#include "tests/web/http_client.hpp"
#include "tests/web/web_fixture.hpp"
#include "web/html.hpp"
#include "web/http_server.hpp"
#include "web/site.hpp"

#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>
#include <vector>

using namespace acctlab::web;
using namespace acctlab::web::test;

namespace {

/** No raw markup from the fixture's hostile values survives into the page. */
void check_no_raw_markup(const std::string& body) {
  CHECK(body.find("<script>alert") == std::string::npos);
  CHECK(body.find("<img src=x") == std::string::npos);
  CHECK(body.find("<i>peer</i>") == std::string::npos);
  CHECK(body.find("<b>x") == std::string::npos);
  CHECK(body.find("nas\"<b>") == std::string::npos);
}

} // namespace

TEST_CASE("hostile packet values render as text on every page", "[web][hostile]") {
  const auto path = test_database("hostile");
  const auto ids = make_fixture_database(path);
  Site site(path);
  ServerOptions options;
  options.port = 0;
  HttpServer server(site, options);
  server.start();
  const auto port = server.port();
  const auto hostile = std::to_string(ids.hostile_session);

  auto session = http_get(port, "/sessions/" + hostile);
  REQUIRE(session.status == 200);
  check_no_raw_markup(session.body);
  CHECK(session.body.find("&lt;script&gt;alert(1)&lt;/script&gt;") != std::string::npos);
  // The session id q"uote&amp;'<b>x: every special character escaped, the literal "&amp;" too.
  CHECK(session.body.find("q&quot;uote&amp;amp;&#39;&lt;b&gt;x") != std::string::npos);
  CHECK(session.body.find("isakmp-initator-ip=&lt;img src=x onerror=alert(3)&gt;") !=
        std::string::npos);
  CHECK(session.body.find("&lt;img src=x onerror=alert(2)&gt; &amp; &quot;quoted&quot;") !=
        std::string::npos);
  // The user filter link carries the value URL-encoded.
  CHECK(session.body.find("/sessions?user=%3Cscript%3Ealert%281%29%3C%2Fscript%3E") !=
        std::string::npos);

  for (const std::string& target :
       std::vector<std::string>{"/", "/sessions", "/sessions?q=%3Cscript%3E", "/usage", "/nas",
                                "/conformance", "/conformance/RFC2866-ACCT-SESSION-ID", "/runs",
                                "/runs/" + std::to_string(ids.conform_run),
                                "/packets/" + std::to_string(ids.malformed_packet)}) {
    INFO(target);
    auto reply = http_get(port, target);
    REQUIRE(reply.status == 200);
    check_no_raw_markup(reply.body);
  }
  // The sessions list, searched for the markup, finds the session and shows it escaped.
  auto search = http_get(port, "/sessions?q=%3Cscript%3E");
  CHECK(search.body.find("&lt;script&gt;alert(1)&lt;/script&gt;") != std::string::npos);
  // The run report's JSON holds "<b>"; shown in a <pre>, escaped.
  CHECK(http_get(port, "/runs/" + std::to_string(ids.conform_run)).body.find("&lt;b&gt;") !=
        std::string::npos);
  // A request path with markup is echoed escaped on the 404 page.
  auto missing = http_get(port, "/%3Cscript%3Ealert(1)%3C/script%3E");
  CHECK(missing.status == 404);
  CHECK(missing.body.find("<script>") == std::string::npos);

  // JSON keeps the values exactly as the packet carried them.
  auto api = http_get(port, "/api/sessions/" + hostile);
  REQUIRE(api.status == 200);
  auto o = boost::json::parse(api.body).as_object();
  CHECK(o.at("session").as_object().at("user_name").as_string() == hostile_user);
  CHECK(o.at("session").as_object().at("acct_session_id").as_string() == hostile_session_id);
  CHECK(o.at("findings").as_array()[0].as_object().at("message").as_string() == hostile_message);
  CHECK(o.at("findings").as_array()[0].as_object().at("source").as_string() == "RFC 2866 §5.5");
  // The rule summary from the run report carries markup too.
  auto rule = http_get(port, "/conformance/RFC2866-ACCT-SESSION-ID");
  CHECK(rule.body.find("carries &lt;Acct-Session-Id&gt;") != std::string::npos);
}

TEST_CASE("escape covers the five HTML specials and control characters", "[web][html]") {
  CHECK(escape("<a href=\"x\">'&'</a>") == "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  CHECK(escape(std::string("a\0b", 3)) == "a\xEF\xBF\xBD"
                                          "b");
  CHECK(escape("\x1B[31mred") == "\xEF\xBF\xBD[31mred"); // an ANSI colour from a NAS
  CHECK(escape("plain text") == "plain text");
}

TEST_CASE("query strings decode and encode", "[web][html]") {
  QueryParams p("user=joe%40cclient&q=a+b&bad=%zz&empty=&x=1&x=2");
  CHECK(p.get("user") == "joe@cclient");
  CHECK(p.get("q") == "a b");
  CHECK(p.get("bad") == "%zz");
  CHECK_FALSE(p.has("empty"));
  CHECK(p.get("x") == "2");
  CHECK(p.get_int("x", 0, 0, 10) == 2);
  CHECK(p.get_int("user", 7, 0, 10) == 7);
  CHECK(p.get_int("x", 0, 5, 10) == 5);
  CHECK(url_encode("a b/<>&\"") == "a%20b%2F%3C%3E%26%22");
  CHECK(url_decode("%3c%3E%") == "<>%");
  QueryParams round(p.encode());
  CHECK(round.get("user") == "joe@cclient");
  CHECK(round.get("q") == "a b");
}

TEST_CASE("times, bytes and durations format and parse", "[web][html]") {
  CHECK(format_time(0) == "1970-01-01 00:00:00");
  CHECK(format_time(fixture_base_time) == "2026-11-20 08:00:00");
  CHECK(format_time(951782400) == "2000-02-29 00:00:00");
  CHECK(parse_time("2026-11-20") == Approx(fixture_base_time - 8 * 3600));
  CHECK(parse_time("2026-11-20T08:00") == Approx(fixture_base_time));
  CHECK(parse_time("2026-11-20 08:00:00") == Approx(fixture_base_time));
  CHECK(parse_time("1795161600") == Approx(fixture_base_time));
  CHECK_FALSE(parse_time("2026-13-01"));
  CHECK_FALSE(parse_time("2026-11-20 25:00"));
  CHECK_FALSE(parse_time("yesterday"));
  CHECK_FALSE(parse_time("2026-11-20X08:00"));
  CHECK_FALSE(parse_time(""));
  CHECK(format_bytes(512) == "512 B");
  CHECK(format_bytes(152608) == "149.0 KiB");
  CHECK(format_duration(709) == "11m 49s");
  CHECK(format_duration(90061) == "1d 01h 01m");
  CHECK(format_count(1234567) == "1,234,567");
  CHECK(format_count(-1000) == "-1,000");
  CHECK(format_count(999) == "999");
}
