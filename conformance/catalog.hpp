#pragma once
// The rule catalog: the built-in packet, exchange and session rules, plus one presence rule per
// row of the active profile. `acctlab rules` lists this; the engine runs it.

#include "conformance/profile.hpp"
#include "conformance/rule.hpp"

#include <string_view>
#include <vector>

namespace acctlab::conformance {

/** The rules every profile shares, in catalog order. */
const std::vector<Rule>& builtin_rules();

/** One presence rule per profile row (id PREFIX-STATUS-NAME, source from the row). */
std::vector<Rule> profile_rules(const Profile& profile);

/** builtin_rules() followed by profile_rules(profile). */
std::vector<Rule> rules_for(const Profile& profile);

const Rule* find_rule(const std::vector<Rule>& rules, std::string_view id);

} // namespace acctlab::conformance
