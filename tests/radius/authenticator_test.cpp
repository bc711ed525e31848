#include "radius/authenticator.hpp"
#include "radius/packet_codec.hpp"
#include "radius/text_form.hpp"

#include <catch2/catch.hpp>

using namespace acctlab::radius;

namespace {
Octets encode_text(const char* text) {
  auto packet = parse_packet_text(text, Dictionary::builtin());
  REQUIRE(packet);
  return encode_packet(*packet, Dictionary::builtin());
}
} // namespace

TEST_CASE("Accounting-Request authenticator: sign, verify, reject", "[radius][auth]") {
  auto wire =
      encode_text(R"(Accounting-Request id=7 { Acct-Session-Id = "x", Acct-Status-Type = Start })");
  sign_request(wire, "testing123");
  CHECK(verify_request_authenticator(wire, "testing123"));
  CHECK_FALSE(verify_request_authenticator(wire, "testing124"));
  auto tampered = wire;
  tampered.back() ^= 1;
  CHECK_FALSE(verify_request_authenticator(tampered, "testing123"));
  // Padding beyond the Length field does not take part.
  auto padded = wire;
  padded.push_back(0xAB);
  CHECK(verify_request_authenticator(padded, "testing123"));
}

TEST_CASE("Response authenticator binds the request", "[radius][auth]") {
  auto request = encode_text(R"(Accounting-Request id=7 { Acct-Session-Id = "x" })");
  sign_request(request, "s3cret");
  Authenticator request_auth{};
  std::copy_n(request.begin() + 4, 16, request_auth.begin());
  auto response = encode_text("Accounting-Response id=7 {}");
  sign_response(response, request_auth, "s3cret");
  CHECK(verify_response_authenticator(response, request_auth, "s3cret"));
  CHECK_FALSE(verify_response_authenticator(response, request_auth, "other"));
  auto other_request = request_auth;
  other_request[0] ^= 0xFF;
  CHECK_FALSE(verify_response_authenticator(response, other_request, "s3cret"));
}

TEST_CASE("Message-Authenticator (RFC 3579 §3.2) in requests and responses", "[radius][auth]") {
  auto status = encode_text(
      "Status-Server id=1 auth=0102030405060708090a0b0c0d0e0f10 { Message-Authenticator = "
      "0x00000000000000000000000000000000 }");
  sign_request(status, "secret");
  CHECK(check_message_authenticator(status, "secret", nullptr) == MessageAuthenticatorCheck::valid);
  CHECK(check_message_authenticator(status, "wrong", nullptr) ==
        MessageAuthenticatorCheck::invalid);

  auto accounting = encode_text(
      R"(Accounting-Request id=2 { Acct-Session-Id = "a", Message-Authenticator = 0x00000000000000000000000000000000 })");
  sign_request(accounting, "secret");
  CHECK(verify_request_authenticator(accounting, "secret"));
  CHECK(check_message_authenticator(accounting, "secret", nullptr) ==
        MessageAuthenticatorCheck::valid);
  accounting[25] ^= 1; // a byte inside Acct-Session-Id... or the MA: either way, no longer valid
  CHECK(check_message_authenticator(accounting, "secret", nullptr) ==
        MessageAuthenticatorCheck::invalid);

  Authenticator request_auth{};
  std::copy_n(status.begin() + 4, 16, request_auth.begin());
  auto response = encode_text(
      "Accounting-Response id=1 { Message-Authenticator = 0x00000000000000000000000000000000 }");
  sign_response(response, request_auth, "secret");
  CHECK(verify_response_authenticator(response, request_auth, "secret"));
  CHECK(check_message_authenticator(response, "secret", &request_auth) ==
        MessageAuthenticatorCheck::valid);

  auto short_ma = encode_text("Accounting-Request id=3 { Message-Authenticator = 0x0011 }");
  CHECK(check_message_authenticator(short_ma, "secret", nullptr) ==
        MessageAuthenticatorCheck::malformed);
  auto none = encode_text("Accounting-Request id=3 {}");
  CHECK(check_message_authenticator(none, "secret", nullptr) == MessageAuthenticatorCheck::absent);
}
