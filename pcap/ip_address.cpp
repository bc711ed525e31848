#include "pcap/ip_address.hpp"

#include <arpa/inet.h>
#include <cstring>

namespace acctlab::capture {

IpAddress IpAddress::v4(const std::uint8_t* four_octets) {
  IpAddress a;
  a.family = Family::v4;
  std::memcpy(a.octets.data(), four_octets, 4);
  return a;
}

IpAddress IpAddress::v6(const std::uint8_t* sixteen_octets) {
  IpAddress a;
  a.family = Family::v6;
  std::memcpy(a.octets.data(), sixteen_octets, 16);
  return a;
}

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  if (text.size() >= INET6_ADDRSTRLEN) {
    return std::nullopt;
  }
  char buffer[INET6_ADDRSTRLEN] = {};
  std::memcpy(buffer, text.data(), text.size());
  std::uint8_t octets[16] = {};
  if (inet_pton(AF_INET, buffer, octets) == 1) {
    return v4(octets);
  }
  if (inet_pton(AF_INET6, buffer, octets) == 1) {
    return v6(octets);
  }
  return std::nullopt;
}

std::string IpAddress::to_string() const {
  char buffer[INET6_ADDRSTRLEN] = {};
  if (is_v4()) {
    inet_ntop(AF_INET, octets.data(), buffer, sizeof buffer);
  } else if (is_v6()) {
    inet_ntop(AF_INET6, octets.data(), buffer, sizeof buffer);
  } else {
    return "-";
  }
  return buffer;
}

std::string Endpoint::to_string() const {
  if (address.is_v6()) {
    return "[" + address.to_string() + "]:" + std::to_string(port);
  }
  return address.to_string() + ":" + std::to_string(port);
}

} // namespace acctlab::capture
