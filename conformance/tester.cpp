#include "conformance/tester.hpp"

#include "client/ios_config.hpp"
#include "client/lab_certificates.hpp"
#include "client/scenario.hpp"
#include "client/scenario_runner.hpp"
#include "conformance/analysis.hpp"
#include "conformance/db_trace.hpp"
#include "conformance/report.hpp"
#include "radius/accounting_record.hpp"
#include "radius/markup.hpp"
#include "radius/value.hpp"
#include "server/accounting_server.hpp"
#include "storage/pg_connection.hpp"
#include "storage/run_store.hpp"
#include "storage/stored_rows.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <thread>
#include <tuple>

namespace acctlab::conformance {
namespace {

namespace fs = std::filesystem;

std::string executable_dir() {
  std::error_code ec;
  const auto exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : exe.parent_path().string();
}

std::vector<std::string> scenario_dirs() {
  std::vector<std::string> dirs;
  // As for profiles: an installed binary's own data first, the source tree last.
  if (const auto exe = executable_dir(); !exe.empty()) {
    dirs.push_back(exe + "/scenarios");
    dirs.push_back(exe + "/../share/acctlab/scenarios");
  }
#ifdef ACCTLAB_SOURCE_DIR
  dirs.push_back(std::string(ACCTLAB_SOURCE_DIR) + "/client/scenarios");
#endif
  return dirs;
}

// What a stored or sent record says, for comparing the two.
using RecordKey = std::tuple<std::uint32_t, std::string, std::int64_t, std::int64_t, std::int64_t,
                             std::int64_t, std::int64_t>;

std::string describe(const RecordKey& key) {
  const auto name = radius::status_type_name(std::get<0>(key));
  return std::string(name.empty() ? "status " + std::to_string(std::get<0>(key)) : name) + " \"" +
         std::get<1>(key) + "\" (session time " + std::to_string(std::get<2>(key)) + ", octets " +
         std::to_string(std::get<3>(key)) + "/" + std::to_string(std::get<4>(key)) + ", packets " +
         std::to_string(std::get<5>(key)) + "/" + std::to_string(std::get<6>(key)) + ")";
}

RecordKey key_of(const radius::AccountingRecord& record) {
  return {record.status_type.value_or(0),
          record.session_id,
          record.session_time ? static_cast<std::int64_t>(*record.session_time) : -1,
          record.input_octets ? static_cast<std::int64_t>(*record.input_octets) : -1,
          record.output_octets ? static_cast<std::int64_t>(*record.output_octets) : -1,
          record.input_packets ? static_cast<std::int64_t>(*record.input_packets) : -1,
          record.output_packets ? static_cast<std::int64_t>(*record.output_packets) : -1};
}

struct StoredSession {
  std::string state;
  std::int64_t record_count = 0;
  std::int64_t input_octets = -1;
  std::int64_t output_octets = -1;
  std::int64_t session_time = -1;
};

/** Reads records and sessions back (of one run, when given); an error string when the database
 * cannot be read. */
std::string read_database(const std::string& path, std::multiset<RecordKey>& records,
                          std::multimap<std::string, StoredSession>& sessions,
                          std::optional<std::int64_t> run_id = std::nullopt) {
  try {
    auto rows = storage::read_stored_rows(path, run_id);
    for (auto& r : rows.records) {
      records.insert({static_cast<std::uint32_t>(r.status_type), std::move(r.acct_session_id),
                      r.session_time, r.input_octets, r.output_octets, r.input_packets,
                      r.output_packets});
    }
    for (auto& s : rows.sessions) {
      sessions.emplace(std::move(s.acct_session_id),
                       StoredSession{std::move(s.state), s.record_count, s.input_octets,
                                     s.output_octets, s.session_time});
    }
  } catch (const storage::Error& error) {
    return error.what();
  }
  return {};
}

/**
 * What was answered (expected, grouped by session) against what one database holds (stored
 * records, session rows): every record stored as often as it was answered, nothing stored that
 * was not, and each session one row with its state, record count and final counters. Messages
 * end with where; answered_word says what the record count was of (" were answered").
 */
void compare_stored(const std::multiset<RecordKey>& expected,
                    const std::map<std::string, std::vector<RecordKey>>& by_session,
                    const std::multiset<RecordKey>& stored,
                    const std::multimap<std::string, StoredSession>& sessions,
                    const std::string& where, const std::string& answered_word,
                    std::vector<std::string>& failures) {
  for (auto it = expected.begin(); it != expected.end(); it = expected.upper_bound(*it)) {
    const auto sent = expected.count(*it);
    const auto kept = stored.count(*it);
    if (sent != kept) {
      failures.push_back("record " + describe(*it) + " answered " + std::to_string(sent) +
                         " time(s) but stored " + std::to_string(kept) + " time(s)" + where);
    }
  }
  for (auto it = stored.begin(); it != stored.end(); it = stored.upper_bound(*it)) {
    if (!expected.count(*it)) {
      failures.push_back("stored record " + describe(*it) + " was never answered" + where);
    }
  }
  for (const auto& [session_id, records] : by_session) {
    if (std::get<0>(records.front()) == 7 || std::get<0>(records.front()) == 8) {
      continue; // Accounting-On/Off open no session
    }
    const auto count = sessions.count(session_id);
    if (count != 1) {
      failures.push_back("session \"" + session_id + "\" has " + std::to_string(count) +
                         " rows, expected 1" + where);
      continue;
    }
    const auto& row = sessions.find(session_id)->second;
    const bool stopped = std::any_of(records.begin(), records.end(),
                                     [](const RecordKey& k) { return std::get<0>(k) == 2; });
    if ((row.state == "closed") != stopped) {
      failures.push_back("session \"" + session_id + "\" is " + row.state + " but " +
                         (stopped ? "a Stop was answered" : "no Stop was sent") + where);
    }
    if (row.record_count != static_cast<std::int64_t>(records.size())) {
      failures.push_back("session \"" + session_id + "\" counts " +
                         std::to_string(row.record_count) + " records, " +
                         std::to_string(records.size()) + answered_word + where);
    }
    // The final counters: those of the record with the longest session time.
    const auto last = std::max_element(records.begin(), records.end(), [](auto& a, auto& b) {
      return std::get<2>(a) < std::get<2>(b);
    });
    if (std::get<2>(*last) >= 0 &&
        (row.session_time != std::get<2>(*last) || row.input_octets != std::get<3>(*last) ||
         row.output_octets != std::get<4>(*last))) {
      failures.push_back("session \"" + session_id + "\" stores session time " +
                         std::to_string(row.session_time) + " and octets " +
                         std::to_string(row.input_octets) + "/" +
                         std::to_string(row.output_octets) + "; the gateway's last record says " +
                         describe(*last) + where);
    }
  }
}

/** What makes two requests one record on a shared database (storage's idempotency key, docs/
 * server.md): the attributes without Acct-Delay-Time, which a retransmission raises (RFC 2866
 * §5.2), so a broadcast copy or a changed retransmission counts once. */
radius::Octets record_content(const radius::Packet& packet, const radius::Dictionary& dict) {
  const auto* delay = dict.find("Acct-Delay-Time");
  radius::Octets content;
  for (const auto& attribute : packet.attributes()) {
    if (delay && attribute.key() == delay->key()) {
      continue;
    }
    const auto value = packet.value(attribute);
    for (const std::uint32_t field :
         {std::uint32_t{attribute.type}, attribute.vendor, attribute.vendor_type,
          static_cast<std::uint32_t>(value.size())}) {
      for (int shift = 24; shift >= 0; shift -= 8) {
        content.push_back(static_cast<std::uint8_t>(field >> shift));
      }
    }
    content.insert(content.end(), value.begin(), value.end());
  }
  return content;
}

/**
 * Assertion (2): what one embedded server stored equals what reached it. Every answered
 * exchange addressed to it is one stored record; each session's row has its record count, its
 * state (closed after a Stop) and its final counters.
 */
void compare_database(const Analysis& analysis, const radius::Dictionary& dict,
                      const std::string& endpoint, const std::string& path,
                      std::vector<std::string>& failures) {
  failures.reserve(failures.size() + 4);
  // The server keeps one record per distinct record it acknowledged: an identical retransmission
  // (same Identifier and authenticator) is a duplicate it answers from its cache, and a changed
  // one (a new Acct-Delay-Time, RFC 5080 §2.2.1) or one resent from a new source port is the
  // same record again (storage's idempotency key, docs/server.md). Answers dropped on the way
  // back still count.
  std::multiset<RecordKey> expected;
  std::map<std::string, std::vector<RecordKey>> by_session;
  std::set<radius::Octets> contents;
  for (const auto& view : analysis.packets()) {
    if (!view.request || view.trace->destination != endpoint) {
      continue;
    }
    bool answered = false;
    for (const auto& other : analysis.packets()) {
      if (other.request && other.answer != none && other.trace->source == view.trace->source &&
          other.trace->destination == endpoint &&
          other.packet->identifier() == view.packet->identifier() &&
          other.packet->authenticator() == view.packet->authenticator()) {
        answered = true;
        break;
      }
    }
    if (!answered || !contents.insert(record_content(*view.packet, dict)).second) {
      continue;
    }
    const auto key = key_of(*view.record);
    expected.insert(key);
    by_session[view.record->session_id].push_back(key);
  }
  std::multiset<RecordKey> stored;
  std::multimap<std::string, StoredSession> sessions;
  if (const auto error = read_database(path, stored, sessions); !error.empty()) {
    failures.push_back(error);
    return;
  }
  const std::string where = " (server " + endpoint + ", " + path + ")";
  compare_stored(expected, by_session, stored, sessions, where, " were answered", failures);
}

/**
 * Assertion (2) when every embedded server wrote one shared database (PostgreSQL): the run's
 * stored records are the distinct records any server answered, each once (a broadcast's two
 * copies, a retransmission with a new Acct-Delay-Time: one record), and each session is one row
 * with that many records, its state and its final counters.
 */
void compare_shared_database(const Analysis& analysis, const radius::Dictionary& dict,
                             const std::vector<std::string>& endpoints, const std::string& path,
                             std::int64_t run_id, std::vector<std::string>& failures) {
  std::multiset<RecordKey> expected;
  std::map<std::string, std::vector<RecordKey>> by_session;
  std::set<radius::Octets> contents;
  const auto ours = [&endpoints](const std::string& endpoint) {
    return std::find(endpoints.begin(), endpoints.end(), endpoint) != endpoints.end();
  };
  for (const auto& view : analysis.packets()) {
    if (!view.request || !ours(view.trace->destination)) {
      continue;
    }
    bool answered = false;
    for (const auto& other : analysis.packets()) {
      if (other.request && other.answer != none && other.trace->source == view.trace->source &&
          other.trace->destination == view.trace->destination &&
          other.packet->identifier() == view.packet->identifier() &&
          other.packet->authenticator() == view.packet->authenticator()) {
        answered = true;
        break;
      }
    }
    if (!answered || !contents.insert(record_content(*view.packet, dict)).second) {
      continue;
    }
    const auto key = key_of(*view.record);
    expected.insert(key);
    by_session[view.record->session_id].push_back(key);
  }
  std::multiset<RecordKey> stored;
  std::multimap<std::string, StoredSession> sessions;
  if (const auto error = read_database(path, stored, sessions, run_id); !error.empty()) {
    failures.push_back(error);
    return;
  }
  const std::string where =
      " (run " + std::to_string(run_id) + " of " + storage::database_display_name(path) + ")";
  compare_stored(expected, by_session, stored, sessions, where, " distinct were answered",
                 failures);
}

double now_seconds() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

/** A scenario that could not run closes its run on the shared database with verdict "error" and
 * the reason as its report, so the viewer does not show it as running. */
void close_failed_run(const TesterOptions& options, const ScenarioResult& result) {
  if (!result.run_id || !options.database) {
    return;
  }
  try {
    boost::json::object report;
    report["error"] = result.error;
    storage::close_run(*options.database, *result.run_id, now_seconds(), "error",
                       boost::json::serialize(report));
  } catch (const storage::Error&) {
    // The run stays unfinished; the scenario's error says why.
  }
}

void remove_database(const std::string& path) {
  std::error_code ec;
  for (const auto* suffix : {"", "-wal", "-shm", "-journal"}) {
    fs::remove(path + suffix, ec);
  }
}

} // namespace

std::vector<std::string> database_mismatches(const Trace& trace, const Profile& profile,
                                             const radius::Dictionary& dict,
                                             const std::string& endpoint,
                                             const std::string& database) {
  std::vector<std::string> failures;
  const Analysis analysis(trace, profile, dict);
  compare_database(analysis, dict, endpoint, database, failures);
  return failures;
}

std::vector<std::string> scenario_library() {
  std::vector<std::string> paths;
  for (const auto& dir : scenario_dirs()) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      if (entry.path().extension() == ".scn") {
        paths.push_back(entry.path().string());
      }
    }
    if (!paths.empty()) {
      break;
    }
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

std::string resolve_scenario(const std::string& name_or_path) {
  std::error_code ec;
  if (fs::is_regular_file(name_or_path, ec)) {
    return name_or_path;
  }
  for (const auto& dir : scenario_dirs()) {
    for (const auto* suffix : {"", ".scn"}) {
      const auto candidate = dir + "/" + name_or_path + suffix;
      if (fs::is_regular_file(candidate, ec)) {
        return candidate;
      }
    }
  }
  return {};
}

Expected<Trace, std::string> trace_from_event_log(const std::string& jsonl) {
  Trace trace;
  std::istringstream in(jsonl);
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty()) {
      continue;
    }
    boost::system::error_code ec;
    const auto value = boost::json::parse(line, ec);
    if (ec || !value.is_object()) {
      return Unexpected("event log line " + std::to_string(number) + ": not a JSON object");
    }
    const auto& event = value.as_object();
    const auto* kind = event.if_contains("event");
    if (!kind || !kind->is_string()) {
      continue;
    }
    const std::string_view name = kind->as_string();
    const bool sent = name == "sent";
    const bool answer = name == "answer" || name == "dropped_answer" || name == "bad_answer";
    if (!sent && !answer) {
      continue; // records, timeouts, "lost" transmissions never on the wire, summaries
    }
    const auto* packet = event.if_contains("packet");
    const auto* server = event.if_contains("server");
    const auto* time = event.if_contains("time_ms");
    const auto* port = event.if_contains("local_port");
    if (!packet || !packet->is_string() || !server || !server->is_string() || !time ||
        !time->is_number() || !port || !port->is_number()) {
      return Unexpected("event log line " + std::to_string(number) + ": " + std::string(name) +
                        " without packet, server, time_ms or local_port");
    }
    auto octets = radius::from_hex(std::string_view(packet->as_string()));
    if (!octets) {
      return Unexpected("event log line " + std::to_string(number) + ": packet is not hex");
    }
    const std::string server_endpoint(server->as_string());
    // The gateway's socket is on the same loopback family as the server it talks to.
    const std::string host = host_part(server_endpoint);
    const std::string client = (host.find(':') != std::string::npos ? "[" + host + "]" : host) +
                               ":" + std::to_string(port->to_number<std::int64_t>());
    TracePacket item;
    item.time = time->to_number<double>() / 1000.0;
    item.direction = sent ? Direction::to_server : Direction::from_server;
    item.source = sent ? client : server_endpoint;
    item.destination = sent ? server_endpoint : client;
    item.raw = std::move(*octets);
    trace.packets.push_back(std::move(item));
  }
  return trace;
}

