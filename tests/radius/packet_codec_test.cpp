#include "radius/packet_codec.hpp"
#include "radius/text_form.hpp"
#include "radius/value.hpp"

#include <catch2/catch.hpp>

using namespace acctlab::radius;

namespace {
Octets document_start() {
  auto packet = parse_packet_text(R"(Accounting-Request id=4 {
    Acct-Session-Id = "00000001"
    Cisco-AVPair = "isakmp-group-id=cclient"
    Framed-IP-Address = 10.13.13.1
    Cisco-AVPair = "vrf-id=cisco"
    User-Name = "joe@cclient"
    Acct-Status-Type = Start
    Cisco-NAS-Port = "FastEthernet0/0.1"
    NAS-Port = 0
    NAS-IP-Address = 10.1.1.147
  })",
                                  Dictionary::builtin());
  REQUIRE(packet);
  return encode_packet(*packet, Dictionary::builtin());
}
} // namespace

TEST_CASE("decode keeps attribute order, repeats and VSA grouping", "[radius][codec]") {
  const auto wire = document_start();
  auto packet = decode_packet(wire, Dictionary::builtin());
  REQUIRE(packet);
  REQUIRE(packet->attributes().size() == 9);
  CHECK(packet->attributes()[1].vendor == 9);
  CHECK(packet->attributes()[1].vendor_type == 1);
  CHECK(packet->count(AttrKey{9, 1}) == 2);
  CHECK(packet->identifier() == 4);
  CHECK(packet->code() == Code::accounting_request);
}

TEST_CASE("grind: every prefix and every single-octet mutation decodes or fails cleanly",
          "[radius][codec][grind]") {
  const auto wire = document_start();
  const auto& dict = Dictionary::builtin();
  std::size_t failures = 0;
  for (std::size_t n = 0; n <= wire.size(); ++n) {
    const std::span<const std::uint8_t> prefix(wire.data(), n);
    auto result = decode_packet(prefix, dict);
    if (n < wire.size()) {
      // Every strict prefix is shorter than the Length field says.
      REQUIRE_FALSE(result);
      ++failures;
      CHECK(result.error().offset <= wire.size());
    } else {
      REQUIRE(result);
    }
  }
  CHECK(failures == wire.size());
  std::size_t decoded = 0;
  for (std::size_t i = 0; i < wire.size(); ++i) {
    for (int v : {0x00, 0x01, 0x02, 0x7f, 0xff}) {
      auto mutated = wire;
      mutated[i] = static_cast<std::uint8_t>(v);
      auto result = decode_packet(mutated, dict);
      if (result) {
        ++decoded;
        (void)render_packet(*result, dict); // renders whatever was decoded without trouble
      } else {
        CHECK(result.error().offset < mutated.size());
      }
    }
  }
  CHECK(decoded > 0);
}

TEST_CASE("check_framing agrees with decode_packet", "[radius][codec]") {
  auto wire = document_start();
  CHECK_FALSE(check_framing(wire).has_value());
  wire[21] = 1; // first attribute's length
  auto failure = check_framing(wire);
  REQUIRE(failure);
  CHECK(failure->error == DecodeError::attribute_length_too_small);
  CHECK(failure->offset == 21);
  auto decoded = decode_packet(wire, Dictionary::builtin());
  REQUIRE_FALSE(decoded);
  CHECK(decoded.error() == *failure);
}

TEST_CASE("decode errors name themselves", "[radius][codec]") {
  CHECK(to_string(DecodeError::length_exceeds_datagram) == "length_exceeds_datagram");
  CHECK(decode_error_from_string("attribute_overflows_packet") ==
        DecodeError::attribute_overflows_packet);
  const DecodeFailure f{DecodeError::truncated_header, 5};
  CHECK(f.message().find("offset 5") != std::string::npos);
}

TEST_CASE("text form errors give the line", "[radius][text]") {
  auto bad = parse_packet_text("Accounting-Request id=1 {\n  User-Name = \"a\"\n  Nope = 1\n}",
                               Dictionary::builtin());
  REQUIRE_FALSE(bad);
  CHECK(bad.error().line == 3);
  CHECK(bad.error().message.find("Nope") != std::string::npos);
  auto wrong_type =
      parse_packet_text("Accounting-Request id=1 { NAS-Port = abc }", Dictionary::builtin());
  REQUIRE_FALSE(wrong_type);
  auto too_long =
      parse_packet_text("Accounting-Request id=1 { User-Name = \"" + std::string(254, 'a') + "\" }",
                        Dictionary::builtin());
  REQUIRE_FALSE(too_long);
}

TEST_CASE("multi-line render parses back to the same packet", "[radius][text]") {
  const auto wire = document_start();
  auto packet = decode_packet(wire, Dictionary::builtin());
  REQUIRE(packet);
  const auto text = render_packet(*packet, Dictionary::builtin());
  CHECK(text.find("\n  Acct-Session-Id = \"00000001\"\n") != std::string::npos);
  auto again = parse_packet_text(text, Dictionary::builtin());
  INFO(text << (again ? "" : again.error().message));
  REQUIRE(again);
  CHECK(*again == *packet);
}

TEST_CASE("a '#' inside quotes is text, outside quotes a comment", "[radius][text]") {
  auto packet =
      parse_packet_text("Accounting-Request id=1 {\n  User-Name = \"No #1, really\" # a comment\n}",
                        Dictionary::builtin());
  REQUIRE(packet);
  REQUIRE(packet->attributes().size() == 1);
  const auto value = packet->value(packet->attributes()[0]);
  CHECK(std::string(value.begin(), value.end()) == "No #1, really");
}

TEST_CASE("UTF-8 is what RFC 3629 allows: quoted as is, anything else as a hex escape",
          "[radius][text]") {
  const auto length = [](std::vector<std::uint8_t> octets) {
    return utf8_sequence_length(octets, 0);
  };
  CHECK(length({'a'}) == 1);
  CHECK(length({0xC3, 0xA9}) == 2);             // é
  CHECK(length({0xE2, 0x82, 0xAC}) == 3);       // €
  CHECK(length({0xF0, 0x9F, 0x98, 0x80}) == 4); // U+1F600
  CHECK(length({0xF4, 0x8F, 0xBF, 0xBF}) == 4); // U+10FFFF, the last
  CHECK(length({0xC0, 0xAF}) == 0);             // overlong '/'
  CHECK(length({0xE0, 0x80, 0xAF}) == 0);       // overlong '/' in three
  CHECK(length({0xF0, 0x80, 0x80, 0xAF}) == 0); // and in four
  CHECK(length({0xED, 0xA0, 0x80}) == 0);       // U+D800, a UTF-16 surrogate
  CHECK(length({0xF4, 0x90, 0x80, 0x80}) == 0); // U+110000, past the end
  CHECK(length({0xE2, 0x82}) == 0);             // cut short
  CHECK(length({0x80}) == 0);                   // a continuation alone
  const std::vector<std::uint8_t> surrogate{'a', 0xED, 0xA0, 0x80};
  CHECK(quote_text(surrogate) == "\"a\\xed\\xa0\\x80\"");
  const std::vector<std::uint8_t> euro{0xE2, 0x82, 0xAC};
  CHECK(quote_text(euro) == "\"\xE2\x82\xAC\"");
}
