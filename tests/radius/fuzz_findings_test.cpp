// Inputs found by the libFuzzer targets (fuzz/fuzz_text_form.cpp, fuzz/fuzz_dictionary.cpp), each
// minimised to what made the target fail, and what must happen instead.

#include "radius/dictionary_parser.hpp"
#include "radius/packet_codec.hpp"
#include "radius/text_form.hpp"

#include <catch2/catch.hpp>
#include <map>

using namespace acctlab::radius;

namespace {

// Loads a dictionary from in-memory files; the root is "root".
acctlab::Expected<Dictionary, DictionaryError>
load(const std::map<std::string, std::string>& files) {
  const DictionaryReader reader = [&](const std::string& path) -> std::optional<std::string> {
    auto it = files.find(path);
    return it == files.end() ? std::nullopt : std::optional(it->second);
  };
  return load_dictionary("root", reader);
}

// Renders, multi-line and one-line, and parses back: the text form's promise.
void check_round_trip(const Packet& packet, const Dictionary& dict) {
  for (const bool one_line : {false, true}) {
    const auto text = render_packet(packet, dict, TextOptions{true, one_line});
    auto again = parse_packet_text(text, dict);
    INFO(text << (again ? "" : "\n" + again.error().message));
    REQUIRE(again);
    CHECK(*again == packet);
  }
}

} // namespace

TEST_CASE("fuzz: a vendor type wider than the vendor's type field is refused",
          "[radius][text][fuzz]") {
  // Cisco's sub-attributes have a 1-octet type: 993 was encoded as 225 (993 mod 256).
  const auto& dict = Dictionary::builtin();
  auto wide = parse_packet_text("Accounting-Request id=1 { Attr-26.9.993 = 0x0102 }", dict);
  REQUIRE_FALSE(wide);
  CHECK_THAT(wide.error().message, Catch::Contains("1-octet type field"));
  // An unknown vendor has the RFC 2865 §5.26 suggested format, 1,1, too.
  CHECK_FALSE(parse_packet_text("Accounting-Request id=1 { Attr-26.4242.256 = 0x01 }", dict));
  auto fits = parse_packet_text("Accounting-Request id=1 { Attr-26.9.255 = 0x0102 }", dict);
  REQUIRE(fits);
  auto decoded = decode_packet(encode_packet(*fits, dict), dict);
  REQUIRE(decoded);
  CHECK(decoded->attributes().at(0).vendor_type == 255);

  // A vendor with 2-octet types and lengths: types up to 65535, values up to 253 - 4 - 4.
  auto custom = load({{"root", "VENDOR Wide 4242 format=2,2\nVENDOR Bare 4343 format=1,0\n"}});
  REQUIRE(custom);
  CHECK(parse_packet_text("Accounting-Request id=1 { Attr-26.4242.65535 = 0x01 }", *custom));
  CHECK_FALSE(parse_packet_text("Accounting-Request id=1 { Attr-26.4242.65536 = 0x01 }", *custom));
  const auto hex = [](std::size_t octets) { return "0x" + std::string(2 * octets, 'a'); };
  auto largest =
      parse_packet_text("Accounting-Request id=1 { Attr-26.4242.1 = " + hex(245) + " }", *custom);
  REQUIRE(largest);
  auto round = decode_packet(encode_packet(*largest, *custom), *custom);
  REQUIRE(round);
  CHECK(*round == *largest); // not truncated by the encoder
  auto too_large =
      parse_packet_text("Accounting-Request id=1 { Attr-26.4242.1 = " + hex(246) + " }", *custom);
  REQUIRE_FALSE(too_large);
  CHECK_THAT(too_large.error().message, Catch::Contains("245"));
  // Without a length field a Vendor-Specific holds one sub-attribute: '+' cannot join another.
  CHECK_FALSE(parse_packet_text(
      "Accounting-Request id=1 { Attr-26.4343.1 = 0x01, +Attr-26.4343.2 = 0x02 }", *custom));
}

TEST_CASE("fuzz: a quoted value holding \" # invalid: \" survives the one-line form",
          "[radius][text][fuzz]") {
  const auto& dict = Dictionary::builtin();
  auto packet = parse_packet_text(
      "Accounting-Request id=1 {\n User-Name = \"a # invalid: { x\"\n NAS-Port = 0x0001\n}", dict);
  REQUIRE(packet);
  const auto one_line = render_packet(*packet, dict, TextOptions{true, true});
  CHECK_THAT(one_line, Catch::Contains("User-Name = \"a # invalid: { x\", NAS-Port = 0x0001 }"));
  const auto lines = render_packet(*packet, dict);
  CHECK_THAT(lines, Catch::Contains("NAS-Port = 0x0001 # invalid: integer needs 4 octets"));
  check_round_trip(*packet, dict);
}

