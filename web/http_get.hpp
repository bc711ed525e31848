#pragma once
// A minimal HTTP/1.1 GET over a POSIX socket (no Beast): one request per connection, bounded in
// time and size. The demo uses it to check the viewer it started over real HTTP.

#include <chrono>
#include <cstdint>
#include <string>

namespace acctlab::web {

struct HttpGetResult {
  int status = 0; // 0: no HTTP answer (see error)
  std::string content_type;
  std::string body;
  std::string error; // why there is no answer: connect refused, timeout, malformed reply
  double milliseconds = 0;
};

/** GET target from address:port (IPv4 or IPv6 literal, or localhost). Never throws. */
HttpGetResult http_get(const std::string& address, std::uint16_t port, const std::string& target,
                       std::chrono::milliseconds timeout = std::chrono::seconds(10));

} // namespace acctlab::web
