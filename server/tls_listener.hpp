#pragma once
// RadSec: RADIUS over TLS (RFC 6614, draft-ietf-radext-radiusdtls-bis), the accounting server's
// TLS door. The listener owns sockets, TLS and framing by the RADIUS Length field; every packet
// it frames goes to a TlsRequestHandler (the accounting server's pipeline), which answers through
// the connection's TlsReply once the request is committed. Asio and its OpenSSL stream stay in
// tls_listener.cpp; this header is plain C++.

#include "server/clients_file.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace boost::asio {
class io_context;
} // namespace boost::asio

namespace acctlab::server {

struct TlsOptions {
  /** "ADDR:PORT" (port 2083 is RadSec's); port 0 picks a free port. Empty: no TLS door. */
  std::vector<std::string> listen;
  std::string certificate; // PEM: the server's certificate (chain)
  std::string private_key; // PEM
  std::string ca;          // PEM: the CAs client certificates must chain to
  /** A connection that carries no packet for this long is closed; zero never closes one. */
  std::chrono::seconds idle_timeout{600};
  /** A connection must finish its handshake within this. */
  std::chrono::seconds handshake_timeout{10};
  std::size_t max_connections = 1024;
  std::size_t max_connections_per_address = 256;
  /** Requests read from one connection and not yet answered; at this many it is not read. */
  std::size_t max_outstanding_per_connection = 256;
  /** When set, every connection's TLS secrets are appended to this file in the NSS key log
   * format (mode 0600), so a capture of them can be decrypted (Wireshark, `acctlab pcap analyze
   * --tls-keylog`). Whoever reads it can decrypt the RadSec traffic. */
  std::string keylog_file;
};

/** What a connection knows about its peer once the handshake is done. */
struct TlsOrigin {
  IpAddress address;
  std::uint16_t port = 0;
  std::string local_address;
  std::uint16_t local_port = 0;
  Client client;    // the clients-file entry matched at accept (a copy: reloads replace the list)
  std::string peer; // "ADDR:PORT" for logs
  std::string subject; // the client certificate's subject, one line
};

/** A connection's way back to its peer. Each request handed to the handler gets exactly one of
 * send() or release(); after the connection closed both are no-ops. */
class TlsReply {
public:
  virtual ~TlsReply() = default;
  virtual void send(std::span<const std::uint8_t> answer) = 0;
  virtual void release() = 0;
};

enum class TlsEvent : std::uint8_t {
  accepted,         // a TCP connection was taken
  refused,          // over a connection limit, or from an address no TLS client has
  handshake_failed, // bad or missing certificate, wrong name, protocol error, timeout
  established,      // handshake done, client certificate verified
  // The closed_* events are only for established connections.
  closed_idle,  // idle timeout
  closed_error, // framing error or a packet the server discards (the handler said close)
  closed_peer,  // the peer closed or reset
};
std::string_view to_string(TlsEvent event);

class TlsRequestHandler {
public:
  virtual ~TlsRequestHandler() = default;
  /** One packet framed by its Length field (20..4096 octets; the rest is the handler's to
   * check). Returns false when the connection must be closed (the packet is discarded). */
  virtual bool on_tls_packet(std::span<const std::uint8_t> packet, const TlsOrigin& origin,
                             const std::shared_ptr<TlsReply>& reply) = 0;
  /** The packets of one read have been handed over: a good moment to submit them together. */
  virtual void on_tls_read_done() = 0;
  /** Octets that cannot be a RADIUS packet (a Length below 20 or above 4096): kept as evidence;
   * the connection closes. */
  virtual void on_tls_malformed(std::span<const std::uint8_t> octets, const TlsOrigin& origin,
                                std::string reason) = 0;
  /** Whether the server takes more requests now; while false, connections are not read. */
  virtual bool accepting() const = 0;
  /** The TLS client entry for a source address, or nullptr. */
  virtual const Client* tls_client(const IpAddress& source) const = 0;
  /** Connection events, for counters and the log; nas is empty before a client is known. */
  virtual void on_tls_event(TlsEvent event, std::string_view nas, const std::string& line) = 0;
};

struct TlsCounters {
  std::uint64_t accepted = 0;
  std::uint64_t refused = 0;
  std::uint64_t handshake_failed = 0;
  std::uint64_t established = 0;
  std::uint64_t open = 0;
};

class TlsListener {
public:
  /** Loads the certificates and binds every listen address; throws with the reason. */
  TlsListener(boost::asio::io_context& io, TlsOptions options, TlsRequestHandler& handler);
  ~TlsListener();
  TlsListener(const TlsListener&) = delete;
  TlsListener& operator=(const TlsListener&) = delete;

  void start();
  /** Stops accepting and reading; connections close once their outstanding answers are out. */
  void stop();
  /** Lets connections paused by backpressure read again (call when commits complete). */
  void resume();

  std::vector<std::string> local_endpoints() const;
  std::vector<std::uint16_t> local_ports() const;
  std::size_t open_connections() const;

private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

} // namespace acctlab::server
