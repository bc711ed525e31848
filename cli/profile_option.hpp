#pragma once
// Which profile judges which NAS, the same way for every subcommand: the clients file's
// `profile =` for its NAS, else --profile, else the default; --profile given explicitly
// overrides the clients file for every NAS (conformance/profile_set.hpp).

#include "conformance/profile.hpp"
#include "conformance/profile_set.hpp"
#include "radius/dictionary.hpp"
#include "server/clients_file.hpp"

#include <stdexcept>
#include <string>

namespace acctlab::cli {

inline constexpr const char* default_profile_name = "cisco-ios-ipsec";

/** Loads a profile by name or file; throws a one-line error naming it. */
inline conformance::Profile require_profile(const std::string& name,
                                            const radius::Dictionary& dict) {
  auto profile = conformance::load_profile(name, dict);
  if (!profile) {
    throw std::runtime_error("profile: " + profile.error().to_string());
  }
  return std::move(profile).value();
}

/** The profile set: `profile` is --profile as given (empty when it was not), `clients` the
 * clients file's entries when one was given. Throws a one-line error naming file and line. */
inline conformance::ProfileSet resolve_profiles(const std::string& profile,
                                                const server::ClientList* clients,
                                                const radius::Dictionary& dict) {
  auto fallback = require_profile(profile.empty() ? default_profile_name : profile, dict);
  if (!clients) {
    return conformance::ProfileSet(std::move(fallback));
  }
  auto set =
      conformance::ProfileSet::from_clients(*clients, std::move(fallback), !profile.empty(), dict);
  if (!set) {
    throw std::runtime_error("profile: " + set.error());
  }
  return std::move(set).value();
}

} // namespace acctlab::cli
