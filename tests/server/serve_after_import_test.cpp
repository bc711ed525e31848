// `acctlab serve` on a database that holds a capture import's open session (a run scope of its
// own): the live server's matcher starts with the live sessions only, so a Stop that radclient
// sends over UDP for the same NAS and Acct-Session-Id is a new live session (no Start seen), and
// the imported session stays as the import stored it. On SQLite and on PostgreSQL.

#include "../storage/storage_test_util.hpp"
#include "server_test_util.hpp"
#include "storage/read_db.hpp"
#include "tests/support/test_engine.hpp"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <sys/wait.h>
#include <unistd.h>

using namespace acctlab;

namespace {

const std::string binary = std::string(ACCTLAB_BINARY_DIR) + "/acctlab";

/** Every session of this Acct-Session-Id, oldest first: "id/state/records/flags/run kind". */
std::vector<std::string> sessions_of(const std::string& database, const std::string& sid) {
  storage::ReadOnlyDatabase db(database);
  auto rows = db.prepare(
      "SELECT s.id, s.state, s.record_count, s.flags, (SELECT r.kind FROM packets AS p JOIN runs "
      "AS r ON r.id = p.run_id WHERE p.session_row = s.id ORDER BY p.id LIMIT 1) FROM sessions "
      "AS s WHERE s.acct_session_id = '" +
      sid + "' ORDER BY s.id");
  std::vector<std::string> out;
  while (rows.step()) {
    out.push_back(std::to_string(rows.int64(0)) + "/" + rows.text(1) + "/" +
                  std::to_string(rows.int64(2)) + "/" + rows.text(3) + "/" + rows.text(4));
  }
  return out;
}

} // namespace

TEST_CASE("serve after a capture import: a live Stop for the import's open session is a new "
          "live session and the imported one stays as stored",
          "[server][import][radclient]") {
  if (::access("/usr/bin/radclient", X_OK) != 0) {
    FAIL("radclient is not installed (Debian package freeradius-utils)");
  }
  test::TempDir dir;
  const auto db = test::fresh_database(dir.file("acct.db"), "serve_after_import");

  // The feature document's Start (Acct-Session-Id 00000001, NAS-IP-Address 100.1.1.147): the
  // import leaves its session open.
  const std::string capture =
      std::string(ACCTLAB_SOURCE_DIR) + "/tests/captures/document-start.pcap";
  const auto import_log = dir.file("import.log");
  const int imported = std::system((binary + " pcap analyze " + capture + " --db '" + db +
                                    "' --no-check > " + import_log + " 2>&1")
                                       .c_str());
  INFO(test::read_file(import_log));
  REQUIRE(WIFEXITED(imported));
  REQUIRE(WEXITSTATUS(imported) == 0);
  const auto before = sessions_of(db, "00000001");
  REQUIRE(before.size() == 1);
  CHECK(before[0].ends_with("/open/1//pcap"));

  test::ServerProcess process({"serve", "--listen", "127.0.0.1:0", "--db", db, "--stats", "0"},
                              dir.file("serve.log"));
  const auto port = process.wait_for_port();
  INFO(process.log());
  REQUIRE(port != 0);
  const auto request = dir.file("stop.txt");
  std::ofstream(request) << "Acct-Session-Id = \"00000001\"\n"
                            "NAS-IP-Address = 100.1.1.147\n"
                            "User-Name = \"joe@cclient\"\n"
                            "Acct-Status-Type = Stop\n"
                            "Acct-Session-Time = 60\n"
                            "Acct-Input-Octets = 1000\n"
                            "Acct-Output-Octets = 2000\n"
                            "Acct-Terminate-Cause = User-Request\n"
                            "Acct-Delay-Time = 0\n";
  const auto output = dir.file("radclient.out");
  const int sent =
      std::system(("radclient -x -r 1 -t 3 -D /usr/share/freeradius -f " + request +
                   " 127.0.0.1:" + std::to_string(port) + " acct testing123 > " + output + " 2>&1")
                      .c_str());
  INFO(test::read_file(output));
  CHECK(sent == 0);
  CHECK_THAT(test::read_file(output), Catch::Contains("Received Accounting-Response"));
  process.signal(SIGTERM);
  CHECK(process.wait() == 0);

  // The imported session is as the import stored it; the Stop is a live session of its own,
  // closed, flagged as having had no Start.
  const auto after = sessions_of(db, "00000001");
  REQUIRE(after.size() == 2);
  CHECK(after[0] == before[0]);
  CHECK(after[1].find("/closed/1/") != std::string::npos);
  CHECK(after[1].find("no-start") != std::string::npos);
  CHECK(after[1].ends_with("/serve"));
}
