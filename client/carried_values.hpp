#pragma once
// The values from an IOS configuration or a scenario that the gateway sends inside a RADIUS
// attribute, and whether each fits the attribute it goes into. The readers check them line by
// line, so an over-long name is refused where it is written (file:line) instead of costing a
// record at send time; build_accounting_request uses the same AV pair prefixes, so the check and
// the packet cannot disagree on the octets.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace acctlab::gateway {

/** The Cisco AV pairs that carry configured or declared names (the document, Table 1). */
namespace avpair {
inline constexpr std::string_view group_id = "isakmp-group-id=";
inline constexpr std::string_view phase1_id = "isakmp-phase1-id=";
inline constexpr std::string_view vrf_id = "vrf-id=";
} // namespace avpair

/** Where a value travels. */
enum class Carried : std::uint8_t {
  user_name, // XAUTH user: User-Name (1)
  group_id,  // an ID_KEY_ID identity, the VPN group: Cisco-AVPair "isakmp-group-id=..."
  phase1_id, // any other IKE identity: Cisco-AVPair "isakmp-phase1-id=..."
  vrf_id,    // the ISAKMP profile's VRF: Cisco-AVPair "vrf-id=..."
  nas_port,  // the interface the peer arrives on: Cisco-NAS-Port (Cisco 2)
};

/**
 * Whether value, sent as `carried` says, fits its attribute under the radius core's rule
 * (radius::check_attribute with the encoded length, the AV pair's prefix included). nullopt when
 * it fits; otherwise one sentence: "<what> is 233 octets; Cisco-AVPair holds at most 247, and
 * "isakmp-group-id=" takes 16 of them (at most 231 for the value)".
 */
std::optional<std::string> check_carried(Carried carried, std::string_view what,
                                         std::string_view value);

} // namespace acctlab::gateway