ScenarioResult run_conformance(const std::string& scenario_path, const Profile& profile,
                               const radius::Dictionary& dict, const TesterOptions& options) {
  ScenarioResult result;
  result.name = fs::path(scenario_path).stem().string();
  auto scenario = gateway::parse_scenario_file(scenario_path);
  if (!scenario) {
    result.error = scenario.error().to_string(scenario_path);
    return result;
  }
  // The scenario names its configuration in its leading comments ("config: lab.cfg").
  std::string config_name = "lab.cfg";
  for (const auto& comment : scenario->comments) {
    if (comment.starts_with("config:")) {
      config_name = comment.substr(7);
      config_name.erase(0, config_name.find_first_not_of(' '));
      config_name.erase(config_name.find_last_not_of(' ') + 1);
    }
  }
  const auto config_path = (fs::path(scenario_path).parent_path() / config_name).string();
  const auto config = gateway::read_ios_config_file(config_path);
  if (!config.usable()) {
    result.error = config_path + ": configuration is not usable";
    return result;
  }
  std::size_t slots = std::max<std::size_t>(scenario->slots.size(), 1);
  {
    std::vector<std::pair<std::uint32_t, std::uint16_t>> configured;
    for (const auto& list : config.config.accounting_lists) {
      for (const auto& server : gateway::accounting_servers(config.config, list)) {
        std::uint32_t address = 0;
        for (const auto octet : server.address) {
          address = address << 8 | octet;
        }
        if (std::find(configured.begin(), configured.end(), std::pair{address, server.acct_port}) ==
            configured.end()) {
          configured.emplace_back(address, server.acct_port);
        }
      }
    }
    slots = std::max(slots, configured.size());
  }

  // Embedded servers, one per slot, each with its own database; run() on its own thread.
  std::vector<std::unique_ptr<server::AccountingServer>> servers;
  std::vector<std::thread> threads;
  gateway::RunOptions run_options;
  run_options.secret = options.secret;
  run_options.nas_clock_at_zero = options.nas_clock_at_zero;
  run_options.answer_wait = gateway::Millis(static_cast<long>(options.answer_wait_seconds * 1000));
  gateway::LabCertificates lab;
  if (options.tls) {
    run_options.tls = options.tls_client;
    if (!options.server) {
      if (auto failed =
              gateway::make_lab_certificates((fs::path(options.work_dir) / "tls").string(), lab)) {
        result.error = "lab certificates: " + *failed;
        return result;
      }
      run_options.tls->certificate = lab.client_cert;
      run_options.tls->private_key = lab.client_key;
      run_options.tls->ca = lab.ca;
    }
  }
  if (options.server) {
    run_options.servers.assign(slots, *options.server);
  } else {
    std::error_code ec;
    fs::create_directories(options.work_dir, ec);
    try {
      if (options.database) {
        // One run for the scenario on the shared database: every server's packets under it,
        // its sessions matched in its scope, not the live servers'.
        result.run_id = storage::open_run(*options.database, "conform", now_seconds());
        result.databases.push_back(*options.database);
      }
      for (std::size_t i = 0; i < slots; ++i) {
        server::ServerOptions server_options;
        server_options.listen = {"127.0.0.1:0"};
        if (options.database) {
          server_options.database = *options.database;
          server_options.writer.run_id = result.run_id;
          server_options.writer.session_scope = result.run_id;
        } else {
          server_options.database =
              (fs::path(options.work_dir) / (result.name + "-" + std::to_string(i + 1) + ".db"))
                  .string();
          remove_database(server_options.database);
        }
        server_options.handle_signals = false;
        server_options.clients_file = options.clients_file;
        server_options.stats_interval = std::chrono::milliseconds(0);
        if (options.tls) {
          server_options.listen.clear();
          server_options.tls.listen = {"127.0.0.1:0"};
          server_options.tls.certificate = lab.server_cert;
          server_options.tls.private_key = lab.server_key;
          server_options.tls.ca = lab.ca;
        }
        servers.push_back(std::make_unique<server::AccountingServer>(
            server_options, [](server::LogLevel, std::string_view, std::string_view) {}));
        if (!options.database) {
          result.databases.push_back(server_options.database);
        }
        run_options.servers.push_back(options.tls ? servers.back()->local_tls_endpoints().front()
                                                  : servers.back()->local_endpoints().front());
        result.endpoints.push_back(run_options.servers.back());
      }
    } catch (const std::exception& e) {
      result.error = std::string("embedded server: ") + e.what();
      close_failed_run(options, result);
      return result;
    }
    for (auto& s : servers) {
      threads.emplace_back([server = s.get()] { server->run(); });
    }
  }
  std::ostringstream debug;
  std::ostringstream events;
  const auto run = gateway::run_scenario(config.config, *scenario, run_options, debug, &events);
  for (auto& s : servers) {
    s->stop();
  }
  for (auto& thread : threads) {
    thread.join();
  }
  servers.clear();
  if (!run.ok) {
    result.error = "gateway: " + run.error;
    close_failed_run(options, result);
    return result;
  }
  result.records = run.starts + run.interims + run.stops;
  result.transmissions = run.transmissions;
  result.answers = run.answers;

  auto trace = trace_from_event_log(events.str());
  if (!trace) {
    result.error = trace.error();
    close_failed_run(options, result);
    return result;
  }
  result.trace = std::move(trace).value();
  result.trace.default_secret = options.secret;
  if (config.config.update_periodic_minutes) {
    result.trace.interim_interval = *config.config.update_periodic_minutes * 60.0;
  }
  // Link the first server's packets to their stored rows, so its findings table points at them
  // (every server's, when they share one database).
  if (!result.databases.empty()) {
    DbTraceOptions stored_options;
    stored_options.run_id = result.run_id;
    if (auto stored = load_trace_from_db(result.databases.front(), stored_options)) {
      std::map<std::pair<std::string, radius::Octets>, std::int64_t> ids;
      for (const auto& packet : stored->packets) {
        ids.emplace(std::pair{packet.source, packet.raw}, *packet.packet_id);
      }
      for (auto& packet : result.trace.packets) {
        if (packet.direction == Direction::to_server &&
            (result.run_id || packet.destination == run_options.servers.front())) {
          auto it = ids.find({packet.source, packet.raw});
          if (it != ids.end()) {
            packet.packet_id = it->second;
          }
        }
      }
    }
  }
  result.verdict = check_trace(result.trace, profile, dict);

  // Assertion (1): every record answered, every answer verified (EXC-* rules say which).
  if (run.bad_answers) {
    result.pipeline_failures.push_back(std::to_string(run.bad_answers) +
                                       " answer(s) failed the gateway's verification");
  }
  if (run.gave_up) {
    result.pipeline_failures.push_back(std::to_string(run.gave_up) +
                                       " record(s) no server acknowledged");
  }
  // Assertion (2): each embedded server stored exactly what it answered.
  if (!options.server && result.run_id) {
    const Analysis analysis(result.trace, profile, dict);
    compare_shared_database(analysis, dict, result.endpoints, *options.database, *result.run_id,
                            result.pipeline_failures);
    const auto stored =
        store_findings_in_run(*options.database, result.verdict, *result.run_id, result.trace);
    if (!stored) {
      result.pipeline_failures.push_back("findings not stored: " + stored.error());
    }
    try {
      storage::close_run(*options.database, *result.run_id, now_seconds(),
                         result.verdict.has_errors() ? "fail" : "pass",
                         render_json(result.verdict));
    } catch (const storage::Error& error) {
      result.pipeline_failures.push_back(
          "run not closed: " + storage::database_display_name(*options.database) + ": " +
          error.what());
    }
  } else if (!options.server) {
    const Analysis analysis(result.trace, profile, dict);
    for (std::size_t i = 0; i < result.databases.size(); ++i) {
      compare_database(analysis, dict, run_options.servers[i], result.databases[i],
                       result.pipeline_failures);
    }
    if (!result.databases.empty()) {
      const auto stored =
          store_findings(result.databases.front(), result.verdict, render_json(result.verdict));
      if (!stored) {
        result.pipeline_failures.push_back("findings not stored: " + stored.error());
      }
    }
  }
  return result;
}

