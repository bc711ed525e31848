#include "document_capture.hpp"

#include "pcap/pcap_writer.hpp"
#include "radius/authenticator.hpp"
#include "radius/dictionary.hpp"
#include "radius/packet_codec.hpp"
#include "radius/text_form.hpp"
#include "radius/value.hpp"

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <string_view>

namespace acctlab::conformance::document {
namespace {

// One listing: the request as it went on the wire, the authenticators the listing prints, and
// the times of its "Send Accounting-Request" and "Received from" lines.
struct Listing {
  std::string_view name;
  std::string_view request; // radius/text_form.hpp
  std::string_view printed_request_authenticator;
  std::string_view printed_response_authenticator; // as printed (the Interim's lacks an octet)
  std::int64_t sent_ms;                            // milliseconds since the epoch (UTC)
  std::int64_t received_ms;
};

// The listings carry no year; 2003 is the year of IOS 12.2(15)T, which introduced the feature.
// 2003-08-23 00:00:00 UTC is 1061596800.
constexpr std::int64_t aug_23_2003_ms = 1'061'596'800'000;
constexpr std::int64_t at(int hours, int minutes, int seconds, int ms) {
  return aug_23_2003_ms + ((hours * 60 + minutes) * 60 + seconds) * 1000 + ms;
}

// The Start prints NAS-IP-Address 10.1.1.147 and its server as 10.1.1.4; its printed
// authenticator is only reproduced with 100.1.1.147, the address the other two listings (sent
// to 100.1.1.4) and their authenticators carry: the printed address was edited after capture.
// The Stop prints len 238 but lists 250 octets: its two gigaword lines (stamped *Apr) are not
// part of the packet whose authenticator it prints.
constexpr Listing listings[] = {
    {"Start of session 00000001", R"(Accounting-Request id=4 {
  Acct-Session-Id = "00000001"
  Cisco-AVPair = "isakmp-group-id=cclient"
  Framed-IP-Address = 10.13.13.1
  Cisco-AVPair = "vrf-id=cisco"
  Cisco-AVPair = "isakmp-initator-ip=11.1.2.2"
  Cisco-AVPair = "connect-progress=No Progress"
  User-Name = "joe@cclient"
  Acct-Status-Type = Start
  Cisco-NAS-Port = "FastEthernet0/0.1"
  NAS-Port = 0
  NAS-IP-Address = 100.1.1.147
  Acct-Delay-Time = 0
})",
     "38F5EB464DBE4A6F45EBEF7DB719FB3F", "B7E3D0F5619A89D899A68A8A98799D5D", at(4, 6, 20, 131),
     at(4, 6, 20, 139)},
    {"Stop of session 00000002", R"(Accounting-Request id=19 {
  Acct-Session-Id = "00000002"
  Cisco-AVPair = "vrf-id=cisco"
  Cisco-AVPair = "isakmp-initator-ip=11.1.1.2"
  Cisco-AVPair = "connect-progress=No Progress"
  Acct-Session-Time = 709
  Acct-Input-Octets = 152608
  Acct-Output-Octets = 152608
  Acct-Input-Packets = 1004
  Acct-Output-Packets = 1004
  Acct-Terminate-Cause = 0
  Cisco-AVPair = "disc-cause-ext=No Reason"
  Acct-Status-Type = Stop
  Cisco-NAS-Port = "FastEthernet0/0.1"
  NAS-Port = 0
  NAS-IP-Address = 100.1.1.147
  Acct-Delay-Time = 0
})",
     "82655B42F03F17C323F34C35A28A3EE6", "F1CAC128CEA026C93E22C9DAEAB822A0", at(4, 20, 16, 519),
     at(4, 20, 16, 523)},
    // Printed "isakmp-initiator-ip"; the wire (and the printed authenticator) has IOS's
    // "isakmp-initator-ip".
    {"Interim-Update of session 00000003", R"(Accounting-Request id=22 {
  Acct-Session-Id = "00000003"
  Cisco-AVPair = "vrf-id=cisco"
  Cisco-AVPair = "isakmp-initator-ip=11.1.1.2"
  Cisco-AVPair = "connect-progress=No Progress"
  Acct-Session-Time = 109
  Acct-Input-Octets = 608
  Acct-Output-Octets = 608
  Acct-Input-Packets = 4
  Acct-Output-Packets = 4
  Acct-Status-Type = Interim-Update
  Cisco-NAS-Port = "FastEthernet0/0.1"
  NAS-Port = 0
  NAS-IP-Address = 100.1.1.147
  Acct-Delay-Time = 0
})",
     "30FA48868E438E4BF90971044AF15225", "516BBB27A4F5D761A70373D30AAC1C", at(21, 46, 5, 263),
     at(21, 46, 5, 267)},
};

