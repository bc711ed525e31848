#pragma once
// The HTTP front of the report site: Boost.Beast over Asio, confined to http_server.cpp so the
// rest of the module compiles without them. GET and HEAD only; requests are bounded in header
// size, body size and time; /events streams the live counters as server-sent events.

#include "web/site.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace acctlab::web {

struct ServerOptions {
  std::string address = "127.0.0.1";
  std::uint16_t port = 8080; // 0 picks a free port (tests)
  int threads = 2;
  /** How often /events checks PRAGMA data_version. */
  std::chrono::milliseconds poll_interval{1000};
  /** An /events stream ends after this; EventSource reconnects by itself. */
  std::chrono::seconds event_stream_lifetime{600};
  std::size_t max_connections = 256;
  std::size_t max_event_streams = 32;
  /** PEM files: when both are set the viewer speaks HTTPS only (TLS 1.2 or later). */
  std::string tls_cert;
  std::string tls_key;
  /** run(true) calls this on SIGHUP (acctlab web: read the clients file again). */
  std::function<void()> on_hangup;
};

/** "127.0.0.1:8080", "[::1]:8080", "localhost:0" -> address and port; false when malformed. */
bool parse_listen(std::string_view text, std::string& address, std::uint16_t& port);

/**
 * True when address (as parse_listen returns it) is a loopback address: 127.0.0.0/8, ::1 or an
 * IPv4-mapped 127.x. The viewer shows personal data (user names, addresses, usage) and has no
 * TLS or login: on any other address it is served only when the user says --insecure.
 */
bool is_loopback(std::string_view address);

class HttpServer {
public:
  /** Binds and listens; throws std::system_error when the address is unusable. */
  HttpServer(Site& site, ServerOptions options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  /** The bound port (the real one when options.port was 0). */
  std::uint16_t port() const;
  /** Starts the worker threads and returns. */
  void start();
  /** Serves until stop() or, when handle_signals, SIGINT/SIGTERM (SIGHUP: options.on_hangup). */
  void run(bool handle_signals);
  void stop();

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

} // namespace acctlab::web
