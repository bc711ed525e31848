// The checked encoder (try_encode_packet) on both sides of every wire limit: 253 octets for a
// value (RFC 2865 §5), one Vendor-Specific of 255 octets for a vendor sub-attribute (RFC 2865
// §5.26), 4096 octets for the packet (RFC 2865 §3, RFC 2866 §3). What it accepts decodes back
// to the same values, octet for octet; what it refuses names the attribute and the sizes.

#include "radius/dictionary_parser.hpp"
#include "radius/packet_codec.hpp"
#include "radius/text_form.hpp"

#include <catch2/catch.hpp>
#include <stdexcept>
#include <tuple>

using namespace acctlab::radius;

namespace {

// A value whose octets differ from their neighbours, so a cut or a shift shows.
Octets pattern(std::size_t size, std::uint8_t seed = 1) {
  Octets value(size);
  for (std::size_t i = 0; i < size; ++i) {
    value[i] = static_cast<std::uint8_t>(seed + 7 * i);
  }
  return value;
}

Octets value_of(const Packet& packet, std::size_t index) {
  const auto span = packet.value(packet.attributes().at(index));
  return {span.begin(), span.end()};
}

// Encodes with the checked encoder, decodes, and checks every value came back whole.
Packet round_trip(const Packet& packet, const Dictionary& dict, std::size_t expected_size) {
  auto wire = try_encode_packet(packet, dict);
  INFO((wire ? "" : wire.error().message()));
  REQUIRE(wire);
  CHECK(wire->size() == expected_size);
  CHECK(((std::size_t{(*wire)[2]} << 8) | (*wire)[3]) == wire->size());
  CHECK(encode_packet(packet, dict) == *wire); // the throwing form gives the same octets
  auto decoded = decode_packet(*wire, dict);
  INFO((decoded ? "" : decoded.error().message()));
  REQUIRE(decoded);
  REQUIRE(decoded->attributes().size() == packet.attributes().size());
  for (std::size_t i = 0; i < packet.attributes().size(); ++i) {
    INFO("attribute " << i);
    CHECK(decoded->attributes()[i].key() == packet.attributes()[i].key());
    CHECK(value_of(*decoded, i) == value_of(packet, i));
  }
  return std::move(decoded).value();
}

acctlab::Expected<Dictionary, DictionaryError> load_text(const std::string& text) {
  const DictionaryReader reader = [&](const std::string& path) -> std::optional<std::string> {
    return path == "root" ? std::optional(text) : std::nullopt;
  };
  return load_dictionary("root", reader);
}

} // namespace

TEST_CASE("encoder: a standard value of 253 octets encodes whole, 254 is refused by name",
          "[radius][codec][limits]") {
  const auto& dict = Dictionary::builtin();
  Packet fits(Code::accounting_request, 1);
  fits.add(1, pattern(253)); // User-Name
  const auto decoded = round_trip(fits, dict, 20 + 255);
  CHECK(decoded == fits);

  Packet over(Code::accounting_request, 1);
  over.add(44, std::string_view("00000001")); // Acct-Session-Id, fine
  over.add(1, pattern(254));
  auto refused = try_encode_packet(over, dict);
  REQUIRE_FALSE(refused);
  const auto& failure = refused.error();
  CHECK(failure.error == EncodeError::value_too_long);
  CHECK(failure.attribute == "User-Name");
  CHECK(failure.index == 1);
  CHECK(failure.size == 254);
  CHECK(failure.limit == 253);
  CHECK(failure.message() == "User-Name is 254 octets; the most one attribute holds is 253");
  CHECK_THROWS_WITH(encode_packet(over, dict), Catch::Contains("User-Name is 254 octets"));
  CHECK_THROWS_AS(encode_packet(over, dict), std::length_error);

  // An attribute the dictionary does not define is named as the text form names it, and a raw
  // Vendor-Specific is a standard attribute like any other.
  Packet unknown(Code::accounting_request, 1);
  unknown.add(200, pattern(300));
  auto unnamed = try_encode_packet(unknown, dict);
  REQUIRE_FALSE(unnamed);
  CHECK(unnamed.error().attribute == "Attr-200");
  CHECK(unnamed.error().size == 300);
  Packet raw(Code::accounting_request, 1);
  raw.add(vendor_specific_type, pattern(254));
  auto raw_refused = try_encode_packet(raw, dict);
  REQUIRE_FALSE(raw_refused);
  CHECK(raw_refused.error().attribute == "Vendor-Specific");
}

