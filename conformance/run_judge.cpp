#include "conformance/run_judge.hpp"

#include "conformance/analysis.hpp"
#include "conformance/catalog.hpp"
#include "conformance/detail/checks.hpp"
#include "conformance/detail/db_rows.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <sqlite3.h>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

namespace acctlab::conformance {
namespace {

using detail::CloseDb;
using detail::Statement;

/** A failure with SQLite's message; caught at the top and returned as the judge's error. */
struct DbError : std::runtime_error {
  explicit DbError(const std::string& what) : std::runtime_error(what), message(what) {}
  std::string message;
};

class Connection {
public:
  explicit Connection(const std::string& path, int flags = SQLITE_OPEN_READWRITE) {
    sqlite3* raw = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
    db_.reset(raw);
    if (rc != SQLITE_OK) {
      throw DbError{raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)};
    }
    sqlite3_busy_timeout(raw, 5000);
  }
  sqlite3* get() const { return db_.get(); }
  void exec(const std::string& sql) const {
    if (sqlite3_exec(db_.get(), sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
      throw DbError{sqlite3_errmsg(db_.get())};
    }
  }
  Statement prepare(const std::string& sql) const {
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db_.get(), sql.c_str(), -1, &raw, nullptr) != SQLITE_OK) {
      throw DbError{sqlite3_errmsg(db_.get())};
    }
    return Statement(raw);
  }
  /** Steps a statement that returns no row (an INSERT). */
  void done(sqlite3_stmt* statement) const {
    if (sqlite3_step(statement) != SQLITE_DONE) {
      throw DbError{sqlite3_errmsg(db_.get())};
    }
    sqlite3_reset(statement);
    sqlite3_clear_bindings(statement);
  }
  /** Steps a query: true on a row, false at its end. */
  bool row(sqlite3_stmt* statement) const {
    const int rc = sqlite3_step(statement);
    if (rc == SQLITE_ROW) {
      return true;
    }
    if (rc != SQLITE_DONE) {
      throw DbError{sqlite3_errmsg(db_.get())};
    }
    return false;
  }

private:
  std::unique_ptr<sqlite3, CloseDb> db_;
};

