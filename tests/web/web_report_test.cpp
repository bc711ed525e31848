// The run reports the viewer reads from runs.report: as `acctlab check --db` stores them (a BLOB
// of the JSON's bytes, written a piece at a time), as older databases hold them (TEXT), and too
// large to hold whole (read a piece at a time, only the members a page shows built).

#include "storage/read_db.hpp"
#include "storage/report_scan.hpp"
#include "storage/reports.hpp"
#include "tests/support/run_command.hpp"
#include "tests/support/test_db.hpp"
#include "tests/support/test_engine.hpp"
#include "tests/web/http_client.hpp"
#include "tests/web/viewer.hpp"
#include "tests/web/web_fixture.hpp"
#include "web/http_server.hpp"
#include "web/site.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>

namespace json = boost::json;
using namespace acctlab::web;
using namespace acctlab::storage;
using namespace acctlab::web::test;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/** The test's own read-write handle on either engine (tests/web/web_fixture.hpp), and runs it
 * adds. */
struct Sql : TestSql {
  using TestSql::TestSql;
  /** A conformance run holding report as TEXT (as databases before BLOB reports hold it, and as
   * PostgreSQL holds every report) or as a BLOB; returns its id. */
  std::int64_t insert_run(const std::string& report, bool as_text) {
    const std::string sql = "INSERT INTO runs (kind, started, finished, verdict, report) "
                            "VALUES ('conform', 1, 2, 'fail', ?1)";
    if (as_text || acctlab::test::on_postgres()) {
      return insert(sql, {report});
    }
    return insert(sql, {std::vector<std::uint8_t>(report.begin(), report.end())});
  }
};

/** Per rule id: {runs_passed, runs_failed} as /api/conformance counts them. */
std::map<std::string, std::pair<std::int64_t, std::int64_t>> run_counts(const json::object& c) {
  std::map<std::string, std::pair<std::int64_t, std::int64_t>> out;
  for (const auto& r : c.at("rules").as_array()) {
    const auto& rule = r.as_object();
    const auto count = [&](const char* key) {
      return rule.at(key).is_int64() ? rule.at(key).as_int64() : 0;
    };
    out[std::string(rule.at("rule_id").as_string())] = {count("runs_passed"), count("runs_failed")};
  }
  return out;
}

/** Every piece of the cell, read as the viewer reads it, in pieces of an odd size. */
std::string read_cell(const std::string& path, std::int64_t run) {
  ReadOnlyDatabase db(path);
  auto cell = db.open_cell("runs", "report", run);
  REQUIRE(cell);
  std::string out;
  std::array<char, 1000> piece{};
  while (const auto n = cell->read(piece, static_cast<std::int64_t>(out.size()))) {
    out.append(piece.data(), n);
  }
  CHECK(static_cast<std::int64_t>(out.size()) == cell->size());
  return out;
}

} // namespace

