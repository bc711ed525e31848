#include "conformance/catalog.hpp"

#include "conformance/detail/checks.hpp"
#include "radius/accounting_record.hpp"

#include <algorithm>

namespace acctlab::conformance {

using namespace detail;

const std::vector<Rule>& builtin_rules() {
  static const std::vector<Rule> rules = {
      // Packet scope.
      {.id = "PKT-MALFORMED",
       .source = "RFC 2865 §3",
       .severity = Severity::error,
       .scope = Scope::packet,
       .summary = "Every datagram is a well-formed RADIUS packet",
       .detail = "Header Length within 20..4096 and the datagram; every attribute Length >= 2 "
                 "and inside the packet. The finding names the failing byte offset.",
       .example_pass = "a 20-octet Accounting-Request whose Length says 20",
       .example_fail =
           "a datagram whose Length says 300 but holds 120 octets, or an attribute of Length 1",
       .check = check_malformed},
      {.id = "PKT-UNEXPECTED-CODE",
       .source = "RFC 2866 §3",
       .severity = Severity::warning,
       .scope = Scope::packet,
       .summary = "Clients send Accounting-Request (or Status-Server) to an accounting server",
       .detail = "RFC 5997 Status-Server is accepted. Authentication (Access-*, RFC 2865) and "
                 "dynamic authorization (CoA, Disconnect, RFC 5176) that a capture holds beside "
                 "accounting are recognised, paired, counted and left out of the rules' scope, "
                 "unless sent to an accounting port (1813, 1646); anything else is reported.",
       .example_pass = "Accounting-Request or Status-Server to port 1813",
       .example_fail = "an Access-Request sent to the accounting port",
       .check = check_unexpected_code},
      {.id = "PKT-REQUEST-AUTHENTICATOR",
       .source = "RFC 2866 §3",
       .severity = Severity::error,
       .scope = Scope::packet,
       .summary = "The Request Authenticator is MD5(Code+Identifier+Length+16 zeros+Attributes+"
                  "Secret)",
       .detail = "Checked when the shared secret is known; for database traces without a secret "
                 "the server's own bad-authenticator verdict is reported.",
       .example_pass = "a request signed with the NAS's shared secret",
       .example_fail = "a request whose authenticator was made with another secret",
       .check = check_request_authenticator},
      {.id = "PKT-MESSAGE-AUTHENTICATOR",
       .source = "RFC 3579 §3.2, RFC 2869 §5.14",
       .severity = Severity::error,
       .scope = Scope::packet,
       .summary = "A Message-Authenticator, when present, is a valid HMAC-MD5 of the packet",
       .example_pass = "no Message-Authenticator, or one that verifies",
       .example_fail = "a Message-Authenticator whose HMAC-MD5 does not match",
       .check = check_message_authenticator},
      {.id = "PKT-VALUE-LENGTH",
       .source = "RFC 2865 §5, RFC 8044 §3, RFC 3162 §2.3, RFC 4818 §3",
       .severity = Severity::error,
       .scope = Scope::packet,
       .summary = "Every value has the length its dictionary type requires",
       .detail = "integer, date and ipaddr take 4 octets, ipv6addr 16, integer64 8, text and "
                 "octets 1-253, ipv6prefix 2-18 with a prefix length of at most 128 and the "
                 "prefix octets that length covers (ipv4prefix: 6, at most 32).",
       .example_pass = "NAS-IP-Address of 4 octets",
       .example_fail = "Acct-Session-Time of 3 octets, Framed-IP-Address of 5",
       .check = check_value_length},
      {.id = "PKT-ENUM-VALUE",
       .source = "RFC 2866 §5.1, §5.6, §5.10; RFC 2865 §5.41",
       .severity = Severity::error,
       .scope = Scope::packet,
       .summary = "Enumerated attributes carry values that exist (Acct-Status-Type, "
                  "Acct-Terminate-Cause, NAS-Port-Type, ...)",
       .detail = "A value is valid when the dictionary has a VALUE for it. Acct-Terminate-Cause 0 "
                 "has its own rule (PKT-TERMINATE-CAUSE-ZERO).",
       .example_pass = "Acct-Status-Type 3 (Interim-Update), Acct-Terminate-Cause 1 (User-Request)",
       .example_fail = "Acct-Status-Type 99, NAS-Port-Type 1234",
       .check = check_enum_value},
      {.id = "PKT-TERMINATE-CAUSE-ZERO",
       .source = "RFC 2866 §5.10; seed Accounting Stop example",
       .severity = Severity::warning,
       .scope = Scope::packet,
       .summary = "Acct-Terminate-Cause 0 (IOS \"none\") is not a value any RFC defines",
       .detail = "The feature document's Stop record sends Acct-Terminate-Cause 0, which IOS "
                 "prints as \"none [0]\". RFC 2866 §5.10 defines 1-18 (later RFCs add more), "
                 "none of them 0. Real IOS sends it, so acctlab warns rather than fails: the "
                 "record is stored, but a billing system cannot tell why the session ended.",
       .example_pass = "a Stop with Acct-Terminate-Cause 1 (User-Request)",
       .example_fail = "the document's Stop with Acct-Terminate-Cause 0 (\"none\")",
       .check = check_terminate_cause_zero},
      {.id = "PKT-NAS-IDENTITY",
       .source = "RFC 2866 §4.1; RFC 2865 §5.4, §5.32; RFC 3162 §2.1",
       .severity = Severity::error,
       .scope = Scope::packet,
       .party = Party::nas,
       .summary = "Every Accounting-Request carries NAS-IP-Address, NAS-IPv6-Address or "
                  "NAS-Identifier",
       .detail = "RFC 2866 §4.1 needs NAS-IP-Address or NAS-Identifier; RFC 3162 §2.1 adds "
                 "NAS-IPv6-Address for a NAS on IPv6. A profile row naming NAS-IP-Address can "
                 "accept NAS-IPv6-Address in its stead (NAS-IP-Address|NAS-IPv6-Address).",
       .example_pass = "a Stop with NAS-IPv6-Address 2001:db8::1 and no NAS-IP-Address",
       .example_fail = "a Start with none of NAS-IP-Address, NAS-IPv6-Address, NAS-Identifier",
       .check = check_nas_identity},
      {.id = "PKT-EVENT-TIMESTAMP-COUNT",
       .source = "RFC 2869 §5.19 (Event-Timestamp 0-1), §5.3",
       .severity = Severity::error,
       .scope = Scope::packet,
       .party = Party::nas,
       .summary = "An Accounting-Request carries at most one Event-Timestamp",
       .example_pass = "a Stop with one Event-Timestamp",
       .example_fail = "an Interim-Update with Event-Timestamp 1796624808 and 1796624868",
       .check = check_event_timestamp_count},
      {.id = "PKT-EVENT-TIMESTAMP-CLOCK",
       .source = "RFC 2869 §5.3 (Event-Timestamp); RFC 2866 §5.2 (Acct-Delay-Time); profile "
                 "option clock-tolerance",
       .severity = Severity::warning,
       .scope = Scope::packet,
       .party = Party::nas,
       .summary = "Event-Timestamp agrees with the receive time less Acct-Delay-Time, within "
                  "clock-tolerance",
       .detail = "Judged only when the trace's times are absolute (unix seconds above 10^9: "
                 "captures, databases); a trace file timed from 0 says nothing about the "
                 "NAS's clock. The tolerance (default 300 s) applies in either direction.",
       .example_pass = "received 12:00:10 with Acct-Delay-Time 10 and Event-Timestamp 12:00:00",
       .example_fail = "received 12:00:00 with Event-Timestamp 13:00:00 (3600 s ahead)",
       .check = check_event_timestamp_clock},
      {.id = "PKT-COUNTER-PAIRS",
       .source = "RFC 2866 §5.3, §5.4, §5.8, §5.9",
       .severity = Severity::warning,
       .scope = Scope::packet,
       .party = Party::nas,
       .summary = "Octets and packets of one direction are both zero or both non-zero",
       .detail = "Octets travel in packets: Acct-Input-Octets > 0 with Acct-Input-Packets 0 (or "
                 "packets without octets) cannot be counted right. Octets include gigawords.",
       .example_pass = "Acct-Input-Octets 608, Acct-Input-Packets 4",
       .example_fail = "Acct-Output-Octets 152608, Acct-Output-Packets 0",
       .check = check_counter_pairs},
      {.id = "PKT-CISCO-AVPAIR-SYNTAX",
       .source = "seed debug examples (Cisco AVpair \"name=value\"); dictionary.cisco",
       .severity = Severity::error,
       .scope = Scope::packet,
       .summary = "Every Cisco-AVPair is \"name=value\" (mandatory) or \"name*value\" (optional)",
       .example_pass = "Cisco-AVPair \"vrf-id=cisco\" or \"vrf-id*cisco\"",
       .example_fail = "Cisco-AVPair \"vrf-id cisco\"",
       .check = check_avpair_syntax},
      // Exchange scope.
      {.id = "EXC-UNANSWERED",
       .source = "RFC 2866 §2, §4.2",
       .severity = Severity::error,
       .scope = Scope::exchange,
       .party = Party::server,
       .summary = "Every Accounting-Request (or one of its retransmissions) is answered",
       .detail = "The server's failure (or the path's): a request the trace ends before an "
                 "answer was due (the profile's max-latency) is an info about the path. Skipped "
                 "for sources that keep requests only (a server database).",
       .example_pass = "an Interim-Update answered after one retransmission",
       .example_fail = "a Stop never answered, however often the NAS sent it",
       .check = check_unanswered},
      {.id = "EXC-NO-RETRANSMISSION",
       .source = "RFC 2866 §2; RFC 5080 §2.2.1",
       .severity = Severity::warning,
       .scope = Scope::exchange,
       .summary = "A NAS resends an Accounting-Request that gets no answer",
       .detail = "RFC 2866 §2: \"If no response is returned within a length of time, the request "
                 "is re-sent a number of times.\" An unanswered request is the server's or the "
                 "path's failure (EXC-UNANSWERED); whether the NAS tried again is the NAS's. "
                 "Reported when the trace goes on longer than the profile's retransmit-wait "
                 "(default 30 s) after a request sent once. Skipped for sources that keep "
                 "requests only.",
       .example_pass = "a Stop unanswered at 40 s, sent again at 43 s with the same Identifier",
       .example_fail = "a Stop unanswered at 40 s and never sent again in a trace that goes on "
                       "to 150 s",
       .check = check_no_retransmission},
      {.id = "EXC-RESPONSE-AUTHENTICATOR",
       .source = "RFC 2866 §3, RFC 2865 §3",
       .severity = Severity::error,
       .scope = Scope::exchange,
       .party = Party::server,
       .summary = "The answer's Response Authenticator is MD5(Code+Identifier+Length+Request "
                  "Authenticator+Attributes+Secret)",
       .example_pass = "an answer signed over the request's authenticator and the secret",
       .example_fail = "an answer signed with another secret or another request's authenticator",
       .check = check_response_authenticator},
      {.id = "EXC-RESPONSE-CODE",
       .source = "RFC 2866 §4.2",
       .severity = Severity::error,
       .scope = Scope::exchange,
       .party = Party::server,
       .summary = "An Accounting-Request is answered with an Accounting-Response",
       .example_pass = "Accounting-Request answered by Accounting-Response (5)",
       .example_fail = "Accounting-Request answered by Access-Accept (2)",
       .check = check_response_code},
      {.id = "EXC-UNMATCHED-RESPONSE",
       .source = "RFC 2865 §3 (Identifier)",
       .severity = Severity::warning,
       .scope = Scope::exchange,
       .party = Party::path,
       .summary = "Every answer matches a request by addresses, ports and Identifier",
       .example_pass = "an Accounting-Response to port 40001 with the request's Identifier",
       .example_fail = "an Accounting-Response with an Identifier no request used",
       .check = check_unmatched_response},
      {.id = "EXC-RESPONSE-ATTRIBUTES",
       .source = "RFC 2866 §4.2, §5.13 (Accounting-Response column); RFC 3579 §3.2",
       .severity = Severity::error,
       .scope = Scope::exchange,
       .party = Party::server,
       .summary = "An Accounting-Response carries only Proxy-State, Vendor-Specific and "
                  "Message-Authenticator",
       .detail = "RFC 2866 §5.13 gives every other attribute 0 in an Accounting-Response (§4.2: "
                 "the server's answer just acknowledges the record).",
       .example_pass = "an Accounting-Response with no attributes, or with Proxy-State",
       .example_fail = "an Accounting-Response carrying Reply-Message or Class",
       .check = check_response_attributes},
      {.id = "EXC-PROXY-STATE",
       .source = "RFC 2865 §5.33 (Proxy-State), applied to accounting by RFC 2866 §2.1 and §5.13",
       .severity = Severity::error,
       .scope = Scope::exchange,
       .party = Party::server,
       .summary = "An Accounting-Response returns its request's Proxy-State attributes unmodified "
                  "and in order",
       .detail = "A proxy adds Proxy-State to what it forwards and finds its pending request by "
                 "it in the answer; a server that drops, alters or reorders them answers a "
                 "proxy it cannot be matched by.",
       .example_pass = "a request with Proxy-State 0x3636 answered by a response carrying "
                       "Proxy-State 0x3636",
       .example_fail = "a request with Proxy-State 0x3636 answered by a response without it",
       .check = check_proxy_state},
      {.id = "EXC-LATENCY",
       .source = "profile option max-latency (RFC 2866 §2 leaves timing to the client's "
                 "retransmission timer)",
       .severity = Severity::warning,
       .scope = Scope::exchange,
       .party = Party::server,
       .summary = "Answers arrive within the profile's max-latency",
       .example_pass = "answered in 3 ms (max-latency 1 s)",
       .example_fail = "answered 2.5 s after the request",
       .check = check_latency},
      {.id = "RFC5080-CHANGED-SAME-ID",
       .source = "RFC 5080 §2.2.1",
       .severity = Severity::error,
       .scope = Scope::exchange,
       .summary = "A retransmission whose content changed (e.g. Acct-Delay-Time) uses a new "
                  "Identifier",
       .detail = "Reusing the Identifier of an unanswered request with different content lets "
                 "the server's duplicate cache answer the new packet with the old response.",
       .example_pass = "a retransmission with Acct-Delay-Time 3 under a new Identifier",
       .example_fail = "Acct-Delay-Time changed from 0 to 3 under the same Identifier",
       .check = check_changed_same_id},
      {.id = "RFC5080-RESEND-NEW-ID",
       .source = "RFC 5080 §2.2.1; RFC 2865 §3 (a duplicate has the same source address, source "
                 "port and Identifier)",
       .severity = Severity::error,
       .scope = Scope::exchange,
       .summary = "An identical retransmission keeps its source port, Identifier and Request "
                  "Authenticator",
       .detail = "Sent under a new Identifier, or from another source port while the first copy "
                 "is unanswered, an unchanged retransmission looks like a new record and is "
                 "counted twice.",
       .example_pass = "an unchanged retransmission under the same Identifier and authenticator",
       .example_fail = "the same content sent again under a new Identifier",
       .check = check_resend_new_id},
      // Session scope.
      {.id = "SES-ORDER",
       .source = "RFC 2866 §5.1",
       .severity = Severity::error,
       .scope = Scope::session,
       .summary = "Start comes before Interim-Update, Interim-Update before Stop",
       .example_pass = "Start, Interim-Update, Stop",
       .example_fail = "an Interim-Update before the session's Start",
       .check = check_order},
      {.id = "SES-DUPLICATE-START",
       .source = "RFC 2866 §5.1",
       .severity = Severity::error,
       .scope = Scope::session,
       .summary = "One Start per session",
       .example_pass = "one Start per Acct-Session-Id",
       .example_fail = "a second Start for a session that has not stopped",
       .check = check_duplicate_start},
      {.id = "SES-NO-START",
       .source = "RFC 2866 §5.1; seed RADIUS Stop Accounting (stop-only)",
       .severity = Severity::error,
       .scope = Scope::session,
       .summary = "A session begins with a Start, unless the profile allows stop-only sessions",
       .detail = "The seed: \"It is possible that only the stop packet will be sent without the "
                 "start if configured to do so.\" A profile with stop-only-allowed yes accepts a "
                 "session that is a lone Stop; updates without a Start are still reported.",
       .example_pass = "Start then Stop; a lone Stop where the profile allows stop-only sessions",
       .example_fail = "an Interim-Update with no Start before it",
       .check = check_no_start},
      {.id = "SES-AFTER-STOP",
       .source = "RFC 2866 §5.1",
       .severity = Severity::error,
       .scope = Scope::session,
       .summary = "Nothing follows a session's Stop (one Stop per session)",
       .example_pass = "nothing after the Stop",
       .example_fail = "an Interim-Update or a second Stop after the session's Stop",
       .check = check_after_stop},
      {.id = "SES-NO-STOP",
       .source = "RFC 2866 §5.1",
       .severity = Severity::info,
       .scope = Scope::session,
       .summary = "Sessions still open when the trace ends",
       .example_pass = "every session stopped by the end of the trace",
       .example_fail = "a session whose last record is an Interim-Update (info)",
       .check = check_no_stop},
      {.id = "SES-COUNTER-DECREASE",
       .source = "RFC 2866 §5.3, §5.4, §5.8, §5.9; RFC 2869 §2.1",
       .severity = Severity::error,
       .scope = Scope::session,
       .summary = "Octet and packet counters never decrease within a session",
       .detail = "Counters compare as 64-bit values: octets + 2^32 x gigawords.",
       .example_pass = "Acct-Input-Octets 608, then 90000, then 152608",
       .example_fail = "Acct-Input-Octets 90000, then 300",
       .check = check_counter_decrease},
      {.id = "SES-GIGAWORDS",
       .source = "RFC 2869 §5.1, §5.2; seed Table 2 rows acct-input-gigawords, "
                 "acct-output-gigawords",
       .severity = Severity::error,
       .scope = Scope::session,
       .summary = "When an octet counter wraps past 2^32, Acct-*-Gigawords counts the wrap",
       .detail = "Reported instead of SES-COUNTER-DECREASE when the 32-bit octets fell from "
                 "above 2^31 with unchanged gigawords, or gigawords seen earlier disappeared. "
                 "(The seed's Table 2 gives 52 for both gigaword attributes; RFC 2869 assigns 52 "
                 "to Acct-Input-Gigawords and 53 to Acct-Output-Gigawords, as acctlab does.)",
       .example_pass = "Acct-Input-Octets 4294967000, then 1000 with Acct-Input-Gigawords 1",
       .example_fail = "Acct-Input-Octets 4294967000, then 1000 with no gigawords",
       .check = check_gigawords},
      {.id = "SES-SESSION-TIME-DECREASE",
       .source = "RFC 2866 §5.7",
       .severity = Severity::error,
       .scope = Scope::session,
       .summary = "Acct-Session-Time never decreases within a session",
       .example_pass = "Acct-Session-Time 60, 120, 150",
       .example_fail = "Acct-Session-Time 120, then 50",
       .check = check_session_time_decrease},
      {.id = "SES-SESSION-TIME-DRIFT",
       .source = "RFC 2866 §5.7; profile option session-time-tolerance",
       .severity = Severity::warning,
       .scope = Scope::session,
       .summary = "Acct-Session-Time matches the time elapsed since the Start, within tolerance",
       .detail = "Event times are receive time minus Acct-Delay-Time (RFC 2866 §5.2); the "
                 "tolerance is the profile's session-time-tolerance plus 1% of the elapsed time.",
       .example_pass = "an update 120 s after the Start with Acct-Session-Time 120",
       .example_fail =
           "an update 120 s after the Start with Acct-Session-Time 140 (tolerance 3.2 s)",
       .check = check_session_time_drift},
      {.id = "SES-INTERIM-CADENCE",
       .source = "RFC 2869 §2.1, §5.16; seed Configuring Accounting Updates (aaa accounting "
                 "update periodic)",
       .severity = Severity::warning,
       .scope = Scope::session,
       .summary = "Interim-Updates arrive every configured interval, within tolerance",
       .detail = "The interval comes from the profile (interim-interval), else the trace "
                 "(--interim-interval), else Acct-Interim-Interval in the session's records, "
                 "else the interval the NAS shows: the median gap between consecutive "
                 "Interim-Updates of its sessions in the trace (at least 3 gaps). The finding "
                 "says which. The tolerance is interim-tolerance; the finding is on the record "
                 "after the gap. An Interim-Update the session's Stop follows within the "
                 "tolerance is the session's closing report, never early.",
       .example_pass = "Start, then Interim-Updates 600, 1200, 1800 s later (interval 600 s)",
       .example_fail = "Interim-Updates 600 s apart, then one 1800 s after the previous",
       .check = check_interim_cadence},
      {.id = "SES-COUNTER-RATE",
       .source = "RFC 2866 §5.3, §5.4, §5.7; RFC 2869 §5.1, §5.2; profile option max-link-rate",
       .severity = Severity::warning,
       .scope = Scope::session,
       .party = Party::nas,
       .summary = "Octet counters grow no faster than the profile's max-link-rate",
       .detail = "Growth from the previous record with the counter (or the Start, at 0; without "
                 "a Start, over the first record's Acct-Session-Time) over the longer of the "
                 "event-time and Acct-Session-Time spans, at least 1 s. Default 100 Gbit/s.",
       .example_pass = "152608 octets in 709 s (1.7 kbit/s)",
       .example_fail = "4 GiB more octets in 1 s between two Interim-Updates (34 Gbit/s over "
                       "a 10G limit)",
       .check = check_counter_rate},
      {.id = "SES-ATTRIBUTE-CONSISTENCY",
       .source = "RFC 2866 §5.13 (0-1 attributes); seed Table 1, Table 2 and examples "
                 "(Framed-IP-Address, vrf-id in every record)",
       .severity = Severity::warning,
       .scope = Scope::session,
       .party = Party::nas,
       .summary = "An optional attribute the profile lists for a record type, carried by the "
                  "session's other records of that type or its updates, is in every one",
       .detail = "Compared with the session's other records of the same Acct-Status-Type and "
                 "its Interim-Updates, up to its Stop. Attributes a row requires are the "
                 "presence rule's; a Start's attributes are not expected in later records.",
       .example_pass = "three Interim-Updates each with vrf-id=cisco",
       .example_fail = "Interim-Updates with Framed-IP-Address 10.13.13.1, then one without it",
       .check = check_attribute_consistency},
      {.id = "SES-REKEY-NEW-SESSION",
       .source = "seed IKE and IPSec Subsystem Interaction (\"New accounting records are not "
                 "generated during a rekeying.\")",
       .severity = Severity::error,
       .scope = Scope::session,
       .summary = "A rekey does not open a second session for the same peer and framed address",
       .detail = "A Start naming the same NAS, isakmp-initiator-ip and Framed-IP-Address as a "
                 "session that has not stopped is reported.",
       .example_pass = "a rekey that keeps the session; a new Start after the old session's Stop",
       .example_fail = "a Start for peer 11.1.2.2 and 10.13.13.1 while their session is open",
       .check = check_rekey_new_session},
      {.id = "SES-ACCT-ON-OPEN",
       .source = "RFC 2866 §5.1 (Accounting-On, Accounting-Off)",
       .severity = Severity::warning,
       .scope = Scope::session,
       .summary = "Sessions are stopped before the NAS sends Accounting-On or Accounting-Off",
       .detail = "A session open when its NAS announces Accounting-On/Off is ended by it, and "
                 "the usage since its last record is lost.",
       .example_pass = "Accounting-On after every session stopped",
       .example_fail =
           "Accounting-On while a session is open (its usage since its last record is lost)",
       .check = check_acct_on_open},
      {.id = "SES-AFTER-ACCT-ON",
       .source = "RFC 2866 §5.1 (Accounting-On, Accounting-Off)",
       .severity = Severity::error,
       .scope = Scope::session,
       .summary = "No record continues a session after its NAS's Accounting-On/Off",
       .example_pass = "a new session after Accounting-On",
       .example_fail = "an Interim-Update of a session the Accounting-On ended",
       .check = check_after_acct_on},
  };
  return rules;
}

std::vector<Rule> profile_rules(const Profile& profile) {
  std::vector<Rule> rules;
  for (const auto& row : profile.rows) {
    std::string what = row.avpair ? "the Cisco AV pair " + row.names.front() : row.names.front();
    if (!row.avpair) {
      for (std::size_t i = 1; i < row.names.size(); ++i) {
        what += " (or " + row.names[i] + ")";
      }
    }
    Rule rule;
    rule.id = row.id;
    rule.source = row.source;
    rule.severity = row.severity;
    rule.scope = Scope::packet;
    rule.summary = (row.status ? row.status_text : std::string("Every")) +
                   " Accounting-Request carries " + what + " " + row.count.text() + " time(s)";
    rule.detail =
        "Profile " + profile.name + " (" + profile.path + ":" + std::to_string(row.line) + ")";
    if (row.names.size() > 1) {
      rule.detail += "; also accepted as";
      for (std::size_t i = 1; i < row.names.size(); ++i) {
        rule.detail += " \"" + row.names[i] + "\"";
      }
      rule.detail += " (an info finding says which was seen)";
    }
    // One record each side of the row's count.
    const std::string status_name =
        row.status ? std::string(radius::status_type_name(*row.status)) : std::string();
    const std::string record = !row.status           ? std::string("any request")
                               : status_name.empty() ? "a request of status " + row.status_text
                                                     : "a " + status_name;
    const auto times = [](std::uint32_t n) {
      return n == 1 ? std::string("once") : std::to_string(n) + " times";
    };
    rule.example_pass = row.count.max == 0 ? record + " without " + what
                                           : record + " carrying " + what + " " +
                                                 times(std::max<std::uint32_t>(row.count.min, 1));
    if (row.count.min > 0) {
      rule.example_fail = record + " without " + what;
    } else if (row.count.max != CountRange{}.max) {
      rule.example_fail = record + " carrying " + what + " " + times(row.count.max + 1);
    }
    rule.check = [row](const Rule& self, const Analysis& analysis, FindingSink& sink) {
      check_presence(row, self, analysis, sink);
    };
    rules.push_back(std::move(rule));
  }
  return rules;
}

std::vector<Rule> rules_for(const Profile& profile) {
  auto rules = builtin_rules();
  auto extra = profile_rules(profile);
  rules.insert(rules.end(), std::make_move_iterator(extra.begin()),
               std::make_move_iterator(extra.end()));
  return rules;
}

const Rule* find_rule(const std::vector<Rule>& rules, std::string_view id) {
  for (const auto& rule : rules) {
    if (rule.id == id) {
      return &rule;
    }
  }
  return nullptr;
}

} // namespace acctlab::conformance
