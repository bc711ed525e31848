#pragma once
// NAS clients in the FreeRADIUS clients.conf format, the one its users already know:
//
//   client gw1 {
//     ipaddr = 192.0.2.1/32          # or ipv4addr / ipv6addr; a prefix length is optional
//     secret = testing123
//     shortname = gw1
//     require_message_authenticator = yes
//     profile = cisco-ios-ipsec
//     proto = udp                    # udp (default), tls (RadSec, RFC 6614) or * (both)
//     certificate_name = gw1.example.net   # TLS only: the certificate must name this host
//     group = east                   # a NAS group of the report viewer; repeat for several
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

/** RFC 6614 §2.3: the shared secret of RADIUS over TLS when none is configured. */
inline constexpr std::string_view radsec_secret = "radsec";

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

/** Which doors a client may use: FreeRADIUS's "proto" setting. */
enum class Transport : std::uint8_t { udp, tls, any };

struct Client {
  std::string name;
  IpAddress address;
  unsigned prefix_length = 32;
  std::string secret;
  std::string shortname;
  bool require_message_authenticator = false;
  std::string profile;
  Transport transport = Transport::udp;
  /** TLS only: a DNS name (or, lacking DNS names, the subject CN) its certificate must carry;
   * empty accepts any certificate the CA signed. */
  std::string certificate_name;
  /** The report viewer's NAS groups this client belongs to (`group = NAME`, one per line): an
   * operator account sees the NASes of its groups only (web/nas_scope.hpp). */
  std::vector<std::string> groups;
  std::string file;
  int line = 0;

  bool contains(const IpAddress& source) const;
  bool allows(Transport door) const { return transport == Transport::any || transport == door; }
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

  /** The UDP client whose prefix contains source, longest prefix first; nullptr when none. */
  const Client* match(const IpAddress& source) const { return match(source, Transport::udp); }
  /** The same among the clients allowed on door (udp or tls). */
  const Client* match(const IpAddress& source, Transport door) const;
  const std::vector<Client>& clients() const { return clients_; }

  /** Without a clients file the server accepts 127.0.0.1 and ::1 with the secret testing123 over
   * UDP, and over TLS with the secret radsec (RFC 6614 §2.3). */
  static ClientList local_default();

private:
  std::vector<Client> clients_;
};

/** Parses clients.conf text; file names the source in errors. */
Expected<ClientList, ConfigError> parse_clients(std::string_view text, std::string_view file);
/** Reads and parses a clients file. */
Expected<ClientList, ConfigError> load_clients_file(const std::string& path);

} // namespace acctlab::server