TEST_CASE("check --db stores the report file's bytes, and every reader reads them",
          "[web][report][check]") {
  const auto dir = test_directory("report-stored");
  const auto path = test_database("report-stored");
  make_fixture_database(path);
  json::object before;
  {
    Viewer viewer(path);
    before = viewer.api("/api/conformance");
  }
  const auto file = dir + "/report.json";
  std::filesystem::remove(file);
  const auto checked =
      acctlab::test::run_acctlab("check --db '" + path + "' --report json --out " + file);
  INFO(checked.output);
  REQUIRE((checked.status == 0 || checked.status == 1));
  REQUIRE(checked.output.find("findings stored in") != std::string::npos);
  const auto report = read_file(file);
  REQUIRE(report.size() > 1000);
  const auto parsed = json::parse(report);

  Sql sql(path);
  const std::int64_t run = std::stoll(sql.value("SELECT max(id) FROM runs"));
  const auto of_run = [&](const std::string& expression, std::int64_t id) {
    return sql.value("SELECT " + expression + " FROM runs WHERE id = " + std::to_string(id));
  };
  // The findings went in under the run, linked to the packets, records and sessions they name.
  CHECK(std::stoll(
            sql.value("SELECT count(*) FROM findings WHERE run_id = " + std::to_string(run))) > 0);
  CHECK(sql.value("SELECT count(*) FROM findings WHERE run_id = " + std::to_string(run) +
                  " AND record_id IS NOT NULL AND session_id IS NOT NULL") != "0");
  std::int64_t text_run = 0;
  if (acctlab::test::on_postgres()) {
    // PostgreSQL: the report is text, the JSON operators read it.
    CHECK(of_run("pg_typeof(report)::text", run) == "text");
    CHECK((of_run("report", run) == report));
    CHECK(of_run("report::jsonb ->> 'verdict'", run) == parsed.at("verdict").as_string());
    CHECK((read_cell(path, run) == report));
    text_run = sql.insert_run(report, true);
  } else {
    // SQL: the value is a BLOB of the file's bytes; CAST(... AS TEXT) is the text the JSON
    // functions are documented to take. Older SQL without the CAST reads it too (SQLite reads a
    // BLOB of JSON text as text; only a BLOB put into JSON is refused).
    CHECK(of_run("typeof(report)", run) == "blob");
    CHECK((of_run("report", run) == report));
    CHECK((of_run("CAST(report AS TEXT)", run) == report));
    CHECK(of_run("json_extract(CAST(report AS TEXT), '$.verdict')", run) ==
          parsed.at("verdict").as_string());
    CHECK(of_run("json_extract(report, '$.verdict')", run) == parsed.at("verdict").as_string());
    // The viewer's reader, a piece at a time.
    CHECK((read_cell(path, run) == report));

    // The same bytes as TEXT, as an older database holds a report: read the same everywhere.
    text_run = sql.insert_run(report, true);
    CHECK(of_run("typeof(report)", text_run) == "text");
  }
  CHECK((read_cell(path, text_run) == report));

  Viewer viewer(path);
  for (const auto id : {run, text_run}) {
    INFO("run " << id);
    const auto api = viewer.api("/api/runs/" + std::to_string(id));
    const auto& shown = api.at("run").as_object();
    CHECK(shown.at("report") == parsed); // whole: the report is under whole_report_limit
    CHECK(shown.at("report_bytes").as_int64() == static_cast<std::int64_t>(report.size()));
    CHECK(shown.if_contains("report_omitted") == nullptr);
    const auto page = viewer.get("/runs/" + std::to_string(id));
    CHECK(page.status == 200);
    CHECK(page.body.find("<pre class=\"report\">{&quot;profile&quot;:&quot;" +
                         std::string(parsed.at("profile").as_string())) != std::string::npos);
  }
  // /conformance counts each rule of both runs' reports as passed or failed.
  const auto was = run_counts(before);
  const auto now = run_counts(viewer.api("/api/conformance"));
  const auto& rules = parsed.at("rules").as_array();
  REQUIRE(rules.size() > 10);
  for (const auto& r : rules) {
    const auto& rule = r.as_object();
    const std::string id(rule.at("id").as_string());
    INFO(id);
    const bool passed = rule.at("passed").as_bool();
    const auto old = was.count(id) ? was.at(id) : std::pair<std::int64_t, std::int64_t>{0, 0};
    REQUIRE(now.count(id) == 1);
    CHECK(now.at(id).first - old.first == (passed ? 2 : 0));
    CHECK(now.at(id).second - old.second == (passed ? 0 : 2));
  }

  // Judged whole in memory (--judge-part 0, conformance/db_trace) rather than in parts: the
  // same findings, stored the same way.
  const auto findings_of = [&](std::int64_t id) {
    return sql.value("SELECT count(*) || '/' || count(record_id) || '/' || count(session_id) "
                     "FROM findings WHERE run_id = " +
                     std::to_string(id));
  };
  const auto whole = acctlab::test::run_acctlab("check --db '" + path +
                                                "' --judge-part 0 --report json --out " + file);
  INFO(whole.output);
  REQUIRE(whole.status == checked.status);
  const std::int64_t whole_run = std::stoll(sql.value("SELECT max(id) FROM runs"));
  REQUIRE(whole_run > text_run);
  CHECK(findings_of(whole_run) == findings_of(run));
  CHECK(json::parse(of_run("report", whole_run)).at("verdict") == parsed.at("verdict"));

  // One run's packets only (--run; on PostgreSQL the judge copies that run's packets alone).
  const auto one_run = acctlab::test::run_acctlab(
      "check --db '" + path + "' --run 1 --no-store --report json --out " + file);
  INFO(one_run.output);
  REQUIRE((one_run.status == 0 || one_run.status == 1));
  const auto of_one = json::parse(read_file(file));
  CHECK(of_one.at("counts").at("packets").as_int64() ==
        std::stoll(sql.value("SELECT count(*) FROM packets WHERE run_id = 1")));
  CHECK(of_one.at("counts").at("packets").as_int64() <
        parsed.at("counts").at("packets").as_int64());
  CHECK(std::stoll(sql.value("SELECT max(id) FROM runs")) == whole_run); // --no-store
}

