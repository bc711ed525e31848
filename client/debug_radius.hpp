#pragma once
// IOS-style `debug radius` lines for the packets the gateway sends and receives, in the form of
// the feature document's listings:
//
//   RADIUS(00000002): Send Accounting-Request to 127.0.0.1:1646 id 4, len 220
//   RADIUS: authenticator 38 F5 EB 46 4D BE 4A 6F - 45 EB EF 7D B7 19 FB 3F
//   RADIUS: Acct-Session-Id [44] 10 "00000001"
//   RADIUS: Vendor, Cisco [26] 31
//   RADIUS: Cisco AVpair [1] 25 "isakmp-group-id=cclient"
//
// Rendering works on the encoded datagram, so the lengths printed are the bytes on the wire.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace acctlab::gateway {

/** "38 F5 EB 46 4D BE 4A 6F - 45 EB EF 7D B7 19 FB 3F" */
std::string format_authenticator(std::span<const std::uint8_t> sixteen);
/** "00000002" */
std::string format_aaa_id(std::uint32_t id);

/** The "Send Accounting-Request" line, the authenticator and one line per attribute. */
std::vector<std::string> debug_request_lines(std::uint32_t aaa_id,
                                             std::span<const std::uint8_t> wire,
                                             const std::string& destination);
/** "Received from id PORT/ID HOST:PORT, Accounting-response, len 20" and its authenticator. */
std::vector<std::string> debug_response_lines(std::span<const std::uint8_t> wire,
                                              std::uint16_t local_port, const std::string& from);
/** One line per attribute of an encoded packet (no header lines); never reads past wire. */
std::vector<std::string> debug_attribute_lines(std::span<const std::uint8_t> wire);

/** One attribute line of a listing: "Acct-Session-Id [44] 10 "00000001"". A Cisco VSA is its
 * "Vendor, Cisco [26] 31" line followed by the sub-attribute's line: vendor_length is the
 * former's length, type/length/value the latter's. */
struct ListedAttribute {
  std::string name;       // as printed: "Acct-Input-Giga-Word", "Cisco AVpair"
  unsigned type = 0;      // the number in brackets
  std::size_t length = 0; // the printed length (the sub-attribute's for a VSA)
  std::string value;      // as printed, quotes removed: "00000001", "Start [1]", "10.1.1.147"
  std::optional<std::size_t> vendor_length; // a VSA: the Vendor-Specific attribute's length
  std::string stamp; // the line's "*Aug 23 04:06:20.135" (empty when unstamped)
};

/** One "Send Accounting-Request" of a listing, with the attribute lines that follow it. */
struct ListedRequest {
  std::string aaa_id;        // "00000002" from "RADIUS(00000002): Send ..."
  std::string destination;   // "10.1.1.4:1646"
  unsigned identifier = 0;   // "id 4"
  std::size_t length = 0;    // "len 220" as printed
  std::string authenticator; // the printed hex, spaces and '-' removed: "38F5EB46..."
  std::vector<ListedAttribute> attributes;
};

/**
 * Reads the requests out of `debug radius` text: IOS's output, the gateway's, or a listing
 * pasted into a document, where lines wrap ("connect-progress=No" / "Progress"", "id 19," /
 * "len 238", an authenticator's last octets) and prose or blank lines sit between listings. A
 * line without a "*time: " stamp continues the previous one when that one is unfinished (an
 * open quote, a trailing comma, an authenticator of fewer than 16 octets); otherwise it is
 * not part of a listing. Never throws; what it cannot read is left out.
 */
std::vector<ListedRequest> parse_debug_radius(std::string_view text);

} // namespace acctlab::gateway
