#include "conformance/engine.hpp"

#include "conformance/analysis.hpp"
#include "conformance/catalog.hpp"

#include <algorithm>
#include <map>

namespace acctlab::conformance {

std::size_t Verdict::count(Severity severity) const {
  return static_cast<std::size_t>(std::count_if(
      findings.begin(), findings.end(), [&](const Finding& f) { return f.severity == severity; }));
}

Verdict check_trace(const Trace& trace, const Profile& profile, const radius::Dictionary& dict) {
  Verdict verdict;
  verdict.profile = profile.name;
  verdict.rules = rules_for(profile);
  const Analysis analysis(trace, profile, dict);

  FindingSink sink;
  for (const auto& rule : verdict.rules) {
    if (rule.check) {
      rule.check(rule, analysis, sink);
    }
  }
  verdict.findings = sink.take();
  std::stable_sort(verdict.findings.begin(), verdict.findings.end(),
                   [](const Finding& a, const Finding& b) {
                     if (a.severity != b.severity) {
                       return a.severity > b.severity;
                     }
                     const auto pa = a.evidence.packets.empty() ? 0 : a.evidence.packets.front();
                     const auto pb = b.evidence.packets.empty() ? 0 : b.evidence.packets.front();
                     return pa < pb;
                   });

  std::map<std::string, std::size_t, std::less<>> rule_index;
  for (std::size_t i = 0; i < verdict.rules.size(); ++i) {
    rule_index[verdict.rules[i].id] = i;
    verdict.outcomes.push_back({i, 0, 0, 0});
  }
  std::map<std::pair<std::string, std::string>, std::size_t> session_index;
  for (const auto& session : analysis.sessions()) {
    SessionOutcome outcome;
    outcome.nas = session.nas;
    outcome.session_id = session.session_id;
    outcome.records = session.records.size();
    outcome.stopped = std::any_of(session.records.begin(), session.records.end(),
                                  [&](std::size_t i) { return analysis.status(i) == 2u; });
    session_index[{session.nas, session.session_id}] = verdict.sessions.size();
    verdict.sessions.push_back(std::move(outcome));
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

  verdict.packets = analysis.packets().size();
  verdict.exchanges = analysis.exchanges().size();
  for (const auto& view : analysis.packets()) {
    verdict.requests += view.request ? 1 : 0;
    verdict.responses += view.response ? 1 : 0;
  }
  return verdict;
}

} // namespace acctlab::conformance
