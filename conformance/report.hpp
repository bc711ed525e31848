#pragma once
// Reports of a Verdict: a terminal summary, JSON (Boost.JSON) and JUnit XML for CI. Each renders
// from a VerdictSource, which hands findings and sessions out one at a time, so a verdict whose
// findings wait on disk (conformance/run_judge.hpp, `check --db`) is written without holding them.

#include "conformance/engine.hpp"

#include <cstddef>
#include <functional>
#include <ostream>
#include <string>

namespace acctlab::conformance {

struct TextReportOptions {
  bool colour = false;               // ANSI colours; the caller decides (a TTY)
  std::size_t findings_per_rule = 5; // further findings of a rule are counted, not listed
  std::size_t unread_listed = 20;    // parts not read, listed before the verdict
};

/** What a report says before its findings: the Verdict's fields apart from its lists. */
struct VerdictSummary {
  std::string profile;
  std::vector<Rule> rules;
  std::vector<RuleOutcome> outcomes; // one per rule, in catalog order
  std::size_t packets = 0;
  std::size_t requests = 0;
  std::size_t responses = 0;
  std::size_t exchanges = 0;
  std::size_t sessions = 0;
  std::size_t errors = 0;
  std::size_t warnings = 0;
  std::size_t infos = 0;
  PartyCounts parties;                  // the same findings by the party they concern
  std::vector<NasProfile> nas_profiles; // which profile judged which NAS
  std::size_t authentication = 0;       // packets outside the accounting rules' scope
  std::size_t dynamic_authorization = 0;
  std::vector<Unread> unread; // what the source held that was not read

  /** incomplete, no accounting traffic, fail or pass (outcome_of). */
  OverallVerdict outcome() const { return outcome_of(unread.size(), requests + responses, errors); }
};

/** "pass" or "fail" for one party: whether it has error findings. */
std::string_view party_verdict(const VerdictSummary& summary, Party party);

/** A verdict read in order: its findings (worst first, then in trace order) and its sessions. */
class VerdictSource {
public:
  using FindingVisit = std::function<bool(std::size_t index, const Finding& finding)>;
  using SessionVisit =
      std::function<void(const SessionOutcome& session, const std::vector<Finding>& findings)>;

  virtual ~VerdictSource() = default;
  virtual const VerdictSummary& summary() const = 0;
  /** Every finding in order, or those whose rule_id is `rule` when given; index is the
   * finding's place among all of them. Stops when visit returns false. */
  virtual void findings(const std::string* rule, const FindingVisit& visit) const = 0;
  /** How many findings have this rule_id. */
  virtual std::size_t count_of(const std::string& rule) const = 0;
  /** Every session in order; session.findings are the indices of its findings, which are
   * handed over too when with_findings (else the list is empty). */
  virtual void sessions(const SessionVisit& visit, bool with_findings = true) const = 0;
};

/** A Verdict in memory as a VerdictSource. */
class VerdictView final : public VerdictSource {
public:
  explicit VerdictView(const Verdict& verdict);
  const VerdictSummary& summary() const override { return summary_; }
  void findings(const std::string* rule, const FindingVisit& visit) const override;
  std::size_t count_of(const std::string& rule) const override;
  void sessions(const SessionVisit& visit, bool with_findings = true) const override;

private:
  const Verdict& verdict_;
  VerdictSummary summary_;
};

/** Rules passed/failed, failed rules worst first with their findings, and a verdict line. */
std::string render_text(const Verdict& verdict, const TextReportOptions& options = {});
void render_text(const VerdictSource& verdict, std::ostream& out,
                 const TextReportOptions& options = {});

/** Every rule with its outcome and every finding with its evidence, as a JSON document. */
std::string render_json(const Verdict& verdict);
void render_json(const VerdictSource& verdict, std::ostream& out);

/** One testcase per rule and one per session; error and warning findings are failures. */
std::string render_junit(const Verdict& verdict);
void render_junit(const VerdictSource& verdict, std::ostream& out);

/** The <testsuite> elements of render_junit, suite names prefixed (to combine several runs). */
std::string junit_suites(const Verdict& verdict, const std::string& prefix);
void junit_suites(const VerdictSource& verdict, const std::string& prefix, std::ostream& out);

/** The evidence of a finding on one line: "packets 3,4 (ids 17,18) NAS 10.1.1.147 ...". */
std::string describe_evidence(const Evidence& evidence);

} // namespace acctlab::conformance