// "Received from id 21645/4 10.1.1.4:1646": IOS's RADIUS source port, then the Identifier.
constexpr std::uint16_t nas_port = 21645;
constexpr std::uint16_t server_port = 1646;

bool same_prefix(std::span<const std::uint8_t> octets, std::string_view printed_hex) {
  const auto printed = radius::from_hex(printed_hex);
  return printed && printed->size() <= octets.size() &&
         std::equal(printed->begin(), printed->end(), octets.begin());
}

} // namespace

bool write_document_capture(const std::string& path, std::string& error, Part only) {
  const auto& dict = radius::Dictionary::builtin();
  auto writer = capture::PcapWriter::create(path, error);
  if (!writer) {
    return false;
  }
  const capture::Endpoint nas{*capture::IpAddress::parse("100.1.1.147"), nas_port};
  const capture::Endpoint server{*capture::IpAddress::parse("100.1.1.4"), server_port};
  std::uint32_t ip_id = 1;
  for (std::size_t i = 0; i < std::size(listings); ++i) {
    const auto& listing = listings[i];
    if (only != Part::all && static_cast<std::size_t>(only) != i + 1) {
      continue;
    }
    auto request = radius::parse_packet_text(listing.request, dict);
    if (!request) {
      error = std::string(listing.name) + ": " + request.error().message;
      return false;
    }
    auto wire = radius::encode_packet(*request, dict);
    radius::sign_request(wire, secret);
    const std::span<const std::uint8_t> request_authenticator(wire.data() + 4, 16);
    if (!same_prefix(request_authenticator, listing.printed_request_authenticator)) {
      error = std::string(listing.name) + ": Request Authenticator " +
              radius::to_hex(request_authenticator) + ", the listing prints " +
              std::string(listing.printed_request_authenticator);
      return false;
    }
    radius::Authenticator signed_by{};
    std::copy(request_authenticator.begin(), request_authenticator.end(), signed_by.begin());
    const radius::Packet answer(radius::Code::accounting_response, request->identifier());
    auto response = radius::encode_packet(answer, dict);
    radius::sign_response(response, signed_by, secret);
    const std::span<const std::uint8_t> response_authenticator(response.data() + 4, 16);
    if (!same_prefix(response_authenticator, listing.printed_response_authenticator)) {
      error = std::string(listing.name) + ": Response Authenticator " +
              radius::to_hex(response_authenticator) + ", the listing prints " +
              std::string(listing.printed_response_authenticator);
      return false;
    }

    capture::UdpFrameSpec frame;
    frame.timestamp_ns = listing.sent_ms * 1'000'000;
    frame.source = nas;
    frame.destination = server;
    frame.ip_id = ip_id++;
    if (!writer->write_udp(frame, wire)) {
      error = path + ": write failed";
      return false;
    }
    frame.timestamp_ns = listing.received_ms * 1'000'000;
    frame.source = server;
    frame.destination = nas;
    frame.ip_id = ip_id++;
    if (!writer->write_udp(frame, response)) {
      error = path + ": write failed";
      return false;
    }
  }
  if (!writer->close()) {
    error = path + ": write failed";
    return false;
  }
  return true;
}

} // namespace acctlab::conformance::document
