#pragma once
// The feature document's accounting Start record (its `debug radius` listing: id 4, length 220),
// in the text form of radius/text_form.hpp. The demo shows the codec reproducing it octet for
// octet; the decode benchmark times it.

#include <string_view>

namespace acctlab::radius {

inline constexpr std::string_view document_start_text = R"(Accounting-Request id=4 {
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
  NAS-IP-Address = 10.1.1.147
  Acct-Delay-Time = 0
})";

} // namespace acctlab::radius
