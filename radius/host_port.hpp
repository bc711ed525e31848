#pragma once
// "HOST:PORT" and "[IPV6]:PORT", the listener and server syntax every command shares (serve
// --listen and --listen-tls, the config file's listen keys, the viewer's --listen). One splitter,
// so that every option accepts and refuses the same texts with the same words.

#include "radius/result.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace acctlab::radius {

struct HostPort {
  std::string host; // without the brackets of an IPv6 literal; never empty
  std::uint16_t port = 0;
  bool bracketed = false; // written as [HOST]:PORT
};

/**
 * Splits text into host and port. The port is decimal, 0..65535; with default_port it may be
 * left out ("127.0.0.1", "[::1]"). A host holding ':' must be bracketed. The error says what is
 * wrong in a few words without the option's name, which the caller puts in front.
 */
Expected<HostPort, std::string>
split_host_port(std::string_view text, std::optional<std::uint16_t> default_port = std::nullopt);

} // namespace acctlab::radius
