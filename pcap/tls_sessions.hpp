#pragma once
// RadSec in captures: TCP flows on the RadSec port (2083, RFC 6614) are followed in order
// (bounded: a direction keeps at most one unfinished handshake record; a gap ends its reading) and
// their TLS records read as far as they are in clear — the ClientHello (offered versions, SNI,
// ALPN) and the ServerHello (chosen version, ALPN under TLS 1.2) — and counted after that
// (application data records and octets each way). The RADIUS packets inside are encrypted; this
// says which TLS sessions were there and what could not be read.

#include "pcap/fragment_reassembler.hpp"
#include "pcap/frame_parser.hpp"
#include "pcap/ip_address.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace acctlab::capture {

struct TlsSession {
  Endpoint client; // the side that is not on the RadSec port
  Endpoint server;
  FrameRef first_frame;
  std::int64_t first_ns = 0;
  std::int64_t last_ns = 0;
  std::string offered_versions; // ClientHello: "TLSv1.3 TLSv1.2"
  std::string version;          // ServerHello's choice
  std::string sni;
  std::string alpn_offered;           // "radius/1.0"
  std::string alpn;                   // chosen, when the ServerHello carries it (TLS 1.2)
  std::uint64_t octets_to_server = 0; // TCP payload
  std::uint64_t octets_to_client = 0;
  std::uint64_t application_records = 0; // TLS records of type application_data, both ways
  bool syn_seen = false;                 // the capture saw it open
  bool fin_seen = false;
  std::string unreadable; // why part of it could not be read ("gap in the TCP stream", ...)
};

/** RadSec's port (RFC 6614 §2.1: 2083) and the ports a user named for RADIUS. */
std::vector<std::uint16_t> radsec_ports(const std::vector<std::uint16_t>& extra_ports);

class TlsSessionTracker {
public:
  /** ports: the RadSec ports (2083 and any the user adds); max_sessions bounds memory. */
  explicit TlsSessionTracker(std::vector<std::uint16_t> ports = {2083},
                             std::size_t max_sessions = 1024);

  /** A TCP segment (frame parsed with protocol 6 and its IP payload). */
  void add(const ParsedFrame& parsed, std::int64_t timestamp_ns, FrameRef where);

  /** The sessions seen, in order of their first frame. */
  std::vector<TlsSession> sessions() const;
  /** Flows beyond max_sessions, only counted. */
  std::uint64_t sessions_not_kept() const { return not_kept_; }

private:
  struct Direction {
    bool started = false;
    std::uint32_t next_sequence = 0;
    bool reading = true;              // false after a gap, a mid-stream start or the buffer limit
    std::vector<std::uint8_t> buffer; // an unfinished record, kept only when it is a handshake
    std::size_t skip = 0;             // octets of a counted record still to pass over
  };
  struct Flow {
    TlsSession session;
    Direction to_server;
    Direction to_client;
    std::uint64_t order = 0;
  };

  void consume(Flow& flow, Direction& direction, bool from_client, std::uint32_t sequence, bool syn,
               std::span<const std::uint8_t> data);
  void read_records(Flow& flow, Direction& direction, bool from_client);

  std::vector<std::uint16_t> ports_;
  std::size_t max_sessions_;
  std::map<std::pair<Endpoint, Endpoint>, Flow> flows_; // (client, server)
  std::uint64_t next_order_ = 0;
  std::uint64_t not_kept_ = 0;
};

} // namespace acctlab::capture
