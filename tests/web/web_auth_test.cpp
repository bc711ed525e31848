// web/auth.hpp and the site's login gate, without the network: accounts, scrypt hashes, signed
// session cookies, the failure throttle, and which routes answer without a session.
#include "web/auth.hpp"
#include "web/site.hpp"
#include "web_fixture.hpp"

#include <catch2/catch.hpp>
#include <chrono>

using namespace acctlab::web;

namespace {

std::string cookie_of(const Response& r) {
  for (const auto& [name, value] : r.headers) {
    if (name == "Set-Cookie") {
      return value.substr(0, value.find(';'));
    }
  }
  return {};
}

std::string header(const Response& r, std::string_view wanted) {
  for (const auto& [name, value] : r.headers) {
    if (name == wanted) {
      return value;
    }
  }
  return {};
}

} // namespace

TEST_CASE("scrypt hashes verify the password they were made from, and no other", "[web][auth]") {
  const auto hash = hash_password("correct horse");
  CHECK(hash.starts_with("scrypt$32768$8$1$"));
  CHECK(verify_password("correct horse", hash));
  CHECK_FALSE(verify_password("correct hors", hash));
  CHECK_FALSE(verify_password("", hash));
  CHECK(hash != hash_password("correct horse")); // a fresh salt each time
  // A damaged or hostile stored hash is a refusal, never a crash or a huge allocation.
  CHECK_FALSE(verify_password("x", "scrypt$1073741824$8$1$00$00"));
  CHECK_FALSE(verify_password("x", "scrypt$32768$8$1$zz$00"));
  CHECK_FALSE(verify_password("x", "plain$secret"));
  CHECK_FALSE(verify_password("x", ""));
}

TEST_CASE("the accounts file: admin and operator accounts, errors with file and line",
          "[web][auth]") {
  const auto hash = hash_password("password1");
  auto text = upsert_account("# viewer accounts\n", {"alice", "admin", {}, hash});
  text = upsert_account(text, {"bob", "operator", {"east", "west"}, hash});
  auto accounts = parse_accounts(text, "acc");
  REQUIRE(accounts);
  REQUIRE(accounts->size() == 2);
  CHECK(accounts->at(1).groups == std::vector<std::string>{"east", "west"});
  CHECK(text.starts_with("# viewer accounts\n"));
  // Setting alice's password again replaces her line.
  text = upsert_account(text, {"alice", "admin", {}, hash_password("password2")});
  accounts = parse_accounts(text, "acc");
  REQUIRE(accounts);
  CHECK(accounts->size() == 2);
  CHECK(verify_password("password2", accounts->at(0).hash));

  CHECK(parse_accounts("alice:admin::" + hash + "\nalice:admin::" + hash + "\n", "acc").error() ==
        "acc:2: account 'alice' appears twice");
  CHECK(parse_accounts("al ice:admin::" + hash, "acc").error() == "acc:1: bad account name 'al "
                                                                  "ice'");
  CHECK(parse_accounts("\nx:root::" + hash, "acc").error() ==
        "acc:2: unknown role 'root' (known: admin, operator)");
  CHECK(parse_accounts("x:operator:east:" + hash, "acc"));
  CHECK(parse_accounts("x:admin:", "acc").error() == "acc:1: expected NAME:ROLE:GROUPS:HASH");
}

TEST_CASE("session cookies: signed, expiring, bound to an existing account", "[web][auth]") {
  Authenticator auth({{"alice", "admin", {}, hash_password("password1")}});
  const auto cookie = auth.login("alice", "password1", "192.0.2.1");
  REQUIRE(cookie);
  const std::string header_value = "theme=dark; acctlab_session=" + *cookie + "; x=1";
  REQUIRE(auth.session(header_value));
  CHECK(auth.session(header_value)->name == "alice");

  auto tampered = *cookie;
  tampered.back() = tampered.back() == '0' ? '1' : '0';
  CHECK_FALSE(auth.session("acctlab_session=" + tampered));
  // Another name under alice's signature, an expired cookie, another process's key.
  CHECK_FALSE(auth.session("acctlab_session=mallory" + cookie->substr(5)));
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  CHECK_FALSE(auth.session("acctlab_session=" + auth.sign("alice", now - 1)));
  CHECK(auth.session("acctlab_session=" + auth.sign("alice", now + 60)));
  Authenticator other({{"alice", "admin", {}, hash_password("password1")}});
  CHECK_FALSE(other.session(header_value));
  CHECK_FALSE(auth.session("acctlab_session=" + auth.sign("nobody", now + 60)));
  CHECK_FALSE(auth.session(""));
  CHECK_FALSE(auth.session("acctlab_session=a|b|c|d"));
}

