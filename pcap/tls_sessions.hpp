#pragma once
// RadSec in captures: TCP flows on the RadSec port (2083, RFC 6614) are followed in order
// (bounded: a direction keeps at most one unfinished handshake record; a gap ends its reading) and
// their TLS records read as far as they are in clear — the ClientHello (offered versions, SNI,
// ALPN) and the ServerHello (chosen version and cipher suite, ALPN under TLS 1.2) — and counted
// after that (application data records and octets each way). The RADIUS packets inside are
// encrypted; this says which TLS sessions were there and what could not be read. With a key log,
// TLS 1.3 and TLS 1.2 sessions are decrypted (pcap/tls_decrypt.hpp) and their RADIUS packets
// framed by the Length field (RFC 6613 §2.6).

#include "pcap/fragment_reassembler.hpp"
#include "pcap/frame_parser.hpp"
#include "pcap/ip_address.hpp"
#include "pcap/tls_decrypt.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
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
  std::string cipher_suite;     // ServerHello's choice, IANA name
  std::string sni;
  std::string alpn_offered;           // "radius/1.0"
  std::string alpn;                   // chosen, when the ServerHello carries it (TLS 1.2)
  std::uint64_t octets_to_server = 0; // TCP payload
  std::uint64_t octets_to_client = 0;
  std::uint64_t application_records = 0; // TLS records of type application_data, both ways
  std::uint64_t radius_packets = 0;      // decrypted with the key log and framed by Length
  bool decrypted = false;                // a direction reached its application keys
  bool syn_seen = false;                 // the capture saw it open
  bool fin_seen = false;
  std::string unreadable; // why part of it could not be read ("gap in the TCP stream", ...)
};

/** Whether a session held RADIUS traffic that was not read: part of it could not be read, or it
 * carried application data and was not decrypted (no key log given, or none for it). */
inline bool radius_not_read(const TlsSession& session) {
  return !session.unreadable.empty() || (session.application_records > 0 && !session.decrypted);
}

/** Why, for a person: "127.0.0.2:44673 -> 127.0.0.1:2083 (TLSv1.3): 18 application records
 * not read: encrypted, and no --tls-keylog was given". */
std::string not_read_detail(const TlsSession& session, bool keys_given);

/** RadSec's port (RFC 6614 §2.1: 2083) and the ports a user named for RADIUS. */
std::vector<std::uint16_t> radsec_ports(const std::vector<std::uint16_t>& extra_ports);

/** A RADIUS packet read out of a decrypted RadSec session. */
using RadsecPacketSink = std::function<void(const Endpoint& source, const Endpoint& destination,
                                            std::int64_t timestamp_ns, FrameRef where,
                                            std::span<const std::uint8_t> packet)>;

class TlsSessionTracker {
public:
  /** ports: the RadSec ports (2083 and any the user adds); max_sessions bounds memory. With a
   * key log, TLS 1.3 sessions it has secrets for are decrypted and their packets go to sink. */
  explicit TlsSessionTracker(std::vector<std::uint16_t> ports = {2083},
                             std::size_t max_sessions = 1024, const TlsKeyLog* keys = nullptr,
                             RadsecPacketSink sink = {});

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
    // Decryption (with a key log): 0 before keys, 1 under handshake keys (TLS 1.3), 2 under
    // application keys (TLS 1.3 after Finished, TLS 1.2 after ChangeCipherSpec).
    int stage = 0;
    Tls13Reader reader;
    Tls12Reader reader12;
    std::vector<std::uint8_t> radius; // decrypted octets not yet a whole RADIUS packet
  };
  struct Flow {
    TlsSession session;
    Direction to_server;
    Direction to_client;
    std::uint64_t order = 0;
    std::optional<ClientRandom> random;
    std::optional<ClientRandom> server_random;
    std::uint16_t cipher_suite = 0;
    bool encrypt_then_mac = false; // RFC 7366, from the ServerHello
    std::int64_t now_ns = 0;       // the segment being read
    FrameRef now_frame;
  };
  bool decrypting(const Flow& flow) const;
  /** Decrypts a whole application_data record; false ends the reading of that direction. */
  bool decrypt(Flow& flow, Direction& direction, bool from_client,
               std::span<const std::uint8_t> record);
  /** TLS 1.2: a ChangeCipherSpec starts this direction's protection; false when it cannot be
   * read (no key log line, a suite not decrypted here). */
  bool change_cipher_spec(Flow& flow, Direction& direction, bool from_client);
  bool decrypt12(Flow& flow, Direction& direction, bool from_client,
                 std::span<const std::uint8_t> record);
  /** RFC 6613 §2.6: RADIUS packets by their Length field, across records, to the sink. */
  bool frame_radius(Flow& flow, Direction& direction, bool from_client,
                    std::span<const std::uint8_t> plain);

  void consume(Flow& flow, Direction& direction, bool from_client, std::uint32_t sequence, bool syn,
               std::span<const std::uint8_t> data);
  void read_records(Flow& flow, Direction& direction, bool from_client);

  std::vector<std::uint16_t> ports_;
  std::size_t max_sessions_;
  std::map<std::pair<Endpoint, Endpoint>, Flow> flows_; // (client, server)
  std::uint64_t next_order_ = 0;
  std::uint64_t not_kept_ = 0;
  const TlsKeyLog* keys_ = nullptr;
  RadsecPacketSink sink_;
};

} // namespace acctlab::capture