TEST_CASE("fuzz: attribute names the text form cannot carry are refused",
          "[radius][dictionary][fuzz]") {
  for (const char* line : {"ATTRIBUTE Stateful-IPv6=-Address-Pool 172 string\n",
                           "ATTRIBUTE A,B 1 string\n", "ATTRIBUTE Tag:1 1 string\n",
                           "ATTRIBUTE \"Quoted\" 1 string\n", "ATTRIBUTE Attr-5 7 integer\n"}) {
    INFO(line);
    auto dict = load({{"root", std::string("ATTRIBUTE Fine-Name_1.2/3 1 string\n") + line}});
    REQUIRE_FALSE(dict);
    CHECK(dict.error().line == 2);
    CHECK_THAT(dict.error().message, Catch::Contains("ATTRIBUTE name"));
  }
}

TEST_CASE("fuzz: a dictionary that includes itself is an error, not a hang",
          "[radius][dictionary][fuzz]") {
  // Twice per level, the depth limit alone meant 2^32 reads.
  auto self = load({{"root", "$INCLUDE root\n$INCLUDE root\n"}});
  REQUIRE_FALSE(self);
  CHECK(self.error().file == "root");
  CHECK(self.error().line == 1);
  CHECK_THAT(self.error().message, Catch::Contains("$INCLUDE loop"));
  auto indirect = load({{"root", "$INCLUDE a\n"}, {"a", "\n$INCLUDE root\n"}});
  REQUIRE_FALSE(indirect);
  CHECK(indirect.error().file == "a");
  CHECK(indirect.error().line == 2);
  // The same file included twice side by side is no loop.
  auto twice = load({{"root", "$INCLUDE a\n$INCLUDE a\n"}, {"a", "ATTRIBUTE A 1 string\n"}});
  CHECK(twice);
}

TEST_CASE("fuzz: a name redefined for another number leaves the old number unnamed",
          "[radius][dictionary][fuzz]") {
  auto dict = load({{"root", "ATTRIBUTE Foo 1 string\nATTRIBUTE Foo 2 string\n"}});
  REQUIRE(dict);
  CHECK(dict->find("Foo")->number == 2);
  CHECK(dict->find(AttrKey{0, 1}) == nullptr); // it used to still say "Foo", which reads as 2
  Packet packet(Code::accounting_request, 1);
  packet.add(1, std::string_view("one"));
  packet.add(2, std::string_view("two"));
  CHECK_THAT(render_packet(packet, *dict), Catch::Contains("Attr-1 = 0x6f6e65"));
  check_round_trip(packet, *dict);
}

TEST_CASE("fuzz: VALUE names render only when they read back as their number",
          "[radius][dictionary][text][fuzz]") {
  // Debian's dictionaries have both kinds: "T1,T1-E1/PRI-Call-Arrive-Event" (Nortel), and
  // USR-Speed-Of-Connection, which names 1 "56" and 2 "64".
  auto dict = load({{"root", "ATTRIBUTE Speed 1 integer\n"
                             "VALUE Speed 56 1\nVALUE Speed 64 2\n"
                             "VALUE Speed A,B 3\nVALUE Speed 0x10 4\nVALUE Speed Fine 5\n"}});
  REQUIRE(dict);
  Packet packet(Code::accounting_request, 1);
  for (std::uint32_t n : {1u, 2u, 3u, 4u, 5u, 56u, 64u, 7u}) {
    packet.add_integer(1, n);
  }
  const auto text = render_packet(packet, *dict, TextOptions{false, true});
  CHECK(text == "Accounting-Request id=1 { Speed = 56, Speed = 64, Speed = 3, Speed = 4, "
                "Speed = Fine, Speed = 0x00000038, Speed = 0x00000040, Speed = 7 }");
  check_round_trip(packet, *dict);
}

TEST_CASE("fuzz: server-internal attributes have no wire form", "[radius][text][fuzz]") {
  // FreeRADIUS's dictionary.freeradius.internal: Auth-Type is 1000; it used to encode as 232.
  auto dict = load({{"root", "ATTRIBUTE Auth-Type 1000 integer\nVALUE Auth-Type Local 0\n"}});
  REQUIRE(dict);
  auto packet = parse_packet_text("Accounting-Request id=1 { Auth-Type = Local }", *dict);
  REQUIRE_FALSE(packet);
  CHECK_THAT(packet.error().message, Catch::Contains("internal to a server"));
}
