#include "server/radius_debug.hpp"

#include "radius/text_form.hpp"

#include <cstdio>
#include <ctime>

namespace acctlab::server {
namespace {

std::string hex_authenticator(const radius::Authenticator& authenticator) {
  // IOS prints the 16 octets in two groups of eight separated by " - ".
  std::string text;
  char buffer[4];
  for (std::size_t i = 0; i < authenticator.size(); ++i) {
    if (i == 8) {
      text += "- ";
    }
    std::snprintf(buffer, sizeof buffer, "%02X ", authenticator[i]);
    text += buffer;
  }
  text.pop_back();
  return text;
}

} // namespace

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
  if (received) {
    lines.push_back("RADIUS: Received from id " + id + " " + std::string(peer) + ", " + code +
                    ", len " + std::to_string(length));
  } else {
    lines.push_back("RADIUS: Send " + code + " to " + std::string(peer) + " id " + id + ", len " +
                    std::to_string(length));
  }
  lines.push_back("RADIUS:  authenticator " + hex_authenticator(packet.authenticator()));
  int last_group = -1;
  for (const auto& attribute : packet.attributes()) {
    std::string text = radius::render_attribute(packet, attribute, dict);
    const auto equals = text.find(" = ");
    const std::string name = equals == std::string::npos ? text : text.substr(0, equals);
    const std::string value = equals == std::string::npos ? "" : text.substr(equals + 3);
    char head[96];
    if (attribute.is_vendor()) {
      if (attribute.vsa_group != last_group) {
        const auto* vendor = dict.vendor(attribute.vendor);
        lines.push_back("RADIUS:  Vendor, " +
                        (vendor ? vendor->name : std::to_string(attribute.vendor)) + " [26]");
        last_group = attribute.vsa_group;
      }
      std::snprintf(head, sizeof head, "RADIUS:   %-20s[%u] %u ", name.c_str(),
                    attribute.vendor_type, attribute.length + 2u);
    } else {
      std::snprintf(head, sizeof head, "RADIUS:  %-20s[%u] %u ", name.c_str(), attribute.type,
                    attribute.length + 2u);
    }
    lines.push_back(head + value);
  }
  return lines;
}

} // namespace acctlab::server
