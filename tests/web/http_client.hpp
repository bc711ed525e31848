#pragma once
// A plain HTTP/1.1 client over a POSIX socket, for tests: one request per connection.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>

namespace acctlab::web::test {

struct HttpReply {
  int status = 0;
  std::map<std::string, std::string> headers; // names lower-cased
  std::string body;
  std::string header(const std::string& name) const {
    const auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

/** Sends raw request bytes to 127.0.0.1:port and reads the reply until the server closes. */
HttpReply http_raw(std::uint16_t port, const std::string& request,
                   std::chrono::milliseconds timeout = std::chrono::seconds(10));

HttpReply http_get(std::uint16_t port, const std::string& target,
                   const std::string& method = "GET");

/**
 * Opens /events and reads until `count` "event: counters" blocks have arrived or the timeout
 * passes; returns the data lines of those events. `between` runs after the first event.
 */
std::string read_events(std::uint16_t port, int count, std::chrono::milliseconds timeout,
                        const std::function<void()>& between);

} // namespace acctlab::web::test
