#include "web/nas_scope.hpp"

#include "storage/reports.hpp"

#include <algorithm>
#include <set>

namespace acctlab::web {
namespace {

bool shares_group(const server::Client& client, const Account& account) {
  return std::any_of(client.groups.begin(), client.groups.end(), [&](const std::string& g) {
    return std::find(account.groups.begin(), account.groups.end(), g) != account.groups.end();
  });
}

} // namespace

storage::NasScope nas_scope(const Account& account, const server::ClientList& clients,
                            storage::ReadOnlyDatabase& db) {
  if (account.admin()) {
    return storage::NasScope::everything();
  }
  std::vector<const server::Client*> mine;
  for (const auto& client : clients.clients()) {
    if (shares_group(client, account)) {
      mine.push_back(&client);
    }
  }
  std::set<std::string> keys;
  std::set<std::string> addresses;
  for (const auto* client : mine) {
    // A client of one host: its requests are its group's even before the nas table names it.
    if (client->prefix_length == client->address.bit_length()) {
      addresses.insert(client->address.to_string());
    }
  }
  if (!mine.empty()) {
    for (const auto& row : storage::nas_addresses(db)) {
      const auto& o = row.as_object();
      const auto address = storage::get_str(o, "address");
      const auto parsed = server::IpAddress::parse(address);
      if (!parsed) {
        continue;
      }
      // As the server picks a client: the longest prefix that holds the address decides, so a
      // host entry of another group inside this group's network stays the other group's.
      const server::Client* best = nullptr;
      for (const auto& client : clients.clients()) {
        if (client.contains(*parsed) && (!best || client.prefix_length > best->prefix_length)) {
          best = &client;
        }
      }
      if (best && shares_group(*best, account)) {
        keys.insert(storage::get_str(o, "identity"));
        addresses.insert(address); // as stored (packets.src_addr has the same form)
        addresses.insert(parsed->to_string());
      }
    }
  }
  return storage::NasScope::only({keys.begin(), keys.end()}, {addresses.begin(), addresses.end()});
}

std::vector<std::string> unknown_groups(const std::vector<Account>& accounts,
                                        const server::ClientList& clients) {
  std::set<std::string> known;
  for (const auto& client : clients.clients()) {
    known.insert(client.groups.begin(), client.groups.end());
  }
  std::set<std::string> unknown;
  for (const auto& account : accounts) {
    for (const auto& group : account.groups) {
      if (!known.contains(group)) {
        unknown.insert(group);
      }
    }
  }
  return {unknown.begin(), unknown.end()};
}

} // namespace acctlab::web
