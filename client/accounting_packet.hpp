#pragma once
// Builds the Accounting-Request for an AccountingEvent, attribute for attribute in the order and
// shape of the feature document's `debug radius` listings (Start len 220, Interim len 200).

#include "client/gateway_model.hpp"
#include "radius/packet.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace acctlab::gateway {

/** Attribute numbers the gateway sends (RFC 2865, RFC 2866, RFC 2869; Cisco is vendor 9). */
namespace attr {
inline constexpr std::uint8_t user_name = 1;              // RFC 2865 §5.1
inline constexpr std::uint8_t nas_ip_address = 4;         // RFC 2865 §5.4
inline constexpr std::uint8_t nas_port = 5;               // RFC 2865 §5.5
inline constexpr std::uint8_t framed_ip_address = 8;      // RFC 2865 §5.8
inline constexpr std::uint8_t acct_status_type = 40;      // RFC 2866 §5.1
inline constexpr std::uint8_t acct_delay_time = 41;       // RFC 2866 §5.2
inline constexpr std::uint8_t acct_input_octets = 42;     // RFC 2866 §5.3
inline constexpr std::uint8_t acct_output_octets = 43;    // RFC 2866 §5.4
inline constexpr std::uint8_t acct_session_id = 44;       // RFC 2866 §5.5
inline constexpr std::uint8_t acct_session_time = 46;     // RFC 2866 §5.7
inline constexpr std::uint8_t acct_input_packets = 47;    // RFC 2866 §5.8
inline constexpr std::uint8_t acct_output_packets = 48;   // RFC 2866 §5.9
inline constexpr std::uint8_t acct_terminate_cause = 49;  // RFC 2866 §5.10
inline constexpr std::uint8_t acct_input_gigawords = 52;  // RFC 2869 §5.1
inline constexpr std::uint8_t acct_output_gigawords = 53; // RFC 2869 §5.2
inline constexpr std::uint8_t event_timestamp = 55;       // RFC 2869 §5.3
inline constexpr std::uint32_t cisco_vendor = 9;
inline constexpr std::uint32_t cisco_avpair = 1;   // "Cisco AVpair [1]" in the document
inline constexpr std::uint32_t cisco_nas_port = 2; // "cisco-nas-port [2]" in the document
} // namespace attr

/** RFC 2866 §5.1 values as IOS names them in `debug radius` (Interim-Update is "Watchdog"). */
inline constexpr std::uint32_t status_start = 1;
inline constexpr std::uint32_t status_stop = 2;
inline constexpr std::uint32_t status_interim = 3;

struct PacketOptions {
  Ipv4Address nas_ip{};
  /** `radius-server vsa send accounting`: without it no Cisco VSA is sent at all. */
  bool send_vsa = false;
  /** NAS-Port: the document's router reports "Using existing nas_port 0". */
  std::uint32_t nas_port = 0;
  /** radius-server attribute 55 include-in-acct-req: Event-Timestamp, the unix time of the
   * event on the NAS's clock: this plus the event's time on the run's clock. */
  std::optional<double> event_clock_at_zero;
};

/** The Accounting-Request for event with the given Acct-Delay-Time, unsigned (identifier 0). */
radius::Packet build_accounting_request(const AccountingEvent& event, const PacketOptions& options,
                                        std::uint32_t delay_seconds);

/** Acct-Terminate-Cause and disc-cause-ext text for a stop reason. */
std::uint32_t terminate_cause(StopReason reason);
std::string_view disc_cause_ext(StopReason reason);

} // namespace acctlab::gateway
