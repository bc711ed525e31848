// The acctlab binary's rules and check commands, run as a user runs them.

#include "conformance/trace.hpp"
#include "defect_corpus.hpp"
#include "pcap/pcap_writer.hpp"
#include "tests/support/run_command.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sqlite3.h>
#include <sys/wait.h>

using namespace acctlab;
using namespace acctlab::conformance;

namespace {

using Run = acctlab::test::CommandResult;

Run run(const std::string& arguments) {
  return acctlab::test::run_acctlab(arguments);
}

std::string write_case(const std::string& name) {
  for (const auto& c : corpus::all_cases()) {
    if (c.name == name) {
      const auto path = std::filesystem::temp_directory_path() /
                        ("acctlab-cli-" + std::to_string(::getpid()) + "-" + name + ".trace");
      std::ofstream(path) << format_trace(
          corpus::build_trace(c.spec, radius::Dictionary::builtin()));
      return path.string();
    }
  }
  FAIL("no corpus case " << name);
  return {};
}

} // namespace

TEST_CASE("acctlab rules lists and explains", "[conformance][cli]") {
  auto listed = run("rules");
  CHECK(listed.status == 0);
  CHECK(listed.output.find("SES-REKEY-NEW-SESSION") != std::string::npos);
  CHECK(listed.output.find("CISCO-START-ACCT-SESSION-ID") != std::string::npos);
  auto one = run("rules CISCO-STOP-ACCT-OUTPUT-GIGAWORDS");
  CHECK(one.status == 0);
  CHECK(one.output.find("the table says 52; RFC 2869 §5.2 assigns 53") != std::string::npos);
  CHECK(one.output.find("  fails:    a Stop without Acct-Output-Gigawords") != std::string::npos);
  auto response = run("rules EXC-RESPONSE-ATTRIBUTES");
  CHECK(response.status == 0);
  CHECK(response.output.find("  party:    server") != std::string::npos);
  CHECK(response.output.find("  source:   RFC 2866 §4.2, §5.13") != std::string::npos);
  CHECK(response.output.find("  passes:   an Accounting-Response with no attributes") !=
        std::string::npos);
  CHECK(response.output.find("  fails:    an Accounting-Response carrying Reply-Message") !=
        std::string::npos);
  auto other = run("rules --profile rfc2866 RFC2866-ANY-USER-PASSWORD");
  CHECK(other.status == 0);
  CHECK(other.output.find("RFC 2866 §5.13") != std::string::npos);
  CHECK(run("rules NO-SUCH-RULE").status == 2);
  auto bad = run("rules --profile /nonexistent/profile");
  CHECK(bad.status != 0);
  CHECK(bad.output.find("/nonexistent/profile") != std::string::npos);
}

TEST_CASE("acctlab check exits 1 on errors, 0 when clean", "[conformance][cli]") {
  const auto clean = write_case("clean");
  const auto broken = write_case("duplicate-start");
  auto ok = run("check --trace " + clean);
  CHECK(ok.status == 0);
  CHECK(ok.output.find("verdict: PASS") != std::string::npos);
  auto failed = run("check --trace " + broken);
  CHECK(failed.status == 1);
  CHECK(failed.output.find("FAIL SES-DUPLICATE-START") != std::string::npos);
  CHECK(failed.output.find('\033') == std::string::npos); // not a TTY: no colour
  auto json = run("check --report json --trace " + broken);
  CHECK(json.status == 1);
  CHECK(json.output.find("\"rule\":\"SES-DUPLICATE-START\"") != std::string::npos);
  const auto xml_path = broken + ".xml";
  auto junit = run("check --report junit --out " + xml_path + " --trace " + broken);
  CHECK(junit.status == 1);
  CHECK(std::filesystem::file_size(xml_path) > 0);
  CHECK(run("check --trace /nonexistent.trace").status == 2);
  CHECK(run("check").status == 2);
  for (const auto& path : {clean, broken, xml_path}) {
    std::filesystem::remove(path);
  }
}

