#pragma once
// The engine: runs every rule of the catalog and the profile over one Trace and returns the
// verdict every report renders.

#include "conformance/profile.hpp"
#include "conformance/profile_set.hpp"
#include "conformance/rule.hpp"
#include "conformance/trace.hpp"
#include "radius/dictionary.hpp"

#include <cstddef>
#include <cstdint>
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

/** The profile that judged one NAS (by its client address, as clients.conf matches). */
struct NasProfile {
  std::string client; // the NAS's address
  std::string profile;
  /** Why the profile may not describe this NAS (ProfileFit), or "" when nothing says so. */
  std::string fit_note = {};
};

/** Findings of one severity per party (nas, server, path). */
struct PartyCounts {
  std::size_t errors[3] = {0, 0, 0};
  std::size_t warnings[3] = {0, 0, 0};
  std::size_t infos[3] = {0, 0, 0};
  void add(Party party, Severity severity);
  std::size_t errors_of(Party party) const { return errors[static_cast<std::size_t>(party)]; }
};

struct Verdict {
  std::string profile; // the profile, or the profiles' names joined by ", "
  std::vector<Rule> rules;
  std::vector<Finding> findings;     // worst first, then in trace order
  std::vector<RuleOutcome> outcomes; // one per rule, in catalog order
  std::vector<SessionOutcome> sessions;
  std::size_t packets = 0;
  std::size_t requests = 0;
  std::size_t responses = 0;
  std::size_t exchanges = 0;
  std::vector<NasProfile> nas_profiles; // in order of each NAS's first packet
  /** Traffic outside the accounting rules' scope, recognised and paired but not judged:
   * authentication (Access-*, RFC 2865) and dynamic authorization (CoA, Disconnect, RFC 5176). */
  std::size_t authentication = 0;
  std::size_t dynamic_authorization = 0;
  /** What the source held that was not read (Trace::unread): the verdict is incomplete. */
  std::vector<Unread> unread;

  std::size_t count(Severity severity) const;
  PartyCounts party_counts() const;
  bool has_errors() const { return count(Severity::error) > 0; }
};

/** The overall verdict, in this order: "incomplete" when part of the source was not read (the
 * findings may stem from what is missing), "no accounting traffic" when there is nothing to
 * judge, "fail" when some party has an error finding, else "pass". */
enum class OverallVerdict : std::uint8_t { pass, fail, incomplete, no_accounting_traffic };
std::string_view to_string(OverallVerdict outcome) noexcept;
OverallVerdict outcome_of(std::size_t unread, std::size_t accounting_packets,
                          std::size_t errors) noexcept;

Verdict check_trace(const Trace& trace, const Profile& profile, const radius::Dictionary& dict);
/** Judges each NAS with its own profile (the NASes' traffic is judged apart, evidence still names
 * packets by their index in the whole trace); with one profile, the same as above. */
Verdict check_trace(const Trace& trace, const ProfileSet& profiles, const radius::Dictionary& dict);

} // namespace acctlab::conformance
