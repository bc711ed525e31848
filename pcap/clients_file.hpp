#pragma once
// A minimal reader of FreeRADIUS clients.conf ("client NAME { ipaddr = ... secret = ... }") for
// the analyser's --secrets: which shared secret belongs to which NAS address. The server module
// will own the full parser; this one reads only what secret lookup needs.

#include "pcap/ip_address.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace acctlab::capture {

struct ClientEntry {
  std::string name;
  IpAddress network;
  std::uint8_t prefix_length = 32; // 32 (IPv4) or 128 (IPv6) for one host
  std::string secret;
  int line = 0;
};

class ClientSecrets {
public:
  /** Parses clients.conf text; on error returns nullopt and sets error to "file:line: reason". */
  static std::optional<ClientSecrets> parse(std::string_view text, std::string_view file_name,
                                            std::string& error);
  static std::optional<ClientSecrets> load(const std::string& path, std::string& error);

  void add(ClientEntry entry) { entries_.push_back(std::move(entry)); }
  /** The entry whose network holds address with the longest prefix, or nullptr. */
  const ClientEntry* find(const IpAddress& address) const;
  const std::vector<ClientEntry>& entries() const { return entries_; }

private:
  std::vector<ClientEntry> entries_;
};

} // namespace acctlab::capture
