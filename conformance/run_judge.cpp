#include "conformance/run_judge.hpp"

#include "conformance/analysis.hpp"
#include "conformance/catalog.hpp"
#include "conformance/detail/checks.hpp"
#include "conformance/detail/db_rows.hpp"
#include "conformance/profile_fit.hpp"
#include "storage/judge_stage.hpp"
#include "storage/pg_connection.hpp"
#include "storage/run_store.hpp"
#include "storage/sqlite.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

namespace acctlab::conformance {
namespace {

using storage::JudgeStage;

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
  FindingStage(JudgeStage& db, const std::vector<Rule>& rules, bool check)
      : db_(db), rules_(rules), check_(check) {
    db.create_findings();
    // As check_trace counts them: a rule id names its last rule of that id.
    for (std::size_t i = 0; i < rules.size(); ++i) {
      rule_index_[rules[i].id] = i;
    }
    outcomes_.resize(rules.size());
  }

  void add(std::size_t rule, const Finding& finding, std::size_t key, const Subject& at_packet) {
    const auto& evidence = finding.evidence;
    const Subject subject = check_ ? subject_of(evidence) : at_packet;
    JudgeStage::Finding row;
    row.sev = static_cast<int>(finding.severity);
    row.first = evidence.packets.empty() ? 0 : static_cast<std::int64_t>(evidence.packets[0]);
    row.rule = static_cast<std::int64_t>(rule);
    row.key = to_column(key);
    row.seq = static_cast<std::int64_t>(seq_++);
    row.rule_id = finding.rule_id;
    row.severity = std::string(to_string(finding.severity));
    row.scope = std::string(to_string(finding.scope));
    row.message = finding.message;
    // The last stored packet is the one the finding is about (store_findings_in_run's links).
    if (!evidence.packet_ids.empty()) {
      const auto packet_id = evidence.packet_ids.back();
      row.packet_id = packet_id;
      // check --db links records when it stores (StagedVerdict::store), not for reports alone.
      if (!check_) {
        if (const auto record = db_.record_of_packet(packet_id)) {
          row.record_id = record->first;
          row.session_row = record->second;
        }
      }
    }
    row.file = subject.file;
    if (subject.frame) {
      row.frame = static_cast<std::int64_t>(*subject.frame);
    }
    if (check_) {
      row.scope_code = static_cast<int>(finding.scope);
      row.ev_nas = evidence.nas;
      row.ev_session = evidence.session_id;
      row.ev_packets = joined(evidence.packets);
      row.ev_ids = joined(evidence.packet_ids);
      row.ev_identifiers = joined(evidence.identifiers);
      row.ev_file = evidence.file;
      row.ev_frames = joined(evidence.frames);
    }
    row.party = static_cast<int>(finding.party);
    db_.add_finding(row);
    count(finding, subject);
  }

  void add(std::size_t rule, const Rule& of, std::string message, Evidence evidence,
           std::size_t key, const Subject& subject) {
    add(rule,
        Finding{of.id, of.severity, of.scope, std::move(message), std::move(evidence), of.party},
        key, subject);
  }

  /** Moves the staged findings into the findings table in order; returns how many. */
  std::size_t store(std::int64_t run_id) { return db_.store_findings(run_id); }

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
    for (auto& example : db_.first_findings(10)) {
      summary.examples.push_back({std::move(example.rule_id), std::move(example.severity),
                                  std::move(example.message), std::move(example.file),
                                  example.frame ? static_cast<std::uint64_t>(*example.frame) : 0});
    }
  }

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

  JudgeStage& db_;
  const std::vector<Rule>& rules_;
  bool check_;
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
      if (responses_recorded_ && cross.changed_same_id != none) {
        gave_up_earlier(view, id_key(packet.source, packet.destination, view.packet->identifier()),
                        index, last);
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
          forget_exchange(accounting->second);
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
    std::string exchange;                 // the pending request's exchange key
  };

  /** As moved_on in check_changed_same_id: a request sent again under another Identifier gives
   * the earlier Identifier up (RFC 5080 §2.2.1), which is then free for another request. `last`
   * is the entry of this request's own Identifier, about to hold it. */
  void gave_up_earlier(const PacketView& view, const IdKey& here, std::size_t index, Last& last) {
    auto exchange = exchange_key(view, dict_);
    if (const auto at = sent_under_.find(exchange);
        at != sent_under_.end() && !(at->second.first == here)) {
      if (const auto old = last_.find(at->second.first);
          old != last_.end() && old->second.index == at->second.second) {
        old->second.pending.reset();
        old->second.exchange.clear();
      }
    }
    if (last.pending) {
      forget_exchange(last);
    }
    sent_under_[exchange] = {here, index};
    last.exchange = std::move(exchange);
  }
  void forget_exchange(Last& last) {
    if (const auto at = sent_under_.find(last.exchange);
        at != sent_under_.end() && at->second.second == last.index) {
      sent_under_.erase(at);
    }
    last.exchange.clear();
  }

