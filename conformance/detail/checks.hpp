#pragma once
// The check functions behind the catalog's rules (conformance/catalog.cpp binds them to rows).

#include "conformance/analysis.hpp"
#include "conformance/rule.hpp"

#include <string>

namespace acctlab::conformance::detail {

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
void check_response_authenticator(const Rule&, const Analysis&, FindingSink&);
void check_response_code(const Rule&, const Analysis&, FindingSink&);
void check_unmatched_response(const Rule&, const Analysis&, FindingSink&);
void check_latency(const Rule&, const Analysis&, FindingSink&);
void check_changed_same_id(const Rule&, const Analysis&, FindingSink&);
void check_resend_new_id(const Rule&, const Analysis&, FindingSink&);

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

} // namespace acctlab::conformance::detail