std::string render_conform_text(const std::vector<ScenarioResult>& results, bool colour) {
  std::ostringstream out;
  std::size_t passed = 0;
  const auto paint = [&](bool ok, std::string_view text) {
    return colour ? std::string(ok ? "\033[32m" : "\033[31m") + std::string(text) + "\033[0m"
                  : std::string(text);
  };
  for (const auto& result : results) {
    passed += result.passed() ? 1 : 0;
    out << paint(result.passed(), result.passed() ? "PASS" : "FAIL") << ' ' << result.name;
    if (!result.error.empty()) {
      out << ": " << result.error << '\n';
      continue;
    }
    out << ": " << result.records << " records, " << result.transmissions << " transmissions, "
        << result.answers << " answers; findings " << result.verdict.count(Severity::error)
        << " errors, " << result.verdict.count(Severity::warning) << " warnings\n";
    for (const auto& failure : result.pipeline_failures) {
      out << "     pipeline: " << failure << '\n';
    }
  }
  for (const auto& result : results) {
    if (result.error.empty() && result.verdict.has_errors()) {
      out << "\n== " << result.name << '\n' << render_text(result.verdict, {.colour = colour});
    }
  }
  out << '\n' << passed << " of " << results.size() << " scenario(s) passed; ";
  if (results.empty() || results.front().databases.empty()) {
    out << "databases in (none: external server)\n";
  } else if (results.front().run_id) {
    out << "runs in " << storage::database_display_name(results.front().databases.front()) << '\n';
  } else {
    out << "databases in " << fs::path(results.front().databases.front()).parent_path().string()
        << '\n';
  }
  return out.str();
}

