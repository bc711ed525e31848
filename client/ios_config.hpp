#pragma once
// The IOS configuration reader: the subset of Cisco IOS commands that the feature document
// ("IPSec VPN Accounting", 12.2(15)T) uses to configure accounting, read into a model. IOS text is
// untrusted input: nothing here throws; problems come back as Diagnostics with their line.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace acctlab::gateway {

using Ipv4Address = std::array<std::uint8_t, 4>;
std::optional<Ipv4Address> parse_ipv4(std::string_view text);
std::string format_ipv4(const Ipv4Address& address);

/** One problem found in a configuration, with the line it is on (1-based) and that line's text. */
struct Diagnostic {
  enum class Severity : std::uint8_t { warning, error };
  Severity severity = Severity::warning;
  int line = 0;
  std::string message;
  std::string text; // the configuration line, trimmed
  /** "line 42: message: text" */
  std::string to_string() const;
};

/** `aaa accounting network LIST {start-stop|stop-only} [broadcast] group G [group G2 ...]` */
struct AccountingList {
  std::string name;
  enum class Mode : std::uint8_t { start_stop, stop_only };
  Mode mode = Mode::start_stop;
  bool broadcast = false;
  std::vector<std::string> groups; // "radius" is every radius-server host
  int line = 0;
};

/** `radius-server host IP [auth-port N] [acct-port N] [key K]` */
struct RadiusHost {
  Ipv4Address address{};
  std::uint16_t auth_port = 1645; // IOS defaults: the document's hosts use 1645/1646
  std::uint16_t acct_port = 1646;
  std::optional<std::string> key;
  int line = 0;
};

/** `aaa group server radius NAME` with its `server IP [auth-port N] [acct-port N]` lines. */
struct ServerGroup {
  std::string name;
  struct Member {
    Ipv4Address address{};
    std::optional<std::uint16_t> acct_port;
    int line = 0;
  };
  std::vector<Member> servers;
  int line = 0;
};

/** A peer's IKE identity, as given in its ID payload (RFC 2407 §4.6.2.1 ID types). */
struct IkeIdentity {
  enum class Type : std::uint8_t { key_id, ipv4_address, fqdn, user_fqdn };
  Type type = Type::key_id; // Unity clients send their group name as ID_KEY_ID
  std::string value;
};
std::string_view to_string(IkeIdentity::Type type);

/** One `match identity` line of an ISAKMP profile. */
struct MatchIdentity {
  enum class Kind : std::uint8_t { group, address, host, host_domain, user, user_domain };
  Kind kind = Kind::group;
  std::string value;     // group name, host, domain, user FQDN; the address as text
  Ipv4Address address{}; // for address
  Ipv4Address mask{255, 255, 255, 255};
  int line = 0;

  bool matches(const IkeIdentity& identity) const;
  /** The line's own spelling: "group cclient", "address 10.0.0.1 255.255.255.255", ... */
  std::string describe() const;
};

/** `crypto isakmp profile NAME [accounting LIST]` and its sub-commands. */
struct IsakmpProfile {
  std::string name;
  std::optional<std::string> vrf;
  std::vector<MatchIdentity> identities;
  std::optional<std::string> client_authentication_list; // XAUTH
  std::optional<std::string> isakmp_authorization_list;
  std::optional<std::string> client_configuration_address; // "initiate" or "respond"
  std::optional<std::string> accounting_list;
  int line = 0;
};

struct SaLifetime {
  std::optional<std::uint64_t> seconds;
  std::optional<std::uint64_t> kilobytes;
};

/** A crypto map entry (`crypto map NAME SEQ ...`) or a dynamic map entry (`crypto dynamic-map`). */
struct CryptoMapEntry {
  std::string map_name;
  int sequence = 0;
  bool dynamic_template = false; // defined by `crypto dynamic-map`
  bool ipsec_isakmp = false;
  std::optional<std::string> dynamic_map; // `crypto map M N ipsec-isakmp dynamic D`
  std::vector<Ipv4Address> peers;
  std::vector<std::string> transform_sets;
  std::optional<std::string> isakmp_profile;
  SaLifetime lifetime;
  int line = 0;
};

