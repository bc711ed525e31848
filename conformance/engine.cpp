#include "conformance/engine.hpp"

#include "conformance/analysis.hpp"
#include "conformance/catalog.hpp"
#include "conformance/profile_fit.hpp"

#include <algorithm>
#include <map>
#include <set>

namespace acctlab::conformance {
namespace {

/** The findings and sessions of one group of NASes judged by one profile. */
struct Judged {
  std::vector<Finding> findings;          // in the order the rules reported them
  std::vector<SessionOutcome> sessions;   // in order of first record
  std::vector<std::size_t> session_first; // each session's first record (whole-trace index)
  std::size_t packets = 0;
  std::size_t requests = 0;
  std::size_t responses = 0;
  std::size_t exchanges = 0;
  std::size_t authentication = 0;
  std::size_t dynamic_authorization = 0;
  std::map<std::string, std::string, std::less<>> fit_notes; // by the NAS's address
};

Judged judge(const Trace& trace, const Profile& profile, const radius::Dictionary& dict,
             const std::vector<Rule>& rules, std::vector<std::size_t> trace_indices) {
  Judged out;
  const Analysis analysis(trace, profile, dict, std::move(trace_indices));
  FindingSink sink;
  for (const auto& rule : rules) {
    if (rule.check) {
      rule.check(rule, analysis, sink);
    }
  }
  out.findings = sink.take();
  for (auto& finding : out.findings) {
    finding.party = analysis.party_of(finding);
  }
  for (const auto& session : analysis.sessions()) {
    SessionOutcome outcome;
    outcome.nas = session.nas;
    outcome.session_id = session.session_id;
    outcome.records = session.records.size();
    outcome.stopped = std::any_of(session.records.begin(), session.records.end(),
                                  [&](std::size_t i) { return analysis.status(i) == 2u; });
    out.sessions.push_back(std::move(outcome));
    out.session_first.push_back(analysis.trace_index(session.records.front()));
  }
  ProfileFit fit(profile, dict);
  fit.add(analysis);
  out.fit_notes = fit.notes();
  out.packets = analysis.packets().size();
  out.exchanges = analysis.exchanges().size();
  for (const auto& view : analysis.packets()) {
    out.requests += view.request ? 1 : 0;
    out.responses += view.response ? 1 : 0;
    out.authentication += view.service == Service::authentication ? 1 : 0;
    out.dynamic_authorization += view.service == Service::dynamic_authorization ? 1 : 0;
  }
  return out;
}

/** Worst first, then by first evidence packet; ties keep the order the rules reported them. */
void sort_findings(std::vector<Finding>& findings) {
  std::stable_sort(findings.begin(), findings.end(), [](const Finding& a, const Finding& b) {
    if (a.severity != b.severity) {
      return a.severity > b.severity;
    }
    const auto pa = a.evidence.packets.empty() ? 0 : a.evidence.packets.front();
    const auto pb = b.evidence.packets.empty() ? 0 : b.evidence.packets.front();
    return pa < pb;
  });
}

/** Outcomes per rule and each session's findings, from the sorted findings. */
void tally(Verdict& verdict) {
  std::map<std::string, std::size_t, std::less<>> rule_index;
  for (std::size_t i = 0; i < verdict.rules.size(); ++i) {
    rule_index[verdict.rules[i].id] = i;
    verdict.outcomes.push_back({i, 0, 0, 0});
  }
  std::map<std::pair<std::string, std::string>, std::size_t> session_index;
  for (std::size_t i = 0; i < verdict.sessions.size(); ++i) {
    session_index[{verdict.sessions[i].nas, verdict.sessions[i].session_id}] = i;
  }
  for (std::size_t i = 0; i < verdict.findings.size(); ++i) {
    const auto& finding = verdict.findings[i];
    if (auto it = rule_index.find(finding.rule_id); it != rule_index.end()) {
      auto& outcome = verdict.outcomes[it->second];
      switch (finding.severity) {
        case Severity::error:
          ++outcome.errors;
          break;
        case Severity::warning:
          ++outcome.warnings;
          break;
        case Severity::info:
          ++outcome.infos;
          break;
      }
    }
    auto it = session_index.find({finding.evidence.nas, finding.evidence.session_id});
    if (it != session_index.end()) {
      verdict.sessions[it->second].findings.push_back(i);
    }
  }
}

std::vector<NasProfile> nas_profiles_of(const Trace& trace, const ProfileSet& profiles) {
  std::vector<NasProfile> out;
  std::set<std::string, std::less<>> seen;
  for (const auto& packet : trace.packets) {
    auto host = host_part(nas_endpoint(packet));
    if (seen.insert(host).second) {
      out.push_back({host, profiles.for_client(host).name});
    }
  }
  return out;
}

void add_fit_notes(Verdict& verdict, const std::map<std::string, std::string, std::less<>>& notes) {
  for (auto& nas : verdict.nas_profiles) {
    if (const auto it = notes.find(nas.client); it != notes.end()) {
      nas.fit_note = it->second;
    }
  }
}

} // namespace

void PartyCounts::add(Party party, Severity severity) {
  const auto p = static_cast<std::size_t>(party);
  switch (severity) {
    case Severity::error:
      ++errors[p];
      break;
    case Severity::warning:
      ++warnings[p];
      break;
    case Severity::info:
      ++infos[p];
      break;
  }
}

std::size_t Verdict::count(Severity severity) const {
  return static_cast<std::size_t>(std::count_if(
      findings.begin(), findings.end(), [&](const Finding& f) { return f.severity == severity; }));
}

PartyCounts Verdict::party_counts() const {
  PartyCounts counts;
  for (const auto& finding : findings) {
    counts.add(finding.party, finding.severity);
  }
  return counts;
}

Verdict check_trace(const Trace& trace, const Profile& profile, const radius::Dictionary& dict) {
  return check_trace(trace, ProfileSet(profile), dict);
}

std::string_view to_string(OverallVerdict outcome) noexcept {
  switch (outcome) {
    case OverallVerdict::pass:
      return "pass";
    case OverallVerdict::fail:
      return "fail";
    case OverallVerdict::incomplete:
      return "incomplete";
    case OverallVerdict::no_accounting_traffic:
      return "no accounting traffic";
  }
  return "incomplete";
}

OverallVerdict outcome_of(std::size_t unread, std::size_t accounting_packets,
                          std::size_t errors) noexcept {
  if (unread > 0) {
    return OverallVerdict::incomplete;
  }
  if (accounting_packets == 0) {
    return OverallVerdict::no_accounting_traffic;
  }
  return errors > 0 ? OverallVerdict::fail : OverallVerdict::pass;
}

Verdict check_trace(const Trace& trace, const ProfileSet& profiles,
                    const radius::Dictionary& dict) {
  Verdict verdict;
  verdict.unread = trace.unread;
  verdict.nas_profiles = nas_profiles_of(trace, profiles);
  if (profiles.single()) {
    const auto& profile = profiles.fallback();
    verdict.profile = profile.name;
    verdict.rules = rules_for(profile);
    auto judged = judge(trace, profile, dict, verdict.rules, {});
    verdict.findings = std::move(judged.findings);
    verdict.sessions = std::move(judged.sessions);
    verdict.packets = judged.packets;
    verdict.requests = judged.requests;
    verdict.responses = judged.responses;
    verdict.exchanges = judged.exchanges;
    verdict.authentication = judged.authentication;
    verdict.dynamic_authorization = judged.dynamic_authorization;
    add_fit_notes(verdict, judged.fit_notes);
    sort_findings(verdict.findings);
    tally(verdict);
    return verdict;
  }

  // Each NAS with its profile: the trace's packets grouped by the profile of their NAS, each
  // group judged alone (sessions, exchanges and resets never cross NASes).
  std::vector<std::vector<std::size_t>> groups(profiles.profiles().size());
  for (std::size_t i = 0; i < trace.packets.size(); ++i) {
    groups[profiles.index_for(nas_endpoint(trace.packets[i]))].push_back(i);
  }
  verdict.rules = builtin_rules();
  std::vector<std::pair<std::size_t, SessionOutcome>> sessions;
  for (std::size_t g = 0; g < groups.size(); ++g) {
    if (groups[g].empty() && !(g == 0 && trace.packets.empty())) {
      continue;
    }
    const auto& profile = profiles.profiles()[g];
    verdict.profile += (verdict.profile.empty() ? "" : ", ") + profile.name;
    auto rules = builtin_rules();
    auto own = profile_rules(profile);
    for (auto& rule : own) {
      if (!find_rule(verdict.rules, rule.id)) {
        verdict.rules.push_back(rule);
      }
    }
    rules.insert(rules.end(), own.begin(), own.end());
    Trace part = trace.without_packets();
    part.begin = trace.first_moment(); // the whole trace's edges, not the group's
    part.end = trace.last_moment();
    part.packets.reserve(groups[g].size());
    for (const auto index : groups[g]) {
      part.packets.push_back(trace.packets[index]);
    }
    auto judged = judge(part, profile, dict, rules, groups[g]);
    verdict.findings.insert(verdict.findings.end(),
                            std::make_move_iterator(judged.findings.begin()),
                            std::make_move_iterator(judged.findings.end()));
    for (std::size_t s = 0; s < judged.sessions.size(); ++s) {
      sessions.emplace_back(judged.session_first[s], std::move(judged.sessions[s]));
    }
    verdict.packets += judged.packets;
    verdict.requests += judged.requests;
    verdict.responses += judged.responses;
    verdict.exchanges += judged.exchanges;
    verdict.authentication += judged.authentication;
    verdict.dynamic_authorization += judged.dynamic_authorization;
    add_fit_notes(verdict, judged.fit_notes);
  }
  std::stable_sort(sessions.begin(), sessions.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [first, session] : sessions) {
    verdict.sessions.push_back(std::move(session));
  }
  sort_findings(verdict.findings);
  tally(verdict);
  return verdict;
}

} // namespace acctlab::conformance