TEST_CASE("a report too large to hold whole is shown by its members that fit", "[web][report]") {
  const auto path = test_database("report-large");
  make_fixture_database(path);
  // A conformance report's shape: the summary first, then lists far larger than a page shows,
  // and a small member after them.
  json::object head;
  head["profile"] = "cisco-ios-ipsec";
  head["verdict"] = "fail";
  head["counts"] = {{"errors", 3}, {"warnings", 40000}};
  head["rules"] = json::array{json::object{{"id", "SES-LARGE-RULE"},
                                           {"source", "RFC 2866 §5.5"},
                                           {"severity", "error"},
                                           {"scope", "session"},
                                           {"summary", "A rule only this report lists"},
                                           {"passed", false}}};
  std::string report = json::serialize(head);
  report.pop_back(); // its closing brace
  report += R"(,"findings":[)";
  for (int i = 0; i < 60000; ++i) {
    report += (i ? "," : "") + std::string(R"({"rule":"SES-LARGE-RULE","message":"finding )") +
              std::to_string(i) + R"( of a report too large to show whole"})";
  }
  report +=
      R"(],"sessions":")" + std::string(300 * 1024, 's') + R"(","tail":{"x":[1,2.5,null,true]}})";
  REQUIRE(static_cast<std::int64_t>(report.size()) > whole_report_limit);
  REQUIRE(json::parse(report).is_object());

  Sql sql(path);
  const auto as_blob = sql.insert_run(report, false);
  const auto as_text = sql.insert_run(report, true);
  Viewer viewer(path);
  for (const auto id : {as_blob, as_text}) {
    INFO("run " << id);
    const auto api = viewer.api("/api/runs/" + std::to_string(id));
    const auto& shown = api.at("run").as_object();
    CHECK(shown.at("report_bytes").as_int64() == static_cast<std::int64_t>(report.size()));
    auto expected = head;
    expected["tail"] = json::parse(R"({"x":[1,2.5,null,true]})");
    CHECK(shown.at("report") == expected);
    CHECK(shown.at("report_omitted") == json::array{"findings", "sessions"});
    const auto page = viewer.get("/runs/" + std::to_string(id));
    CHECK(page.status == 200);
    CHECK(page.body.find("shown without its largest members (findings, sessions)") !=
          std::string::npos);
    CHECK(page.body.size() < 64 * 1024);
  }
  const auto counts = run_counts(viewer.api("/api/conformance"));
  REQUIRE(counts.count("SES-LARGE-RULE") == 1);
  CHECK(counts.at("SES-LARGE-RULE") == std::pair<std::int64_t, std::int64_t>{0, 2});

  // The scan stops where its caller says, and refuses what is not a JSON object.
  ReadOnlyDatabase db(path);
  {
    // (An open cell holds its read transaction: rows added later are not seen through db.)
    auto cell = db.open_cell("runs", "report", as_blob);
    REQUIRE(cell);
    std::vector<std::string> seen;
    const auto stopped = scan_report(*cell, [&](std::string_view key, json::value&&) {
      seen.emplace_back(key);
      return key != "counts";
    });
    CHECK(stopped.status == ReportScan::Status::stopped);
    CHECK(seen == std::vector<std::string>{"profile", "verdict", "counts"});
  }
  const auto bad_run = sql.insert_run(report.substr(0, report.size() / 2), false);
  const auto array_run = sql.insert_run("[1,2]", true);
  for (const auto id : {bad_run, array_run}) {
    auto c = db.open_cell("runs", "report", id);
    REQUIRE(c);
    CHECK(scan_report(*c, [](std::string_view, json::value&&) { return true; }).status ==
          ReportScan::Status::not_object);
  }
  CHECK_FALSE(db.open_cell("runs", "report", 999999));
  const auto null_run = sql.insert_run("", true);
  sql.value("UPDATE runs SET report = NULL WHERE id = " + std::to_string(null_run) +
            " RETURNING id");
  CHECK_FALSE(db.open_cell("runs", "report", null_run));
  CHECK(viewer.api("/api/runs/" + std::to_string(null_run)).at("run").at("report").is_null());
}

