#pragma once
// The analyser's --secrets: which shared secret belongs to which NAS address, read from a
// FreeRADIUS clients.conf by the server's own parser (server/clients_file.hpp), so a capture is
// checked with exactly the clients the live server would use.

#include "pcap/ip_address.hpp"
#include "server/clients_file.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace acctlab::capture {

class ClientSecrets {
public:
  explicit ClientSecrets(server::ClientList clients) : clients_(std::move(clients)) {}

  /** Parses clients.conf text; on error returns nullopt and sets error to "file:line: reason". */
  static std::optional<ClientSecrets> parse(std::string_view text, std::string_view file_name,
                                            std::string& error);
  static std::optional<ClientSecrets> load(const std::string& path, std::string& error);

  /** The client whose prefix holds address (longest prefix first), or nullptr. */
  const server::Client* find(const IpAddress& address) const;
  const server::ClientList& clients() const { return clients_; }

private:
  server::ClientList clients_;
};

} // namespace acctlab::capture
