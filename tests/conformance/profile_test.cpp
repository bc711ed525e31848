#include "conformance/profile.hpp"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>

using namespace acctlab;
using namespace acctlab::conformance;

namespace {
const radius::Dictionary& dict() {
  return radius::Dictionary::builtin();
}

std::string error_of(std::string_view text) {
  auto result = parse_profile(text, "my-nas", dict());
  REQUIRE_FALSE(result);
  return result.error().to_string();
}
} // namespace

TEST_CASE("profile rows: statuses, counts, severities, AV-pair spellings",
          "[conformance][profile]") {
  const auto profile = parse_profile("name my-nas\n"
                                     "id-prefix mine\n"
                                     "# a comment\n"
                                     "stop-only-allowed yes\n"
                                     "interim-tolerance 25%\n"
                                     "interim-interval 5m\n"
                                     "max-latency 250ms\n"
                                     "Start,Watchdog Acct-Session-Id 1 RFC 2866 §5.5\n"
                                     "Stop Acct-Input-Gigawords 0-1 warning RFC 2869 §5.1\n"
                                     "* avpair:a|b 0+ vendor manual p. 3\n",
                                     "my-nas", dict());
  REQUIRE(profile);
  CHECK(profile->name == "my-nas");
  CHECK(profile->options.stop_only_allowed);
  CHECK(profile->options.interim_tolerance == Approx(0.25));
  CHECK(*profile->options.interim_interval == Approx(300));
  CHECK(profile->options.max_latency == Approx(0.25));
  REQUIRE(profile->rows.size() == 4);
  CHECK(profile->rows[0].id == "MINE-START-ACCT-SESSION-ID");
  CHECK(profile->rows[1].id == "MINE-INTERIM-ACCT-SESSION-ID");
  CHECK(profile->rows[1].status == 3u);
  CHECK(profile->rows[2].severity == Severity::warning);
  CHECK(profile->rows[2].count.text() == "0-1");
  CHECK(profile->rows[2].source == "RFC 2869 §5.1");
  CHECK(profile->rows[2].key == radius::AttrKey{0, 52});
  CHECK(profile->rows[3].avpair);
  CHECK(profile->rows[3].names == std::vector<std::string>{"a", "b"});
  CHECK(profile->rows[3].count.text() == "0+");
  CHECK(profile->rows[3].id == "MINE-ANY-AVPAIR-A");
}

TEST_CASE("a bad profile line is an error with file:line", "[conformance][profile]") {
  CHECK(error_of("name x\nStart Acct-Session-Id 1\n") ==
        "my-nas:2: a row must cite its source (a table row of the document or an RFC section)");
  CHECK(error_of("\n\nStart No-Such-Attribute 1 RFC 1\n") ==
        "my-nas:3: unknown attribute 'No-Such-Attribute'");
  CHECK(error_of("Begin Acct-Session-Id 1 RFC 2866\n") ==
        "my-nas:1: unknown directive or Acct-Status-Type 'Begin'");
  CHECK(error_of("Start Acct-Session-Id 2-1 RFC 2866\n").starts_with("my-nas:1: bad count '2-1'"));
  CHECK(error_of("Start Acct-Session-Id x RFC 2866\n").starts_with("my-nas:1: bad count"));
  CHECK(error_of("stop-only-allowed maybe\n") == "my-nas:1: stop-only-allowed takes yes or no");
  CHECK(error_of("interim-tolerance 10\n").starts_with("my-nas:1: interim-tolerance"));
  CHECK(error_of("Start User-Name 1 a\nStart User-Name 0 b\n").starts_with("my-nas:2: duplicate"));
  CHECK(error_of("Start avpair: 1 x\n").starts_with("my-nas:1: "));
}

TEST_CASE("profiles load by name from the search path and by path", "[conformance][profile]") {
  const auto names = available_profiles();
  CHECK(std::find(names.begin(), names.end(), "rfc2866") != names.end());
  CHECK(std::find(names.begin(), names.end(), "cisco-ios-ipsec") != names.end());
  auto by_name = load_profile("cisco-ios-ipsec", dict());
  REQUIRE(by_name);
  CHECK(by_name->name == "cisco-ios-ipsec");
  auto by_path =
      load_profile(std::string(ACCTLAB_SOURCE_DIR) + "/conformance/profiles/rfc2866", dict());
  REQUIRE(by_path);
  CHECK(by_path->id_prefix == "RFC2866");

  const auto missing = load_profile("no-such-profile", dict());
  REQUIRE_FALSE(missing);
  CHECK(missing.error().to_string().find("no such profile") != std::string::npos);

  // A user's copy with a mistake reports its own path and line.
  const auto path = std::filesystem::temp_directory_path() / "acctlab-profile-test";
  {
    std::ofstream out(path);
    out << "name edited\n*  Acct-Status-Type  1  RFC 2866 §5.1\nStop Acct-Input-Octets one RFC\n";
  }
  const auto edited = load_profile(path.string(), dict());
  std::filesystem::remove(path);
  REQUIRE_FALSE(edited);
  CHECK(edited.error().to_string() ==
        path.string() + ":3: bad count 'one' (use 0, 1, 0-1, 0+, 1+, N-M)");
}
