#pragma once
// The canonical text form of a packet, one attribute per line, in the manner of FreeRADIUS and
// IOS debug output, and its parser:
//
//   Accounting-Request id=4 auth=38f5eb464dbe4a6f45ebef7db719fb3f {
//     Acct-Session-Id = "00000001"
//     Cisco-AVPair = "isakmp-group-id=cclient"
//     +Cisco-NAS-Port = "FastEthernet0/0.1"     (leading '+': same Vendor-Specific as previous)
//     Framed-IP-Address = 10.13.13.1
//     Attr-26.9.99 = 0x0102                     (unknown attributes keep their numbers)
//     NAS-Port = 0x0000 # invalid: integer needs 4 octets   (values that do not fit their type)
//   }
//
// The parser also takes the one-line form with commas: `Accounting-Request id=4 { A = 1, B = 2 }`.

#include "radius/dictionary.hpp"
#include "radius/packet.hpp"
#include "radius/result.hpp"

#include <string>
#include <string_view>

namespace acctlab::radius {

struct TextOptions {
  bool show_authenticator = true;
  bool one_line = false;
};

std::string render_packet(const Packet& packet, const Dictionary& dict, TextOptions options = {});
/** "Name = value" for one attribute (no leading '+'). */
std::string render_attribute(const Packet& packet, const Attribute& attribute,
                             const Dictionary& dict);

struct TextError {
  std::string message;
  std::size_t line = 0; // 1-based line within the text
};

Expected<Packet, TextError> parse_packet_text(std::string_view text, const Dictionary& dict);

} // namespace acctlab::radius
