// The dictionaries acctlab ships (dictionaries/): every file loads, the attributes a field capture
// carries resolve to the numbers, types and vendors their RFCs and vendors give, no file redefines
// another's attribute, and Debian's FreeRADIUS tree agrees on every attribute both define.

#include "radius/dictionary.hpp"
#include "radius/dictionary_parser.hpp"
#include "radius/value.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using namespace acctlab::radius;
namespace fs = std::filesystem;

namespace {

const fs::path source_dictionaries = fs::path(ACCTLAB_SOURCE_DIR) / "dictionaries";

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

struct Expected {
  const char* name;
  std::uint32_t vendor;
  std::uint32_t number;
  DataType type;
};

} // namespace

TEST_CASE("the shipped dictionaries name the attributes of field captures",
          "[radius][dictionary]") {
  const auto& dict = Dictionary::builtin();
  const Expected expected[] = {
      // RFC 2868 §3
      {"Tunnel-Type", 0, 64, DataType::integer},
      {"Tunnel-Medium-Type", 0, 65, DataType::integer},
      {"Tunnel-Client-Endpoint", 0, 66, DataType::text},
      {"Tunnel-Server-Endpoint", 0, 67, DataType::text},
      {"Tunnel-Password", 0, 69, DataType::text},
      {"Tunnel-Private-Group-Id", 0, 81, DataType::text},
      {"Tunnel-Assignment-Id", 0, 82, DataType::text},
      {"Tunnel-Preference", 0, 83, DataType::integer},
      {"Tunnel-Client-Auth-Id", 0, 90, DataType::text},
      {"Tunnel-Server-Auth-Id", 0, 91, DataType::text},
      // RFC 5176 §3.6, RFC 4818 §3
      {"Error-Cause", 0, 101, DataType::integer},
      {"Delegated-IPv6-Prefix", 0, 123, DataType::ipv6prefix},
      // RFC 7268 §2
      {"Allowed-Called-Station-Id", 0, 174, DataType::text},
      {"EAPoL-Announcement", 0, 180, DataType::octets},
      {"WLAN-Reason-Code", 0, 185, DataType::integer},
      {"WLAN-Pairwise-Cipher", 0, 186, DataType::integer},
      {"WLAN-Group-Cipher", 0, 187, DataType::integer},
      {"WLAN-AKM-Suite", 0, 188, DataType::integer},
      {"WLAN-Group-Mgmt-Cipher", 0, 189, DataType::integer},
      {"WLAN-RF-Band", 0, 190, DataType::integer},
      // Vendors
      {"MS-CHAP-Challenge", 311, 11, DataType::octets},
      {"MS-CHAP2-Response", 311, 25, DataType::octets},
      {"MS-MPPE-Send-Key", 311, 16, DataType::octets},
      {"MS-Primary-DNS-Server", 311, 28, DataType::ipv4addr},
      {"MS-User-IPv6-Address", 311, 62, DataType::ipv6addr},
      {"Aruba-User-Role", 14823, 1, DataType::text},
      {"Aruba-User-Vlan", 14823, 2, DataType::integer},
      {"Aruba-AP-Name", 14823, 13, DataType::text},
      {"Airespace-Wlan-Id", 14179, 1, DataType::integer},
      {"Airespace-Interface-Name", 14179, 5, DataType::text},
      {"Meraki-Device-Name", 29671, 1, DataType::text},
      {"Meraki-Ap-Tags", 29671, 4, DataType::text},
      {"Juniper-Local-User-Name", 2636, 1, DataType::text},
      {"Juniper-VoIP-Vlan", 2636, 49, DataType::text},
      {"Fortinet-Group-Name", 12356, 1, DataType::text},
      {"Fortinet-Client-IP-Address", 12356, 2, DataType::ipv4addr},
  };
  for (const auto& e : expected) {
    INFO(e.name);
    const auto* def = dict.find(e.name);
    REQUIRE(def);
    CHECK(def->vendor == e.vendor);
    CHECK(def->number == e.number);
    CHECK(def->type == e.type);
    CHECK(dict.find(AttrKey{e.vendor, e.number}) == def);
    if (e.vendor) {
      CHECK(dict.vendor(e.vendor) != nullptr);
    }
  }
  CHECK(dict.vendor("Airespace")->id == 14179);
  CHECK(dict.vendor("Microsoft")->id == 311);

  // RFC 2868 §3: every tunnel attribute may carry a tag; Tunnel-Password is hidden as §3.5 says.
  for (const char* name :
       {"Tunnel-Type", "Tunnel-Medium-Type", "Tunnel-Client-Endpoint", "Tunnel-Server-Endpoint",
        "Tunnel-Password", "Tunnel-Private-Group-Id", "Tunnel-Assignment-Id", "Tunnel-Preference",
        "Tunnel-Client-Auth-Id", "Tunnel-Server-Auth-Id"}) {
    INFO(name);
    CHECK(dict.find(name)->has_tag);
  }
  CHECK(dict.find("Tunnel-Password")->encrypt == 2);
  CHECK(dict.find("MS-MPPE-Recv-Key")->encrypt == 2);
  CHECK(dict.find("MS-CHAP-MPPE-Keys")->encrypt == 1);
  CHECK_FALSE(dict.find("Error-Cause")->has_tag);

  // VALUEs, from the RFC tables.
  CHECK(*dict.find("Tunnel-Type")->value_name(13) == "VLAN");
  CHECK(*dict.find("Tunnel-Type")->value_name(3) == "L2TP");
  CHECK(*dict.find("Tunnel-Medium-Type")->value_name(6) == "IEEE-802");
  CHECK(*dict.find("Error-Cause")->value_name(503) == "Session-Context-Not-Found");
  CHECK(*dict.find("Error-Cause")->value_name(508) == "Multiple-Session-Selection-Unsupported");
  CHECK(*dict.find("Service-Type")->value_name(17) == "Authorize-Only");
  CHECK(*dict.find("MS-Acct-Auth-Type")->value_name(5) == "EAP");
  CHECK(*dict.find("Airespace-QOS-Level")->value_name(0) == "Silver");
}

