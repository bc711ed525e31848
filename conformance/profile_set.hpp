#pragma once
// Which profile judges which NAS. A lab or a capture holds several NASes, each documenting its
// own accounting: the clients file's `profile = NAME|FILE` names a NAS's profile, matched by the
// packet's client address as the server matches clients (longest prefix first); a NAS the file
// does not name gets the fallback (`--profile`, else the default). A `--profile` given
// explicitly overrides the clients file for every NAS.

#include "conformance/profile.hpp"
#include "radius/dictionary.hpp"
#include "radius/result.hpp"

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace acctlab::server {
class ClientList;
}

namespace acctlab::conformance {

class ProfileSet {
public:
  /** Every NAS judged by one profile. */
  explicit ProfileSet(Profile profile);

  /**
   * The clients' profiles, each loaded once (a relative file name is looked up beside the
   * clients file first), with `fallback` for every NAS no client names. With `override_all` the
   * fallback judges every NAS and the clients' profiles are not loaded. Errors name the client
   * entry as file:line and the profile's own error.
   */
  static Expected<ProfileSet, std::string> from_clients(const server::ClientList& clients,
                                                        Profile fallback, bool override_all,
                                                        const radius::Dictionary& dict);

  /**
   * One profile per NAS address ("ip"), as a stored run lists them, with `fallback` for every
   * NAS not listed (and those listed with its name). Each profile is loaded by name once;
   * errors name the NAS and the profile.
   */
  static Expected<ProfileSet, std::string>
  from_hosts(const std::vector<std::pair<std::string, std::string>>& hosts, Profile fallback,
             const radius::Dictionary& dict);

  /** The profile for the NAS at this address ("ip", "ip:port" or "[v6]:port"). */
  const Profile& for_client(std::string_view endpoint) const {
    return profiles_[index_for(endpoint)];
  }
  /** Its index in profiles(); 0 is the fallback. */
  std::size_t index_for(std::string_view endpoint) const;
  /** The fallback first, then each profile a client names, in clients-file order. */
  const std::vector<Profile>& profiles() const { return profiles_; }
  const Profile& fallback() const { return profiles_.front(); }
  /** True when every NAS gets the fallback. */
  bool single() const { return profiles_.size() == 1; }

  ProfileSet(const ProfileSet&);
  ProfileSet& operator=(const ProfileSet&);
  ProfileSet(ProfileSet&&) noexcept;
  ProfileSet& operator=(ProfileSet&&) noexcept;
  ~ProfileSet();

private:
  struct Assignment;
  std::vector<Profile> profiles_;
  std::vector<Assignment> assignments_; // client prefix -> profile index, longest prefix first
};

} // namespace acctlab::conformance
