#pragma once
// Reports of a Verdict: a terminal summary, JSON (Boost.JSON) and JUnit XML for CI.

#include "conformance/engine.hpp"

#include <cstddef>
#include <string>

namespace acctlab::conformance {

struct TextReportOptions {
  bool colour = false;               // ANSI colours; the caller decides (a TTY)
  std::size_t findings_per_rule = 5; // further findings of a rule are counted, not listed
};

/** Rules passed/failed, failed rules worst first with their findings, and a verdict line. */
std::string render_text(const Verdict& verdict, const TextReportOptions& options = {});

/** Every rule with its outcome and every finding with its evidence, as a JSON document. */
std::string render_json(const Verdict& verdict);

/** One testcase per rule and one per session; error and warning findings are failures. */
std::string render_junit(const Verdict& verdict);

/** The <testsuite> elements of render_junit, suite names prefixed (to combine several runs). */
std::string junit_suites(const Verdict& verdict, const std::string& prefix);

/** The evidence of a finding on one line: "packets 3,4 (ids 17,18) NAS 10.1.1.147 ...". */
std::string describe_evidence(const Evidence& evidence);

} // namespace acctlab::conformance