  const radius::Dictionary& dict_;
  const SecretLookup& lookup_;
  std::size_t parts_;
  bool responses_recorded_;
  // One entry per client endpoint, server endpoint and Identifier seen: bounded by the
  // endpoints (256 Identifiers each), not by the number of requests.
  std::unordered_map<IdKey, Last, IdKeyHash> last_;
  // Each pending request's exchange key -> its Identifier's entry and index (no more entries
  // than pending requests in last_).
  std::unordered_map<std::string, std::pair<IdKey, std::size_t>> sent_under_;
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

/**
 * Judges the source's packets in parts and stages every finding. With counts (check --db), also
 * stages the sessions (temp.judge_sessions, in the order Analysis lists them: by their first
 * record) and counts requests, responses and exchanges.
 */
RunJudgeStats judge_parts(JudgeStage& db, const SourceOptions& source, const Profile& profile,
                          const radius::Dictionary& dict, const SecretLookup& secrets,
                          std::optional<double> interim_interval, const RunJudgeOptions& options,
                          const std::vector<Rule>& rules, FindingStage& stage,
                          TraceCounts* counts) {
  const CrossRules cross(rules);

  const auto packets = db.packet_count(source.run_id);
  const std::size_t parts = std::max<std::size_t>(
      1, (packets + options.part_packets - 1) / std::max<std::size_t>(options.part_packets, 1));

  // Pass 1: every packet in trace order (as load_trace_from_db orders them) to its part.
  db.create_places();
  IndexPass index_pass(dict, secrets, parts, source.responses_recorded);
  double first_time = std::numeric_limits<double>::infinity();
  double last_time = -std::numeric_limits<double>::infinity();
  std::map<std::string, Trace::Window> file_windows;
  {
    db.begin();
    std::size_t index = 0;
    std::set<std::string, std::less<>> hosts;
    db.read_packets(source.run_id, [&](storage::StoredPacket&& row) {
      bool response = false;
      const TracePacket packet = detail::to_trace_packet(std::move(row), response);
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
      db.place(index, packet.packet_id, part);
      ++index;
    });
    db.commit();
    db.index_places();
  }

  // Pass 2: each part's packets in trace order, judged by every rule but the cross ones.
  db.create_starts();
  if (counts) {
    db.create_sessions();
  }
  RunJudgeStats stats;
  stats.packets = packets;
  stats.parts = parts;
  const auto nas_intervals = index_pass.intervals();
  ProfileFit fit(profile, dict);
  for (std::size_t p = 0; p < parts; ++p) {
    db.begin();
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
    db.read_part(p, [&](std::size_t index, storage::StoredPacket&& row) {
      bool response = false;
      indices.push_back(index);
      trace.packets.push_back(detail::to_trace_packet(std::move(row), response));
    });
    stats.largest_part = std::max(stats.largest_part, indices.size());
    const Analysis analysis(trace, profile, dict, indices);
    fit.add(analysis);
    if (counts) {
      for (const auto& view : analysis.packets()) {
        counts->requests += view.request ? 1 : 0;
        counts->responses += view.response ? 1 : 0;
        counts->authentication += view.service == Service::authentication ? 1 : 0;
        counts->dynamic_authorization += view.service == Service::dynamic_authorization ? 1 : 0;
      }
      counts->exchanges += analysis.exchanges().size();
      for (const auto& session : analysis.sessions()) {
        // As check_trace's SessionOutcome; Analysis lists sessions by their first record.
        const bool stopped = std::any_of(session.records.begin(), session.records.end(),
                                         [&](std::size_t i) { return analysis.status(i) == 2u; });
        db.add_session({static_cast<std::int64_t>(indices[session.records.front()]), session.nas,
                        session.session_id, static_cast<std::int64_t>(session.records.size()),
                        stopped});
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
      for (const auto& start : starts) {
        const auto& e = start.evidence;
        const auto about = subject(e);
        JudgeStage::Start row;
        row.start = to_column(start.start);
        row.stop = to_column(start.stop);
        row.nas = start.nas;
        row.session_id = start.session_id;
        row.peer = start.peer;
        row.framed = start.framed;
        if (!e.packet_ids.empty()) {
          row.packet_id = e.packet_ids.front();
        }
        if (!e.identifiers.empty()) {
          row.identifier = e.identifiers.front();
        }
        if (!e.frames.empty()) {
          row.frame = static_cast<std::int64_t>(e.frames.front());
        }
        row.file = e.file;
        row.ev_nas = e.nas;
        row.ev_session = e.session_id;
        row.subject_file = about.file;
        if (about.frame) {
          row.subject_frame = static_cast<std::int64_t>(*about.frame);
        }
        db.add_start(row);
      }
    }
    db.commit();
  }

  // SES-REKEY-NEW-SESSION over every part's Starts in trace order.
  if (cross.rekey != none) {
    db.begin();
    detail::RekeyCheck rekey;
    db.read_starts([&](JudgeStage::Start&& row) {
      detail::StartSummary start;
      start.start = from_column(row.start);
      start.stop = from_column(row.stop);
      start.nas = std::move(row.nas);
      start.session_id = std::move(row.session_id);
      start.peer = std::move(row.peer);
      start.framed = std::move(row.framed);
      auto& e = start.evidence;
      e.packets.push_back(start.start);
      if (row.packet_id) {
        e.packet_ids.push_back(*row.packet_id);
      }
      if (row.identifier) {
        e.identifiers.push_back(static_cast<std::uint32_t>(*row.identifier));
      }
      if (row.frame) {
        e.frames.push_back(static_cast<std::uint64_t>(*row.frame));
      }
      e.file = std::move(row.file);
      e.nas = std::move(row.ev_nas);
      e.session_id = std::move(row.ev_session);
      Subject about;
      about.file = std::move(row.subject_file);
      if (row.subject_frame) {
        about.frame = static_cast<std::uint64_t>(*row.subject_frame);
      }
      if (auto found = rekey.add(start)) {
        stage.add(cross.rekey, rules[cross.rekey], std::move(found->first),
                  std::move(found->second), start.start, about);
      }
    });
    db.commit();
  }
  stats.fit_notes = fit.notes();
  return stats;
}

capture::ConformanceSummary judge(JudgeStage& db, std::int64_t run_id, const Profile& profile,
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
  for (const auto& [client, note] : stats.fit_notes) {
    summary.fit_notes.push_back("NAS " + client + ": " + note);
  }
  if (options.stats) {
    *options.stats = stats;
  }
  return summary;
}

/** A finding as the stage keeps it, back in check_trace's terms. */
Finding to_finding(JudgeStage::Ordered&& row) {
  Finding finding;
  finding.rule_id = std::move(row.rule_id);
  finding.severity = static_cast<Severity>(row.sev);
  finding.scope = static_cast<Scope>(row.scope_code);
  finding.message = std::move(row.message);
  auto& evidence = finding.evidence;
  evidence.nas = std::move(row.ev_nas);
  evidence.session_id = std::move(row.ev_session);
  evidence.packets = split_numbers<std::size_t>(row.ev_packets);
  evidence.packet_ids = split_numbers<std::int64_t>(row.ev_ids);
  evidence.identifiers = split_numbers<std::uint32_t>(row.ev_identifiers);
  evidence.file = std::move(row.ev_file);
  evidence.frames = split_numbers<std::uint64_t>(row.ev_frames);
  finding.party = static_cast<Party>(row.party);
  return finding;
}

} // namespace

struct StagedVerdict::State {
  std::unique_ptr<JudgeStage> db;
  std::string database;
  VerdictSummary summary;
  RunJudgeStats stats;
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
  state_->db->read_ordered(rule, [&](JudgeStage::Ordered&& row) {
    const auto index = static_cast<std::size_t>(row.idx - 1);
    return visit(index, to_finding(std::move(row)));
  });
}

std::size_t StagedVerdict::count_of(const std::string& rule) const {
  return state_->db->count_of(rule);
}

void StagedVerdict::sessions(const SessionVisit& visit, bool with_findings) const {
  auto& db = *state_->db;
  std::vector<JudgeStage::Session> list;
  SessionOutcome session;
  std::vector<Finding> findings;
  db.read_sessions([&](JudgeStage::Session&& row) {
    session.nas = std::move(row.nas);
    session.session_id = std::move(row.session);
    session.records = static_cast<std::size_t>(row.records);
    session.stopped = row.stopped;
    session.findings.clear();
    findings.clear();
    // As check_trace links them: the findings whose evidence names this NAS and session.
    db.read_of_session(session.nas, session.session_id, with_findings,
                       [&](JudgeStage::Ordered&& found) {
                         session.findings.push_back(static_cast<std::size_t>(found.idx - 1));
                         if (with_findings) {
                           findings.push_back(to_finding(std::move(found)));
                         }
                       });
    visit(session, findings);
  });
}

Expected<std::int64_t, std::string> StagedVerdict::store(const std::string& json_report_path) {
  try {
    return state_->db->store_run(json_report_path, has_errors());
  } catch (const storage::Error& error) {
    state_->db->rollback();
    return Unexpected(storage::database_display_name(state_->database) + ": " + error.what());
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
    state->db = std::make_unique<JudgeStage>(database, options.writable);
    auto& db = *state->db;
    try {
      SourceOptions source;
      source.run_id = options.run_id;
      source.default_secret = options.secret;
      source.check = true;
      source.window = db.serve_window(options.run_id);
      // As load_trace_from_db: answers are recorded when any stored packet is one.
      source.responses_recorded = db.has_answers(options.run_id);
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
      db.order_findings();

      // As check_trace counts them: a rule id names its last rule of that id.
      std::map<std::string, std::size_t, std::less<>> rule_index;
      for (std::size_t i = 0; i < summary.rules.size(); ++i) {
        rule_index[summary.rules[i].id] = i;
        summary.outcomes.push_back({i, 0, 0, 0});
      }
      for (const auto& tally : db.count_by_rule()) {
        const auto severity = static_cast<Severity>(tally.sev);
        const auto n = tally.count;
        const auto it = rule_index.find(tally.rule_id);
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
      summary.sessions = db.session_count();
      summary.packets = state->stats.packets;
      summary.requests = counts.requests;
      summary.responses = counts.responses;
      summary.exchanges = counts.exchanges;
      summary.authentication = counts.authentication;
      summary.dynamic_authorization = counts.dynamic_authorization;
      summary.nas_profiles = std::move(counts.nas_profiles);
      for (auto& nas : summary.nas_profiles) {
        if (const auto it = state->stats.fit_notes.find(nas.client);
            it != state->stats.fit_notes.end()) {
          nas.fit_note = it->second;
        }
      }
      for (const auto& tally : db.count_by_party()) {
        for (std::size_t i = 0; i < tally.count; ++i) {
          summary.parties.add(static_cast<Party>(tally.party), static_cast<Severity>(tally.sev));
        }
      }
      if (options.parts.stats) {
        *options.parts.stats = state->stats;
      }
      return std::make_unique<StagedVerdict>(std::move(state));
    } catch (const storage::Error&) {
      db.rollback();
      throw;
    }
  } catch (const storage::Error& error) {
    return Unexpected(storage::database_display_name(database) + ": " + error.what());
  }
}

Expected<std::optional<RunProfileSet>, std::string>
stored_run_profiles(const std::string& database, std::int64_t run_id,
                    const radius::Dictionary& dict) {
  const auto where = storage::database_display_name(database);
  std::optional<storage::RunProfiles> stored;
  try {
    stored = storage::read_run_profiles(database, run_id);
  } catch (const storage::Error& error) {
    return Unexpected(where + ": " + error.what());
  }
  if (!stored) {
    return Unexpected(where + ": no run " + std::to_string(run_id));
  }
  // A report that lists each NAS's profile names every NAS of the run there ("profile" is then
  // the list of the names when there are several); else "profile" judged them all.
  const auto& listed = stored->nas_profiles;
  if (listed.empty() && !stored->profile) {
    return std::optional<RunProfileSet>();
  }
  const auto& first = listed.empty() ? *stored->profile : listed.front().second;
  const auto run = "run " + std::to_string(run_id);
  auto fallback = load_profile(first, dict);
  if (!fallback) {
    return Unexpected(where + ": " + run + " was judged with profile " + first +
                      ", which does not load here: " + fallback.error().to_string());
  }
  auto set = ProfileSet::from_hosts(listed, std::move(fallback).value(), dict);
  if (!set) {
    return Unexpected(where + ": " + run + " was judged with " + set.error() +
                      " (it does not load here)");
  }
  std::string names = first;
  if (!set->single()) {
    names.clear();
    for (const auto& [nas, name] : listed) {
      names += (names.empty() ? "" : ", ") + nas + " " + name;
    }
  }
  return std::optional<RunProfileSet>(RunProfileSet{std::move(set).value(), std::move(names)});
}

Expected<capture::ConformanceSummary, std::string>
judge_stored_run(const std::string& database, std::int64_t run_id, const Profile& profile,
                 const radius::Dictionary& dict, const SecretLookup& secrets,
                 std::optional<double> interim_interval, const RunJudgeOptions& options) {
  try {
    JudgeStage db(database, true);
    try {
      return judge(db, run_id, profile, dict, secrets, interim_interval, options);
    } catch (const storage::Error&) {
      db.rollback();
      throw;
    }
  } catch (const storage::Error& error) {
    return Unexpected(storage::database_display_name(database) + ": " + error.what());
  }
}

} // namespace acctlab::conformance
