#pragma once
// One scenario file for either NAS: a reference-gateway scenario (client/scenarios/*.scn, the
// vocabulary of `acctlab conform`) read as a strongSwan lab scenario, where the behaviour is the
// same. connect, sa-up (the first pair), traffic (echoed: in = out), rekey ipsec|ike, sa-down,
// ike-delete, dead, advance and server down|up translate; what the lab cannot do (a second peer
// or pair, drop-answers, uneven traffic) is refused with the line that asks for it.

#include "lab/strongswan_lab.hpp"
#include "radius/result.hpp"

#include <string>
#include <string_view>

namespace acctlab::lab {

struct TranslationOptions {
  /** Scenario seconds x scale = lab seconds: by default one IOS interim interval (60 s,
   * `aaa accounting update periodic 1`) is one of the lab's (3 s). */
  double time_scale = 3.0 / 60.0;
};

/** Translates scenario text; name and summary come from the caller and the leading comments. */
Expected<LabScenario, std::string> translate_scenario(std::string_view text,
                                                      const std::string& name,
                                                      const TranslationOptions& options = {});
/** The same for a file ("file:line: message" on error). */
Expected<LabScenario, std::string> translate_scenario_file(const std::string& path,
                                                           const TranslationOptions& options = {});

/** Runs the scenario file against the reference IOS model (`acctlab conform`'s tester, profile
 * cisco-ios-ipsec, embedded servers with databases under work_dir) for the side-by-side report. */
LabResult::Model run_model(const std::string& path, const std::string& work_dir);

} // namespace acctlab::lab
