#pragma once
// The check functions behind the catalog's rules (conformance/catalog.cpp binds them to rows).

#include "conformance/analysis.hpp"
#include "conformance/rule.hpp"

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace acctlab::conformance::detail {

// RFC 5080 §2.2.2 suggests servers remember requests for a few seconds; acctlab's server keeps
// 30 s (server/ duplicate window), the longest a NAS's retransmissions usually span.
// RFC5080-CHANGED-SAME-ID judges a requests-only source by it.
inline constexpr double duplicate_window_seconds = 30;

// Packet scope
void check_malformed(const Rule&, const Analysis&, FindingSink&);
void check_unexpected_code(const Rule&, const Analysis&, FindingSink&);
void check_request_authenticator(const Rule&, const Analysis&, FindingSink&);
void check_message_authenticator(const Rule&, const Analysis&, FindingSink&);
void check_value_length(const Rule&, const Analysis&, FindingSink&);
void check_enum_value(const Rule&, const Analysis&, FindingSink&);
void check_terminate_cause_zero(const Rule&, const Analysis&, FindingSink&);
void check_nas_identity(const Rule&, const Analysis&, FindingSink&);
void check_avpair_syntax(const Rule&, const Analysis&, FindingSink&);
void check_presence(const PresenceRow& row, const Rule&, const Analysis&, FindingSink&);

// Exchange scope
void check_unanswered(const Rule&, const Analysis&, FindingSink&);
void check_no_retransmission(const Rule&, const Analysis&, FindingSink&);
void check_response_authenticator(const Rule&, const Analysis&, FindingSink&);
void check_response_code(const Rule&, const Analysis&, FindingSink&);
void check_unmatched_response(const Rule&, const Analysis&, FindingSink&);
void check_latency(const Rule&, const Analysis&, FindingSink&);
void check_changed_same_id(const Rule&, const Analysis&, FindingSink&);
void check_resend_new_id(const Rule&, const Analysis&, FindingSink&);

// Records (conformance/checks_records.cpp): answer contents, clocks, plausibility, consistency
void check_response_attributes(const Rule&, const Analysis&, FindingSink&);
void check_proxy_state(const Rule&, const Analysis&, FindingSink&);
void check_event_timestamp_count(const Rule&, const Analysis&, FindingSink&);
void check_event_timestamp_clock(const Rule&, const Analysis&, FindingSink&);
void check_counter_pairs(const Rule&, const Analysis&, FindingSink&);
void check_counter_rate(const Rule&, const Analysis&, FindingSink&);
void check_attribute_consistency(const Rule&, const Analysis&, FindingSink&);

/** Trace times above this (2001-09-09 in unix seconds) are absolute: clocks can be judged. */
inline constexpr double absolute_time_floor = 1e9;

/**
 * The interim interval each NAS shows, fed the requests of a trace in trace order: for every
 * session (NAS key and Acct-Session-Id), the gap between each Interim-Update's event time and the
 * previous distinct Interim-Update's (a retransmission, same exchange key, is not a new one),
 * until the session's Stop; rounded to whole seconds. The estimate is their median (the lower
 * middle of an even count), given at least min_gaps gaps. Whole traces and parts (run_judge's
 * first pass) feed it the same way, so both infer the same interval.
 */
class IntervalTally {
public:
  static constexpr std::size_t min_gaps = 3;
  void add(const PacketView& view, const radius::Dictionary& dict);
  std::map<std::string, IntervalEstimate, std::less<>> estimates() const;

private:
  struct Last {
    double event_time = 0;
    std::size_t key_hash = 0;
  };
  std::map<std::pair<std::string, std::string>, Last> last_;
  std::map<std::string, std::map<std::int64_t, std::size_t>, std::less<>> gaps_; // NAS: s -> n
};

// Session scope
void check_order(const Rule&, const Analysis&, FindingSink&);
void check_duplicate_start(const Rule&, const Analysis&, FindingSink&);
void check_no_start(const Rule&, const Analysis&, FindingSink&);
void check_after_stop(const Rule&, const Analysis&, FindingSink&);
void check_no_stop(const Rule&, const Analysis&, FindingSink&);
void check_counter_decrease(const Rule&, const Analysis&, FindingSink&);
void check_gigawords(const Rule&, const Analysis&, FindingSink&);
void check_session_time_decrease(const Rule&, const Analysis&, FindingSink&);
void check_session_time_drift(const Rule&, const Analysis&, FindingSink&);
void check_interim_cadence(const Rule&, const Analysis&, FindingSink&);
void check_rekey_new_session(const Rule&, const Analysis&, FindingSink&);
void check_acct_on_open(const Rule&, const Analysis&, FindingSink&);
void check_after_acct_on(const Rule&, const Analysis&, FindingSink&);

/** "Start", "Stop", "Interim-Update", ... or "status N"/"no status". */
std::string status_label(const Analysis& analysis, std::size_t packet);
std::string status_label(const PacketView& view);

// What the rules that look across sessions need when a run is judged in parts (a part holds
// whole sessions; conformance/run_judge.cpp): the same checks, fed compact summaries.

/** RFC5080-CHANGED-SAME-ID's message for a request (view) that reused the Identifier of an
 * unanswered earlier one with other octets. */
std::string changed_same_id_message(const PacketView& earlier, const PacketView& view,
                                    bool same_exchange);

/** Evidence naming a's packets then b's (b a record: the NAS and session are b's). */
Evidence join_evidence(Evidence a, const Evidence& b);

/** An Accounting-On/Off (the first transmission of its exchange) of the whole trace. */
struct ResetSummary {
  std::size_t index = 0; // in the whole trace
  std::string label;     // status_label of it
  Evidence evidence;     // naming it alone
};
using ResetsByNas = std::map<std::string, std::vector<ResetSummary>, std::less<>>;

/** A finding of a part, with the key that orders it among equal (severity, first packet, rule)
 * findings of other parts: the whole-trace index of its session's first record. */
using PartReport =
    std::function<void(const Rule& rule, std::string message, Evidence evidence, std::size_t key)>;

/** SES-ACCT-ON-OPEN (open_rule) and SES-AFTER-ACCT-ON (after_rule) for the sessions of a part,
 * given every reset of the whole trace, each NAS's in trace order. Either rule may be null. */
void check_resets_in_part(const Rule* open_rule, const Rule* after_rule, const Analysis& part,
                          const ResetsByNas& resets, const PartReport& report);

/** A session whose first Start names an IKE peer and a framed address. */
struct StartSummary {
  std::size_t start = 0;   // whole-trace index of the first Start
  std::size_t stop = none; // of the first Stop
  std::string nas;
  std::string session_id;
  std::string peer;
  std::string framed;
  Evidence evidence; // naming the Start alone
};

/** The sessions of a part that SES-REKEY-NEW-SESSION looks at. */
void collect_starts(const Analysis& part, std::vector<StartSummary>& out);

/** SES-REKEY-NEW-SESSION over starts fed in whole-trace order. Holds the sessions that can still
 * block a later Start: those not stopped before the latest Start seen. */
class RekeyCheck {
public:
  /** The finding this Start draws (message, evidence), if any. */
  std::optional<std::pair<std::string, Evidence>> add(const StartSummary& start);

private:
  struct Holder {
    std::string nas;
    std::string session_id;
    std::size_t start = 0;
    std::size_t stop = none;
    Evidence evidence;
  };
  std::map<std::tuple<std::string, std::string, std::string>, Holder> open_;
  std::size_t sweep_at_ = 4096;
};

} // namespace acctlab::conformance::detail
