#include "conformance/profile_set.hpp"

#include "conformance/trace.hpp"
#include "server/clients_file.hpp"

#include <algorithm>
#include <filesystem>
#include <map>

namespace acctlab::conformance {

struct ProfileSet::Assignment {
  server::Client client; // its address and prefix length
  std::size_t profile = 0;
};

ProfileSet::ProfileSet(Profile profile) {
  profiles_.push_back(std::move(profile));
}

ProfileSet::ProfileSet(const ProfileSet&) = default;
ProfileSet& ProfileSet::operator=(const ProfileSet&) = default;
ProfileSet::ProfileSet(ProfileSet&&) noexcept = default;
ProfileSet& ProfileSet::operator=(ProfileSet&&) noexcept = default;
ProfileSet::~ProfileSet() = default;

Expected<ProfileSet, std::string> ProfileSet::from_clients(const server::ClientList& clients,
                                                           Profile fallback, bool override_all,
                                                           const radius::Dictionary& dict) {
  ProfileSet set(std::move(fallback));
  if (override_all) {
    return set;
  }
  namespace fs = std::filesystem;
  std::map<std::string, std::size_t> loaded; // profile as resolved -> index
  for (const auto& client : clients.clients()) {
    if (client.profile.empty()) {
      continue;
    }
    // A file named relative to the clients file is looked up beside it first.
    std::string wanted = client.profile;
    std::error_code ec;
    if (!client.file.empty() && fs::path(wanted).is_relative()) {
      const auto beside = fs::path(client.file).parent_path() / wanted;
      if (fs::is_regular_file(beside, ec)) {
        wanted = beside.string();
      }
    }
    auto [it, inserted] = loaded.try_emplace(wanted, set.profiles_.size());
    if (inserted) {
      auto profile = load_profile(wanted, dict);
      if (!profile) {
        return Unexpected(client.file + ":" + std::to_string(client.line) + ": client " +
                          client.name + ": profile " + client.profile + ": " +
                          profile.error().to_string());
      }
      set.profiles_.push_back(std::move(profile).value());
    }
    set.assignments_.push_back({client, it->second});
  }
  // Longest prefix first, as the server's ClientList::match picks.
  std::stable_sort(set.assignments_.begin(), set.assignments_.end(),
                   [](const Assignment& a, const Assignment& b) {
                     return a.client.prefix_length > b.client.prefix_length;
                   });
  return set;
}

Expected<ProfileSet, std::string>
ProfileSet::from_hosts(const std::vector<std::pair<std::string, std::string>>& hosts,
                       Profile fallback, const radius::Dictionary& dict) {
  ProfileSet set(std::move(fallback));
  std::map<std::string, std::size_t> loaded; // profile name -> index
  for (const auto& [host, name] : hosts) {
    if (name == set.fallback().name) {
      continue;
    }
    const auto address = server::IpAddress::parse(host);
    if (!address) {
      return Unexpected("NAS " + host + ": not an IP address");
    }
    auto [it, inserted] = loaded.try_emplace(name, set.profiles_.size());
    if (inserted) {
      auto profile = load_profile(name, dict);
      if (!profile) {
        return Unexpected("NAS " + host + ": profile " + name + ": " + profile.error().to_string());
      }
      set.profiles_.push_back(std::move(profile).value());
    }
    server::Client client;
    client.name = host;
    client.address = *address;
    client.prefix_length = static_cast<unsigned>(address->bit_length());
    set.assignments_.push_back({std::move(client), it->second});
  }
  return set;
}

std::size_t ProfileSet::index_for(std::string_view endpoint) const {
  if (assignments_.empty()) {
    return 0;
  }
  const auto address = server::IpAddress::parse(host_part(endpoint));
  if (!address) {
    return 0;
  }
  for (const auto& assignment : assignments_) {
    if (assignment.client.contains(*address)) {
      return assignment.profile;
    }
  }
  return 0;
}

} // namespace acctlab::conformance
