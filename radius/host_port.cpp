#include "radius/host_port.hpp"

#include <charconv>

namespace acctlab::radius {

Expected<HostPort, std::string> split_host_port(std::string_view text,
                                                std::optional<std::uint16_t> default_port) {
  const std::string_view expected = default_port ? "expected ADDR[:PORT] (IPv6 as [ADDR]:PORT)"
                                                 : "expected ADDR:PORT (IPv6 as [ADDR]:PORT)";
  if (text.empty()) {
    return Unexpected(std::string(expected));
  }
  HostPort result;
  std::string_view host;
  std::optional<std::string_view> port;
  if (text.starts_with('[')) {
    const auto close = text.find(']');
    if (close == std::string_view::npos) {
      return Unexpected(std::string(expected));
    }
    host = text.substr(1, close - 1);
    const auto rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (!rest.starts_with(':')) {
        return Unexpected(std::string(expected));
      }
      port = rest.substr(1);
    }
    result.bracketed = true;
  } else {
    const auto colon = text.find(':');
    if (colon != std::string_view::npos && text.find(':', colon + 1) != std::string_view::npos) {
      return Unexpected(std::string("write an IPv6 address as [ADDR]:PORT"));
    }
    host = text.substr(0, colon);
    if (colon != std::string_view::npos) {
      port = text.substr(colon + 1);
    }
  }
  if (host.empty()) {
    return Unexpected(std::string("no address before the port"));
  }
  result.host = std::string(host);
  if (!port) {
    if (!default_port) {
      return Unexpected(std::string(expected));
    }
    result.port = *default_port;
    return result;
  }
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port->data(), port->data() + port->size(), value);
  if (port->empty() || ec != std::errc{} || end != port->data() + port->size() || value > 65535) {
    return Unexpected("bad port '" + std::string(*port) + "'");
  }
  result.port = static_cast<std::uint16_t>(value);
  return result;
}

} // namespace acctlab::radius