// SQLite only: a NUL octet is no text PostgreSQL stores.
TEST_CASE("a large report with anything after its object is refused, and says where",
          "[web][report][sqlite]") {
  const auto dir = test_directory("report-trailing");
  const auto path = dir + "/acct.db";
  make_fixture_database(path);
  // An object whose closing brace ends the scanner's first 64 KiB piece, so that what follows
  // starts a piece of its own (the parser then begins a second document there).
  std::string object = R"({"verdict":"pass","pad":")";
  object += std::string(64 * 1024 - object.size() - 2, 'p') + R"("})";
  REQUIRE(object.size() == 64 * 1024);
  std::string second = R"({"verdict":"fail","findings":")" +
                       std::string(static_cast<std::size_t>(whole_report_limit), 'f') + R"("})";
  Sql sql(path);
  const auto concatenated = sql.insert_run(object + second, false);
  const auto trailing = sql.insert_run(
      object + " \n" + second.substr(0, 100) + std::string(whole_report_limit, ' '), false);
  const auto nul = sql.insert_run(object + std::string(whole_report_limit, '\0'), false);
  // A short object, bytes after it in the same piece, then another object from the next piece on.
  std::string spliced = R"({"verdict":"pass"})";
  spliced += std::string(64 * 1024 - spliced.size(), 'x') + second;
  const auto spliced_run = sql.insert_run(spliced, false);
  ReadOnlyDatabase db(path);
  const std::pair<std::int64_t, std::string> cases[] = {{concatenated, "at byte 65536"},
                                                        {trailing, "at byte 65538"},
                                                        {nul, "at byte 65536"},
                                                        {spliced_run, "at byte 18"}};
  for (const auto& [id, where] : cases) {
    INFO("run " << id);
    auto cell = db.open_cell("runs", "report", id);
    REQUIRE(cell);
    REQUIRE(cell->size() > whole_report_limit);
    std::vector<std::string> seen;
    const auto scan = scan_report(*cell, [&](std::string_view key, json::value&&) {
      seen.emplace_back(key);
      return true;
    });
    CHECK(scan.status == ReportScan::Status::not_object);
    CHECK(scan.reason == "something follows the JSON object, " + where);
    // Never the second object's members.
    CHECK((seen == std::vector<std::string>{"verdict", "pad"} ||
           seen == std::vector<std::string>{"verdict"}));
  }
  Viewer viewer(path);
  const auto shown = viewer.api("/api/runs/" + std::to_string(concatenated));
  CHECK(shown.at("run").at("report").as_string().find("follows the JSON object, at byte 65536") !=
        std::string::npos);
  const auto spliced_shown = viewer.api("/api/runs/" + std::to_string(spliced_run));
  REQUIRE(spliced_shown.at("run").at("report").is_string()); // not the second object
  CHECK(spliced_shown.at("run").at("report").as_string().find("at byte 18") != std::string::npos);
}