struct LocalPool {
  std::string name;
  Ipv4Address first{};
  Ipv4Address last{};
  int line = 0;
};

struct Interface {
  std::string name;
  std::optional<Ipv4Address> address;
  std::optional<Ipv4Address> mask;
  std::optional<std::string> crypto_map;
  int line = 0;
};

/** What the gateway understood of an IOS configuration. */
struct IosConfig {
  std::string hostname = "Router";
  bool aaa_new_model = false;
  std::vector<AccountingList> accounting_lists;
  std::vector<ServerGroup> server_groups;
  std::optional<std::uint32_t> update_periodic_minutes; // aaa accounting update periodic N
  std::string session_id_mode = "common";               // aaa session-id {common|unique}
  std::vector<IsakmpProfile> profiles;
  std::vector<CryptoMapEntry> crypto_maps; // static entries and dynamic-map entries
  std::vector<std::pair<std::string, std::string>> map_accounting_lists; // map -> list
  std::vector<RadiusHost> radius_hosts;
  std::optional<std::string> radius_key;
  std::uint32_t radius_retransmit = 3; // IOS defaults
  std::uint32_t radius_timeout_seconds = 5;
  bool vsa_send_accounting = false;
  /** radius-server attribute 55 include-in-acct-req: Event-Timestamp in accounting requests. */
  bool event_timestamp = false;
  std::vector<LocalPool> pools;
  std::vector<Interface> interfaces;

  const AccountingList* accounting_list(std::string_view name) const;
  const IsakmpProfile* profile(std::string_view name) const;
  const ServerGroup* server_group(std::string_view name) const;
  const Interface* interface(std::string_view name) const;
  const LocalPool* pool(std::string_view name) const;
  /** The crypto map's `client accounting list`, if configured. */
  const std::string* map_accounting_list(std::string_view map_name) const;
  /** The first interface that carries a crypto map: where remote-access peers arrive. */
  const Interface* crypto_interface() const;
};

/** The result of reading: the model plus every warning and error, in line order. */
struct ConfigReadResult {
  IosConfig config;
  std::vector<Diagnostic> diagnostics;

  /** True when there is no error (warnings are allowed). */
  bool usable() const;
  std::size_t count(Diagnostic::Severity severity) const;
};

/** Reads IOS configuration text. Never throws; problems are diagnostics. */
ConfigReadResult read_ios_config(std::string_view text);
/** Reads a file; an unreadable file is one error diagnostic at line 0. */
ConfigReadResult read_ios_config_file(const std::string& path);

/** Which profile a peer's identity maps to. */
struct ProfileMatch {
  const IsakmpProfile* profile = nullptr; // nullptr: no profile matched
  std::string error;                      // set when two or more profiles match
};
ProfileMatch match_profile(const IosConfig& config, const IkeIdentity& identity);

/**
 * The accounting list a peer's session uses: the profile's `accounting` list, else the crypto
 * map's `client accounting list`, else none (the document, "crypto isakmp profile", Note).
 */
const AccountingList* resolve_accounting_list(const IosConfig& config, const IsakmpProfile* profile,
                                              std::string_view crypto_map_name);

/** A RADIUS server the accounting list sends to, in failover order, with its key. */
struct AccountingServer {
  Ipv4Address address{};
  std::uint16_t acct_port = 1646;
  std::optional<std::string> key;
};
std::vector<AccountingServer> accounting_servers(const IosConfig& config,
                                                 const AccountingList& list);

/** The model as text: what `acctlab gateway --check-config` prints. */
std::string describe(const IosConfig& config);

} // namespace acctlab::gateway
