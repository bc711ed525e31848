#pragma once
// AccountingRecord: the typed view of an Accounting-Request that the server, the tester, the pcap
// analyser and the web viewer use. Built once per packet from the decoded attributes.

#include "radius/dictionary.hpp"
#include "radius/packet.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace acctlab::radius {

/** RFC 2866 §5.1 Acct-Status-Type values. */
enum class AcctStatusType : std::uint32_t {
  start = 1,
  stop = 2,
  interim_update = 3,
  accounting_on = 7,
  accounting_off = 8,
};
std::string_view status_type_name(std::uint32_t value) noexcept;

/** One Cisco-AVPair split as IOS writes it: name, '=' (mandatory) or '*' (optional), value. */
struct CiscoAvPair {
  std::string name;
  char separator = '=';
  std::string value;
};
/** Splits "name=value" or "name*value"; nullopt when there is no separator or no name. */
std::optional<CiscoAvPair> parse_cisco_avpair(std::string_view text);

using Ipv4 = std::array<std::uint8_t, 4>;
using Ipv6 = std::array<std::uint8_t, 16>;
std::string to_string(const Ipv4& address);
std::string to_string(const Ipv6& address);

struct AccountingRecord {
  std::optional<std::uint32_t> status_type;
  std::string session_id;
  std::optional<std::string> multi_session_id;
  std::optional<Ipv4> nas_ip;
  std::optional<Ipv6> nas_ipv6;
  std::optional<std::string> nas_identifier;
  std::optional<std::uint32_t> nas_port;
  std::optional<std::uint32_t> nas_port_type;
  std::optional<std::string> user_name;
  std::optional<Ipv4> framed_ip;
  std::optional<std::string> calling_station_id;
  std::optional<std::string> called_station_id;
  std::optional<std::uint32_t> delay_time;
  std::optional<std::uint32_t> session_time;
  std::optional<std::uint32_t> event_timestamp;
  std::optional<std::uint32_t> interim_interval;
  std::optional<std::uint32_t> terminate_cause;
  // RFC 2869 §5.1/5.2: octets + 2^32 x gigawords; absent when neither attribute was sent.
  std::optional<std::uint64_t> input_octets;
  std::optional<std::uint64_t> output_octets;
  std::optional<std::uint32_t> input_packets;
  std::optional<std::uint32_t> output_packets;
  std::optional<std::string> cisco_nas_port;
  /** The first Class (RFC 2865 §5.25), as FreeRADIUS's %{Class} prints octets: "0x" and hex. */
  std::optional<std::string> class_text;
  std::vector<CiscoAvPair> cisco_avpairs; // in packet order
  std::vector<std::string> notes;         // values that did not fit their type, bad AV pairs

  /** The value of the first Cisco AV pair with this name, or nullptr. */
  const std::string* avpair(std::string_view name) const;
  /** The NAS identity used for session matching: NAS-IP-Address, NAS-IPv6-Address or
   * NAS-Identifier, as text; empty when the packet carries none. */
  std::string nas_identity() const;
};

/** Builds the typed view of a decoded Accounting-Request. Never fails; oddities go to notes. */
AccountingRecord make_accounting_record(const Packet& packet, const Dictionary& dict);

} // namespace acctlab::radius
