// check --db judged in parts against the in-memory judge: the same database judged both ways (one
// copy loaded whole and judged by check_trace, as check --db did before parts; the other by
// judge_database in parts of a few packets), and the reports (text, JSON, JUnit) compared byte for
// byte, the stored findings row for row and the run row (verdict, JSON report) field for field.
//
// Sources: every defect-corpus case in a database of its own, stored as its source keeps it (a
// server database keeps requests only: responses_recorded = false; otherwise requests and answers,
// with capture file and frame, as an import stores them); all cases interleaved in one database,
// requests only and with answers; and two runs in one database, judged one --run at a time.

#include "conformance/db_trace.hpp"
#include "conformance/profile.hpp"
#include "conformance/report.hpp"
#include "conformance/run_judge.hpp"
#include "defect_corpus.hpp"
#include "radius/accounting_record.hpp"
#include "radius/packet_codec.hpp"
#include "storage/schema.hpp"
#include "storage/sqlite.hpp"
#include "tests/support/test_db.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sqlite3.h>
#include <sstream>
#include <unistd.h>

using namespace acctlab;
using namespace acctlab::conformance;

namespace {

namespace fs = std::filesystem;
using acctlab::test::Db;

/** "127.0.0.1:40001" -> address and port. */
std::pair<std::string, int> split_endpoint(const std::string& endpoint) {
  const auto colon = endpoint.rfind(':');
  auto host = endpoint.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[') {
    host = host.substr(1, host.size() - 2);
  }
  return {host, std::stoi(endpoint.substr(colon + 1))};
}

/** A database with the server's schema (storage/schema.cpp), as `acctlab serve` creates it. */
void create_database(const std::string& path) {
  fs::remove(path);
  storage::Database created(path);
  storage::migrate(created);
}

/**
 * Stores a trace's packets under a run as the source would: requests only when the trace keeps
 * no answers (a server database), else every packet with a capture file and frame (an import).
 * Each decodable Accounting-Request gets a records row linked to a sessions row, so the findings'
 * links are compared too.
 */
void store_trace(const std::string& path, const Trace& trace, std::int64_t run,
                 const radius::Dictionary& dict) {
  const Db db(path);
  db.exec("BEGIN");
  db.exec("INSERT OR IGNORE INTO runs (id, kind, started) VALUES (" + std::to_string(run) +
          ", 'serve', 0)");
  sqlite3_stmt* insert = nullptr;
  REQUIRE(sqlite3_prepare_v2(db.db,
                             "INSERT INTO packets (run_id, receive_time, src_addr, src_port, "
                             "dst_addr, dst_port, code, identifier, verdict, file, frame, raw) "
                             "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'ok', ?9, ?10, ?11)",
                             -1, &insert, nullptr) == SQLITE_OK);
  std::map<std::string, std::int64_t> sessions;
  for (std::size_t i = 0; i < trace.packets.size(); ++i) {
    const auto& packet = trace.packets[i];
    if (!trace.responses_recorded && packet.direction == Direction::from_server) {
      continue;
    }
    const auto [src, src_port] = split_endpoint(packet.source);
    const auto [dst, dst_port] = split_endpoint(packet.destination);
    sqlite3_reset(insert);
    sqlite3_clear_bindings(insert);
    sqlite3_bind_int64(insert, 1, run);
    sqlite3_bind_double(insert, 2, 1'700'000'000.0 + packet.time);
    sqlite3_bind_text(insert, 3, src.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(insert, 4, src_port);
    sqlite3_bind_text(insert, 5, dst.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(insert, 6, dst_port);
    if (packet.raw.size() >= 2) {
      sqlite3_bind_int(insert, 7, packet.raw[0]);
      sqlite3_bind_int(insert, 8, packet.raw[1]);
    }
    if (trace.responses_recorded) {
      sqlite3_bind_text(insert, 9, i % 2 ? "b.pcap" : "a.pcap", -1, SQLITE_STATIC);
      sqlite3_bind_int64(insert, 10, static_cast<std::int64_t>(i + 1));
    }
    sqlite3_bind_blob(insert, 11, packet.raw.data(), static_cast<int>(packet.raw.size()),
                      SQLITE_TRANSIENT);
    REQUIRE(sqlite3_step(insert) == SQLITE_DONE);
    const auto packet_id = sqlite3_last_insert_rowid(db.db);
    if (packet.direction != Direction::to_server) {
      continue;
    }
    auto decoded = radius::decode_packet(packet.raw, dict);
    if (!decoded || decoded->code() != radius::Code::accounting_request) {
      continue;
    }
    const auto record = radius::make_accounting_record(*decoded, dict);
    if (record.session_id.find('\'') != std::string::npos) {
      continue;
    }
    auto [it, inserted] = sessions.try_emplace(record.session_id, 0);
    if (inserted) {
      db.exec("INSERT INTO sessions (nas_key, acct_session_id, unique_id, state, "
              "last_record_time) VALUES ('10.1.1.147', '" +
              record.session_id + "', 'u" + std::to_string(run) + "-" + record.session_id +
              "', 'open', 0)");
      it->second = sqlite3_last_insert_rowid(db.db);
    }
    db.exec("INSERT INTO records (packet_id, session_row, acct_session_id, nas_identity, "
            "event_time, receive_time) VALUES (" +
            std::to_string(packet_id) + ", " + std::to_string(it->second) + ", '" +
            record.session_id + "', '10.1.1.147', 0, 0)");
  }
  sqlite3_finalize(insert);
  db.exec("COMMIT");
}

void copy_database(const std::string& from, const std::string& to) {
  for (const char* suffix : {"", "-wal", "-shm"}) {
    fs::remove(to + suffix);
    if (fs::exists(from + suffix)) {
      fs::copy_file(from + suffix, to + suffix);
    }
  }
}

/** Equal strings, or a failure naming where they part. */
void check_same_text(const std::string& what, const std::string& whole, const std::string& parts) {
  if (whole == parts) {
    return;
  }
  const auto at = static_cast<std::size_t>(
      std::mismatch(whole.begin(),
                    whole.begin() +
                        static_cast<std::ptrdiff_t>(std::min(whole.size(), parts.size())),
                    parts.begin())
          .first -
      whole.begin());
  const auto from = at < 80 ? 0 : at - 80;
  FAIL_CHECK(what << " differs at byte " << at << " (sizes " << whole.size() << ", " << parts.size()
                  << ")\n  whole: " << whole.substr(from, 240)
                  << "\n  parts: " << parts.substr(from, 240));
}

struct Judged {
  Verdict verdict; // the in-memory judge's
  RunJudgeStats stats;
};

/**
 * Judges the database at path both ways, on copies, and compares everything check --db writes.
 * Returns the in-memory verdict and the parts' stats for the caller's own checks.
 */
Judged judge_both(const std::string& path, const std::string& profile_name,
                  std::optional<std::int64_t> run, std::optional<std::string> secret,
                  std::optional<double> interim, std::size_t part_packets) {
  const auto& dict = radius::Dictionary::builtin();
  auto profile = load_profile(profile_name, dict);
  REQUIRE(profile);
  const auto whole_db = path + ".whole";
  const auto parts_db = path + ".parts";
  copy_database(path, whole_db);
  copy_database(path, parts_db);

  // As check --db judged before parts (and --trace/--pcap still do): the whole trace in memory.
  DbTraceOptions load;
  load.run_id = run;
  load.secret = secret;
  auto trace = load_trace_from_db(whole_db, load);
  REQUIRE(trace);
  trace->default_secret = secret;
  trace->interim_interval = interim;
  Judged judged{check_trace(*trace, *profile, dict), {}};
  const auto& verdict = judged.verdict;
  const auto whole_json = render_json(verdict);
  const auto stored_whole = store_findings(whole_db, verdict, whole_json);
  REQUIRE(stored_whole);

  DbJudgeOptions options;
  options.run_id = run;
  options.secret = secret;
  options.interim_interval = interim;
  options.writable = true;
  options.parts.part_packets = part_packets;
  options.parts.stats = &judged.stats;
  auto staged = judge_database(parts_db, *profile, dict, options);
  INFO((staged ? std::string() : staged.error()));
  REQUIRE(staged);
  auto& parts = **staged;
  CHECK(parts.has_errors() == verdict.has_errors());

  std::ostringstream text;
  render_text(parts, text);
  check_same_text("text report", render_text(verdict), text.str());
  std::ostringstream coloured;
  render_text(parts, coloured, {.colour = true, .findings_per_rule = 2});
  check_same_text("coloured text report", render_text(verdict, {true, 2}), coloured.str());
  std::ostringstream junit;
  render_junit(parts, junit);
  check_same_text("junit report", render_junit(verdict), junit.str());
  const auto report = parts_db + ".json";
  {
    std::ofstream file(report, std::ios::binary);
    render_json(parts, file);
  }
  std::ifstream read(report, std::ios::binary);
  const std::string parts_json((std::istreambuf_iterator<char>(read)),
                               std::istreambuf_iterator<char>());
  check_same_text("json report", whole_json, parts_json);

  const auto stored_parts = parts.store(report);
  REQUIRE(stored_parts);
  CHECK(*stored_parts == *stored_whole);

  const Db a(whole_db);
  const Db b(parts_db);
  const std::string findings = "SELECT id, run_id, rule_id, severity, scope, message, packet_id, "
                               "record_id, session_id, file, frame FROM findings ORDER BY id";
  const auto expected = a.rows(findings);
  const auto got = b.rows(findings);
  CHECK(expected.size() == verdict.findings.size());
  CHECK(acctlab::test::count_differing_rows(expected, got) == 0);
  const std::string runs =
      "SELECT id, kind, verdict, typeof(report), report, started = finished FROM runs ORDER BY id";
  const auto runs_a = a.rows(runs);
  const auto runs_b = b.rows(runs);
  REQUIRE(runs_a.size() == runs_b.size());
  CHECK(runs_a.back()[1] == "conform");
  CHECK(runs_a.back()[3] == "blob"); // the report's bytes, written a piece at a time
  for (std::size_t i = 0; i < runs_a.size(); ++i) {
    INFO("runs row " << i);
    CHECK(runs_a[i] == runs_b[i]);
  }
  // The stored report is the file's bytes: as the BLOB it is, and as the text of CAST.
  for (const std::string column : {"report", "CAST(report AS TEXT)"}) {
    INFO(column);
    const auto stored =
        b.rows("SELECT " + column + " FROM runs WHERE id = " + std::to_string(*stored_parts));
    REQUIRE(stored.size() == 1);
    CHECK((stored[0][0] == parts_json));
  }
  const std::string errors = "SELECT json_extract(CAST(report AS TEXT), '$.counts.errors') "
                             "FROM runs ORDER BY id DESC LIMIT 1";
  CHECK(a.rows(errors) == b.rows(errors));
  CHECK(b.rows(errors).at(0).at(0) == std::to_string(verdict.count(Severity::error)));
  for (const auto& db : {whole_db, parts_db}) {
    for (const char* suffix : {"", "-wal", "-shm"}) {
      fs::remove(db + suffix);
    }
  }
  fs::remove(report);
  return judged;
}

/** Every corpus case interleaved in one trace, kept as a server (requests only) or a capture
 * import (with answers) keeps it. */
Trace corpus_traffic(const radius::Dictionary& dict, bool responses_recorded) {
  Trace trace;
  trace.responses_recorded = responses_recorded;
  trace.packets = corpus::interleaved_cases(dict);
  return trace;
}

std::set<std::string> rules_of(const Verdict& verdict) {
  std::set<std::string> rules;
  for (const auto& finding : verdict.findings) {
    rules.insert(finding.rule_id);
  }
  return rules;
}

fs::path test_dir(const std::string& name) {
  const auto dir =
      fs::temp_directory_path() / ("acctlab-db-judge-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

} // namespace

TEST_CASE("check --db in parts: every corpus case, as its source stores it, judged as in memory",
          "[conformance][db][parts]") {
  const auto& dict = radius::Dictionary::builtin();
  const auto dir = test_dir("cases");
  std::size_t requests_only = 0;
  std::size_t with_findings = 0;
  for (const auto& c : corpus::all_cases()) {
    INFO("case " << c.name);
    const auto path = (dir / (c.name + ".db")).string();
    create_database(path);
    const auto trace = corpus::build_trace(c.spec, dict);
    store_trace(path, trace, 1, dict);
    const auto judged =
        judge_both(path, c.profile, std::nullopt, c.spec.secret, c.spec.interim_interval, 2);
    if (c.expected_rule) {
      CHECK(rules_of(judged.verdict).count(*c.expected_rule) == 1);
    }
    CHECK(judged.stats.parts > (trace.packets.size() > 2 ? 1u : 0u)); // a part holds 2 packets
    requests_only += c.spec.responses_recorded ? 0 : 1;
    with_findings += judged.verdict.findings.empty() ? 0 : 1;
  }
  // The requests-only cases are among them (RFC5080-CHANGED-SAME-ID's window rule, the
  // unanswered rule's silence).
  CHECK(requests_only >= 2);
  CHECK(with_findings > 25);
  fs::remove_all(dir);
}

TEST_CASE("check --db in parts: all corpus cases in one database, cross-session rules across "
          "parts, requests only and with answers",
          "[conformance][db][parts]") {
  const auto& dict = radius::Dictionary::builtin();
  const auto dir = test_dir("all");
  for (const bool answers : {false, true}) {
    INFO((answers ? "with answers" : "requests only"));
    const auto path = (dir / (answers ? "answers.db" : "requests.db")).string();
    create_database(path);
    const auto trace = corpus_traffic(dict, answers);
    store_trace(path, trace, 1, dict);
    const auto judged =
        judge_both(path, "cisco-ios-ipsec", std::nullopt, std::string("testing123"), 60.0, 16);
    CHECK(judged.stats.parts >= 20);
    CHECK(judged.stats.largest_part < judged.stats.packets / 4);
    const auto rules = rules_of(judged.verdict);
    for (const char* rule :
         {"SES-NO-START", "SES-AFTER-STOP", "SES-DUPLICATE-START", "PKT-REQUEST-AUTHENTICATOR",
          "RFC5080-CHANGED-SAME-ID", "RFC5080-RESEND-NEW-ID", "SES-REKEY-NEW-SESSION",
          "SES-ACCT-ON-OPEN", "SES-AFTER-ACCT-ON", "SES-INTERIM-CADENCE", "SES-NO-STOP"}) {
      INFO(rule);
      CHECK(rules.count(rule) == 1);
    }
    // Without answers nothing is judged unanswered; with them, some are.
    CHECK(rules.count("EXC-UNANSWERED") == (answers ? 1u : 0u));
    CHECK(judged.verdict.findings.size() > 100);
  }
  fs::remove_all(dir);
}

TEST_CASE("check --db --run in parts: one run of a database judged as in memory",
          "[conformance][db][parts]") {
  const auto& dict = radius::Dictionary::builtin();
  const auto dir = test_dir("runs");
  const auto path = (dir / "runs.db").string();
  create_database(path);
  // Run 1: the corpus, requests only; run 2: the clean base with a duplicate Start, later.
  store_trace(path, corpus_traffic(dict, false), 1, dict);
  auto spec = corpus::clean_spec();
  corpus::Request again = spec.requests[0];
  again.time = 30;
  corpus::set(again.attrs, "NAS-Port", "1");
  spec.requests.push_back(again);
  for (auto& request : spec.requests) {
    request.time += 100000;
  }
  auto clean = corpus::build_trace(spec, dict);
  clean.responses_recorded = false;
  store_trace(path, clean, 2, dict);
  const auto one =
      judge_both(path, "cisco-ios-ipsec", std::int64_t{1}, std::string("testing123"), 60.0, 16);
  const auto two =
      judge_both(path, "cisco-ios-ipsec", std::int64_t{2}, std::string("testing123"), 60.0, 2);
  const auto all =
      judge_both(path, "cisco-ios-ipsec", std::nullopt, std::string("testing123"), 60.0, 16);
  CHECK(one.verdict.packets + two.verdict.packets == all.verdict.packets);
  CHECK(rules_of(two.verdict).count("SES-DUPLICATE-START") == 1);
  fs::remove_all(dir);
}