TEST_CASE("a large report that is not JSON says what is wrong", "[web][report]") {
  const auto path = test_database("report-reasons");
  make_fixture_database(path);
  const std::string pad(static_cast<std::size_t>(whole_report_limit), ' ');
  std::string deep = R"({"a":)";
  for (int i = 0; i < 40; ++i) {
    deep += "[";
  }
  Sql sql(path);
  const std::string cut = R"({"verdict":"pass","findings":")" + pad;
  const auto truncated = sql.insert_run(cut, false);
  const auto too_deep = sql.insert_run(deep + pad, false);
  const auto array = sql.insert_run("[" + pad + "]", false);
  const auto number = sql.insert_run(pad + "12", false);
  ReadOnlyDatabase db(path);
  const auto reason = [&](std::int64_t id) {
    auto cell = db.open_cell("runs", "report", id);
    REQUIRE(cell);
    const auto scan = scan_report(*cell, [](std::string_view, json::value&&) { return true; });
    CHECK(scan.status == ReportScan::Status::not_object);
    return scan.reason;
  };
  CHECK(reason(truncated) == "the JSON ends early, at byte " + std::to_string(cut.size()));
  CHECK(reason(too_deep) == "too deep, within bytes 0-65536");
  CHECK(reason(array) == "a JSON array, not an object, within bytes 0-65536");
  CHECK(reason(number) == "a JSON number, not an object, within bytes " +
                              std::to_string(pad.size()) + "-" + std::to_string(pad.size() + 2));
  Viewer viewer(path);
  const auto shown = viewer.api("/api/runs/" + std::to_string(truncated));
  CHECK(shown.at("run").at("report").as_string().find("the JSON ends early") != std::string::npos);
}

TEST_CASE("a large report of many members or long keys is shown within the scan's limits",
          "[web][report]") {
  const auto path = test_database("report-many-members");
  make_fixture_database(path);
  // Keys count toward what a member costs: 8 members of 200 KiB keys and one-digit values would
  // otherwise all be kept, 1.6 MiB past the 1 MiB the kept members may take.
  std::string report = R"({"verdict":"fail")";
  for (int i = 0; i < 8; ++i) {
    report += ",\"" + std::string(200 * 1024, static_cast<char>('a' + i)) + "\":1";
  }
  // After them, 300,000 small members: each is left out once the total is spent, and their
  // names are kept only up to ReportScanOptions::omitted_names_limit, the rest counted.
  const int small = 300000;
  for (int i = 0; i < small; ++i) {
    report += ",\"m" + std::to_string(i) + "\":" + std::to_string(i);
  }
  report += "}";
  REQUIRE(static_cast<std::int64_t>(report.size()) > whole_report_limit);
  Sql sql(path);
  const auto run = sql.insert_run(report, false);
  ReadOnlyDatabase db(path);
  {
    auto cell = db.open_cell("runs", "report", run);
    REQUIRE(cell);
    const ReportScanOptions options;
    std::size_t kept_bytes = 0;
    std::size_t kept = 0;
    const auto scan = scan_report(
        *cell,
        [&](std::string_view key, json::value&& value) {
          kept_bytes += key.size() + json::serialize(value).size();
          ++kept;
          return true;
        },
        options);
    CHECK(scan.status == ReportScan::Status::complete);
    CHECK(kept_bytes <= options.total_limit);
    std::size_t named = 0;
    for (const auto& key : scan.omitted) {
      named += key.size();
    }
    CHECK(named <= options.omitted_names_limit);
    CHECK(scan.omitted.size() < 20000);
    // Every member is kept, named or counted.
    CHECK(kept + scan.omitted.size() + scan.omitted_unnamed == 1 + 8 + small);
    CHECK(scan.omitted_unnamed > 0);
  }
  Viewer viewer(path);
  const auto reply = viewer.get("/api/runs/" + std::to_string(run));
  REQUIRE(reply.status == 200);
  CHECK(reply.body.size() < 2 * 1024 * 1024);
  const auto shown = json::parse(reply.body).at("run").as_object();
  CHECK(shown.at("report_omitted_unnamed").as_int64() > 0);
  const auto page = viewer.get("/runs/" + std::to_string(run));
  CHECK(page.status == 200);
  CHECK(page.body.size() < 2 * 1024 * 1024);
  CHECK(page.body.find(" more)") != std::string::npos);
}