TEST_CASE("failed logins are throttled per address", "[web][auth]") {
  Authenticator auth({{"alice", "admin", {}, hash_password("password1")}});
  for (int i = 0; i < Authenticator::max_failures; ++i) {
    CHECK_FALSE(auth.login("alice", "wrong", "192.0.2.7"));
  }
  bool throttled = false;
  CHECK_FALSE(auth.login("alice", "password1", "192.0.2.7", &throttled));
  CHECK(throttled);
  // Another address is not affected; an unknown name fails like a wrong password.
  CHECK(auth.login("alice", "password1", "192.0.2.8"));
  CHECK_FALSE(auth.login("nobody", "password1", "192.0.2.9"));
}

TEST_CASE("with accounts, nothing but the login form and static files answers without a session",
          "[web][auth]") {
  const auto db = test::test_database("auth");
  const auto ids = test::make_fixture_database(db);
  Site site(db);
  Authenticator auth({{"alice", "admin", {}, hash_password("password1")}});
  site.set_authenticator(&auth);

  const auto session_page = "/sessions/" + std::to_string(ids.document_session);
  const auto packet_page = "/packets/" + std::to_string(ids.start_packet);
  for (const std::string& target :
       {std::string("/"), std::string("/sessions"), session_page, std::string("/usage"),
        std::string("/conformance"), std::string("/runs"), std::string("/nas"), packet_page}) {
    const auto r = site.handle(Request{"GET", target});
    INFO(target);
    CHECK(r.status == 303);
    CHECK(header(r, "Location") == "/login");
  }
  for (const char* target :
       {"/api/overview", "/api/sessions", "/api/nas", "/sessions.csv", "/metrics", "/events"}) {
    INFO(target);
    CHECK(site.handle(Request{"GET", target}).status == 401);
  }
  CHECK(site.handle(Request{"GET", "/static/style.css"}).status == 200);
  CHECK(site.handle(Request{"GET", "/login"}).status == 200);
  CHECK_FALSE(site.authorized(""));

  auto r = site.handle(Request{"POST", "/login", "", "", "user=alice&password=nope", "192.0.2.1"});
  CHECK(r.status == 401);
  CHECK(cookie_of(r).empty());
  r = site.handle(
      Request{"POST", "/login", "", "", "user=alice&password=password1", "192.0.2.1", true});
  REQUIRE(r.status == 303);
  const auto set_cookie = header(r, "Set-Cookie");
  for (const char* flag : {"HttpOnly", "SameSite=Strict", "Secure", "Path=/", "Max-Age=43200"}) {
    CHECK_THAT(set_cookie, Catch::Contains(flag));
  }
  CHECK(header(r, "Strict-Transport-Security") == "max-age=31536000");
  const auto cookie = cookie_of(r);
  CHECK(site.authorized(cookie));
  for (const std::string& target :
       {std::string("/"), std::string("/sessions"), session_page, packet_page,
        std::string("/api/overview"), std::string("/sessions.csv"), std::string("/metrics")}) {
    INFO(target);
    CHECK(site.handle(Request{"GET", target, cookie}).status == 200);
  }
  // Programs may use HTTP Basic instead (alice:password1); a page still wants the form.
  const Request metrics_basic{"GET", "/metrics", "", "Basic YWxpY2U6cGFzc3dvcmQx"};
  CHECK(site.handle(metrics_basic).status == 200);
  const Request metrics_wrong{"GET", "/metrics", "", "Basic YWxpY2U6cGFzc3dvcmQy"};
  CHECK(site.handle(metrics_wrong).status == 401);
  const Request page_basic{"GET", "/", "", "Basic YWxpY2U6cGFzc3dvcmQx"};
  CHECK(site.handle(page_basic).status == 303);
  r = site.handle(Request{"GET", "/logout", cookie});
  CHECK(r.status == 303);
  CHECK_THAT(header(r, "Set-Cookie"), Catch::Contains("Max-Age=0"));
}
