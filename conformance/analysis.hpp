#pragma once
// Analysis: a Trace decoded and put in order once, for every check to read. Requests are paired
// with their answers, retransmissions of the same record are grouped (RFC 5080 §2.2.1), and the
// distinct records are grouped into sessions by NAS and Acct-Session-Id.

#include "conformance/profile.hpp"
#include "conformance/rule.hpp"
#include "conformance/trace.hpp"
#include "radius/accounting_record.hpp"
#include "radius/decode_error.hpp"
#include "radius/dictionary.hpp"
#include "radius/packet.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace acctlab::conformance {

inline constexpr std::size_t none = static_cast<std::size_t>(-1);

/** What a packet belongs to. The rules judge accounting; the rest of what reaches a RADIUS port
 * is recognised, paired and counted, and left out of their scope. */
enum class Service : std::uint8_t {
  accounting,            // Accounting-Request and -Response (RFC 2866)
  authentication,        // Access-Request, -Accept, -Reject, -Challenge (RFC 2865)
  dynamic_authorization, // CoA and Disconnect requests and their ACK/NAK (RFC 5176)
  status,                // Status-Server, Status-Client (RFC 5997)
  unknown,               // a code none of those defines
};
Service service_of(radius::Code code) noexcept;
/** Whether a code is a request's (of any service). */
bool is_request(radius::Code code) noexcept;
/** The NAS's side of a packet whatever its service: the sender of an accounting or access
 * request, the receiver of a CoA or Disconnect request (RFC 5176), and the other side of an
 * answer. Profiles and NAS partitions go by it. */
std::string nas_endpoint(const TracePacket& packet);
std::string_view to_string(Service service) noexcept;

struct PacketView {
  std::size_t index = 0; // in the trace
  const TracePacket* trace = nullptr;
  std::optional<radius::Packet> packet; // empty when the datagram did not decode
  std::optional<radius::DecodeFailure> failure;
  bool request = false;  // an Accounting-Request sent to the server
  bool response = false; // a packet the server sent back about accounting (or an unknown code)
  Service service = Service::unknown;             // by code; an answer takes its request's
  std::optional<radius::AccountingRecord> record; // for Accounting-Requests
  std::string client;                             // the NAS side endpoint
  std::string nas_key;         // NAS identity, else the client's address (session matching)
  std::size_t answer = none;   // for a request (of any service): the response that answered it
  std::size_t answers = none;  // for a response (of any service): the request it answers
  std::size_t exchange = none; // for a request: its group of retransmissions
  double event_time = 0;       // receive time - Acct-Delay-Time
};

/** One logical request: the first transmission and its retransmissions (same content except
 * Identifier, authenticator and Acct-Delay-Time). */
struct Exchange {
  std::vector<std::size_t> transmissions; // packet indices, in order
  std::size_t answered_by = none;         // the first response to any of them
};

struct SessionView {
  std::string nas;
  std::string session_id;
  std::vector<std::size_t> records; // first transmission of each exchange, in trace order
};

/** Decodes one trace packet and reads its direction, record and NAS key, as the analysis does
 * for each packet before pairing (answer, answers and exchange are left unset). */
PacketView view_packet(const TracePacket& packet, std::size_t index,
                       const radius::Dictionary& dict);

/** The key under which the analysis groups a request's transmissions into one exchange: client,
 * server, and the content apart from Identifier, authenticator and Acct-Delay-Time. */
std::string exchange_key(const PacketView& view, const radius::Dictionary& dict);

/** What makes a request the same record as another on a different path (a broadcast or failover
 * copy, or a proxy's forward): its NAS and its content apart from Identifier, authenticator,
 * Acct-Delay-Time, Proxy-State and Message-Authenticator. Copies count once per session. */
std::string record_copy_key(const PacketView& view, const radius::Dictionary& dict);

/** Appends one packet to evidence as Analysis::evidence does (answered: the request an answer
 * answers, when known); `trace_index` is the index the evidence names. */
void append_evidence(Evidence& evidence, std::size_t trace_index, const PacketView& view,
                     const PacketView* answered);

class Analysis {
public:
  Analysis(const Trace& trace, const Profile& profile, const radius::Dictionary& dict);
  /**
   * Analyses part of a larger trace: `trace` holds some of its packets, in order, and
   * trace_indices[i] is the index of trace.packets[i] in the whole trace. Evidence names those
   * indices; everything else (packets(), exchanges(), sessions()) is indexed within `trace`.
   */
  Analysis(const Trace& trace, const Profile& profile, const radius::Dictionary& dict,
           std::vector<std::size_t> trace_indices);

  const Trace& trace() const { return trace_; }
  const Profile& profile() const { return profile_; }
  const radius::Dictionary& dictionary() const { return dict_; }
  const std::vector<PacketView>& packets() const { return packets_; }
  const std::vector<Exchange>& exchanges() const { return exchanges_; }
  const std::vector<SessionView>& sessions() const { return sessions_; }

  /** Evidence naming one packet (index, stored id, identifier, NAS, session, frame). */
  Evidence evidence(std::size_t packet) const;
  /** Evidence naming several packets; NAS and session come from the last one with a record. */
  Evidence evidence(const std::vector<std::size_t>& packets) const;

  /** Status type of a request, if it carries a valid one. */
  std::optional<std::uint32_t> status(std::size_t packet) const;

  /** Whom a finding concerns: its rule's party, except that a packet rule's finding about a
   * packet the server sent (a malformed or mis-coded answer) concerns the server. */
  Party party_of(const Finding& finding) const;

  /** The index of packets()[packet] in the whole trace (itself unless analysing a part). */
  std::size_t trace_index(std::size_t packet) const {
    return trace_indices_.empty() ? packet : trace_indices_[packet];
  }

private:
  const Trace& trace_;
  const Profile& profile_;
  const radius::Dictionary& dict_;
  std::vector<PacketView> packets_;
  std::vector<Exchange> exchanges_;
  std::vector<SessionView> sessions_;
  std::vector<std::size_t> trace_indices_; // empty: the trace is whole
};

} // namespace acctlab::conformance