TEST_CASE("a capture run whose report is not JSON leaves /conformance working", "[web][report]") {
  const auto path = test_database("report-pcap-damaged");
  make_fixture_database(path);
  Sql sql(path);
  const auto pcap_run = [&](const std::string& report) {
    sql.value("UPDATE runs SET kind = 'pcap' WHERE id = " +
              std::to_string(sql.insert_run(report, false)) + " RETURNING id");
  };
  Viewer viewer(path);
  const auto before = viewer.api("/api/conformance").at("pcap_runs").as_int64();
  pcap_run(R"({"import":{"conformance":{"rule_results":[]}}})");
  pcap_run(R"({"import":{"conformance":{"rule_results":[)"); // cut short
  if (!acctlab::test::on_postgres()) {
    pcap_run(std::string("{\"import\"\0:1}", 13)); // a NUL byte: no text PostgreSQL stores
  }
  pcap_run("not JSON at all");
  const auto reply = viewer.get("/api/conformance");
  INFO(reply.body.substr(0, 300));
  REQUIRE(reply.status == 200);
  CHECK(json::parse(reply.body).at("pcap_runs").as_int64() == before + 1);
  CHECK(viewer.get("/conformance").status == 200);
}

// SQLite only: octets that are not UTF-8 are no text PostgreSQL stores.
TEST_CASE("a small report that is not JSON is shown as text with why, and the reply stays JSON",
          "[web][report][sqlite]") {
  const auto dir = test_directory("report-small-damaged");
  const auto path = dir + "/acct.db";
  make_fixture_database(path);
  Sql sql(path);
  const auto text_run = sql.insert_run("plain text, caf\xc3\xa9", false);
  const auto broken_run = sql.insert_run(std::string("{\"a\":\"\xff\xfe\x00\"", 10), false);
  const auto overlong_run = sql.insert_run("\xc0\xaf and \xed\xa0\x80", false);
  Viewer viewer(path);
  const auto text = viewer.api("/api/runs/" + std::to_string(text_run)).at("run").as_object();
  CHECK(text.at("report").as_string() == "plain text, caf\xc3\xa9");
  CHECK(text.at("report_error").as_string().starts_with("not JSON: "));
  // Octets that are not UTF-8 (and a NUL): escaped, so the API's reply parses as JSON at all.
  const auto broken = viewer.api("/api/runs/" + std::to_string(broken_run)).at("run").as_object();
  CHECK(broken.at("report").as_string() == std::string("{\"a\":\"\\xff\\xfe\0\"", 16));
  CHECK(broken.contains("report_error"));
  const auto overlong = viewer.api("/api/runs/" + std::to_string(overlong_run)).at("run");
  // An overlong form and a UTF-16 surrogate are not UTF-8 either.
  CHECK(overlong.as_object().at("report").as_string() == "\\xc0\\xaf and \\xed\\xa0\\x80");
  CHECK(viewer.get("/runs/" + std::to_string(broken_run)).status == 200);
}
