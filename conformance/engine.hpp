#pragma once
// The engine: runs every rule of the catalog and the profile over one Trace and returns the
// verdict every report renders.

#include "conformance/profile.hpp"
#include "conformance/rule.hpp"
#include "conformance/trace.hpp"
#include "radius/dictionary.hpp"

#include <cstddef>
#include <string>
#include <vector>

namespace acctlab::conformance {

struct RuleOutcome {
  std::size_t rule = 0; // index into Verdict::rules
  std::size_t errors = 0;
  std::size_t warnings = 0;
  std::size_t infos = 0;
  bool failed() const { return errors + warnings > 0; }
};

struct SessionOutcome {
  std::string nas;
  std::string session_id;
  std::size_t records = 0;
  bool stopped = false;
  std::vector<std::size_t> findings; // indices into Verdict::findings
};

struct Verdict {
  std::string profile;
  std::vector<Rule> rules;
  std::vector<Finding> findings;     // worst first, then in trace order
  std::vector<RuleOutcome> outcomes; // one per rule, in catalog order
  std::vector<SessionOutcome> sessions;
  std::size_t packets = 0;
  std::size_t requests = 0;
  std::size_t responses = 0;
  std::size_t exchanges = 0;

  std::size_t count(Severity severity) const;
  bool has_errors() const { return count(Severity::error) > 0; }
};

Verdict check_trace(const Trace& trace, const Profile& profile, const radius::Dictionary& dict);

} // namespace acctlab::conformance
