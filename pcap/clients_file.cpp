#include "pcap/clients_file.hpp"

#include <algorithm>

namespace acctlab::capture {

std::optional<ClientSecrets> ClientSecrets::parse(std::string_view text, std::string_view file,
                                                  std::string& error) {
  auto clients = server::parse_clients(text, file);
  if (!clients) {
    error = clients.error().to_string();
    return std::nullopt;
  }
  return ClientSecrets(std::move(clients).value());
}

std::optional<ClientSecrets> ClientSecrets::load(const std::string& path, std::string& error) {
  auto clients = server::load_clients_file(path);
  if (!clients) {
    error = clients.error().to_string();
    return std::nullopt;
  }
  return ClientSecrets(std::move(clients).value());
}

const server::Client* ClientSecrets::find(const IpAddress& address) const {
  if (address.family == IpAddress::Family::none) {
    return nullptr;
  }
  server::IpAddress source;
  source.v6 = address.is_v6();
  std::copy_n(address.octets.begin(), address.size(), source.bytes.begin());
  return clients_.match(source);
}

} // namespace acctlab::capture
