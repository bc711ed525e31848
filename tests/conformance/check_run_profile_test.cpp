// check --db DB --run N judges a run with the profiles it was judged with (its report's), so a
// run conformed with another profile than the default shows no findings of the default's; an
// explicit --profile overrides them and says so. Through the acctlab binary, on a SQLite file
// and again with ACCTLAB_TEST_ENGINE=postgres on a database of a private PostgreSQL cluster
// (tests/support/test_engine.hpp). The runs are capture imports of tests/captures (README there).

#include "tests/support/run_command.hpp"
#include "tests/support/stored_db.hpp"
#include "tests/support/test_engine.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <unistd.h>

using namespace acctlab;

namespace {

const std::string captures = std::string(ACCTLAB_SOURCE_DIR) + "/tests/captures/";

/** The id of the database's latest run of this kind. */
std::string latest_run(const std::string& database, const std::string& kind) {
  return std::to_string(
      test::stored_count(database, "SELECT max(id) FROM runs WHERE kind = '" + kind + "'"));
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace

TEST_CASE("check --db --run judges a run with the profiles it was judged with, and --profile "
          "overrides them saying so",
          "[conformance][db][profiles]") {
  const auto path = (std::filesystem::temp_directory_path() /
                     ("acctlab-check-run-profile-" + std::to_string(::getpid()) + ".db"))
                        .string();
  const auto database = test::fresh_database(path, "check_run_profile");
  const auto quoted = "'" + database + "'";

  // One NAS, imported with the strongswan profile: a pass.
  const auto swan =
      test::run_acctlab("pcap analyze " + captures +
                        "strongswan-lifecycle.pcap --secret "
                        "acctlab-swan-secret --profile strongswan --interim-interval 5 --db " +
                        quoted);
  INFO(swan.output);
  REQUIRE(swan.status == 0);
  CHECK(has(swan.output, "conformance (profile strongswan): PASS"));
  const auto swan_run = latest_run(database, "pcap");

  // Its own profile, without naming it: the import's verdict again, in parts.
  const auto own = test::run_acctlab("check --db " + quoted + " --run " + swan_run +
                                     " --secret acctlab-swan-secret --interim-interval 5");
  INFO(own.output);
  CHECK(own.status == 0);
  CHECK(has(own.output, "acctlab check: judging run " + swan_run +
                            " with the profile it was judged with: strongswan (--profile "
                            "overrides)"));
  CHECK(has(own.output, "profile strongswan: "));
  CHECK_FALSE(has(own.output, "CISCO-"));

  // --profile overrides it, and says so: the IOS profile fails the strongSwan gateway.
  const auto forced = test::run_acctlab(
      "check --db " + quoted + " --run " + swan_run +
      " --secret acctlab-swan-secret --interim-interval 5 --no-store --profile cisco-ios-ipsec");
  INFO(forced.output);
  CHECK(forced.status == 1);
  CHECK(has(forced.output, "acctlab check: --profile cisco-ios-ipsec overrides run " + swan_run +
                               "'s own profile (strongswan)"));
  CHECK(has(forced.output, "profile cisco-ios-ipsec: "));
  CHECK(has(forced.output, "CISCO-"));

  // Two NASes, each with the profile its clients-file entry names (the strongSwan gateway
  // strongswan, the document's router cisco-ios-ipsec): check --run without the clients file
  // judges each NAS with the profile the import gave it.
  const auto both = test::run_acctlab(
      "pcap analyze " + captures + "strongswan-lifecycle.pcap " + captures +
      "document-start.pcap " + captures + "document-stop.pcap " + captures +
      "document-interim.pcap --secrets " + captures + "clients.conf --db " + quoted);
  INFO(both.output);
  REQUIRE(both.status == 0);
  CHECK(has(both.output, "conformance (profile strongswan, cisco-ios-ipsec): PASS"));
  const auto both_run = latest_run(database, "pcap");
  const auto per_nas = test::run_acctlab("check --db " + quoted + " --run " + both_run);
  INFO(per_nas.output);
  CHECK(per_nas.status == 0);
  // In the order of each NAS's first packet (the document's captures are older).
  CHECK(has(per_nas.output, "with the profile it was judged with: 100.1.1.147 cisco-ios-ipsec, "
                            "127.0.0.1 strongswan"));
  CHECK(has(per_nas.output, "profile per NAS: 100.1.1.147=cisco-ios-ipsec 127.0.0.1=strongswan"));
  CHECK(has(per_nas.output, "findings: 0 errors"));
  // What it stored names them again, so a check of the check's run finds them too.
  const auto check_run = latest_run(database, "conform");
  const auto again = test::run_acctlab("check --db " + quoted + " --run " + check_run);
  INFO(again.output);
  CHECK(has(again.output, "judging run " + check_run +
                              " with the profile it was judged with: 100.1.1.147 "
                              "cisco-ios-ipsec, 127.0.0.1 strongswan"));

  // No such run: an error naming it.
  const auto missing = test::run_acctlab("check --db " + quoted + " --run 999");
  CHECK(missing.status == 2);
  CHECK(has(missing.output, "acctlab check: "));
  CHECK(has(missing.output, "no run 999"));
  test::remove_database(database, path);
}