TEST_CASE("every shipped dictionary file loads and none redefines another's attribute",
          "[radius][dictionary]") {
  std::size_t attribute_lines = 0;
  int files = 0;
  for (const auto& entry : fs::directory_iterator(source_dictionaries)) {
    const auto name = entry.path().filename().string();
    if (!name.starts_with("dictionary")) {
      continue;
    }
    ++files;
    INFO(name);
    auto alone = load_dictionary(entry.path().string());
    INFO((alone ? "" : alone.error().to_string()));
    REQUIRE(alone);
    std::istringstream lines(read_text(entry.path()));
    std::string line;
    while (std::getline(lines, line)) {
      attribute_lines += line.starts_with("ATTRIBUTE");
    }
    // The root pulls in every file: the embedded list (radius/CMakeLists.txt) must name it too.
    if (name != "dictionary") {
      CHECK(read_text(source_dictionaries / "dictionary").find("$INCLUDE " + name + "\n") !=
            std::string::npos);
    }
  }
  CHECK(files >= 18);
  // A name defined twice would count once; a (vendor, number) defined twice would resolve to one
  // of the two definitions only.
  const auto& dict = Dictionary::builtin();
  CHECK(dict.attribute_count() == attribute_lines);
  for (const auto* def : dict.all()) {
    INFO(def->name << " (" << def->file << ":" << def->line << ")");
    CHECK(dict.find(def->key()) == def);
    CHECK(dict.find(def->name) == def);
  }
}

TEST_CASE("Debian's FreeRADIUS tree agrees with ours on every attribute both name",
          "[radius][dictionary][freeradius]") {
  const std::string root = "/usr/share/freeradius/dictionary";
  REQUIRE(fs::exists(root)); // scripts/setup.sh installs freeradius-common
  auto theirs = load_dictionary(root);
  REQUIRE(theirs);
  const auto& ours = Dictionary::builtin();
  std::size_t compared = 0;
  std::size_t values_compared = 0;
  for (const auto* def : ours.all()) {
    const auto* other = theirs->find(def->name);
    if (!other) {
      continue; // named differently there (VALUE names follow the RFCs here)
    }
    ++compared;
    INFO(def->name << " (" << def->file << ":" << def->line << ")");
    CHECK(other->vendor == def->vendor);
    CHECK(other->number == def->number);
    CHECK(type_name(other->type) == type_name(def->type));
    CHECK(other->has_tag == def->has_tag);
    CHECK(other->encrypt == def->encrypt);
    for (const auto& [name, number] : def->value_numbers) {
      if (auto it = other->value_numbers.find(name); it != other->value_numbers.end()) {
        INFO("VALUE " << name);
        CHECK(it->second == number);
        ++values_compared;
      }
    }
  }
  // Every attribute of the new files but a few exists there under the same name.
  CHECK(compared > 200);
  CHECK(values_compared > 150);
}

TEST_CASE("split_tag reads RFC 2868 §3 tags", "[radius][value]") {
  AttributeDef integer{.name = "T", .type = DataType::integer, .has_tag = true};
  AttributeDef text{.name = "S", .type = DataType::text, .has_tag = true};
  const Octets tagged_integer{0x01, 0x00, 0x00, 0x0d};
  auto a = split_tag(integer, tagged_integer);
  CHECK(a.tag == 1);
  CHECK(a.value == Octets{0, 0, 0, 0x0d});
  CHECK(a.note.empty());
  // 0x00: no tag; the value is read as it is.
  auto b = split_tag(integer, Octets{0, 0, 0, 3});
  CHECK(b.tag == 0);
  CHECK(b.value == Octets{0, 0, 0, 3});
  // Above 0x1F: not a tag, and not part of a 32-bit value either.
  auto c = split_tag(integer, Octets{0x20, 0, 0, 3});
  CHECK(c.note == "tag octet 32 is above 31 (RFC 2868 §3: 0 or 1-31)");
  CHECK(c.value == Octets{0x20, 0, 0, 3});
  // Text: a tag only when the first octet is 0x01-0x1F.
  auto d = split_tag(text, Octets{0x1f, 'a'});
  CHECK(d.tag == 0x1f);
  CHECK(d.value == Octets{'a'});
  auto e = split_tag(text, Octets{'a', 'b'});
  CHECK(e.tag == 0);
  CHECK(e.value == Octets{'a', 'b'});
  auto f = split_tag(text, Octets{0x00, 'a'});
  CHECK(f.tag == 0);
  CHECK(f.value == Octets{0x00, 'a'});
  // An attribute without has_tag is left alone.
  AttributeDef plain{.name = "P", .type = DataType::integer};
  auto g = split_tag(plain, tagged_integer);
  CHECK(g.tag == 0);
  CHECK(g.value == tagged_integer);
}
