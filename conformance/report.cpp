#include "conformance/report.hpp"

#include "radius/markup.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <map>
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

std::string render_text(const Verdict& verdict, const TextReportOptions& options) {
  std::ostringstream out;
  const auto paint = [&](Severity severity, std::string_view text) {
    if (!options.colour) {
      return std::string(text);
    }
    return std::string(colour_of(severity)) + std::string(text) + "\033[0m";
  };
  std::size_t failed = 0;
  for (const auto& outcome : verdict.outcomes) {
    failed += outcome.failed() ? 1 : 0;
  }
  out << "profile " << verdict.profile << ": " << verdict.packets << " packets ("
      << verdict.requests << " requests, " << verdict.responses << " responses), "
      << verdict.exchanges << " exchanges, " << verdict.sessions.size() << " sessions\n";
  out << "rules: " << verdict.outcomes.size() - failed << " passed, " << failed << " failed; "
      << "findings: " << verdict.count(Severity::error) << " errors, "
      << verdict.count(Severity::warning) << " warnings, " << verdict.count(Severity::info)
      << " info\n";

  std::vector<const RuleOutcome*> order;
  for (const auto& outcome : verdict.outcomes) {
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
    const auto& rule = verdict.rules[outcome->rule];
    const auto severity = worst(*outcome);
    out << '\n'
        << paint(severity, outcome->failed() ? "FAIL " : "note ") << rule.id << " ["
        << to_string(rule.severity) << ", " << to_string(rule.scope) << "] " << rule.summary
        << "\n     source: " << rule.source << '\n';
    std::size_t shown = 0;
    std::size_t total = 0;
    for (const auto& finding : verdict.findings) {
      if (finding.rule_id != rule.id) {
        continue;
      }
      ++total;
      if (shown < options.findings_per_rule) {
        ++shown;
        out << "     " << paint(finding.severity, to_string(finding.severity)) << ": "
            << finding.message << "\n       " << describe_evidence(finding.evidence) << '\n';
      }
    }
    if (total > shown) {
      out << "     ... and " << total - shown << " more\n";
    }
  }
  out << '\n'
      << (verdict.has_errors() ? paint(Severity::error, "verdict: FAIL")
                               : std::string("verdict: PASS"))
      << '\n';
  return out.str();
}

std::string render_json(const Verdict& verdict) {
  boost::json::object root;
  root["profile"] = verdict.profile;
  root["verdict"] = verdict.has_errors() ? "fail" : "pass";
  boost::json::object counts;
  counts["packets"] = verdict.packets;
  counts["requests"] = verdict.requests;
  counts["responses"] = verdict.responses;
  counts["exchanges"] = verdict.exchanges;
  counts["sessions"] = verdict.sessions.size();
  counts["errors"] = verdict.count(Severity::error);
  counts["warnings"] = verdict.count(Severity::warning);
  counts["info"] = verdict.count(Severity::info);
  root["counts"] = std::move(counts);

  boost::json::array rules;
  for (const auto& outcome : verdict.outcomes) {
    const auto& rule = verdict.rules[outcome.rule];
    boost::json::object item;
    item["id"] = rule.id;
    item["source"] = rule.source;
    item["severity"] = to_string(rule.severity);
    item["scope"] = to_string(rule.scope);
    item["summary"] = rule.summary;
    item["passed"] = !outcome.failed();
    item["errors"] = outcome.errors;
    item["warnings"] = outcome.warnings;
    item["info"] = outcome.infos;
    rules.push_back(std::move(item));
  }
  root["rules"] = std::move(rules);

  boost::json::array findings;
  for (const auto& finding : verdict.findings) {
    boost::json::object item;
    item["rule"] = finding.rule_id;
    item["severity"] = to_string(finding.severity);
    item["scope"] = to_string(finding.scope);
    item["message"] = finding.message;
    item["evidence"] = evidence_json(finding.evidence);
    findings.push_back(std::move(item));
  }
  root["findings"] = std::move(findings);

  boost::json::array sessions;
  for (const auto& session : verdict.sessions) {
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
    sessions.push_back(std::move(item));
  }
  root["sessions"] = std::move(sessions);
  return boost::json::serialize(root) + "\n";
}

namespace {

std::size_t session_failures(const Verdict& verdict) {
  std::size_t failures = 0;
  for (const auto& session : verdict.sessions) {
    failures +=
        std::any_of(session.findings.begin(), session.findings.end(),
                    [&](std::size_t i) { return verdict.findings[i].severity != Severity::info; })
            ? 1
            : 0;
  }
  return failures;
}

std::size_t rule_failures(const Verdict& verdict) {
  std::size_t failures = 0;
  for (const auto& outcome : verdict.outcomes) {
    failures += outcome.failed() ? 1 : 0;
  }
  return failures;
}

void junit_failure(std::ostringstream& to, const std::vector<const Finding*>& list) {
  std::string text;
  const Finding* first = nullptr;
  for (const auto* finding : list) {
    if (finding->severity == Severity::info) {
      continue;
    }
    first = first ? first : finding;
    text += std::string(to_string(finding->severity)) + " " + finding->rule_id + ": " +
            finding->message + " [" + describe_evidence(finding->evidence) + "]\n";
  }
  if (first) {
    to << "      <failure message=\"" << radius::escape_markup(first->message) << "\">"
       << radius::escape_markup(text) << "</failure>\n";
  }
}

} // namespace

std::string junit_suites(const Verdict& verdict, const std::string& prefix) {
  std::ostringstream out;
  out << "  <testsuite name=\"" << radius::escape_markup(prefix) << "rules ("
      << radius::escape_markup(verdict.profile) << ")\" tests=\"" << verdict.outcomes.size()
      << "\" failures=\"" << rule_failures(verdict) << "\">\n";
  for (const auto& outcome : verdict.outcomes) {
    const auto& rule = verdict.rules[outcome.rule];
    out << "    <testcase classname=\"" << radius::escape_markup(prefix) << "rules."
        << to_string(rule.scope) << "\" name=\"" << radius::escape_markup(rule.id) << "\">\n";
    std::vector<const Finding*> list;
    for (const auto& finding : verdict.findings) {
      if (finding.rule_id == rule.id) {
        list.push_back(&finding);
      }
    }
    junit_failure(out, list);
    out << "      <system-out>" << radius::escape_markup(rule.summary + " (" + rule.source + ")")
        << "</system-out>\n    </testcase>\n";
  }
  out << "  </testsuite>\n";
  out << "  <testsuite name=\"" << radius::escape_markup(prefix) << "sessions\" tests=\""
      << verdict.sessions.size() << "\" failures=\"" << session_failures(verdict) << "\">\n";
  for (const auto& session : verdict.sessions) {
    out << "    <testcase classname=\"" << radius::escape_markup(prefix) << "sessions."
        << radius::escape_markup(session.nas) << "\" name=\""
        << radius::escape_markup(session.session_id) << "\">\n";
    std::vector<const Finding*> list;
    for (const auto i : session.findings) {
      list.push_back(&verdict.findings[i]);
    }
    junit_failure(out, list);
    out << "    </testcase>\n";
  }
  out << "  </testsuite>\n";
  return out.str();
}

std::string render_junit(const Verdict& verdict) {
  std::ostringstream out;
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"acctlab conformance\" "
      << "tests=\"" << verdict.outcomes.size() + verdict.sessions.size() << "\" failures=\""
      << rule_failures(verdict) + session_failures(verdict) << "\">\n"
      << junit_suites(verdict, "") << "</testsuites>\n";
  return out.str();
}

} // namespace acctlab::conformance
