#include "client/accounting_packet.hpp"

#include "client/carried_values.hpp"

#include <algorithm>

namespace acctlab::gateway {
namespace {

// The AV pair naming the IKE initiator. The document's Start and Stop listings spell it
// "isakmp-initator-ip" (Cisco AVpair [1] 29, Vendor [26] 35 for "isakmp-initator-ip=11.1.2.2").
// Its Interim listing prints "isakmp-initiator-ip" but gives the same lengths, 29 and 35, and a
// packet length of 200, which only add up with the 18-character spelling: the router sends
// "isakmp-initator-ip" in all three, and so do we, so that every length matches the document.
// Table 1 names the attribute "isakmp-initiator-ip"; decoders should accept both spellings.
constexpr std::string_view initiator_ip_avpair = "isakmp-initator-ip=";

void add_address(radius::Packet& packet, std::uint8_t type, const Ipv4Address& address) {
  packet.add(type, std::span<const std::uint8_t>(address.data(), address.size()));
}

void add_avpair(radius::Packet& packet, const std::string& text) {
  // Each AV pair travels in a Vendor-Specific of its own, as in the document's listings.
  packet.add_vendor(attr::cisco_vendor, attr::cisco_avpair, std::string_view(text));
}

} // namespace

std::uint32_t terminate_cause(StopReason reason) {
  switch (reason) {
    case StopReason::dead_peer:
      return 2; // RFC 2866 §5.10 Lost-Carrier: the peer went away without a delete
    case StopReason::sa_deleted:
    case StopReason::ike_deleted:
      break;
  }
  // The document's Stop shows "Acct-Terminate-Cause[49] 6 none [0]": IOS sends 0, a value RFC
  // 2866 does not define, for an orderly teardown. We reproduce it.
  return 0;
}

std::string_view disc_cause_ext(StopReason reason) {
  return reason == StopReason::dead_peer ? "Lost Carrier" : "No Reason";
}

radius::Packet build_accounting_request(const AccountingEvent& e, const PacketOptions& options,
                                        std::uint32_t delay_seconds) {
  using Kind = AccountingEvent::Kind;
  radius::Packet p(radius::Code::accounting_request, 0);
  p.reserve(24, 256);
  const bool vsa = options.send_vsa;
  p.add(attr::acct_session_id, std::string_view(e.session_id));
  if (e.kind == Kind::start) {
    // Table 1: isakmp-group-id names the VPN group of a peer that identifies by group
    // (ID_KEY_ID); a peer with another identity is named by isakmp-phase1-id instead.
    if (vsa) {
      if (e.identity.type == IkeIdentity::Type::key_id) {
        add_avpair(p, std::string(avpair::group_id) + e.identity.value);
      } else {
        add_avpair(p, std::string(avpair::phase1_id) + e.identity.value);
      }
    }
    if (e.framed_ip) {
      add_address(p, attr::framed_ip_address, *e.framed_ip);
    }
  }
  if (vsa) {
    if (e.vrf) {
      add_avpair(p, std::string(avpair::vrf_id) + *e.vrf);
    }
    add_avpair(p, std::string(initiator_ip_avpair) + format_ipv4(e.initiator));
    add_avpair(p, "connect-progress=No Progress");
  }
  if (e.kind == Kind::start) {
    // Table 1: "The username may be NULL when XAUTH is not used": then there is no User-Name.
    if (e.user_name) {
      p.add(attr::user_name, std::string_view(*e.user_name));
    }
  } else {
    p.add_integer(attr::acct_session_time, e.session_time);
    // RFC 2866 counters are 32 bits; RFC 2869 §5.1/5.2 gigawords carry the wraps.
    p.add_integer(attr::acct_input_octets, static_cast<std::uint32_t>(e.input.octets));
    p.add_integer(attr::acct_output_octets, static_cast<std::uint32_t>(e.output.octets));
    p.add_integer(attr::acct_input_packets, static_cast<std::uint32_t>(e.input.packets));
    p.add_integer(attr::acct_output_packets, static_cast<std::uint32_t>(e.output.packets));
    auto input_gigawords = static_cast<std::uint32_t>(e.input.octets >> 32);
    auto output_gigawords = static_cast<std::uint32_t>(e.output.octets >> 32);
    // The Stop listing carries both gigaword counters; the Interim listing (len 200) carries
    // none, so an Interim adds them only once a counter has wrapped, when leaving them out would
    // under-report by 4 GiB.
    if (e.kind == Kind::stop || input_gigawords || output_gigawords) {
      p.add_integer(attr::acct_input_gigawords, input_gigawords);
      p.add_integer(attr::acct_output_gigawords, output_gigawords);
    }
    if (e.kind == Kind::stop) {
      p.add_integer(attr::acct_terminate_cause, terminate_cause(e.reason));
      if (vsa) {
        add_avpair(p, "disc-cause-ext=" + std::string(disc_cause_ext(e.reason)));
      }
    }
  }
  p.add_integer(attr::acct_status_type, e.kind == Kind::start  ? status_start
                                        : e.kind == Kind::stop ? status_stop
                                                               : status_interim);
  if (vsa && !e.interface.empty()) {
    p.add_vendor(attr::cisco_vendor, attr::cisco_nas_port, std::string_view(e.interface));
  }
  p.add_integer(attr::nas_port, options.nas_port);
  add_address(p, attr::nas_ip_address, options.nas_ip);
  if (options.event_clock_at_zero) {
    // RFC 2869 §5.3: when the event happened on the NAS, in whole seconds; a retransmission
    // keeps it (Acct-Delay-Time says how long the record waited).
    const double at = *options.event_clock_at_zero + static_cast<double>(e.time.count()) / 1000.0;
    p.add_integer(attr::event_timestamp, static_cast<std::uint32_t>(std::max(0.0, at)));
  }
  p.add_integer(attr::acct_delay_time, delay_seconds);
  return p;
}

} // namespace acctlab::gateway