std::string render_conform_json(const std::vector<ScenarioResult>& results) {
  boost::json::array scenarios;
  bool all = true;
  for (const auto& result : results) {
    all = all && result.passed();
    boost::json::object item;
    item["name"] = result.name;
    item["passed"] = result.passed();
    item["error"] = result.error;
    boost::json::array failures;
    for (const auto& failure : result.pipeline_failures) {
      failures.emplace_back(failure);
    }
    item["pipeline_failures"] = std::move(failures);
    boost::json::array databases;
    for (const auto& path : result.databases) {
      databases.emplace_back(storage::database_display_name(path));
    }
    if (result.run_id) {
      item["run_id"] = *result.run_id;
    }
    item["databases"] = std::move(databases);
    item["records"] = result.records;
    item["transmissions"] = result.transmissions;
    item["answers"] = result.answers;
    if (result.error.empty()) {
      item["report"] = boost::json::parse(render_json(result.verdict));
    }
    scenarios.push_back(std::move(item));
  }
  boost::json::object root;
  root["verdict"] = all ? "pass" : "fail";
  root["scenarios"] = std::move(scenarios);
  return boost::json::serialize(root) + "\n";
}

std::string render_conform_junit(const std::vector<ScenarioResult>& results) {
  std::ostringstream out;
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"acctlab conform\">\n";
  for (const auto& result : results) {
    const std::string prefix = result.name + ": ";
    out << "  <testsuite name=\"" << radius::escape_markup(prefix)
        << "pipeline\" tests=\"1\" failures=\""
        << (result.error.empty() && result.pipeline_failures.empty() ? 0 : 1) << "\">\n"
        << "    <testcase classname=\"pipeline\" name=\"" << radius::escape_markup(result.name)
        << "\">\n";
    if (!result.error.empty() || !result.pipeline_failures.empty()) {
      std::string text = result.error;
      for (const auto& failure : result.pipeline_failures) {
        text += (text.empty() ? "" : "\n") + failure;
      }
      out << "      <failure message=\"answers and stored data\">" << radius::escape_markup(text)
          << "</failure>\n";
    }
    out << "    </testcase>\n  </testsuite>\n";
    if (result.error.empty()) {
      out << junit_suites(result.verdict, prefix);
    }
  }
  out << "</testsuites>\n";
  return out.str();
}

} // namespace acctlab::conformance