TEST_CASE("acctlab conform runs a scenario end to end", "[conformance][cli]") {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("acctlab-cli-conform-" + std::to_string(::getpid()));
  auto ok = run("conform --scenario one-session --scenario rekeys --work-dir " + dir.string());
  CHECK(ok.status == 0);
  CHECK(ok.output.find("PASS one-session") != std::string::npos);
  CHECK(ok.output.find("PASS rekeys") != std::string::npos);
  CHECK(ok.output.find("2 of 2 scenario(s) passed") != std::string::npos);
  CHECK(std::filesystem::exists(dir / "one-session-1.db"));
  auto junit = run("conform --scenario stop-only --report junit --work-dir " + dir.string());
  CHECK(junit.status == 0);
  CHECK(junit.output.find("<testsuite name=\"stop-only: pipeline\"") != std::string::npos);
  CHECK(run("conform --scenario no-such-scenario").status == 2);
  CHECK(run("conform").status == 2);
  std::filesystem::remove_all(dir);
}

TEST_CASE("acctlab check reads a gateway event log and a capture", "[conformance][cli]") {
  const auto base =
      std::filesystem::temp_directory_path() / ("acctlab-cli-doors-" + std::to_string(::getpid()));
  const std::string source = ACCTLAB_SOURCE_DIR;
  // The gateway against a loopback port where nothing answers: every record goes unanswered.
  const auto events = base.string() + ".jsonl";
  run("gateway --config " + source + "/client/scenarios/lab.cfg --scenario " + source +
      "/client/scenarios/one-session.scn --server 127.0.0.1:9 --server 127.0.0.1:9 --events " +
      events + " --answer-wait 10ms");
  auto judged = run("check --events " + events + " --secret nsite");
  CHECK(judged.status == 1);
  CHECK(judged.output.find("FAIL EXC-UNANSWERED") != std::string::npos);
  CHECK(judged.output.find("PKT-REQUEST-AUTHENTICATOR") == std::string::npos); // lab.cfg's key
  auto wrong = run("check --events " + events + " --secret not-the-key");
  CHECK(wrong.output.find("FAIL PKT-REQUEST-AUTHENTICATOR") != std::string::npos);

  // A clean corpus trace written as a capture passes.
  const auto pcap = base.string() + ".pcap";
  corpus::Spec spec;
  for (const auto& c : corpus::all_cases()) {
    if (c.name == "clean") {
      spec = c.spec;
    }
  }
  const auto trace = corpus::build_trace(spec, radius::Dictionary::builtin());
  std::string error;
  auto writer = capture::PcapWriter::create(pcap, error);
  REQUIRE(writer);
  for (const auto& packet : trace.packets) {
    capture::UdpFrameSpec frame;
    frame.timestamp_ns = static_cast<std::int64_t>((1700000000.0 + packet.time) * 1e9);
    const auto split = [](const std::string& text) {
      const auto colon = text.rfind(':');
      return capture::Endpoint{*capture::IpAddress::parse(text.substr(0, colon)),
                               static_cast<std::uint16_t>(std::stoi(text.substr(colon + 1)))};
    };
    frame.source = split(packet.source);
    frame.destination = split(packet.destination);
    REQUIRE(writer->write_udp(frame, packet.raw));
  }
  REQUIRE(writer->close());
  auto captured = run("check --pcap " + pcap + " --secret testing123 --interim-interval 60");
  CHECK(captured.status == 0);
  CHECK(captured.output.find("6 requests, 6 responses") != std::string::npos);
  CHECK(captured.output.find("verdict: PASS") != std::string::npos);
  for (const auto& path : {events, pcap}) {
    std::filesystem::remove(path);
  }
}

namespace {

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::int64_t count_rows(const std::filesystem::path& db_path, const std::string& table) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, ("SELECT count(*) FROM " + table).c_str(), -1, &st, nullptr) ==
          SQLITE_OK);
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  const auto n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return n;
}

