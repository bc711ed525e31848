#pragma once
// Which profile judges which NAS, the same way for every subcommand: the clients file's
// `profile =` for its NAS, else --profile, else the default; --profile given explicitly
// overrides the clients file for every NAS (conformance/profile_set.hpp).

#include "conformance/profile.hpp"
#include "conformance/profile_set.hpp"
#include "pcap/clients_file.hpp"
#include "radius/dictionary.hpp"
#include "server/clients_file.hpp"

#include <optional>
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

/** The reference gateway's NAS as `conform` and `demo` run it: it sends from 127.0.0.1, so the
 * clients file's entry for that address (when --secrets is given) names its profile and its
 * secret, resolved as for every other NAS. */
struct GatewayNas {
  conformance::Profile profile;
  std::optional<std::string> secret; // the clients file's, when it names the gateway
};

inline GatewayNas resolve_gateway_nas(const std::string& profile, const std::string& secrets_file,
                                      const radius::Dictionary& dict) {
  constexpr const char* gateway_address = "127.0.0.1";
  if (secrets_file.empty()) {
    return {require_profile(profile.empty() ? default_profile_name : profile, dict), {}};
  }
  std::string error;
  const auto secrets = capture::ClientSecrets::load(secrets_file, error);
  if (!secrets) {
    throw std::runtime_error("secrets: " + error);
  }
  const auto set = resolve_profiles(profile, &secrets->clients(), dict);
  GatewayNas nas{set.for_client(gateway_address), {}};
  if (const auto* client = secrets->find(*capture::IpAddress::parse(gateway_address))) {
    nas.secret = client->secret;
  }
  return nas;
}

} // namespace acctlab::cli
