#include "server/radius_debug.hpp"

#include "radius/ios_debug.hpp"

#include <cstdio>
#include <ctime>

namespace acctlab::server {

std::string ios_timestamp(double unix_seconds) {
  const auto whole = static_cast<std::time_t>(unix_seconds);
  const int millis = static_cast<int>((unix_seconds - static_cast<double>(whole)) * 1000);
  std::tm tm{};
  gmtime_r(&whole, &tm);
  char buffer[48];
  const std::size_t n = std::strftime(buffer, sizeof buffer, "*%b %d %H:%M:%S", &tm);
  std::snprintf(buffer + n, sizeof buffer - n, ".%03d: ", millis);
  return buffer;
}

std::vector<std::string> debug_lines(const radius::Packet& packet, const radius::Dictionary& dict,
                                     bool received, std::string_view peer, std::size_t length) {
  std::vector<std::string> lines;
  const std::string code = radius::code_name(packet.code());
  const std::string id = std::to_string(packet.identifier());
  // The feature document: "Send Accounting-Request to 10.1.1.4:1646 id 4, len 220" and
  // "Received from id 21645/4 10.1.1.4:1646, Accounting-response, len 20".
  if (received) {
    lines.push_back("RADIUS: Received from id " + id + " " + std::string(peer) + ", " + code +
                    ", len " + std::to_string(length));
  } else {
    lines.push_back("RADIUS: Send " + code + " to " + std::string(peer) + " id " + id + ", len " +
                    std::to_string(length));
  }
  for (auto& line : radius::ios_debug_lines(packet, dict)) {
    lines.push_back(std::move(line));
  }
  return lines;
}

} // namespace acctlab::server
