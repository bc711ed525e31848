#include "conformance/report.hpp"

#include "radius/markup.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <map>
#include <optional>
#include <sstream>

namespace acctlab::conformance {
namespace {

template <class T> std::string joined(const std::vector<T>& values) {
  std::string out;
  for (const auto& value : values) {
    out += (out.empty() ? "" : ",") + std::to_string(value);
  }
  return out;
}

const char* colour_of(Severity severity) {
  switch (severity) {
    case Severity::error:
      return "\033[31m";
    case Severity::warning:
      return "\033[33m";
    case Severity::info:
      return "\033[36m";
  }
  return "";
}

Severity worst(const RuleOutcome& outcome) {
  if (outcome.errors) {
    return Severity::error;
  }
  if (outcome.warnings) {
    return Severity::warning;
  }
  return Severity::info;
}

boost::json::object evidence_json(const Evidence& evidence) {
  boost::json::object out;
  boost::json::array packets;
  for (const auto p : evidence.packets) {
    packets.push_back(static_cast<std::uint64_t>(p));
  }
  out["packets"] = std::move(packets);
  if (!evidence.packet_ids.empty()) {
    boost::json::array ids;
    for (const auto id : evidence.packet_ids) {
      ids.push_back(id);
    }
    out["packet_ids"] = std::move(ids);
  }
  boost::json::array identifiers;
  for (const auto id : evidence.identifiers) {
    identifiers.push_back(id);
  }
  out["identifiers"] = std::move(identifiers);
  out["nas"] = evidence.nas;
  out["acct_session_id"] = evidence.session_id;
  if (!evidence.file.empty()) {
    out["file"] = evidence.file;
  }
  if (!evidence.frames.empty()) {
    boost::json::array frames;
    for (const auto f : evidence.frames) {
      frames.push_back(f);
    }
    out["frames"] = std::move(frames);
  }
  return out;
}

} // namespace

std::string describe_evidence(const Evidence& evidence) {
  std::string out = "packets " + joined(evidence.packets);
  if (!evidence.packet_ids.empty()) {
    out += " (stored ids " + joined(evidence.packet_ids) + ")";
  }
  if (!evidence.nas.empty()) {
    out += ", NAS " + evidence.nas;
  }
  if (!evidence.session_id.empty()) {
    out += ", Acct-Session-Id \"" + evidence.session_id + "\"";
  }
  if (!evidence.file.empty()) {
    out += ", " + evidence.file + " frame " + joined(evidence.frames);
  }
  return out;
}

VerdictView::VerdictView(const Verdict& verdict) : verdict_(verdict) {
  summary_.profile = verdict.profile;
  summary_.rules = verdict.rules;
  summary_.outcomes = verdict.outcomes;
  summary_.packets = verdict.packets;
  summary_.requests = verdict.requests;
  summary_.responses = verdict.responses;
  summary_.exchanges = verdict.exchanges;
  summary_.sessions = verdict.sessions.size();
  summary_.errors = verdict.count(Severity::error);
  summary_.warnings = verdict.count(Severity::warning);
  summary_.infos = verdict.count(Severity::info);
  summary_.parties = verdict.party_counts();
  summary_.nas_profiles = verdict.nas_profiles;
  summary_.authentication = verdict.authentication;
  summary_.dynamic_authorization = verdict.dynamic_authorization;
  summary_.unread = verdict.unread;
}

std::string_view party_verdict(const VerdictSummary& summary, Party party) {
  return summary.parties.errors_of(party) > 0 ? "fail" : "pass";
}

void VerdictView::findings(const std::string* rule, const FindingVisit& visit) const {
  for (std::size_t i = 0; i < verdict_.findings.size(); ++i) {
    const auto& finding = verdict_.findings[i];
    if ((!rule || finding.rule_id == *rule) && !visit(i, finding)) {
      return;
    }
  }
}

std::size_t VerdictView::count_of(const std::string& rule) const {
  return static_cast<std::size_t>(
      std::count_if(verdict_.findings.begin(), verdict_.findings.end(),
                    [&](const Finding& finding) { return finding.rule_id == rule; }));
}

void VerdictView::sessions(const SessionVisit& visit, bool with_findings) const {
  std::vector<Finding> findings;
  for (const auto& session : verdict_.sessions) {
    findings.clear();
    for (const auto i : session.findings) {
      if (with_findings) {
        findings.push_back(verdict_.findings[i]);
      }
    }
    visit(session, findings);
  }
}

void render_text(const VerdictSource& verdict, std::ostream& out,
                 const TextReportOptions& options) {
  const auto& summary = verdict.summary();
  const auto paint = [&](Severity severity, std::string_view text) {
    if (!options.colour) {
      return std::string(text);
    }
    return std::string(colour_of(severity)) + std::string(text) + "\033[0m";
  };
  std::size_t failed = 0;
  for (const auto& outcome : summary.outcomes) {
    failed += outcome.failed() ? 1 : 0;
  }
  out << "profile " << summary.profile << ": " << summary.packets << " packets ("
      << summary.requests << " requests, " << summary.responses << " responses), "
      << summary.exchanges << " exchanges, " << summary.sessions << " sessions\n";
  if (summary.authentication + summary.dynamic_authorization > 0) {
    out << "out of the accounting rules' scope: " << summary.authentication
        << " authentication packets, " << summary.dynamic_authorization
        << " dynamic authorization packets (recognised and paired, not judged)\n";
  }
  if (summary.nas_profiles.size() > 1 ||
      (summary.nas_profiles.size() == 1 &&
       summary.nas_profiles.front().profile != summary.profile)) {
    out << "profile per NAS:";
    for (const auto& nas : summary.nas_profiles) {
      out << ' ' << nas.client << '=' << nas.profile;
    }
    out << '\n';
  }
  for (const auto& nas : summary.nas_profiles) {
    if (!nas.fit_note.empty()) {
      out << "profile fit: NAS " << nas.client << ": " << nas.fit_note << '\n';
    }
  }
  out << "rules: " << summary.outcomes.size() - failed << " passed, " << failed << " failed; "
      << "findings: " << summary.errors << " errors, " << summary.warnings << " warnings, "
      << summary.infos << " info\n";

  std::vector<const RuleOutcome*> order;
  for (const auto& outcome : summary.outcomes) {
    if (outcome.failed() || outcome.infos) {
      order.push_back(&outcome);
    }
  }
  std::stable_sort(order.begin(), order.end(), [](const RuleOutcome* a, const RuleOutcome* b) {
    if (worst(*a) != worst(*b)) {
      return worst(*a) > worst(*b);
    }
    return a->errors + a->warnings > b->errors + b->warnings;
  });
  for (const auto* outcome : order) {
    const auto& rule = summary.rules[outcome->rule];
    const auto severity = worst(*outcome);
    out << '\n'
        << paint(severity, outcome->failed() ? "FAIL " : "note ") << rule.id << " ["
        << to_string(rule.severity) << ", " << to_string(rule.scope) << "] " << rule.summary
        << "\n     source: " << rule.source << '\n';
    std::size_t shown = 0;
    verdict.findings(&rule.id, [&](std::size_t, const Finding& finding) {
      if (shown >= options.findings_per_rule) {
        return false;
      }
      ++shown;
      out << "     " << paint(finding.severity, to_string(finding.severity)) << ": "
          << finding.message << "\n       " << describe_evidence(finding.evidence) << '\n';
      return true;
    });
    const std::size_t total = verdict.count_of(rule.id);
    if (total > shown) {
      out << "     ... and " << total - shown << " more\n";
    }
  }
  if (!summary.unread.empty()) {
    out << '\n'
        << paint(Severity::error, "not read") << ": " << summary.unread.size()
        << " parts of the capture (the findings above may stem from what is missing)\n";
    for (std::size_t i = 0; i < summary.unread.size() && i < options.unread_listed; ++i) {
      const auto& unread = summary.unread[i];
      out << "     " << unread.file << " frame " << unread.frame << " (offset " << unread.offset
          << "): " << unread.reason << (unread.detail.empty() ? "" : ": ") << unread.detail << '\n';
    }
    if (summary.unread.size() > options.unread_listed) {
      out << "     ... and " << summary.unread.size() - options.unread_listed << " more\n";
    }
  }
  const auto outcome = summary.outcome();
  std::string verdict_line = "verdict: " + std::string(to_string(outcome));
  std::transform(verdict_line.begin() + 9, verdict_line.end(), verdict_line.begin() + 9,
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  out << '\n'
      << (outcome == OverallVerdict::pass ? verdict_line : paint(Severity::error, verdict_line))
      << " (";
  for (const auto party : {Party::nas, Party::server, Party::path}) {
    const auto p = static_cast<std::size_t>(party);
    out << (party == Party::nas ? "" : "; ") << (party == Party::nas ? "NAS" : to_string(party))
        << ' ' << party_verdict(summary, party);
    if (summary.parties.errors[p] + summary.parties.warnings[p] > 0) {
      out << ": " << summary.parties.errors[p] << " errors, " << summary.parties.warnings[p]
          << " warnings";
    }
  }
  out << ")\n";
}

std::string render_text(const Verdict& verdict, const TextReportOptions& options) {
  std::ostringstream out;
  render_text(VerdictView(verdict), out, options);
  return out.str();
}

namespace {

/** A value as boost::json::serialize writes it inside a document. */
template <class T> std::string json_of(const T& value) {
  return boost::json::serialize(boost::json::value_from(value));
}

boost::json::object finding_json(const Finding& finding) {
  boost::json::object item;
  item["rule"] = finding.rule_id;
  item["severity"] = to_string(finding.severity);
  item["scope"] = to_string(finding.scope);
  item["party"] = to_string(finding.party);
  item["message"] = finding.message;
  item["evidence"] = evidence_json(finding.evidence);
  return item;
}

} // namespace

// Written piece by piece in the order (and with the serializer) of one boost::json document:
// {"profile", "verdict", "counts", "parties", "profiles", "out_of_scope", "unread", "rules",
// "findings", "sessions"}, so the output is the same
// document without holding its findings.
void render_json(const VerdictSource& verdict, std::ostream& out) {
  const auto& summary = verdict.summary();
  out << "{\"profile\":" << json_of(summary.profile)
      << ",\"verdict\":" << json_of(std::string(to_string(summary.outcome())));
  boost::json::object counts;
  counts["packets"] = summary.packets;
  counts["requests"] = summary.requests;
  counts["responses"] = summary.responses;
  counts["exchanges"] = summary.exchanges;
  counts["sessions"] = summary.sessions;
  counts["errors"] = summary.errors;
  counts["warnings"] = summary.warnings;
  counts["info"] = summary.infos;
  out << ",\"counts\":" << boost::json::serialize(counts);
  boost::json::object parties;
  for (const auto party : {Party::nas, Party::server, Party::path}) {
    const auto p = static_cast<std::size_t>(party);
    boost::json::object item;
    item["verdict"] = party_verdict(summary, party);
    item["errors"] = summary.parties.errors[p];
    item["warnings"] = summary.parties.warnings[p];
    item["info"] = summary.parties.infos[p];
    parties[to_string(party)] = std::move(item);
  }
  out << ",\"parties\":" << boost::json::serialize(parties);
  boost::json::array nas_profiles;
  for (const auto& nas : summary.nas_profiles) {
    boost::json::object entry{{"nas", nas.client}, {"profile", nas.profile}};
    if (!nas.fit_note.empty()) {
      entry["fit_note"] = nas.fit_note;
    }
    nas_profiles.push_back(std::move(entry));
  }
  out << ",\"profiles\":" << boost::json::serialize(nas_profiles);
  out << ",\"out_of_scope\":"
      << boost::json::serialize(
             boost::json::object{{"authentication", summary.authentication},
                                 {"dynamic_authorization", summary.dynamic_authorization}});
  boost::json::array unread;
  for (const auto& part : summary.unread) {
    unread.push_back(boost::json::object{{"file", part.file},
                                         {"frame", part.frame},
                                         {"offset", part.offset},
                                         {"reason", part.reason},
                                         {"detail", part.detail}});
  }
  out << ",\"unread\":" << boost::json::serialize(unread);

  boost::json::array rules;
  for (const auto& outcome : summary.outcomes) {
    const auto& rule = summary.rules[outcome.rule];
    boost::json::object item;
    item["id"] = rule.id;
    item["source"] = rule.source;
    item["severity"] = to_string(rule.severity);
    item["scope"] = to_string(rule.scope);
    item["party"] = to_string(rule.party);
    item["summary"] = rule.summary;
    item["passed"] = !outcome.failed();
    item["errors"] = outcome.errors;
    item["warnings"] = outcome.warnings;
    item["info"] = outcome.infos;
    rules.push_back(std::move(item));
  }
  out << ",\"rules\":" << boost::json::serialize(rules) << ",\"findings\":[";
  bool first = true;
  verdict.findings(nullptr, [&](std::size_t, const Finding& finding) {
    out << (first ? "" : ",") << boost::json::serialize(finding_json(finding));
    first = false;
    return true;
  });
  out << "],\"sessions\":[";
  first = true;
  verdict.sessions(
      [&](const SessionOutcome& session, const std::vector<Finding>&) {
        boost::json::object item;
        item["nas"] = session.nas;
        item["acct_session_id"] = session.session_id;
        item["records"] = session.records;
        item["stopped"] = session.stopped;
        boost::json::array indices;
        for (const auto i : session.findings) {
          indices.push_back(static_cast<std::uint64_t>(i));
        }
        item["findings"] = std::move(indices);
        out << (first ? "" : ",") << boost::json::serialize(item);
        first = false;
      },
      false);
  out << "]}\n";
}

std::string render_json(const Verdict& verdict) {
  std::ostringstream out;
  render_json(VerdictView(verdict), out);
  return out.str();
}

namespace {

std::size_t session_failures(const VerdictSource& verdict) {
  std::size_t failures = 0;
  verdict.sessions([&](const SessionOutcome&, const std::vector<Finding>& findings) {
    failures += std::any_of(findings.begin(), findings.end(),
                            [](const Finding& f) { return f.severity != Severity::info; })
                    ? 1
                    : 0;
  });
  return failures;
}

std::size_t rule_failures(const VerdictSummary& summary) {
  std::size_t failures = 0;
  for (const auto& outcome : summary.outcomes) {
    failures += outcome.failed() ? 1 : 0;
  }
  return failures;
}

/** One <failure> naming every error and warning of a list, the first one's message on top. The
 * list is visited twice (first the top message, then the text), never held. */
void junit_failure(std::ostream& to,
                   const std::function<void(const std::function<bool(const Finding&)>&)>& list) {
  std::optional<std::string> first;
  list([&](const Finding& finding) {
    if (finding.severity == Severity::info) {
      return true;
    }
    first = finding.message;
    return false;
  });
  if (!first) {
    return;
  }
  to << "      <failure message=\"" << radius::escape_markup(*first) << "\">";
  list([&](const Finding& finding) {
    if (finding.severity != Severity::info) {
      to << radius::escape_markup(std::string(to_string(finding.severity)) + " " + finding.rule_id +
                                  " (" + std::string(to_string(finding.party)) +
                                  "): " + finding.message + " [" +
                                  describe_evidence(finding.evidence) + "]\n");
    }
    return true;
  });
  to << "</failure>\n";
}

} // namespace

void junit_suites(const VerdictSource& verdict, const std::string& prefix, std::ostream& out) {
  const auto& summary = verdict.summary();
  out << "  <testsuite name=\"" << radius::escape_markup(prefix) << "rules ("
      << radius::escape_markup(summary.profile) << ")\" tests=\"" << summary.outcomes.size()
      << "\" failures=\"" << rule_failures(summary) << "\">\n";
  for (const auto& outcome : summary.outcomes) {
    const auto& rule = summary.rules[outcome.rule];
    out << "    <testcase classname=\"" << radius::escape_markup(prefix) << "rules."
        << to_string(rule.scope) << "\" name=\"" << radius::escape_markup(rule.id) << "\">\n";
    junit_failure(out, [&](const std::function<bool(const Finding&)>& visit) {
      verdict.findings(&rule.id,
                       [&](std::size_t, const Finding& finding) { return visit(finding); });
    });
    out << "      <system-out>" << radius::escape_markup(rule.summary + " (" + rule.source + ")")
        << "</system-out>\n    </testcase>\n";
  }
  out << "  </testsuite>\n";
  out << "  <testsuite name=\"" << radius::escape_markup(prefix) << "sessions\" tests=\""
      << summary.sessions << "\" failures=\"" << session_failures(verdict) << "\">\n";
  verdict.sessions([&](const SessionOutcome& session, const std::vector<Finding>& findings) {
    out << "    <testcase classname=\"" << radius::escape_markup(prefix) << "sessions."
        << radius::escape_markup(session.nas) << "\" name=\""
        << radius::escape_markup(session.session_id) << "\">\n";
    junit_failure(out, [&](const std::function<bool(const Finding&)>& visit) {
      for (const auto& finding : findings) {
        if (!visit(finding)) {
          return;
        }
      }
    });
    out << "    </testcase>\n";
  });
  out << "  </testsuite>\n";
}

std::string junit_suites(const Verdict& verdict, const std::string& prefix) {
  std::ostringstream out;
  junit_suites(VerdictView(verdict), prefix, out);
  return out.str();
}

namespace {

/** A `capture` suite when the source allows no verdict: one testcase that fails with every part
 * not read (file, frame, offset, reason), or one that fails for want of accounting traffic. */
std::size_t capture_suite(const VerdictSummary& summary, std::ostream* out) {
  const auto outcome = summary.outcome();
  if (outcome != OverallVerdict::incomplete && outcome != OverallVerdict::no_accounting_traffic) {
    return 0;
  }
  if (!out) {
    return 1;
  }
  *out << "  <testsuite name=\"capture\" tests=\"1\" failures=\"1\">\n";
  if (outcome == OverallVerdict::incomplete) {
    *out << "    <testcase classname=\"capture\" name=\"read whole\">\n      <failure message=\""
         << radius::escape_markup(std::to_string(summary.unread.size()) +
                                  " parts of the capture were not read")
         << "\">";
    for (const auto& part : summary.unread) {
      *out << radius::escape_markup(part.file + " frame " + std::to_string(part.frame) +
                                    " offset " + std::to_string(part.offset) + ": " + part.reason +
                                    (part.detail.empty() ? "" : ": ") + part.detail + "\n");
    }
  } else {
    *out << "    <testcase classname=\"capture\" name=\"accounting traffic\">\n      <failure "
            "message=\"no accounting traffic: nothing to judge\">";
  }
  *out << "</failure>\n    </testcase>\n  </testsuite>\n";
  return 1;
}

} // namespace

void render_junit(const VerdictSource& verdict, std::ostream& out) {
  const auto& summary = verdict.summary();
  const auto capture = capture_suite(summary, nullptr);
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"acctlab conformance\" "
      << "tests=\"" << summary.outcomes.size() + summary.sessions + capture << "\" failures=\""
      << rule_failures(summary) + session_failures(verdict) + capture << "\">\n";
  capture_suite(summary, &out);
  junit_suites(verdict, "", out);
  out << "</testsuites>\n";
}

std::string render_junit(const Verdict& verdict) {
  std::ostringstream out;
  render_junit(VerdictView(verdict), out);
  return out.str();
}

} // namespace acctlab::conformance
