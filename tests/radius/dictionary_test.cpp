#include "radius/dictionary.hpp"
#include "radius/dictionary_parser.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <map>

using namespace acctlab::radius;

TEST_CASE("built-in dictionary defines the accounting attributes", "[radius][dictionary]") {
  const auto& dict = Dictionary::builtin();
  const auto* status = dict.find("acct-status-type"); // names are case-insensitive
  REQUIRE(status);
  CHECK(status->number == 40);
  CHECK(status->type == DataType::integer);
  REQUIRE(status->value_name(3));
  CHECK(*status->value_name(3) == "Interim-Update");
  const auto* avpair = dict.find("Cisco-AVPair");
  REQUIRE(avpair);
  CHECK(avpair->vendor == 9);
  CHECK(avpair->number == 1);
  CHECK(dict.find(AttrKey{0, 53})->name == "Acct-Output-Gigawords");
  CHECK(dict.find(AttrKey{0, 95})->type == DataType::ipv6addr);
  CHECK(dict.vendor("Cisco")->id == 9);
}

TEST_CASE("Debian's whole FreeRADIUS dictionary tree loads", "[radius][dictionary][freeradius]") {
  const std::string root = "/usr/share/freeradius/dictionary";
  REQUIRE(std::filesystem::exists(root)); // scripts/setup.sh installs freeradius-common
  auto dict = load_dictionary(root);
  INFO((dict ? "" : dict.error().to_string()));
  REQUIRE(dict);
  CHECK(dict->attribute_count() > 5000);
  CHECK(dict->vendor_count() > 100);
  CHECK(dict->find("Cisco-AVPair")->vendor == 9);
  CHECK(dict->find("Acct-Session-Id")->number == 44);
}

TEST_CASE("a bad dictionary line is an error naming file and line", "[radius][dictionary]") {
  std::map<std::string, std::string> files{
      {"root", "# comment\n$INCLUDE sub\n"},
      {"sub", "ATTRIBUTE A 1 string\nATTRIBUTE B 2 nosuchtype\n"},
  };
  const DictionaryReader reader = [&](const std::string& path) -> std::optional<std::string> {
    auto it = files.find(path);
    return it == files.end() ? std::nullopt : std::optional(it->second);
  };
  auto dict = load_dictionary("root", reader);
  REQUIRE_FALSE(dict);
  CHECK(dict.error().file == "sub");
  CHECK(dict.error().line == 2);
  CHECK(dict.error().to_string().find("nosuchtype") != std::string::npos);

  files["sub"] = "BEGIN-VENDOR Nobody\n";
  auto vendorless = load_dictionary("root", reader);
  REQUIRE_FALSE(vendorless);
  CHECK(vendorless.error().line == 1);

  files["root"] = "$INCLUDE missing\n";
  auto missing = load_dictionary("root", reader);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message.find("missing") != std::string::npos);

  files["root"] = "$INCLUDE- missing\nVENDOR V 99 format=2,2\nBEGIN-VENDOR V\nATTRIBUTE X 300 "
                  "integer has_tag\nEND-VENDOR V\nVALUE X One 1\n";
  auto ok = load_dictionary("root", reader);
  REQUIRE(ok);
  CHECK(ok->find("X")->vendor == 99);
  CHECK(ok->find("X")->has_tag);
  CHECK(*ok->find("X")->value_name(1) == "One");
  CHECK(ok->vendor(99)->type_size == 2);
}
