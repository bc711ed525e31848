#pragma once
// The gateway's RADIUS client transport: UDP to the --server endpoints (IPv4 or IPv6), with the
// configured retransmit count and timeout, failover to the next server of the accounting list,
// or broadcast to all of them. A TLS endpoint (RadSec) gets one connection, no retransmission on
// it (RFC 6613 §2.6.1), reconnection with backoff and a Status-Server watchdog. Asio stays in
// radius_transport.cpp; this header is plain C++.
//
// Time comes from the injected Clock: timeouts fire when the caller calls on_time() at or after
// a flight's deadline, so on a virtual clock a 5-second timeout costs no real time.

#include "client/clock.hpp"
#include "client/radsec_stream.hpp"
#include "radius/packet.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace acctlab::gateway {

/** Where a slot's requests go: one --server option. */
struct ServerEndpoint {
  std::string slot; // the scenario's name for it ("A")
  std::string host; // "127.0.0.1" or "::1"
  std::uint16_t port = 0;
  std::string secret;
  std::string configured; // the configuration's server it stands for ("10.1.1.4:1646")
  /** RadSec (RFC 6614): one TLS connection to the server instead of UDP. */
  bool tls = false;
  RadsecConfig tls_config;
  std::string to_string() const; // "127.0.0.1:1813" or "[::1]:1813"
};

/** Parses "HOST:PORT" or "[V6]:PORT". */
std::optional<std::pair<std::string, std::uint16_t>> parse_host_port(std::string_view text);

struct TransportOptions {
  std::uint32_t retransmit = 3; // retransmissions per server after the first transmission
  Millis timeout{5000};
  /** TLS: a connection silent this long (real time) is probed with Status-Server (RFC 3539's
   * watchdog); no answer within timeout closes it. Zero turns the watchdog off. */
  Millis watchdog{30000};
};

/** One accounting record to deliver. build() makes the packet for a given Acct-Delay-Time. */
struct OutgoingRecord {
  std::uint64_t handle = 0;
  std::uint32_t aaa_id = 0;
  std::string label;                // "Start 00000001": for logs
  std::vector<std::size_t> servers; // indices into the endpoints, in failover order
  bool broadcast = false;
  Millis created{0};
  std::function<radius::Packet(std::uint32_t delay_seconds)> build;
};

/** Everything the transport did, for the debug output and the event log. */
struct TransportEvent {
  enum class Kind : std::uint8_t {
    sent,           // a transmission (first or retransmission) went on the wire
    lost,           // a transmission the scenario's "server down" swallowed
    answer,         // a verified Accounting-Response completed a flight
    bad_answer,     // a datagram that failed verification (ignored)
    dropped_answer, // an answer the scenario's "drop-answers" discarded
    timeout,        // no answer within the timeout
    failover,       // the record moves to the next server
    gave_up,        // every server failed: the record is dropped
  };
  Kind kind = Kind::sent;
  Millis time{0};
  std::uint64_t handle = 0;
  std::uint32_t aaa_id = 0;
  std::string label;
  std::size_t server = 0;
  std::uint8_t identifier = 0;
  std::uint16_t local_port = 0;
  std::uint32_t attempt = 0;   // 1 for the first transmission to a server
  std::uint32_t delay = 0;     // the Acct-Delay-Time sent
  bool new_identifier = false; // the packet changed since the previous transmission
  std::vector<std::uint8_t> wire;
  Millis rtt{0};
  std::string reason;
};
std::string_view to_string(TransportEvent::Kind kind);

/** Slot state a scenario controls ("server A down"). */
enum class SlotState : std::uint8_t { up, down, drop_answers };

class RadiusTransport {
public:
  RadiusTransport(std::vector<ServerEndpoint> endpoints, TransportOptions options,
                  const Clock& clock);
  ~RadiusTransport();
  RadiusTransport(const RadiusTransport&) = delete;
  RadiusTransport& operator=(const RadiusTransport&) = delete;

  /** Opens the sockets; the error text when the system refuses. */
  std::optional<std::string> open();

  void submit(OutgoingRecord record);
  void set_slot_state(std::size_t server, SlotState state);

  /** Handles timeouts due at the clock's now (retransmit, failover, give up). */
  void on_time();
  std::optional<Millis> next_deadline() const;

  /** Waits up to real_wait (real time) for answers, handling each; returns when none could
   * still arrive (every flight lost or waiting on a server the scenario silenced) or time is up.
   * With until_quiet false, returns after the first datagram or the wait. */
  void poll(Millis real_wait, bool until_quiet = true);

  /** Flights whose last transmission reached a server that may answer. */
  std::size_t answerable() const;
  std::size_t in_flight() const;

  std::vector<TransportEvent> take_events();
  const std::vector<ServerEndpoint>& endpoints() const { return endpoints_; }

private:
  struct Impl;
  std::vector<ServerEndpoint> endpoints_;
  std::unique_ptr<Impl> impl_;
};

} // namespace acctlab::gateway
