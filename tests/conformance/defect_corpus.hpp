#pragma once
// The defect corpus: traces with one known defect each, built from a clean Cisco IOS IPsec
// accounting exchange (the feature document's Start / Interim / Stop, answered by a server), and
// clean variants that must produce no error or warning.

#include "conformance/engine.hpp"
#include "conformance/trace.hpp"
#include "radius/dictionary.hpp"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace acctlab::conformance::corpus {

using Attrs = std::vector<std::pair<std::string, std::string>>; // name, value in text form

/** One Accounting-Request to send, and how the server side of the trace answers it. */
struct Request {
  double time = 0;
  std::string client = "127.0.0.1:40001";
  std::optional<std::uint8_t> identifier; // default: the client's next one
  Attrs attrs;
  bool answered = true;
  double latency = 0.003;
  int response_code = 5;
  bool corrupt_request_authenticator = false;
  bool corrupt_message_authenticator = false;
  bool corrupt_response_authenticator = false;
  Attrs response_attrs; // what the answer carries (an Accounting-Response carries nothing)
};

struct RawPacket {
  double time = 0;
  Direction direction = Direction::to_server;
  std::string source;
  std::string destination;
  radius::Octets raw;
};

struct Spec {
  std::vector<Request> requests;
  std::vector<RawPacket> extra;
  std::string secret = "testing123";
  std::optional<double> interim_interval = 60;
  /** False: the trace keeps requests only, as a server database does. */
  bool responses_recorded = true;
  /** The trace's first moment when it began before its first packet (a capture started early). */
  std::optional<double> begin;
  /** What the capture held that was not read (a damaged capture's frames and file parts). */
  std::vector<Unread> unread;
};

struct Case {
  std::string name;
  std::string profile;                      // profile name
  std::optional<std::string> expected_rule; // nullopt: a clean trace
  Spec spec;
  /** Rules another party's part of the same defect draws (a request the NAS did not resend was
   * also unanswered: the server's failure), allowed beside expected_rule. */
  std::vector<std::string> also = {};
  /** A capture edge the verdict itself reports (incomplete, no accounting traffic) rather than a
   * rule: the case is detected when the verdict says so. */
  std::optional<OverallVerdict> expected_outcome = {};
};

/** Value of the first attribute named name, or nullptr. */
std::string* find(Attrs& attrs, const std::string& name);
void set(Attrs& attrs, const std::string& name, const std::string& value);
void remove(Attrs& attrs, const std::string& name);

/** The clean base: two sessions (Start, 2 x Interim, Stop; Start, Stop), all answered. */
Spec clean_spec();

/** Every case: the defects (at least 25 kinds) and the clean variants. */
std::vector<Case> all_cases();

/** Encodes, signs and answers a spec into a Trace. */
Trace build_trace(const Spec& spec, const radius::Dictionary& dict);

/** Every case's packets in one stream sorted by time: each case at its own offset in time (7 s
 * apart), with its own Acct-Session-Ids and client ports, so the cases do not touch each other's
 * sessions and the cross-session rules see them all at once. */
std::vector<TracePacket> interleaved_cases(const radius::Dictionary& dict);

} // namespace acctlab::conformance::corpus
