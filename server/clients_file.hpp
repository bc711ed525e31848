#pragma once
// NAS clients in the FreeRADIUS clients.conf format, the one its users already know:
//
//   client gw1 {
//     ipaddr = 192.0.2.1/32          # or ipv4addr / ipv6addr; a prefix length is optional
//     secret = testing123
//     shortname = gw1
//     require_message_authenticator = yes
//     profile = cisco-ios-ipsec
//   }
//
// No Asio here: the pcap analyser reuses this parser to find secrets for captured traffic.

#include "radius/result.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace acctlab::server {

/** An IPv4 or IPv6 address; IPv4 is kept in its own form, never IPv4-mapped. */
struct IpAddress {
  bool v6 = false;
  std::array<std::uint8_t, 16> bytes{}; // IPv4 uses the first 4

  /** Parses dotted IPv4 or textual IPv6; an IPv4-mapped IPv6 address becomes IPv4. */
  static std::optional<IpAddress> parse(std::string_view text);
  static IpAddress v4(std::array<std::uint8_t, 4> octets);
  std::string to_string() const;
  std::size_t bit_length() const { return v6 ? 128 : 32; }
  bool operator==(const IpAddress&) const = default;
};

struct Client {
  std::string name;
  IpAddress address;
  unsigned prefix_length = 32;
  std::string secret;
  std::string shortname;
  bool require_message_authenticator = false;
  std::string profile;
  std::string file;
  int line = 0;

  bool contains(const IpAddress& source) const;
};

struct ConfigError {
  std::string file;
  int line = 0;
  std::string message;
  /** "file:line: message", as start-up and reload errors are printed. */
  std::string to_string() const;
};

class ClientList {
public:
  ClientList() = default;
  explicit ClientList(std::vector<Client> clients) : clients_(std::move(clients)) {}

  /** The client whose prefix contains source, longest prefix first; nullptr when none. */
  const Client* match(const IpAddress& source) const;
  const std::vector<Client>& clients() const { return clients_; }

  /** Without a clients file the server accepts 127.0.0.1 and ::1 with the secret testing123. */
  static ClientList local_default();

private:
  std::vector<Client> clients_;
};

/** Parses clients.conf text; file names the source in errors. */
Expected<ClientList, ConfigError> parse_clients(std::string_view text, std::string_view file);
/** Reads and parses a clients file. */
Expected<ClientList, ConfigError> load_clients_file(const std::string& path);

} // namespace acctlab::server