/** Every row of a query, columns joined by '|'. */
std::vector<std::string> rows_of(const std::filesystem::path& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK);
  std::vector<std::string> out;
  while (sqlite3_step(st) == SQLITE_ROW) {
    std::string row;
    for (int i = 0; i < sqlite3_column_count(st); ++i) {
      const auto* text = sqlite3_column_text(st, i);
      row += (text ? reinterpret_cast<const char*>(text) : "<null>") + std::string("|");
    }
    out.push_back(std::move(row));
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

} // namespace

TEST_CASE("acctlab check --db in parts reports and stores what the whole-trace judge does",
          "[conformance][cli][parts]") {
  // A database the embedded server wrote (requests only), through acctlab conform.
  const auto dir = std::filesystem::temp_directory_path() /
                   ("acctlab-cli-check-db-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  REQUIRE(run("conform --scenario rekeys --work-dir " + dir.string()).status == 0);
  const auto db = dir / "rekeys-1.db";
  REQUIRE(std::filesystem::exists(db));
  const auto runs = count_rows(db, "runs");
  const auto findings = count_rows(db, "findings");
  std::map<std::string, std::string> reports;
  for (const std::string part : {"0", "2", "8192"}) {
    for (const std::string format : {"text", "json", "junit"}) {
      const auto out = dir / (format + "-" + part);
      auto checked = run("check --db " + db.string() + " --no-store --secret testing123 " +
                         "--judge-part " + part + " --report " + format + " --out " + out.string());
      INFO(checked.output);
      CHECK((checked.status == 0 || checked.status == 1));
      reports[format + part] = read_file(out);
      CHECK(!reports[format + part].empty());
    }
  }
  for (const std::string format : {"text", "json", "junit"}) {
    INFO(format);
    CHECK(reports[format + "0"] == reports[format + "2"]);
    CHECK(reports[format + "0"] == reports[format + "8192"]);
  }
  // --no-store wrote nothing.
  CHECK(count_rows(db, "runs") == runs);
  CHECK(count_rows(db, "findings") == findings);
  // Stored: one conform run and its findings, in parts as whole.
  for (const std::string part : {"0", "2"}) {
    auto stored = run("check --db " + db.string() + " --secret testing123 --judge-part " + part);
    CHECK(stored.output.find("findings stored in") != std::string::npos);
  }
  CHECK(count_rows(db, "runs") == runs + 2);
  const auto whole = rows_of(db, "SELECT rule_id, severity, scope, message, packet_id, "
                                 "record_id, session_id, file, frame FROM findings WHERE run_id = "
                                 "(SELECT max(id) - 1 FROM runs) ORDER BY id");
  const auto parts = rows_of(db, "SELECT rule_id, severity, scope, message, packet_id, "
                                 "record_id, session_id, file, frame FROM findings WHERE run_id = "
                                 "(SELECT max(id) FROM runs) ORDER BY id");
  CHECK(!whole.empty());
  CHECK(whole == parts);
  CHECK(rows_of(db, "SELECT verdict, report FROM runs WHERE id = (SELECT max(id) - 1 FROM runs)") ==
        rows_of(db, "SELECT verdict, report FROM runs WHERE id = (SELECT max(id) FROM runs)"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("each NAS is judged with the profile its clients-file entry names",
          "[conformance][cli][profiles]") {
  // A strongSwan gateway (profile strongswan) and the document's IOS router (cisco-ios-ipsec) in
  // one import: tests/captures/clients.conf names each one's profile.
  const std::string captures = std::string(ACCTLAB_SOURCE_DIR) + "/tests/captures/";
  const auto db = std::filesystem::temp_directory_path() /
                  ("acctlab-cli-" + std::to_string(::getpid()) + "-profiles.db");
  std::filesystem::remove(db);
  const std::string files = captures + "strongswan-lifecycle.pcap " + captures +
                            "document-start.pcap " + captures + "document-stop.pcap " + captures +
                            "document-interim.pcap";
  const auto imported =
      run("pcap analyze " + files + " --secrets " + captures + "clients.conf --db " + db.string());
  INFO(imported.output);
  CHECK(imported.status == 0);
  CHECK(imported.output.find("conformance (profile strongswan, cisco-ios-ipsec): PASS") !=
        std::string::npos);
  // No IOS rule judged the strongSwan gateway's sessions, no strongSwan rule the router's.
  sqlite3* handle = nullptr;
  REQUIRE(sqlite3_open_v2(db.string().c_str(), &handle, SQLITE_OPEN_READONLY, nullptr) ==
          SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(handle,
                             "SELECT f.rule_id, p.src_addr FROM findings f JOIN packets p ON "
                             "p.id = f.packet_id",
                             -1, &st, nullptr) == SQLITE_OK);
  std::size_t findings = 0;
  while (sqlite3_step(st) == SQLITE_ROW) {
    const std::string rule = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    const std::string source = reinterpret_cast<const char*>(sqlite3_column_text(st, 1));
    INFO(rule << " on " << source);
    CHECK_FALSE((source == "127.0.0.1" && rule.rfind("CISCO-", 0) == 0));
    CHECK_FALSE((source == "100.1.1.147" && rule.rfind("SWAN-", 0) == 0));
    ++findings;
  }
  sqlite3_finalize(st);
  sqlite3_close(handle);
  CHECK(findings > 0); // the router's notes and the document's Acct-Terminate-Cause 0

  // --profile given explicitly judges every NAS: the IOS profile fails the strongSwan gateway.
  std::filesystem::remove(db);
  const auto forced = run("pcap analyze " + files + " --secrets " + captures +
                          "clients.conf --profile cisco-ios-ipsec --db " + db.string());
  CHECK(forced.output.find("conformance (profile cisco-ios-ipsec): FAIL") != std::string::npos);
  std::filesystem::remove(db);
}

TEST_CASE("check --pcap takes --secrets: each NAS its secret and clients-file profile",
          "[conformance][cli][profiles]") {
  const std::string captures = std::string(ACCTLAB_SOURCE_DIR) + "/tests/captures/";
  const std::string files = captures + "strongswan-lifecycle.pcap " + captures +
                            "document-start.pcap " + captures + "document-stop.pcap " + captures +
                            "document-interim.pcap";
  const auto checked =
      run("check --pcap " + files + " --secrets " + captures + "clients.conf --report json");
  INFO(checked.output);
  CHECK(checked.status == 0);
  const auto report = boost::json::parse(checked.output).as_object();
  CHECK(report.at("verdict") == "pass");
  std::map<std::string, std::string> profiles;
  for (const auto& nas : report.at("profiles").as_array()) {
    profiles[std::string(nas.at("nas").as_string())] = std::string(nas.at("profile").as_string());
  }
  CHECK(profiles == std::map<std::string, std::string>{{"127.0.0.1", "strongswan"},
                                                       {"100.1.1.147", "cisco-ios-ipsec"}});
  // The secrets were each NAS's own: every authenticator verified, none reported.
  CHECK(checked.output.find("\"rule\":\"PKT-REQUEST-AUTHENTICATOR\"") == std::string::npos);
  // A wrong secret for every NAS instead is seen: the same captures fail.
  const auto wrong = run("check --pcap " + files + " --secret not-their-secret");
  CHECK(wrong.status == 1);
  CHECK(wrong.output.find("PKT-REQUEST-AUTHENTICATOR") != std::string::npos);
  // pcap analyze takes the same two: --secret for every NAS the clients file does not name.
  const auto analyzed = run("pcap analyze " + captures + "strongswan-lifecycle.pcap " + captures +
                            "document-records.pcap --secrets " + captures +
                            "clients.conf --secret not-theirs --report json");
  const auto totals = boost::json::parse(analyzed.output).at("totals").at("authenticators");
  CHECK(totals.at("request_valid").to_number<int>() == 11);
  CHECK(totals.at("request_invalid").to_number<int>() == 0);
  const auto alone = run("pcap analyze " + captures +
                         "strongswan-lifecycle.pcap --secret acctlab-swan-secret --report json");
  CHECK(boost::json::parse(alone.output)
            .at("totals")
            .at("authenticators")
            .at("request_valid")
            .to_number<int>() == 8);
  // --profile overrides the clients file for every NAS.
  const auto forced = run("check --pcap " + files + " --secrets " + captures +
                          "clients.conf --profile cisco-ios-ipsec");
  CHECK(forced.status == 1);
  CHECK(forced.output.find("profile cisco-ios-ipsec:") != std::string::npos);
}

TEST_CASE("check --fail-on nas: lab validation of a NAS fails on the NAS's errors only",
          "[conformance][cli]") {
  const std::string captures = std::string(ACCTLAB_SOURCE_DIR) + "/tests/captures/";
  // The server's port was closed for a while: two Interim-Updates unanswered (the server's
  // EXC-UNANSWERED); strongSwan itself did nothing wrong.
  const auto down = "check --pcap " + captures + "strongswan-outage-down.pcap --secrets " +
                    captures + "clients.conf --interim-interval 5";
  const auto any = run(down);
  CHECK(any.status == 1);
  CHECK(any.output.find("verdict: FAIL (NAS pass; server fail") != std::string::npos);
  const auto nas = run(down + " --fail-on nas");
  CHECK(nas.status == 0);
  CHECK(nas.output.find("verdict: FAIL (NAS pass; server fail") != std::string::npos);
  // A NAS's own error fails it either way.
  const auto malformed = write_case("malformed-datagram");
  CHECK(run("check --trace " + malformed + " --fail-on nas").status == 1);
  CHECK(run("check --trace " + malformed).status == 1);
  std::filesystem::remove(malformed);
}

TEST_CASE("conform takes --secrets: the gateway's profile and secret from its clients entry",
          "[conformance][cli][profiles]") {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("acctlab-cli-" + std::to_string(::getpid()) + "-conform-secrets");
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "clients.conf") << "client gateway {\n  ipaddr = 127.0.0.1\n"
                                         "  secret = gw-secret-1\n  profile = rfc2866\n}\n";
  const auto result =
      run("conform --scenario rekeys --report json --work-dir " + (dir / "work").string() +
          " --secrets " + (dir / "clients.conf").string());
  INFO(result.output);
  CHECK(result.status == 0);
  CHECK(result.output.find("\"profile\":\"rfc2866\"") != std::string::npos);
  CHECK(result.output.find("\"profile\":\"cisco-ios-ipsec\"") == std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("check --db takes --secrets: the stored NASes judged each with its profile",
          "[conformance][cli][profiles]") {
  const std::string captures = std::string(ACCTLAB_SOURCE_DIR) + "/tests/captures/";
  const auto db = std::filesystem::temp_directory_path() /
                  ("acctlab-cli-" + std::to_string(::getpid()) + "-check-db-profiles.db");
  std::filesystem::remove(db);
  const auto imported = run("pcap analyze " + captures + "strongswan-lifecycle.pcap " + captures +
                            "document-start.pcap " + captures + "document-stop.pcap " + captures +
                            "document-interim.pcap --no-check --db " + db.string());
  REQUIRE(imported.status == 0);
  const auto checked = run("check --db " + db.string() + " --secrets " + captures +
                           "clients.conf --no-store --report json");
  INFO(checked.output);
  CHECK(checked.status == 0);
  const auto report = boost::json::parse(checked.output).as_object();
  CHECK(report.at("verdict") == "pass");
  std::map<std::string, std::string> profiles;
  for (const auto& nas : report.at("profiles").as_array()) {
    profiles[std::string(nas.at("nas").as_string())] = std::string(nas.at("profile").as_string());
  }
  CHECK(profiles == std::map<std::string, std::string>{{"127.0.0.1", "strongswan"},
                                                       {"100.1.1.147", "cisco-ios-ipsec"}});
  // One profile for all (the IOS one) fails the strongSwan gateway.
  const auto forced = run("check --db " + db.string() + " --secrets " + captures +
                          "clients.conf --profile cisco-ios-ipsec --no-store");
  CHECK(forced.status == 1);
  std::filesystem::remove(db);
}