TEST_CASE("encoder: a packet of exactly 4096 octets encodes, 4097 is refused",
          "[radius][codec][limits]") {
  const auto& dict = Dictionary::builtin();
  // 20 octets of header, 15 attributes of 255 octets and one of 2 + last: 4096 when last = 249.
  const auto build = [](std::size_t last) {
    Packet packet(Code::accounting_request, 7);
    for (std::uint8_t i = 0; i < 15; ++i) {
      packet.add(25, pattern(253, i)); // Class, octets
    }
    packet.add(25, pattern(last, 99));
    return packet;
  };
  const auto largest = build(249);
  const auto decoded = round_trip(largest, dict, max_packet_size);
  CHECK(decoded == largest);

  auto refused = try_encode_packet(build(250), dict);
  REQUIRE_FALSE(refused);
  const auto& failure = refused.error();
  CHECK(failure.error == EncodeError::packet_too_long);
  CHECK(failure.size == 4097);
  CHECK(failure.limit == 4096);
  CHECK(failure.index == 15); // the attribute that ends beyond 4096
  CHECK(failure.message() == "the packet is 4097 octets; RFC 2865 §3 allows 4096");
  CHECK_THROWS_WITH(encode_packet(build(250), dict), Catch::Contains("4097 octets"));

  // Vendor-Specifics count the same: 4083 octets, then a Cisco sub-attribute in a
  // Vendor-Specific of 2 + 4 + 2 + size octets: 4096 with 5 octets of value, 4097 with 6.
  auto with_vsa = [&](std::size_t size) {
    Packet packet(Code::accounting_request, 7);
    for (std::uint8_t i = 0; i < 15; ++i) {
      packet.add(25, pattern(253, i));
    }
    packet.add(25, pattern(236, 5)); // 20 + 15 x 255 + 238 = 4083
    packet.add_vendor(9, 1, pattern(size, 3));
    return packet;
  };
  round_trip(with_vsa(5), dict, max_packet_size);
  auto vsa_over = try_encode_packet(with_vsa(6), dict);
  REQUIRE_FALSE(vsa_over);
  CHECK(vsa_over.error().error == EncodeError::packet_too_long);
  CHECK(vsa_over.error().size == 4097);
  CHECK(vsa_over.error().index == 16);
}

TEST_CASE("encoder: a vendor sub-attribute fits one Vendor-Specific or is refused",
          "[radius][codec][limits][vsa]") {
  const auto& dict = Dictionary::builtin();
  // Cisco (vendor 9) has the 1,1 format: 255 - 2 - 4 - 1 - 1 = 247 octets of value at most.
  Packet fits(Code::accounting_request, 1);
  fits.add_vendor(9, 1, pattern(247));
  const auto decoded = round_trip(fits, dict, 20 + 255);
  CHECK(decoded == fits);

  Packet over(Code::accounting_request, 1);
  over.add_vendor(9, 1, pattern(248));
  auto refused = try_encode_packet(over, dict);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().error == EncodeError::value_too_long);
  CHECK(refused.error().attribute == "Cisco-AVPair");
  CHECK(refused.error().size == 248);
  CHECK(refused.error().limit == 247);
  CHECK_THAT(refused.error().message(), Catch::Contains("Cisco-AVPair is 248 octets"));

  // A too-long sub-attribute joined to a group is refused too, not cut to the room left.
  Packet joined(Code::accounting_request, 1);
  joined.add_vendor(9, 1, pattern(10));
  joined.add_vendor(9, 2, pattern(248), true);
  auto joined_refused = try_encode_packet(joined, dict);
  REQUIRE_FALSE(joined_refused);
  CHECK(joined_refused.error().attribute == "Cisco-NAS-Port");
  CHECK(joined_refused.error().index == 1);

  // A vendor the dictionary does not know has the 1,1 format as well.
  Packet unknown(Code::accounting_request, 1);
  unknown.add_vendor(4242, 1, pattern(248));
  auto unknown_refused = try_encode_packet(unknown, dict);
  REQUIRE_FALSE(unknown_refused);
  CHECK(unknown_refused.error().attribute == "Attr-26.4242.1");
  unknown.set_value(0, pattern(247));
  round_trip(unknown, dict, 20 + 255);
}

TEST_CASE("encoder: a group outgrowing its Vendor-Specific continues in another, nothing cut",
          "[radius][codec][limits][vsa]") {
  const auto& dict = Dictionary::builtin();
  // 2 + 4 + (2 + 100) + (2 + 145) = 255: one Vendor-Specific. One octet more: two.
  const auto build = [](std::size_t second) {
    Packet packet(Code::accounting_request, 1);
    packet.add_vendor(9, 1, pattern(100));
    packet.add_vendor(9, 2, pattern(second, 50), true);
    return packet;
  };
  const auto one = round_trip(build(145), dict, 20 + 255);
  CHECK(one.attributes()[0].vsa_group == one.attributes()[1].vsa_group);
  const auto two = round_trip(build(146), dict, 20 + 108 + 154);
  CHECK(two.attributes()[0].vsa_group != two.attributes()[1].vsa_group);
}