void bind_text(sqlite3_stmt* statement, int index, const std::string& text) {
  sqlite3_bind_text(statement, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
}

template <class T> void bind_optional(sqlite3_stmt* statement, int index, const T& value) {
  if (value) {
    sqlite3_bind_int64(statement, index, static_cast<std::int64_t>(*value));
  }
}

std::string column_text(sqlite3_stmt* statement, int column) {
  const auto* text = sqlite3_column_text(statement, column);
  return text ? std::string(reinterpret_cast<const char*>(text),
                            static_cast<std::size_t>(sqlite3_column_bytes(statement, column)))
              : std::string();
}

std::optional<std::int64_t> column_optional(sqlite3_stmt* statement, int column) {
  if (sqlite3_column_type(statement, column) == SQLITE_NULL) {
    return std::nullopt;
  }
  return sqlite3_column_int64(statement, column);
}

// A stand-in for "no index" in SQLite columns (none is size_t(-1), which does not fit int64).
constexpr std::int64_t no_index = -1;

std::int64_t to_column(std::size_t index) {
  return index == none ? no_index : static_cast<std::int64_t>(index);
}
std::size_t from_column(std::int64_t value) {
  return value < 0 ? none : static_cast<std::size_t>(value);
}

std::uint64_t mix(std::uint64_t x) { // splitmix64's finaliser
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

/** The packet a finding is about (its evidence's last packet): where it is and what it is. */
struct Subject {
  std::optional<std::string> file;
  std::optional<std::uint64_t> frame;
};

Subject subject_of(const TracePacket& packet) {
  return {packet.file, packet.frame};
}

/** As store_findings places a finding without its trace: the evidence's file and last frame. */
Subject subject_of(const Evidence& evidence) {
  Subject subject;
  if (!evidence.file.empty()) {
    subject.file = evidence.file;
  }
  if (!evidence.frames.empty()) {
    subject.frame = evidence.frames.back();
  }
  return subject;
}

template <class T> std::string joined(const std::vector<T>& values) {
  std::string out;
  for (const auto& value : values) {
    out += (out.empty() ? "" : ",") + std::to_string(value);
  }
  return out;
}

template <class T> std::vector<T> split_numbers(const std::string& text) {
  std::vector<T> out;
  const char* at = text.data();
  const char* end = at + text.size();
  while (at < end) {
    T value{};
    const auto [next, ec] = std::from_chars(at, end, value);
    if (ec != std::errc()) {
      break; // written by joined above: does not happen
    }
    out.push_back(value);
    at = next < end ? next + 1 : end;
  }
  return out;
}

/** Where a source's judge stages what its report needs besides the findings. */
struct SourceOptions {
  std::optional<std::int64_t> run_id; // none: every packet of the database
  bool responses_recorded = true;
  std::optional<std::string> default_secret;
  /** The source's own first and last moment (a server run's start and stop), when known; the
   * trace's are these or its first and last packet's, whichever reach further. */
  std::optional<std::pair<double, double>> window;
  /** Findings placed as store_findings places them (check --db), not at their trace packet
   * (a capture import's findings_in_run), and their whole evidence and sessions staged for the
   * reports. */
  bool check = false;
};

/**
 * The findings of every part, staged in a temporary table with the key that puts them in
 * check_trace's order: severity (worst first), first evidence packet, then, among equals, the
 * order the rules ran in (rule index), the order within the rule across parts (key) and the
 * order within a part (seq). Also keeps the counts the summary needs.
 */
class FindingStage {
public:
  FindingStage(const Connection& db, const std::vector<Rule>& rules, bool check)
      : db_(db), rules_(rules), check_(check) {
    // Temporary tables live in a file SQLite deletes on close, not in memory. (Set before the
    // first one: changing temp_store drops every temporary table.)
    db.exec("PRAGMA temp_store = FILE");
    // The evidence columns (ev_*) are filled for check --db's reports only.
    db.exec("CREATE TEMP TABLE judge_findings (sev INTEGER, first INTEGER, rule INTEGER, "
            "key INTEGER, seq INTEGER, rule_id TEXT, severity TEXT, scope TEXT, message TEXT, "
            "packet_id INTEGER, record_id INTEGER, session_row INTEGER, file TEXT, frame INTEGER, "
            "scope_code INTEGER, ev_nas TEXT, ev_session TEXT, ev_packets TEXT, ev_ids TEXT, "
            "ev_identifiers TEXT, ev_file TEXT, ev_frames TEXT, party INTEGER)");
    insert_ = db.prepare("INSERT INTO temp.judge_findings VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
                         "?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, "
                         "?22, ?23)");
    record_ = db.prepare("SELECT id, session_row FROM main.records WHERE packet_id = ?1");
    // As check_trace counts them: a rule id names its last rule of that id.
    for (std::size_t i = 0; i < rules.size(); ++i) {
      rule_index_[rules[i].id] = i;
    }
    outcomes_.resize(rules.size());
  }

  void add(std::size_t rule, const Finding& finding, std::size_t key, const Subject& at_packet) {
    const auto& evidence = finding.evidence;
    const Subject subject = check_ ? subject_of(evidence) : at_packet;
    auto* st = insert_.get();
    sqlite3_bind_int(st, 1, static_cast<int>(finding.severity));
    sqlite3_bind_int64(
        st, 2, evidence.packets.empty() ? 0 : static_cast<std::int64_t>(evidence.packets[0]));
    sqlite3_bind_int64(st, 3, static_cast<std::int64_t>(rule));
    sqlite3_bind_int64(st, 4, to_column(key));
    sqlite3_bind_int64(st, 5, static_cast<std::int64_t>(seq_++));
    bind_text(st, 6, finding.rule_id);
    bind_text(st, 7, std::string(to_string(finding.severity)));
    bind_text(st, 8, std::string(to_string(finding.scope)));
    bind_text(st, 9, finding.message);
    // The last stored packet is the one the finding is about (store_findings_in_run's links).
    if (!evidence.packet_ids.empty()) {
      const auto packet_id = evidence.packet_ids.back();
      sqlite3_bind_int64(st, 10, packet_id);
      auto* record = record_.get();
      sqlite3_reset(record);
      sqlite3_bind_int64(record, 1, packet_id);
      // check --db links records when it stores (StagedVerdict::store), not for reports alone.
      if (!check_ && db_.row(record)) {
        sqlite3_bind_int64(st, 11, sqlite3_column_int64(record, 0));
        if (sqlite3_column_type(record, 1) != SQLITE_NULL) {
          sqlite3_bind_int64(st, 12, sqlite3_column_int64(record, 1));
        }
      }
      sqlite3_reset(record);
    }
    if (subject.file) {
      bind_text(st, 13, *subject.file);
    }
    bind_optional(st, 14, subject.frame);
    if (check_) {
      sqlite3_bind_int(st, 15, static_cast<int>(finding.scope));
      bind_text(st, 16, evidence.nas);
      bind_text(st, 17, evidence.session_id);
      bind_text(st, 18, joined(evidence.packets));
      bind_text(st, 19, joined(evidence.packet_ids));
      bind_text(st, 20, joined(evidence.identifiers));
      bind_text(st, 21, evidence.file);
      bind_text(st, 22, joined(evidence.frames));
    }
    sqlite3_bind_int(st, 23, static_cast<int>(finding.party));
    db_.done(st);
    count(finding, subject);
  }

  void add(std::size_t rule, const Rule& of, std::string message, Evidence evidence,
           std::size_t key, const Subject& subject) {
    add(rule,
        Finding{of.id, of.severity, of.scope, std::move(message), std::move(evidence), of.party},
        key, subject);
  }

  /** Moves the staged findings into the findings table in order; returns how many. */
  std::size_t store(std::int64_t run_id) {
    db_.exec("BEGIN IMMEDIATE");
    try {
      auto copy = db_.prepare(
          "INSERT INTO main.findings (run_id, rule_id, severity, scope, message, packet_id, "
          "record_id, session_id, file, frame) SELECT ?1, rule_id, severity, scope, message, "
          "packet_id, record_id, session_row, file, frame FROM temp.judge_findings " +
          std::string(order));
      sqlite3_bind_int64(copy.get(), 1, run_id);
      db_.done(copy.get());
      const auto stored = static_cast<std::size_t>(sqlite3_changes(db_.get()));
      db_.exec("COMMIT");
      return stored;
    } catch (...) {
      sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
  }

  void summarise(capture::ConformanceSummary& summary) const {
    summary.errors = errors_;
    summary.warnings = warnings_;
    summary.infos = infos_;
    summary.findings_with_frame = with_frame_;
    summary.verdict = errors_ > 0 ? "fail" : "pass";
    summary.rules = rules_.size();
    for (std::size_t i = 0; i < rules_.size(); ++i) {
      const auto& rule = rules_[i];
      const bool failed = outcomes_[i] > 0;
      summary.rules_failed += failed ? 1 : 0;
      summary.results.push_back({rule.id, rule.source, std::string(to_string(rule.severity)),
                                 std::string(to_string(rule.scope)), rule.summary, !failed});
    }
    const auto rank = [](const std::string& severity) {
      return static_cast<int>(parse_severity(severity).value_or(Severity::info));
    };
    for (const auto& [id, count] : by_rule_) {
      summary.by_rule.push_back(count);
    }
    std::stable_sort(
        summary.by_rule.begin(), summary.by_rule.end(), [&](const auto& a, const auto& b) {
          return rank(a.severity) != rank(b.severity) ? rank(a.severity) > rank(b.severity)
                                                      : a.count > b.count;
        });
    auto first = db_.prepare("SELECT rule_id, severity, message, file, frame "
                             "FROM temp.judge_findings " +
                             std::string(order) + " LIMIT 10");
    while (db_.row(first.get())) {
      const auto frame = column_optional(first.get(), 4);
      summary.examples.push_back({column_text(first.get(), 0), column_text(first.get(), 1),
                                  column_text(first.get(), 2), column_text(first.get(), 3),
                                  frame ? static_cast<std::uint64_t>(*frame) : 0});
    }
  }

  static constexpr const char* order = "ORDER BY sev DESC, first, rule, key, seq";

private:
  void count(const Finding& finding, const Subject& subject) {
    parties_.add(finding.party, finding.severity);
    switch (finding.severity) {
      case Severity::error:
        ++errors_;
        break;
      case Severity::warning:
        ++warnings_;
        break;
      case Severity::info:
        ++infos_;
        break;
    }
    if (auto it = rule_index_.find(finding.rule_id);
        it != rule_index_.end() && finding.severity != Severity::info) {
      ++outcomes_[it->second];
    }
    auto& tally = by_rule_[finding.rule_id];
    if (tally.count == 0 || finding.severity > parse_severity(tally.severity)) {
      tally.severity = std::string(to_string(finding.severity));
    }
    tally.rule_id = finding.rule_id;
    ++tally.count;
    with_frame_ += subject.frame ? 1 : 0;
  }

  const Connection& db_;
  const std::vector<Rule>& rules_;
  bool check_;
  Statement insert_;
  Statement record_;
  std::uint64_t seq_ = 0;
  std::map<std::string, std::size_t, std::less<>> rule_index_;
  std::vector<std::size_t> outcomes_; // errors + warnings per rule
  std::map<std::string, capture::ConformanceSummary::RuleCount> by_rule_;
  std::size_t errors_ = 0;
  std::size_t warnings_ = 0;
  std::size_t infos_ = 0;
  std::size_t with_frame_ = 0;
  PartyCounts parties_;

public:
  const PartyCounts& parties() const { return parties_; }
};

/** The rules a part cannot judge alone, by their catalog ids (absent ones are null). */
struct CrossRules {
  std::size_t changed_same_id = none;
  std::size_t rekey = none;
  std::size_t reset_open = none;
  std::size_t after_reset = none;

  explicit CrossRules(const std::vector<Rule>& rules) {
    for (std::size_t i = 0; i < rules.size(); ++i) {
      const auto& id = rules[i].id;
      if (id == "RFC5080-CHANGED-SAME-ID") {
        changed_same_id = i;
      } else if (id == "SES-REKEY-NEW-SESSION") {
        rekey = i;
      } else if (id == "SES-ACCT-ON-OPEN") {
        reset_open = i;
      } else if (id == "SES-AFTER-ACCT-ON") {
        after_reset = i;
      }
    }
  }
  bool cross(std::size_t rule) const {
    return rule == changed_same_id || rule == rekey || rule == reset_open || rule == after_reset;
  }
};

/**
 * The first pass, in trace order, holding only what is bounded by the traffic's shape: assigns
 * every packet to a part (requests by NAS and Acct-Session-Id, which decides their exchange,
 * record copies and session; answers with the request they answer, as Analysis pairs them;
 * anything else on its own), judges RFC5080-CHANGED-SAME-ID, and lists the resets.
 */
class IndexPass {
public:
  IndexPass(const radius::Dictionary& dict, const SecretLookup& secrets, std::size_t parts,
            bool responses_recorded)
      : dict_(dict), lookup_(secrets), parts_(parts), responses_recorded_(responses_recorded) {}

  /** The part of packet index; stages a changed-same-id finding when there is one. */
  std::size_t add(const TracePacket& packet, std::size_t index, FindingStage& stage,
                  const std::vector<Rule>& rules, const CrossRules& cross) {
    learn_secret(packet);
    const PacketView view = view_packet(packet, index, dict_);
    if (view.request) {
      intervals_.add(view, dict_);
      const std::uint64_t part =
          mix(std::hash<std::string>{}(view.nas_key + '\x1e' + view.record->session_id)) % parts_;
      auto [it, inserted] =
          last_.try_emplace(id_key(packet.source, packet.destination, view.packet->identifier()));
      auto& last = it->second;
      const auto outstanding = [&](const PacketView& earlier, bool same_exchange) {
        // As check_changed_same_id: with answers recorded, the earlier request was still
        // unanswered (its answer, if any comes, pairs with this one now); without them (a
        // server database: no request is ever answered here, so the latest one stays pending),
        // the same exchange resent inside the RFC 5080 duplicate window.
        return responses_recorded_ || (same_exchange && packet.time - earlier.trace->time <=
                                                            detail::duplicate_window_seconds);
      };
      const auto earlier =
          !inserted && last.pending && last.pending->raw != packet.raw &&
                  cross.changed_same_id != none
              ? std::optional<PacketView>(view_packet(*last.pending, last.index, dict_))
              : std::nullopt;
      const bool same_exchange =
          earlier && exchange_key(*earlier, dict_) == exchange_key(view, dict_);
      if (earlier && outstanding(*earlier, same_exchange)) {
        Evidence evidence;
        append_evidence(evidence, last.index, *earlier, nullptr);
        append_evidence(evidence, index, view, nullptr);
        if (evidence.nas.empty()) {
          evidence.nas = host_part(earlier->client);
        }
        const auto& rule = rules[cross.changed_same_id];
        stage.add(cross.changed_same_id, rule,
                  detail::changed_same_id_message(*earlier, view, same_exchange),
                  std::move(evidence), 0, subject_of(packet));
      }
      last.index = index;
      last.part = part;
      last.pending = std::make_unique<TracePacket>(packet);
      latest_[id_key(packet.source, packet.destination, view.packet->identifier())] = {index, part};
      const auto status = view.record->status_type;
      if (status && (*status == 7 || *status == 8) &&
          reset_exchanges_.insert(exchange_key(view, dict_)).second) {
        // The first transmission of an Accounting-On/Off: it ends its NAS's open sessions.
        detail::ResetSummary reset;
        reset.index = index;
        reset.label = detail::status_label(view);
        append_evidence(reset.evidence, index, view, nullptr);
        resets_[view.nas_key].push_back(std::move(reset));
      }
      return part;
    }
    const bool from_client = view.packet && view.client == packet.source;
    if (from_client && is_request(view.packet->code())) {
      // Outside accounting (Access-Request, Status-Server, CoA): its answer follows it.
      const auto part = mix(index ^ 0x5bd1e995u) % parts_;
      latest_[id_key(packet.source, packet.destination, view.packet->identifier())] = {index, part};
      return part;
    }
    if (view.packet && !from_client) {
      // As Analysis pairs answers: with the latest request of any service on that key.
      const auto key = id_key(packet.destination, packet.source, view.packet->identifier());
      if (auto it = latest_.find(key); it != latest_.end()) {
        if (auto accounting = last_.find(key);
            accounting != last_.end() && accounting->second.index == it->second.index) {
          accounting->second.pending.reset(); // answered: no longer outstanding
        }
        return it->second.part;
      }
    }
    return mix(index ^ 0x5bd1e995u) % parts_;
  }

  const detail::ResetsByNas& resets() const { return resets_; }
  /** The interim interval each NAS shows over the whole run (SES-INTERIM-CADENCE). */
  std::map<std::string, IntervalEstimate, std::less<>> intervals() const {
    return intervals_.estimates();
  }
  const std::map<std::string, std::string, std::less<>>& secrets() const { return secrets_; }

private:
  /** Client, server and Identifier, as Analysis pairs answers (endpoints numbered). */
  struct IdKey {
    std::uint64_t client;
    std::uint64_t server;
    std::uint8_t id;
    bool operator==(const IdKey&) const = default;
  };
  struct IdKeyHash {
    std::size_t operator()(const IdKey& key) const {
      return mix(key.client ^ mix(key.server ^ mix(key.id)));
    }
  };
  IdKey id_key(const std::string& client, const std::string& server, std::uint8_t id) {
    const auto number = [this](const std::string& endpoint) -> std::uint64_t {
      return endpoints_.try_emplace(endpoint, endpoints_.size()).first->second;
    };
    return {number(client), number(server), id};
  }

  void learn_secret(const TracePacket& packet) {
    if (!lookup_) {
      return;
    }
    auto host =
        host_part(packet.direction == Direction::from_server ? packet.destination : packet.source);
    if (!looked_up_.insert(host).second) {
      return;
    }
    if (auto secret = lookup_(host)) {
      secrets_.emplace(std::move(host), std::move(*secret));
    }
  }

  /** The latest request on a client, server and Identifier: answers pair with it. */
  struct Last {
    std::size_t index = 0;
    std::size_t part = 0;
    std::unique_ptr<TracePacket> pending; // while unanswered (RFC5080-CHANGED-SAME-ID needs it)
  };

  const radius::Dictionary& dict_;
  const SecretLookup& lookup_;
  std::size_t parts_;
  bool responses_recorded_;
  // One entry per client endpoint, server endpoint and Identifier seen: bounded by the
  // endpoints (256 Identifiers each), not by the number of requests.
  std::unordered_map<IdKey, Last, IdKeyHash> last_;
  struct Latest {
    std::size_t index = 0;
    std::size_t part = 0;
  };
  std::unordered_map<IdKey, Latest, IdKeyHash> latest_; // any service's latest request
  std::unordered_map<std::string, std::uint64_t> endpoints_;
  std::unordered_set<std::string> reset_exchanges_;
  detail::ResetsByNas resets_;
  detail::IntervalTally intervals_;
  std::unordered_set<std::string> looked_up_;
  std::map<std::string, std::string, std::less<>> secrets_;
};

std::size_t local_of(const std::vector<std::size_t>& indices, std::size_t index) {
  return static_cast<std::size_t>(std::lower_bound(indices.begin(), indices.end(), index) -
                                  indices.begin());
}

/** What check --db's reports count besides the findings, summed over the parts (a part holds
 * whole exchanges and sessions, so the sums are the whole trace's). */
struct TraceCounts {
  std::size_t requests = 0;
  std::size_t responses = 0;
  std::size_t exchanges = 0;
  std::size_t authentication = 0;
  std::size_t dynamic_authorization = 0;
  std::vector<NasProfile> nas_profiles; // in order of each NAS's first packet
};

/** " WHERE run_id = ?1" when the source is one run (bound by bind_source). */
std::string where_source(const SourceOptions& source) {
  return source.run_id ? " WHERE run_id = ?1" : "";
}
void bind_source(sqlite3_stmt* statement, const SourceOptions& source) {
  if (source.run_id) {
    sqlite3_bind_int64(statement, 1, *source.run_id);
  }
}

/**
 * Judges the source's packets in parts and stages every finding. With counts (check --db), also
 * stages the sessions (temp.judge_sessions, in the order Analysis lists them: by their first
 * record) and counts requests, responses and exchanges.
 */
RunJudgeStats judge_parts(const Connection& db, const SourceOptions& source, const Profile& profile,
                          const radius::Dictionary& dict, const SecretLookup& secrets,
                          std::optional<double> interim_interval, const RunJudgeOptions& options,
                          const std::vector<Rule>& rules, FindingStage& stage,
                          TraceCounts* counts) {
  const CrossRules cross(rules);

  auto count = db.prepare("SELECT count(*) FROM packets" + where_source(source));
  bind_source(count.get(), source);
  db.row(count.get());
  const auto packets = static_cast<std::size_t>(sqlite3_column_int64(count.get(), 0));
  count.reset();
  const std::size_t parts = std::max<std::size_t>(
      1, (packets + options.part_packets - 1) / std::max<std::size_t>(options.part_packets, 1));

  // Pass 1: every packet in trace order (as load_trace_from_db orders them) to its part.
  db.exec("CREATE TEMP TABLE judge_packets (idx INTEGER PRIMARY KEY, packet_id INTEGER, "
          "part INTEGER)");
  IndexPass index_pass(dict, secrets, parts, source.responses_recorded);
  double first_time = std::numeric_limits<double>::infinity();
  double last_time = -std::numeric_limits<double>::infinity();
  std::map<std::string, Trace::Window> file_windows;
  {
    db.exec("BEGIN");
    auto all = db.prepare(std::string("SELECT ") + detail::packet_columns + " FROM packets" +
                          where_source(source) + " ORDER BY receive_time, id");
    bind_source(all.get(), source);
    auto place = db.prepare("INSERT INTO temp.judge_packets VALUES (?1, ?2, ?3)");
    std::size_t index = 0;
    std::set<std::string, std::less<>> hosts;
    while (db.row(all.get())) {
      bool response = false;
      const TracePacket packet = detail::read_packet_row(all.get(), response);
      first_time = std::min(first_time, packet.time);
      last_time = std::max(last_time, packet.time);
      if (packet.file) {
        // As detail::add_file_windows over the whole trace.
        file_windows.try_emplace(*packet.file,
                                 Trace::Window{packet.time, packet.time, *packet.file});
        auto& window = file_windows[*packet.file];
        window.begin = std::min(window.begin, packet.time);
        window.end = std::max(window.end, packet.time);
      }
      if (counts) {
        if (auto host = host_part(nas_endpoint(packet)); hosts.insert(host).second) {
          counts->nas_profiles.push_back({std::move(host), profile.name});
        }
      }
      const auto part = index_pass.add(packet, index, stage, rules, cross);
      sqlite3_bind_int64(place.get(), 1, static_cast<std::int64_t>(index));
      bind_optional(place.get(), 2, packet.packet_id);
      sqlite3_bind_int64(place.get(), 3, static_cast<std::int64_t>(part));
      db.done(place.get());
      ++index;
    }
    db.exec("COMMIT");
    db.exec("CREATE INDEX temp.judge_packets_part ON judge_packets (part, idx)");
  }

  // Pass 2: each part's packets in trace order, judged by every rule but the cross ones.
  db.exec("CREATE TEMP TABLE judge_starts (start INTEGER PRIMARY KEY, stop INTEGER, nas TEXT, "
          "session_id TEXT, peer TEXT, framed TEXT, packet_id INTEGER, identifier INTEGER, "
          "frame INTEGER, file TEXT, ev_nas TEXT, ev_session TEXT, subject_file TEXT, "
          "subject_frame INTEGER)");
  auto part_query = db.prepare(std::string("SELECT j.idx, ") +
                               "p.id, p.receive_time, p.src_addr, p.src_port, p.dst_addr, "
                               "p.dst_port, p.code, p.verdict, p.file, p.frame, p.raw "
                               "FROM temp.judge_packets j JOIN main.packets p ON p.id = "
                               "j.packet_id WHERE j.part = ?1 ORDER BY j.idx");
  auto start_insert = db.prepare("INSERT INTO temp.judge_starts VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
                                 "?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)");
  Statement session_insert;
  if (counts) {
    db.exec("CREATE TEMP TABLE judge_sessions (first INTEGER PRIMARY KEY, nas TEXT, "
            "session TEXT, records INTEGER, stopped INTEGER)");
    session_insert = db.prepare("INSERT INTO temp.judge_sessions VALUES (?1, ?2, ?3, ?4, ?5)");
  }
  RunJudgeStats stats;
  stats.packets = packets;
  stats.parts = parts;
  const auto nas_intervals = index_pass.intervals();
  for (std::size_t p = 0; p < parts; ++p) {
    db.exec("BEGIN");
    Trace trace;
    trace.secrets = index_pass.secrets();
    trace.default_secret = source.default_secret;
    trace.responses_recorded = source.responses_recorded;
    trace.interim_interval = interim_interval;
    // The whole trace's edges, as load_trace_from_db's trace has them.
    if (file_windows.size() > 1) {
      for (const auto& [file, window] : file_windows) {
        trace.windows.push_back(window);
      }
    }
    if (packets > 0) {
      trace.begin = source.window ? std::min(source.window->first, first_time) : first_time;
      trace.end = source.window ? std::max(source.window->second, last_time) : last_time;
    }
    trace.nas_intervals = nas_intervals;
    std::vector<std::size_t> indices;
    sqlite3_bind_int64(part_query.get(), 1, static_cast<std::int64_t>(p));
    while (db.row(part_query.get())) {
      bool response = false;
      indices.push_back(static_cast<std::size_t>(sqlite3_column_int64(part_query.get(), 0)));
      trace.packets.push_back(detail::read_packet_row(part_query.get(), response, 1));
    }
    sqlite3_reset(part_query.get());
    stats.largest_part = std::max(stats.largest_part, indices.size());
    const Analysis analysis(trace, profile, dict, indices);
    if (counts) {
      for (const auto& view : analysis.packets()) {
        counts->requests += view.request ? 1 : 0;
        counts->responses += view.response ? 1 : 0;
        counts->authentication += view.service == Service::authentication ? 1 : 0;
        counts->dynamic_authorization += view.service == Service::dynamic_authorization ? 1 : 0;
      }
      counts->exchanges += analysis.exchanges().size();
      auto* st = session_insert.get();
      for (const auto& session : analysis.sessions()) {
        // As check_trace's SessionOutcome; Analysis lists sessions by their first record.
        const bool stopped = std::any_of(session.records.begin(), session.records.end(),
                                         [&](std::size_t i) { return analysis.status(i) == 2u; });
        sqlite3_bind_int64(st, 1, static_cast<std::int64_t>(indices[session.records.front()]));
        bind_text(st, 2, session.nas);
        bind_text(st, 3, session.session_id);
        sqlite3_bind_int64(st, 4, static_cast<std::int64_t>(session.records.size()));
        sqlite3_bind_int(st, 5, stopped ? 1 : 0);
        db.done(st);
      }
    }
    const auto subject = [&](const Evidence& evidence) {
      return evidence.packets.empty()
                 ? Subject{}
                 : subject_of(trace.packets[local_of(indices, evidence.packets.back())]);
    };
    for (std::size_t r = 0; r < rules.size(); ++r) {
      const auto& rule = rules[r];
      if (!rule.check || cross.cross(r)) {
        continue;
      }
      FindingSink sink;
      rule.check(rule, analysis, sink);
      for (auto finding : sink.findings()) {
        finding.party = analysis.party_of(finding);
        stage.add(r, finding, 0, subject(finding.evidence));
      }
    }
    const auto rule_at = [&](std::size_t r) { return r == none ? nullptr : &rules[r]; };
    detail::check_resets_in_part(
        rule_at(cross.reset_open), rule_at(cross.after_reset), analysis, index_pass.resets(),
        [&](const Rule& rule, std::string message, Evidence evidence, std::size_t key) {
          const auto r = &rule == rule_at(cross.reset_open) ? cross.reset_open : cross.after_reset;
          const auto about = subject(evidence);
          stage.add(r, rule, std::move(message), std::move(evidence), key, about);
        });
    if (cross.rekey != none) {
      std::vector<detail::StartSummary> starts;
      detail::collect_starts(analysis, starts);
      auto* st = start_insert.get();
      for (const auto& start : starts) {
        const auto& e = start.evidence;
        const auto about = subject(e);
        sqlite3_bind_int64(st, 1, to_column(start.start));
        sqlite3_bind_int64(st, 2, to_column(start.stop));
        bind_text(st, 3, start.nas);
        bind_text(st, 4, start.session_id);
        bind_text(st, 5, start.peer);
        bind_text(st, 6, start.framed);
        if (!e.packet_ids.empty()) {
          sqlite3_bind_int64(st, 7, e.packet_ids.front());
        }
        if (!e.identifiers.empty()) {
          sqlite3_bind_int64(st, 8, e.identifiers.front());
        }
        if (!e.frames.empty()) {
          sqlite3_bind_int64(st, 9, static_cast<std::int64_t>(e.frames.front()));
        }
        bind_text(st, 10, e.file);
        bind_text(st, 11, e.nas);
        bind_text(st, 12, e.session_id);
        if (about.file) {
          bind_text(st, 13, *about.file);
        }
        bind_optional(st, 14, about.frame);
        db.done(st);
      }
    }
    db.exec("COMMIT");
  }

  // SES-REKEY-NEW-SESSION over every part's Starts in trace order.
  if (cross.rekey != none) {
    db.exec("BEGIN");
    detail::RekeyCheck rekey;
    auto starts = db.prepare("SELECT * FROM temp.judge_starts ORDER BY start");
    auto* st = starts.get();
    while (db.row(st)) {
      detail::StartSummary start;
      start.start = from_column(sqlite3_column_int64(st, 0));
      start.stop = from_column(sqlite3_column_int64(st, 1));
      start.nas = column_text(st, 2);
      start.session_id = column_text(st, 3);
      start.peer = column_text(st, 4);
      start.framed = column_text(st, 5);
      auto& e = start.evidence;
      e.packets.push_back(start.start);
      if (const auto id = column_optional(st, 6)) {
        e.packet_ids.push_back(*id);
      }
      if (const auto id = column_optional(st, 7)) {
        e.identifiers.push_back(static_cast<std::uint32_t>(*id));
      }
      if (const auto frame = column_optional(st, 8)) {
        e.frames.push_back(static_cast<std::uint64_t>(*frame));
      }
      e.file = column_text(st, 9);
      e.nas = column_text(st, 10);
      e.session_id = column_text(st, 11);
      Subject about;
      if (sqlite3_column_type(st, 12) != SQLITE_NULL) {
        about.file = column_text(st, 12);
      }
      if (const auto frame = column_optional(st, 13)) {
        about.frame = static_cast<std::uint64_t>(*frame);
      }
      if (auto found = rekey.add(start)) {
        stage.add(cross.rekey, rules[cross.rekey], std::move(found->first),
                  std::move(found->second), start.start, about);
      }
    }
    starts.reset();
    db.exec("COMMIT");
  }
  return stats;
}

capture::ConformanceSummary judge(const Connection& db, std::int64_t run_id, const Profile& profile,
                                  const radius::Dictionary& dict, const SecretLookup& secrets,
                                  std::optional<double> interim_interval,
                                  const RunJudgeOptions& options) {
  const auto rules = rules_for(profile);
  FindingStage stage(db, rules, false);
  SourceOptions source;
  source.run_id = run_id;
  const auto stats = judge_parts(db, source, profile, dict, secrets, interim_interval, options,
                                 rules, stage, nullptr);
  capture::ConformanceSummary summary;
  summary.profile = profile.name;
  summary.findings_stored = stage.store(run_id);
  stage.summarise(summary);
  if (options.stats) {
    *options.stats = stats;
  }
  return summary;
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

/** The columns StagedVerdict reads a finding from, in read_finding's order. */
constexpr const char* finding_columns = "idx, rule_id, sev, scope_code, message, ev_nas, "
                                        "ev_session, ev_packets, ev_ids, ev_identifiers, "
                                        "ev_file, ev_frames, party";

Finding read_finding(sqlite3_stmt* row) {
  Finding finding;
  finding.rule_id = column_text(row, 1);
  finding.severity = static_cast<Severity>(sqlite3_column_int(row, 2));
  finding.scope = static_cast<Scope>(sqlite3_column_int(row, 3));
  finding.message = column_text(row, 4);
  auto& evidence = finding.evidence;
  evidence.nas = column_text(row, 5);
  evidence.session_id = column_text(row, 6);
  evidence.packets = split_numbers<std::size_t>(column_text(row, 7));
  evidence.packet_ids = split_numbers<std::int64_t>(column_text(row, 8));
  evidence.identifiers = split_numbers<std::uint32_t>(column_text(row, 9));
  evidence.file = column_text(row, 10);
  evidence.frames = split_numbers<std::uint64_t>(column_text(row, 11));
  finding.party = static_cast<Party>(sqlite3_column_int(row, 12));
  return finding;
}

} // namespace

struct StagedVerdict::State {
  std::unique_ptr<Connection> db;
  std::string database;
  VerdictSummary summary;
  RunJudgeStats stats;
  Statement of_session;       // reused once per session
  Statement of_session_index; // the same, indices only (the index covers it)
  bool rule_index = false;    // the indexes of judge_order, made when a report first needs one
  bool session_index = false;

  void index_rules() {
    if (!rule_index) {
      db->exec("CREATE INDEX temp.judge_order_rule ON judge_order (rule_id, idx)");
      rule_index = true;
    }
  }
  void index_sessions() {
    if (!session_index) {
      db->exec("CREATE INDEX temp.judge_order_session ON judge_order (ev_nas, ev_session, idx)");
      of_session = db->prepare(std::string("SELECT ") + finding_columns +
                               " FROM temp.judge_order WHERE ev_nas = ?1 AND ev_session = ?2 "
                               "ORDER BY idx");
      of_session_index = db->prepare("SELECT idx FROM temp.judge_order WHERE ev_nas = ?1 AND "
                                     "ev_session = ?2 ORDER BY idx");
      session_index = true;
    }
  }
};

StagedVerdict::StagedVerdict(std::unique_ptr<State> state) : state_(std::move(state)) {}
StagedVerdict::~StagedVerdict() = default;

const VerdictSummary& StagedVerdict::summary() const {
  return state_->summary;
}

const RunJudgeStats& StagedVerdict::stats() const {
  return state_->stats;
}

void StagedVerdict::findings(const std::string* rule, const FindingVisit& visit) const {
  if (rule) {
    state_->index_rules();
  }
  const auto& db = *state_->db;
  auto query = db.prepare(std::string("SELECT ") + finding_columns + " FROM temp.judge_order" +
                          (rule ? " WHERE rule_id = ?1" : "") + " ORDER BY idx");
  if (rule) {
    bind_text(query.get(), 1, *rule);
  }
  while (db.row(query.get())) {
    const auto index = static_cast<std::size_t>(sqlite3_column_int64(query.get(), 0) - 1);
    if (!visit(index, read_finding(query.get()))) {
      return;
    }
  }
}

std::size_t StagedVerdict::count_of(const std::string& rule) const {
  state_->index_rules();
  auto query = state_->db->prepare("SELECT count(*) FROM temp.judge_order WHERE rule_id = ?1");
  bind_text(query.get(), 1, rule);
  state_->db->row(query.get());
  return static_cast<std::size_t>(sqlite3_column_int64(query.get(), 0));
}

void StagedVerdict::sessions(const SessionVisit& visit, bool with_findings) const {
  state_->index_sessions();
  const auto& db = *state_->db;
  auto list = db.prepare("SELECT nas, session, records, stopped FROM temp.judge_sessions "
                         "ORDER BY first");
  auto* of_session = with_findings ? state_->of_session.get() : state_->of_session_index.get();
  SessionOutcome session;
  std::vector<Finding> findings;
  while (db.row(list.get())) {
    session.nas = column_text(list.get(), 0);
    session.session_id = column_text(list.get(), 1);
    session.records = static_cast<std::size_t>(sqlite3_column_int64(list.get(), 2));
    session.stopped = sqlite3_column_int(list.get(), 3) != 0;
    session.findings.clear();
    findings.clear();
    // As check_trace links them: the findings whose evidence names this NAS and session.
    sqlite3_reset(of_session);
    bind_text(of_session, 1, session.nas);
    bind_text(of_session, 2, session.session_id);
    while (db.row(of_session)) {
      session.findings.push_back(static_cast<std::size_t>(sqlite3_column_int64(of_session, 0) - 1));
      if (with_findings) {
        findings.push_back(read_finding(of_session));
      }
    }
    sqlite3_reset(of_session);
    visit(session, findings);
  }
}

Expected<std::int64_t, std::string> StagedVerdict::store(const std::string& json_report_path) {
  const auto& db = *state_->db;
  try {
    std::ifstream report(json_report_path, std::ios::binary | std::ios::ate);
    if (!report) {
      return Unexpected("cannot read " + json_report_path);
    }
    const auto size = static_cast<std::int64_t>(report.tellg());
    report.seekg(0);
    db.exec("BEGIN IMMEDIATE");
    try {
      // The report goes in through SQLite's incremental blob I/O, a piece at a time, into a
      // BLOB of its size. zeroblob(n) is the one value SQLite writes without building it in
      // memory (its zeros are counted, not stored, while they end the row's data: report is
      // runs' last column); a TEXT cell of n bytes has no such form
      // (CAST(zeroblob(n) AS TEXT) builds all n, 913 MB peak for a 440 MB report). So a
      // conformance report is a BLOB holding the JSON's UTF-8 bytes, as store_findings stores
      // it; readers take CAST(report AS TEXT) for the JSON functions (as their documentation
      // asks; SQLite reads a BLOB of JSON text as text anyway), or read it a piece at a
      // time (web/report_scan.hpp). docs/design-notes.md, "check --db stores its report in
      // pieces".
      auto run = db.prepare("INSERT INTO main.runs (kind, started, finished, verdict, report) "
                            "VALUES ('conform', ?1, ?1, ?2, zeroblob(?3))");
      sqlite3_bind_double(run.get(), 1, now_seconds());
      sqlite3_bind_text(run.get(), 2, has_errors() ? "fail" : "pass", -1, SQLITE_STATIC);
      sqlite3_bind_int64(run.get(), 3, size);
      db.done(run.get());
      const std::int64_t run_id = sqlite3_last_insert_rowid(db.get());
      if (size > 0) {
        sqlite3_blob* raw = nullptr;
        if (sqlite3_blob_open(db.get(), "main", "runs", "report", run_id, 1, &raw) != SQLITE_OK) {
          sqlite3_blob_close(raw);
          throw DbError{sqlite3_errmsg(db.get())};
        }
        const std::unique_ptr<sqlite3_blob, int (*)(sqlite3_blob*)> blob(raw, sqlite3_blob_close);
        if (sqlite3_blob_bytes(raw) != size) {
          throw DbError{"the report's cell is not its size"};
        }
        std::vector<char> piece(1 << 16);
        std::int64_t at = 0;
        while (at < size) {
          const auto n = std::min<std::int64_t>(size - at, static_cast<std::int64_t>(piece.size()));
          if (!report.read(piece.data(), n)) {
            throw DbError{"cannot read " + json_report_path};
          }
          if (sqlite3_blob_write(raw, piece.data(), static_cast<int>(n), static_cast<int>(at)) !=
              SQLITE_OK) {
            throw DbError{sqlite3_errmsg(db.get())};
          }
          at += n;
        }
      }
      // Linked as store_findings links them: the packet's record (a record's id is its
      // packet's) and that record's session.
      auto copy = db.prepare(
          "INSERT INTO main.findings (run_id, rule_id, severity, scope, message, packet_id, "
          "record_id, session_id, file, frame) SELECT ?1, o.rule_id, o.severity, o.scope, "
          "o.message, o.packet_id, r.id, r.session_row, o.file, o.frame FROM temp.judge_order o "
          "LEFT JOIN main.records r ON r.id = (SELECT id FROM main.records WHERE packet_id = "
          "o.packet_id LIMIT 1) ORDER BY o.idx");
      sqlite3_bind_int64(copy.get(), 1, run_id);
      db.done(copy.get());
      db.exec("COMMIT");
      return run_id;
    } catch (...) {
      sqlite3_exec(db.get(), "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
  } catch (const DbError& error) {
    return Unexpected(state_->database + ": " + error.message);
  }
}

Expected<std::unique_ptr<StagedVerdict>, std::string>
judge_database(const std::string& database, const Profile& profile, const radius::Dictionary& dict,
               const DbJudgeOptions& options) {
  if (options.parts.part_packets == 0) {
    return Unexpected(std::string("judge_database: part_packets must be > 0"));
  }
  try {
    auto state = std::make_unique<StagedVerdict::State>();
    state->database = database;
    state->db = std::make_unique<Connection>(database, options.writable ? SQLITE_OPEN_READWRITE
                                                                        : SQLITE_OPEN_READONLY);
    const auto& db = *state->db;
    try {
      SourceOptions source;
      source.run_id = options.run_id;
      source.default_secret = options.secret;
      source.check = true;
      source.window = detail::serve_window(db.get(), options.run_id);
      {
        // As load_trace_from_db: answers are recorded when any stored packet is one.
        auto any = db.prepare("SELECT EXISTS (SELECT 1 FROM packets WHERE code IN (2, 3, 5, 11, "
                              "41, 42, 44, 45)" +
                              std::string(options.run_id ? " AND run_id = ?1" : "") + ")");
        bind_source(any.get(), source);
        db.row(any.get());
        source.responses_recorded = sqlite3_column_int(any.get(), 0) != 0;
      }
      auto& summary = state->summary;
      summary.profile = profile.name;
      summary.rules = rules_for(profile);
      TraceCounts counts;
      {
        FindingStage stage(db, summary.rules, true);
        state->stats =
            judge_parts(db, source, profile, dict, options.secrets, options.interim_interval,
                        options.parts, summary.rules, stage, &counts);
      }
      // The findings in check_trace's order, numbered: what the reports and store read.
      db.exec("BEGIN");
      db.exec("CREATE TEMP TABLE judge_order (idx INTEGER PRIMARY KEY, sev INTEGER, "
              "scope_code INTEGER, rule_id TEXT, severity TEXT, scope TEXT, message TEXT, "
              "packet_id INTEGER, record_id INTEGER, session_row INTEGER, file TEXT, "
              "frame INTEGER, ev_nas TEXT, ev_session TEXT, ev_packets TEXT, ev_ids TEXT, "
              "ev_identifiers TEXT, ev_file TEXT, ev_frames TEXT, party INTEGER)");
      const std::string columns =
          "sev, scope_code, rule_id, severity, scope, message, packet_id, record_id, "
          "session_row, file, frame, ev_nas, ev_session, ev_packets, ev_ids, ev_identifiers, "
          "ev_file, ev_frames, party";
      db.exec("INSERT INTO temp.judge_order (" + columns + ") SELECT " + columns +
              " FROM temp.judge_findings " + FindingStage::order);
      db.exec("DROP TABLE temp.judge_findings");
      db.exec("COMMIT");

      // As check_trace counts them: a rule id names its last rule of that id.
      std::map<std::string, std::size_t, std::less<>> rule_index;
      for (std::size_t i = 0; i < summary.rules.size(); ++i) {
        rule_index[summary.rules[i].id] = i;
        summary.outcomes.push_back({i, 0, 0, 0});
      }
      auto tally = db.prepare("SELECT rule_id, sev, count(*) FROM temp.judge_order "
                              "GROUP BY rule_id, sev");
      while (db.row(tally.get())) {
        const auto severity = static_cast<Severity>(sqlite3_column_int(tally.get(), 1));
        const auto n = static_cast<std::size_t>(sqlite3_column_int64(tally.get(), 2));
        const auto it = rule_index.find(column_text(tally.get(), 0));
        auto* outcome = it == rule_index.end() ? nullptr : &summary.outcomes[it->second];
        std::size_t* total = &summary.infos;
        std::size_t* of_rule = outcome ? &outcome->infos : nullptr;
        if (severity == Severity::error) {
          total = &summary.errors;
          of_rule = outcome ? &outcome->errors : nullptr;
        } else if (severity == Severity::warning) {
          total = &summary.warnings;
          of_rule = outcome ? &outcome->warnings : nullptr;
        }
        *total += n;
        if (of_rule) {
          *of_rule += n;
        }
      }
      tally.reset();
      auto sessions = db.prepare("SELECT count(*) FROM temp.judge_sessions");
      db.row(sessions.get());
      summary.sessions = static_cast<std::size_t>(sqlite3_column_int64(sessions.get(), 0));
      sessions.reset();
      summary.packets = state->stats.packets;
      summary.requests = counts.requests;
      summary.responses = counts.responses;
      summary.exchanges = counts.exchanges;
      summary.authentication = counts.authentication;
      summary.dynamic_authorization = counts.dynamic_authorization;
      summary.nas_profiles = std::move(counts.nas_profiles);
      auto parties = db.prepare("SELECT party, sev, count(*) FROM temp.judge_order "
                                "GROUP BY party, sev");
      while (db.row(parties.get())) {
        const auto party = static_cast<Party>(sqlite3_column_int(parties.get(), 0));
        const auto severity = static_cast<Severity>(sqlite3_column_int(parties.get(), 1));
        const auto n = static_cast<std::size_t>(sqlite3_column_int64(parties.get(), 2));
        for (std::size_t i = 0; i < n; ++i) {
          summary.parties.add(party, severity);
        }
      }
      parties.reset();
      if (options.parts.stats) {
        *options.parts.stats = state->stats;
      }
      return std::make_unique<StagedVerdict>(std::move(state));
    } catch (const DbError&) {
      sqlite3_exec(db.get(), "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
  } catch (const DbError& error) {
    return Unexpected(database + ": " + error.message);
  }
}

namespace {} // namespace

Expected<capture::ConformanceSummary, std::string>
judge_stored_run(const std::string& database, std::int64_t run_id, const Profile& profile,
                 const radius::Dictionary& dict, const SecretLookup& secrets,
                 std::optional<double> interim_interval, const RunJudgeOptions& options) {
  try {
    const Connection db(database);
    try {
      return judge(db, run_id, profile, dict, secrets, interim_interval, options);
    } catch (const DbError&) {
      sqlite3_exec(db.get(), "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
  } catch (const DbError& error) {
    return Unexpected(database + ": " + error.message);
  }
}

} // namespace acctlab::conformance
