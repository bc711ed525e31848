#include "client/debug_radius.hpp"

#include "radius/dictionary.hpp"
#include "radius/ios_debug.hpp"
#include "radius/packet_codec.hpp"

#include <algorithm>
#include <cstdio>

namespace acctlab::gateway {

std::string format_authenticator(std::span<const std::uint8_t> sixteen) {
  radius::Authenticator authenticator{};
  std::copy_n(sixteen.begin(), std::min(sixteen.size(), authenticator.size()),
              authenticator.begin());
  return radius::ios_authenticator(authenticator);
}

std::string format_aaa_id(std::uint32_t id) {
  char text[9];
  std::snprintf(text, sizeof text, "%08X", id);
  return text;
}

std::vector<std::string> debug_attribute_lines(std::span<const std::uint8_t> wire) {
  // The same rendering as the server's `--debug radius` and the web viewer: the core decodes
  // the datagram and radius/ios_debug.hpp prints it. The authenticator line is the callers'.
  const auto& dict = radius::Dictionary::builtin();
  auto decoded = radius::decode_packet(wire, dict);
  if (!decoded) {
    return {"RADIUS: undecodable packet: " + decoded.error().message()};
  }
  auto lines = radius::ios_debug_lines(*decoded, dict);
  lines.erase(lines.begin());
  return lines;
}

std::vector<std::string> debug_request_lines(std::uint32_t aaa_id,
                                             std::span<const std::uint8_t> wire,
                                             const std::string& destination) {
  std::vector<std::string> lines;
  if (wire.size() < 20) {
    return lines;
  }
  std::string id = "RADIUS(" + format_aaa_id(aaa_id) + "): ";
  lines.push_back(id + "sending");
  lines.push_back(id + "Send Accounting-Request to " + destination + " id " +
                  std::to_string(wire[1]) + ", len " + std::to_string(wire.size()));
  lines.push_back("RADIUS: authenticator " + format_authenticator(wire.subspan(4, 16)));
  for (auto& line : debug_attribute_lines(wire)) {
    lines.push_back(std::move(line));
  }
  return lines;
}

std::vector<std::string> debug_response_lines(std::span<const std::uint8_t> wire,
                                              std::uint16_t local_port, const std::string& from) {
  std::vector<std::string> lines;
  if (wire.size() < 20) {
    lines.push_back("RADIUS: Received from " + from + ", short datagram of " +
                    std::to_string(wire.size()) + " octets");
    return lines;
  }
  std::string code = wire[0] == 5 ? "Accounting-response" : "code " + std::to_string(wire[0]);
  lines.push_back("RADIUS: Received from id " + std::to_string(local_port) + "/" +
                  std::to_string(wire[1]) + " " + from + ", " + code + ", len " +
                  std::to_string(wire.size()));
  lines.push_back("RADIUS: authenticator " + format_authenticator(wire.subspan(4, 16)));
  for (auto& line : debug_attribute_lines(wire)) {
    lines.push_back(std::move(line));
  }
  return lines;
}

} // namespace acctlab::gateway