TEST_CASE("encoder: vendor formats set the room and the type width",
          "[radius][codec][limits][vsa]") {
  auto dict = load_text("VENDOR Wide 4242 format=2,2\nVENDOR Bare 4343 format=1,0\n"
                        "VENDOR Four 4444 format=4,0\n"
                        "BEGIN-VENDOR Wide\nATTRIBUTE Wide-Thing 300 octets\nEND-VENDOR Wide\n");
  INFO((dict ? "" : dict.error().to_string()));
  REQUIRE(dict);
  struct Case {
    std::uint32_t vendor;
    std::uint32_t type;
    std::size_t room; // 255 - 2 - 4 - type field - length field
  };
  for (const Case c : {Case{4242, 300, 245}, Case{4343, 1, 248}, Case{4444, 70000, 245}}) {
    INFO("vendor " << c.vendor);
    Packet fits(Code::accounting_request, 1);
    fits.add_vendor(c.vendor, c.type, pattern(c.room));
    round_trip(fits, *dict, 20 + 255);
    Packet over(Code::accounting_request, 1);
    over.add_vendor(c.vendor, c.type, pattern(c.room + 1));
    auto refused = try_encode_packet(over, *dict);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().error == EncodeError::value_too_long);
    CHECK(refused.error().limit == c.room);
  }
  auto named = try_encode_packet(
      [] {
        Packet p(Code::accounting_request, 1);
        p.add_vendor(4242, 300, pattern(246));
        return p;
      }(),
      *dict);
  REQUIRE_FALSE(named);
  CHECK(named.error().attribute == "Wide-Thing");

  // A type wider than the vendor's type field would be written modulo the field.
  for (const auto& [vendor, type, limit] :
       {std::tuple{9u, 256u, 255u}, std::tuple{4343u, 300u, 255u},
        std::tuple{4242u, 65536u, 65535u}}) {
    INFO("vendor " << vendor << " type " << type);
    Packet wide(Code::accounting_request, 1);
    wide.add_vendor(vendor, type, pattern(4));
    auto refused = try_encode_packet(wide, *dict);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().error == EncodeError::vendor_type_too_wide);
    CHECK(refused.error().vendor == vendor);
    CHECK(refused.error().size == type);
    CHECK(refused.error().limit == limit);
    CHECK_THAT(refused.error().message(),
               Catch::Contains(limit == 255 ? "1-octet type field" : "2-octet type field"));
  }
  Packet widest(Code::accounting_request, 1);
  widest.add_vendor(4242, 65535, pattern(4));
  round_trip(widest, *dict, 20 + 2 + 4 + 4 + 4);

  // Without a length field the receiver takes the rest of the Vendor-Specific as one value: two
  // sub-attributes of one group go out in two Vendor-Specifics, not run together.
  Packet bare(Code::accounting_request, 1);
  bare.add_vendor(4343, 1, pattern(5));
  bare.add_vendor(4343, 2, pattern(6, 40), true);
  const auto decoded = round_trip(bare, *dict, 20 + (6 + 1 + 5) + (6 + 1 + 6));
  CHECK(decoded.attributes()[0].vsa_group != decoded.attributes()[1].vsa_group);
}

TEST_CASE("encoder: the text form refuses by the encoder's rule", "[radius][codec][limits][text]") {
  const auto& dict = Dictionary::builtin();
  const auto text = [](std::string_view name, std::size_t octets) {
    return "Accounting-Request id=1 {\n  NAS-Port = 1\n  " + std::string(name) + " = 0x" +
           std::string(2 * octets, 'a') + "\n}";
  };
  CHECK(parse_packet_text(text("User-Name", 253), dict));
  auto long_name = parse_packet_text(text("user-name", 254), dict);
  REQUIRE_FALSE(long_name);
  CHECK(long_name.error().line == 3);
  CHECK(long_name.error().message ==
        "User-Name is 254 octets; the most one attribute holds is 253");
  CHECK(parse_packet_text(text("Cisco-AVPair", 247), dict));
  auto long_vsa = parse_packet_text(text("Cisco-AVPair", 248), dict);
  REQUIRE_FALSE(long_vsa);
  CHECK(long_vsa.error().message ==
        "Cisco-AVPair is 248 octets; the most one attribute holds is 247");
}
