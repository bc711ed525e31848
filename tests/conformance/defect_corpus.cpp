#include "defect_corpus.hpp"

#include "radius/authenticator.hpp"
#include "radius/packet_codec.hpp"
#include "radius/text_form.hpp"

#include <algorithm>
#include <map>
#include <stdexcept>

namespace acctlab::conformance::corpus {
namespace {

constexpr const char* server = "127.0.0.1:1813";

std::string q(const std::string& text) {
  return "\"" + text + "\"";
}

Attrs start_attrs(const std::string& session, const std::string& peer, const std::string& framed,
                  const std::string& user) {
  // The feature document's Start record (Accounting Start), attribute for attribute.
  return {{"Acct-Session-Id", q(session)},
          {"Cisco-AVPair", q("isakmp-group-id=cclient")},
          {"Framed-IP-Address", framed},
          {"Cisco-AVPair", q("vrf-id=cisco")},
          {"Cisco-AVPair", q("isakmp-initiator-ip=" + peer)},
          {"Cisco-AVPair", q("connect-progress=No Progress")},
          {"User-Name", q(user)},
          {"Acct-Status-Type", "Start"},
          {"Cisco-NAS-Port", q("FastEthernet0/0.1")},
          {"NAS-Port", "0"},
          {"NAS-IP-Address", "10.1.1.147"},
          {"Acct-Delay-Time", "0"}};
}

struct Usage {
  std::uint32_t session_time;
  std::uint64_t in_octets;
  std::uint64_t out_octets;
  std::uint32_t in_packets;
  std::uint32_t out_packets;
};

Attrs update_attrs(const std::string& status, const std::string& session, const std::string& peer,
                   const Usage& usage) {
  // The document's Accounting Updates / Stop records.
  Attrs attrs{{"Acct-Session-Id", q(session)},
              {"Cisco-AVPair", q("vrf-id=cisco")},
              {"Cisco-AVPair", q("isakmp-initiator-ip=" + peer)},
              {"Cisco-AVPair", q("connect-progress=No Progress")},
              {"Acct-Session-Time", std::to_string(usage.session_time)},
              {"Acct-Input-Octets", std::to_string(usage.in_octets & 0xffffffffu)},
              {"Acct-Output-Octets", std::to_string(usage.out_octets & 0xffffffffu)},
              {"Acct-Input-Packets", std::to_string(usage.in_packets)},
              {"Acct-Output-Packets", std::to_string(usage.out_packets)}};
  // The document's Stop carries both gigaword counters (Table 2), its Update none: an update
  // adds them once a counter has wrapped.
  if (status == "Stop" || (usage.in_octets >> 32) || (usage.out_octets >> 32)) {
    attrs.push_back({"Acct-Input-Gigawords", std::to_string(usage.in_octets >> 32)});
    attrs.push_back({"Acct-Output-Gigawords", std::to_string(usage.out_octets >> 32)});
  }
  if (status == "Stop") {
    attrs.push_back({"Acct-Terminate-Cause", "User-Request"});
    attrs.push_back({"Cisco-AVPair", q("disc-cause-ext=No Reason")});
  }
  attrs.push_back({"Acct-Status-Type", status});
  attrs.push_back({"Cisco-NAS-Port", q("FastEthernet0/0.1")});
  attrs.push_back({"NAS-Port", "0"});
  attrs.push_back({"NAS-IP-Address", "10.1.1.147"});
  attrs.push_back({"Acct-Delay-Time", "0"});
  return attrs;
}

// Positions of the clean base's requests in Spec::requests.
enum : std::size_t { s1_start, s2_start, s2_stop, s1_interim1, s1_interim2, s1_stop };

Request at(double time, Attrs attrs) {
  Request request;
  request.time = time;
  request.attrs = std::move(attrs);
  return request;
}

std::string* find_avpair(Attrs& attrs, const std::string& name) {
  for (auto& [key, value] : attrs) {
    if (key == "Cisco-AVPair" && value.starts_with("\"" + name)) {
      return &value;
    }
  }
  return nullptr;
}

void remove_avpair(Attrs& attrs, const std::string& name) {
  std::erase_if(attrs, [&](const auto& kv) {
    return kv.first == "Cisco-AVPair" && kv.second.starts_with("\"" + name);
  });
}

Case defect(std::string name, std::string rule, void (*mutate)(Spec&),
            std::string profile = "cisco-ios-ipsec") {
  Case c{std::move(name), std::move(profile), std::move(rule), clean_spec()};
  mutate(c.spec);
  return c;
}

Case clean(std::string name, void (*mutate)(Spec&), std::string profile = "cisco-ios-ipsec") {
  Case c{std::move(name), std::move(profile), std::nullopt, clean_spec()};
  mutate(c.spec);
  return c;
}

std::size_t attribute_offset(const radius::Octets& wire, std::uint8_t type) {
  std::size_t offset = radius::header_size;
  while (offset + 2 <= wire.size()) {
    if (wire[offset] == type) {
      return offset;
    }
    offset += std::max<std::size_t>(wire[offset + 1], 2);
  }
  return 0;
}

} // namespace

std::string* find(Attrs& attrs, const std::string& name) {
  for (auto& [key, value] : attrs) {
    if (key == name) {
      return &value;
    }
  }
  return nullptr;
}

void set(Attrs& attrs, const std::string& name, const std::string& value) {
  if (auto* existing = find(attrs, name)) {
    *existing = value;
  } else {
    attrs.push_back({name, value});
  }
}

void remove(Attrs& attrs, const std::string& name) {
  std::erase_if(attrs, [&](const auto& kv) { return kv.first == name; });
}

Spec clean_spec() {
  Spec spec;
  spec.requests.resize(6);
  spec.requests[s1_start] = at(0, start_attrs("00000001", "11.1.2.2", "10.13.13.1", "joe@cclient"));
  spec.requests[s2_start] =
      at(10, start_attrs("00000002", "11.1.2.3", "10.13.13.2", "ann@cclient"));
  spec.requests[s2_stop] =
      at(40, update_attrs("Stop", "00000002", "11.1.2.3", {30, 1200, 2400, 10, 20}));
  spec.requests[s1_interim1] =
      at(60, update_attrs("Interim-Update", "00000001", "11.1.2.2", {60, 608, 608, 4, 4}));
  spec.requests[s1_interim2] = at(
      120, update_attrs("Interim-Update", "00000001", "11.1.2.2", {120, 90000, 91000, 600, 610}));
  spec.requests[s1_stop] =
      at(150, update_attrs("Stop", "00000001", "11.1.2.2", {150, 152608, 152608, 1004, 1004}));
  return spec;
}

namespace {

// Unix time of the absolute-clock cases (2027-01-15 08:00:00 UTC): captures and databases time
// packets so; trace files may start at 0, where clocks are not judged.
constexpr double wall_clock = 1800000000;

/** The base moved to wall-clock time, each request stamped with Event-Timestamp at its event
 * time (receive time less Acct-Delay-Time, here 0). */
void on_wall_clock(Spec& s) {
  for (auto& request : s.requests) {
    request.time += wall_clock;
    set(request.attrs, "Event-Timestamp", std::to_string(static_cast<std::uint64_t>(request.time)));
  }
}

/** Session 00000001 with Interim-Updates at the given times (s after its Start at 0) and a Stop
 * 30 s after the last, counting 1000 octets and 10 packets a second each way; no interval is
 * configured, so SES-INTERIM-CADENCE infers it from the NAS. */
void with_interims(Spec& s, const std::vector<std::uint32_t>& times) {
  s.interim_interval = std::nullopt;
  std::erase_if(s.requests, [](const Request& r) {
    const auto* id = find(const_cast<Attrs&>(r.attrs), "Acct-Session-Id");
    const auto* status = find(const_cast<Attrs&>(r.attrs), "Acct-Status-Type");
    return id && *id == q("00000001") && status && *status != "Start";
  });
  const auto usage = [](std::uint32_t t) {
    return Usage{t, 1000ull * t, 1000ull * t, 10 * t, 10 * t};
  };
  for (const auto t : times) {
    s.requests.push_back(at(t, update_attrs("Interim-Update", "00000001", "11.1.2.2", usage(t))));
  }
  const auto end = times.back() + 30;
  s.requests.push_back(at(end, update_attrs("Stop", "00000001", "11.1.2.2", usage(end))));
}

/** A capture taken on a proxy: each of session 00000001's records again 2 ms later from the
 * proxy (127.0.0.2) with the proxy's own Proxy-State, answered with it. */
void forward_through_proxy(Spec& s) {
  std::vector<Request> forwards;
  for (const auto& request : s.requests) {
    const auto* id = find(const_cast<Attrs&>(request.attrs), "Acct-Session-Id");
    if (!id || *id != q("00000001")) {
      continue;
    }
    auto forwarded = request;
    forwarded.time += 0.002;
    forwarded.client = "127.0.0.2:40002";
    forwarded.identifier.reset();
    forwarded.attrs.push_back({"Proxy-State", "0x313334"});
    forwarded.response_attrs.push_back({"Proxy-State", "0x313334"});
    forwards.push_back(std::move(forwarded));
  }
  s.requests.insert(s.requests.end(), forwards.begin(), forwards.end());
}

} // namespace

std::vector<Case> all_cases() {
  std::vector<Case> cases;
  // Packet scope: the profile's presence rows.
  cases.push_back(defect("missing-required-attribute", "CISCO-START-NAS-PORT",
                         [](Spec& s) { remove(s.requests[s1_start].attrs, "NAS-Port"); }));
  cases.push_back(defect("repeated-attribute", "CISCO-STOP-ACCT-DELAY-TIME", [](Spec& s) {
    s.requests[s1_stop].attrs.push_back({"Acct-Delay-Time", "0"});
  }));
  cases.push_back(defect("forbidden-user-password", "CISCO-ANY-USER-PASSWORD", [](Spec& s) {
    s.requests[s1_start].attrs.push_back({"User-Password", "\"secret\""});
  }));
  cases.push_back(defect("forbidden-state", "CISCO-ANY-STATE", [](Spec& s) {
    s.requests[s1_interim1].attrs.push_back({"State", "0x01020304"});
  }));
  cases.push_back(defect("forbidden-reply-message", "CISCO-ANY-REPLY-MESSAGE", [](Spec& s) {
    s.requests[s2_stop].attrs.push_back({"Reply-Message", "\"bye\""});
  }));
  cases.push_back(defect("usage-in-start", "CISCO-START-ACCT-INPUT-OCTETS", [](Spec& s) {
    s.requests[s1_start].attrs.push_back({"Acct-Input-Octets", "0"});
  }));
  cases.push_back(defect("update-without-counter", "CISCO-INTERIM-ACCT-INPUT-PACKETS", [](Spec& s) {
    remove(s.requests[s1_interim1].attrs, "Acct-Input-Packets");
  }));
  cases.push_back(
      defect("start-without-peer", "CISCO-START-AVPAIR-ISAKMP-INITIATOR-IP",
             [](Spec& s) { remove_avpair(s.requests[s2_start].attrs, "isakmp-init"); }));
  cases.push_back(defect("missing-status-type", "CISCO-ANY-ACCT-STATUS-TYPE",
                         [](Spec& s) { remove(s.requests[s2_stop].attrs, "Acct-Status-Type"); }));
  // Packet scope: built-in rules.
  cases.push_back(defect("wrong-integer-length", "PKT-VALUE-LENGTH",
                         [](Spec& s) { set(s.requests[s1_stop].attrs, "NAS-Port", "0x0000"); }));
  cases.push_back(defect("wrong-address-length", "PKT-VALUE-LENGTH", [](Spec& s) {
    set(s.requests[s2_start].attrs, "Framed-IP-Address", "0x0a0d0d");
  }));
  // RFC 3162 §2.3, RFC 4818 §3: a prefix length above 128; a prefix shorter than its length.
  cases.push_back(defect("ipv6-prefix-length-above-128", "PKT-VALUE-LENGTH", [](Spec& s) {
    s.requests[s1_start].attrs.push_back(
        {"Delegated-IPv6-Prefix", "0x0081" + std::string(32, '0')});
  }));
  cases.push_back(defect("ipv6-prefix-shorter-than-length", "PKT-VALUE-LENGTH", [](Spec& s) {
    s.requests[s2_start].attrs.push_back({"Framed-IPv6-Prefix", "0x004020010db8"});
  }));
  cases.push_back(defect("unknown-nas-port-type", "PKT-ENUM-VALUE", [](Spec& s) {
    s.requests[s1_start].attrs.push_back({"NAS-Port-Type", "99"});
  }));
  cases.push_back(defect("unknown-terminate-cause", "PKT-ENUM-VALUE", [](Spec& s) {
    set(s.requests[s2_stop].attrs, "Acct-Terminate-Cause", "99");
  }));
  cases.push_back(defect("unknown-status-type", "PKT-ENUM-VALUE", [](Spec& s) {
    set(s.requests[s2_stop].attrs, "Acct-Status-Type", "42");
  }));
  cases.push_back(defect("terminate-cause-none", "PKT-TERMINATE-CAUSE-ZERO", [](Spec& s) {
    set(s.requests[s1_stop].attrs, "Acct-Terminate-Cause", "0");
  }));
  cases.push_back(defect(
      "no-nas-identity", "PKT-NAS-IDENTITY",
      [](Spec& s) {
        remove(s.requests[s2_start].attrs, "NAS-IP-Address");
        remove(s.requests[s2_stop].attrs, "NAS-IP-Address");
      },
      "rfc2866"));
  cases.push_back(defect("avpair-without-separator", "PKT-CISCO-AVPAIR-SYNTAX", [](Spec& s) {
    // connect-progress, which the profile does not list: a mangled vrf-id would also be a vrf-id
    // missing from one update (SES-ATTRIBUTE-CONSISTENCY), a second defect.
    *find_avpair(s.requests[s1_interim1].attrs, "connect-progress") =
        q("connect-progress No Progress");
  }));
  cases.push_back(defect("bad-request-authenticator", "PKT-REQUEST-AUTHENTICATOR", [](Spec& s) {
    s.requests[s1_interim2].corrupt_request_authenticator = true;
  }));
  cases.push_back(defect("bad-message-authenticator", "PKT-MESSAGE-AUTHENTICATOR", [](Spec& s) {
    s.requests[s2_start].attrs.push_back({"Message-Authenticator", "0x" + std::string(32, '0')});
    s.requests[s2_start].corrupt_message_authenticator = true;
  }));
  cases.push_back(defect("malformed-datagram", "PKT-MALFORMED", [](Spec& s) {
    // Length 30 with an attribute claiming 20 octets: runs past the packet.
    radius::Octets raw(30, 0);
    raw[0] = 4;
    raw[1] = 99;
    raw[3] = 30;
    raw[20] = 44;
    raw[21] = 20;
    s.extra.push_back({5, Direction::to_server, "127.0.0.1:40001", server, raw});
  }));
  cases.push_back(defect("access-request-to-accounting", "PKT-UNEXPECTED-CODE", [](Spec& s) {
    radius::Octets raw(20, 0);
    raw[0] = 1;
    raw[1] = 77;
    raw[3] = 20;
    s.extra.push_back({7, Direction::to_server, "127.0.0.1:40001", server, raw});
  }));
  // Exchange scope.
  cases.push_back(defect("unanswered-request", "EXC-UNANSWERED", [](Spec& s) {
    // The NAS resends it (same Identifier and octets, RFC 5080 §2.2.1); no answer comes.
    auto& stop = s.requests[s2_stop];
    stop.answered = false;
    stop.identifier = 200;
    Request again = stop;
    again.time += 3;
    s.requests.push_back(again);
  }));
  {
    auto c = defect("unanswered-not-retransmitted", "EXC-NO-RETRANSMISSION",
                    [](Spec& s) { s.requests[s2_stop].answered = false; });
    c.also = {"EXC-UNANSWERED"}; // the server's part of the same exchange
    cases.push_back(std::move(c));
  }
  cases.push_back(defect("bad-response-authenticator", "EXC-RESPONSE-AUTHENTICATOR", [](Spec& s) {
    s.requests[s1_start].corrupt_response_authenticator = true;
  }));
  cases.push_back(defect("wrong-response-code", "EXC-RESPONSE-CODE",
                         [](Spec& s) { s.requests[s1_interim1].response_code = 2; }));
  cases.push_back(
      defect("slow-answer", "EXC-LATENCY", [](Spec& s) { s.requests[s1_interim2].latency = 2.5; }));
  cases.push_back(defect("stray-response", "EXC-UNMATCHED-RESPONSE", [](Spec& s) {
    radius::Octets raw(20, 0);
    raw[0] = 5;
    raw[1] = 200;
    raw[3] = 20;
    s.extra.push_back({20, Direction::from_server, server, "127.0.0.1:40001", raw});
  }));
  cases.push_back(defect("changed-retransmission-same-id", "RFC5080-CHANGED-SAME-ID", [](Spec& s) {
    auto& first = s.requests[s1_interim1];
    first.identifier = 40;
    first.answered = false;
    Request again = first;
    again.time += 3;
    again.answered = true;
    set(again.attrs, "Acct-Delay-Time", "3");
    s.requests.push_back(again);
  }));
  cases.push_back(defect("unchanged-resend-new-id", "RFC5080-RESEND-NEW-ID", [](Spec& s) {
    auto& first = s.requests[s1_interim1];
    first.identifier = 40;
    first.answered = false;
    Request again = first;
    again.time += 3;
    again.identifier = 41;
    again.answered = true;
    s.requests.push_back(again);
  }));
  // Session scope.
  cases.push_back(defect("duplicate-start", "SES-DUPLICATE-START", [](Spec& s) {
    Request again = s.requests[s1_start];
    again.time = 30;
    *find_avpair(again.attrs, "connect-progress") = q("connect-progress=Call Up");
    s.requests.push_back(again);
  }));
  // Capture edges: a session whose first record dates its beginning inside the trace (from
  // Acct-Session-Time) lost its Start; one that began before the trace did not.
  cases.push_back(defect(
      "stop-without-start", "SES-NO-START",
      [](Spec& s) { s.requests.erase(s.requests.begin() + s2_start); }, "rfc2866"));
  cases.push_back(defect("update-without-start", "SES-NO-START", [](Spec& s) {
    s.begin = -100; // the capture began 100 s before the session (at 0) did
    s.requests.erase(s.requests.begin() + s1_start);
  }));
  cases.push_back(clean("capture-began-mid-session", [](Spec& s) {
    // The trace's first moment is the first Interim-Update's: its Acct-Session-Time (60 s)
    // dates the session's beginning before it, so the missing Start is an info at most.
    s.requests.erase(s.requests.begin() + s1_start);
    s.requests.erase(s.requests.begin() + s2_start - 1);
    s.requests.erase(s.requests.begin() + s2_stop - 2);
  }));
  cases.push_back(clean("capture-ended-before-answer", [](Spec& s) {
    // The last request is the trace's last moment: its answer was not due yet.
    s.requests[s1_stop].answered = false;
  }));
  cases.push_back(defect("interim-before-start", "SES-ORDER", [](Spec& s) {
    // The Start reaches the server after the first update; its Acct-Delay-Time keeps its event
    // time at 0, so only the order is wrong.
    auto& start = s.requests[s1_start];
    start.time = 61;
    set(start.attrs, "Acct-Delay-Time", "61");
  }));
  cases.push_back(defect("decreasing-counter", "SES-COUNTER-DECREASE", [](Spec& s) {
    set(s.requests[s1_interim2].attrs, "Acct-Input-Octets", "300");
  }));
  cases.push_back(defect("decreasing-packets", "SES-COUNTER-DECREASE", [](Spec& s) {
    set(s.requests[s1_stop].attrs, "Acct-Output-Packets", "100");
  }));
  cases.push_back(defect("decreasing-session-time", "SES-SESSION-TIME-DECREASE", [](Spec& s) {
    set(s.requests[s1_interim2].attrs, "Acct-Session-Time", "50");
  }));
  cases.push_back(defect("session-time-drift", "SES-SESSION-TIME-DRIFT", [](Spec& s) {
    set(s.requests[s1_interim2].attrs, "Acct-Session-Time", "140");
  }));
  cases.push_back(defect("gigawords-not-carried", "SES-GIGAWORDS", [](Spec& s) {
    set(s.requests[s1_interim1].attrs, "Acct-Input-Octets", "4294967000");
    set(s.requests[s1_interim2].attrs, "Acct-Input-Octets", "1000");
    set(s.requests[s1_stop].attrs, "Acct-Input-Octets", "2000");
  }));
  cases.push_back(defect("record-after-stop", "SES-AFTER-STOP", [](Spec& s) {
    s.requests.push_back(at(160, update_attrs("Interim-Update", "00000001", "11.1.2.2",
                                              {160, 152608, 152608, 1004, 1004})));
  }));
  cases.push_back(defect("second-stop", "SES-AFTER-STOP", [](Spec& s) {
    Request again = s.requests[s2_stop];
    again.time = 45;
    set(again.attrs, "Acct-Session-Time", "35");
    s.requests.push_back(again);
  }));
  cases.push_back(defect("missed-interim", "SES-INTERIM-CADENCE",
                         [](Spec& s) { s.requests.erase(s.requests.begin() + s1_interim2); }));
  cases.push_back(defect("early-interim", "SES-INTERIM-CADENCE", [](Spec& s) {
    s.requests[s1_interim1].time = 30;
    set(s.requests[s1_interim1].attrs, "Acct-Session-Time", "30");
  }));
  cases.push_back(defect("rekey-opens-session", "SES-REKEY-NEW-SESSION", [](Spec& s) {
    s.requests.push_back(at(70, start_attrs("00000003", "11.1.2.2", "10.13.13.1", "joe@cclient")));
    s.requests.push_back(
        at(100, update_attrs("Stop", "00000003", "11.1.2.2", {30, 100, 100, 1, 1})));
  }));
  cases.push_back(defect("accounting-on-with-open-session", "SES-ACCT-ON-OPEN", [](Spec& s) {
    s.requests.erase(s.requests.begin() + s1_stop);
    s.requests.push_back(at(130, {{"Acct-Status-Type", "Accounting-On"},
                                  {"Acct-Session-Id", q("00000000")},
                                  {"NAS-IP-Address", "10.1.1.147"},
                                  {"Acct-Delay-Time", "0"}}));
  }));
  cases.push_back(defect("record-after-accounting-off", "SES-AFTER-ACCT-ON", [](Spec& s) {
    s.requests.push_back(at(130, {{"Acct-Status-Type", "Accounting-Off"},
                                  {"Acct-Session-Id", q("00000000")},
                                  {"NAS-IP-Address", "10.1.1.147"},
                                  {"Acct-Delay-Time", "0"}}));
  }));

  cases.push_back(
      defect("changed-retransmission-same-id-stored", "RFC5080-CHANGED-SAME-ID", [](Spec& s) {
        s.responses_recorded = false;
        auto& first = s.requests[s1_interim1];
        first.identifier = 40;
        Request again = first;
        again.time += 3;
        set(again.attrs, "Acct-Delay-Time", "3");
        s.requests.push_back(again);
      }));

  // Clean variants: none may produce an error or a warning.
  cases.push_back(clean("identifier-reused-later-stored", [](Spec& s) {
    // Requests only (a database): the same Identifier again after the duplicate window is a new
    // request, not a changed retransmission.
    s.responses_recorded = false;
    s.requests[s1_start].identifier = 40;
    s.requests[s1_interim1].identifier = 40;
  }));
  cases.push_back(clean("identifier-reused-soon-stored", [](Spec& s) {
    // Requests only (a database), a busy NAS: a different request under the same Identifier
    // inside the duplicate window came after the server's answer to the first (the server
    // stores only what it answers), so it is a new request, not a changed retransmission.
    s.responses_recorded = false;
    s.requests[s2_start].identifier = 40;
    s.requests[s2_stop].identifier = 40; // 30 s later, and s2_start to s1_start 10 s
    s.requests[s1_start].identifier = 40;
  }));
  // Rules a field capture needs.
  cases.push_back(defect("response-carries-reply-message", "EXC-RESPONSE-ATTRIBUTES", [](Spec& s) {
    s.requests[s1_interim1].response_attrs = {{"Reply-Message", q("thanks")}};
  }));
  cases.push_back(defect("response-drops-proxy-state", "EXC-PROXY-STATE", [](Spec& s) {
    // A proxy between NAS and server added Proxy-State; the server's answer lost it.
    s.requests[s1_interim1].attrs.push_back({"Proxy-State", "0x3636"});
  }));
  cases.push_back(clean("proxy-state-returned", [](Spec& s) {
    for (const auto index : {s1_start, s1_interim1}) {
      s.requests[index].attrs.push_back({"Proxy-State", "0x3636"});
      s.requests[index].attrs.push_back({"Proxy-State", "0x0102ff"});
      s.requests[index].response_attrs = {{"Proxy-State", "0x3636"}, {"Proxy-State", "0x0102ff"}};
    }
  }));
  // A capture taken on a proxy holds both legs: one record each, not a second Start and a Stop
  // after the Stop; the interval the NAS shows is its own, not the 2 ms to the forward.
  cases.push_back(clean("forwarded-by-a-proxy", [](Spec& s) { forward_through_proxy(s); }));
  cases.push_back(clean("interims-regular-inferred-through-a-proxy", [](Spec& s) {
    with_interims(s, {60, 120, 180, 240, 300});
    forward_through_proxy(s);
  }));
  cases.push_back(
      defect("missed-interim-inferred-through-a-proxy", "SES-INTERIM-CADENCE", [](Spec& s) {
        with_interims(s, {60, 120, 180, 240, 360});
        forward_through_proxy(s);
      }));
  cases.push_back(defect("two-event-timestamps", "PKT-EVENT-TIMESTAMP-COUNT", [](Spec& s) {
    auto& attrs = s.requests[s2_start].attrs;
    attrs.push_back({"Event-Timestamp", "10"});
    attrs.push_back({"Event-Timestamp", "11"});
  }));
  cases.push_back(defect("event-timestamp-an-hour-ahead", "PKT-EVENT-TIMESTAMP-CLOCK", [](Spec& s) {
    on_wall_clock(s);
    set(s.requests[s1_interim2].attrs, "Event-Timestamp",
        std::to_string(static_cast<std::uint64_t>(wall_clock + 120 + 3600)));
  }));
  cases.push_back(defect("octets-without-packets", "PKT-COUNTER-PAIRS", [](Spec& s) {
    set(s.requests[s1_interim1].attrs, "Acct-Input-Packets", "0"); // with 608 octets
  }));
  cases.push_back(defect("counter-faster-than-link", "SES-COUNTER-RATE", [](Spec& s) {
    // 200 x 2^32 octets more in the 60 s between the updates: 114.5 Gbit/s.
    for (const auto index : {s1_interim2, s1_stop}) {
      set(s.requests[index].attrs, "Acct-Input-Gigawords", "200");
      set(s.requests[index].attrs, "Acct-Output-Gigawords", "0");
    }
  }));
  cases.push_back(defect("vrf-id-missing-from-one-update", "SES-ATTRIBUTE-CONSISTENCY",
                         [](Spec& s) { remove_avpair(s.requests[s1_interim2].attrs, "vrf-id"); }));
  cases.push_back(defect("missed-interim-inferred-interval", "SES-INTERIM-CADENCE", [](Spec& s) {
    with_interims(s, {60, 120, 180, 240, 360}); // 300 missing: gaps 60, 60, 60, 120
  }));
  cases.push_back(clean("clean", [](Spec&) {}));
  // RFC 2868 §3: a tag is not part of the value (Tunnel-Type:1 = VLAN is 0x0100000d on the wire);
  // an IPv6 prefix may stop at the octets its length covers.
  cases.push_back(clean("tagged-tunnel-and-ipv6-prefixes", [](Spec& s) {
    auto& attrs = s.requests[s1_start].attrs;
    attrs.push_back({"Tunnel-Type:1", "VLAN"});
    attrs.push_back({"Tunnel-Medium-Type:1", "IEEE-802"});
    attrs.push_back({"Tunnel-Private-Group-Id:1", q("100")});
    attrs.push_back({"Delegated-IPv6-Prefix", "2001:db8:1200::/40"});
    attrs.push_back({"Framed-IPv6-Prefix", "0x002820010db812"});
  }));
  cases.push_back(clean("interims-regular-inferred-interval", [](Spec& s) {
    with_interims(s, {60, 120, 180, 240, 300});
  }));
  cases.push_back(clean("event-timestamps-on-wall-clock", [](Spec& s) {
    on_wall_clock(s);
    // A record sent 20 s late says so in Acct-Delay-Time: its event time is 20 s before receipt.
    auto& late = s.requests[s1_interim2];
    late.time += 20;
    set(late.attrs, "Acct-Delay-Time", "20");
  }));
  cases.push_back(clean("nas-ipv6-identity", [](Spec& s) {
    for (auto& request : s.requests) {
      remove(request.attrs, "NAS-IP-Address");
      request.attrs.push_back({"NAS-IPv6-Address", "2001:db8::147"});
    }
  }));
  cases.push_back(clean("response-with-proxy-state", [](Spec& s) {
    s.requests[s1_interim1].attrs.push_back({"Proxy-State", "0x0102"});
    s.requests[s1_interim1].response_attrs = {{"Proxy-State", "0x0102"}};
  }));
  cases.push_back(clean(
      "clean-rfc2866", [](Spec&) {}, "rfc2866"));
  cases.push_back(clean("ios-spelling-initator", [](Spec& s) {
    for (auto& request : s.requests) {
      if (auto* pair = find_avpair(request.attrs, "isakmp-initiator-ip")) {
        pair->replace(1, 19, "isakmp-initator-ip");
      }
    }
  }));
  cases.push_back(
      clean("stop-only-session", [](Spec& s) { s.requests.erase(s.requests.begin() + s2_start); }));
  cases.push_back(clean("identical-retransmission", [](Spec& s) {
    auto& first = s.requests[s1_interim1];
    first.answered = false;
    first.identifier = 40;
    Request again = first;
    again.time += 3;
    again.answered = true;
    s.requests.push_back(again);
  }));
  cases.push_back(clean("changed-retransmission-new-id", [](Spec& s) {
    auto& first = s.requests[s1_interim1];
    first.answered = false;
    first.identifier = 40;
    Request again = first;
    again.time += 3;
    again.identifier = 41;
    again.answered = true;
    set(again.attrs, "Acct-Delay-Time", "3");
    s.requests.push_back(again);
  }));
  cases.push_back(clean("gigawords-carried", [](Spec& s) {
    set(s.requests[s1_interim1].attrs, "Acct-Input-Octets", "4294967000");
    for (const auto index : {s1_interim2, s1_stop}) {
      auto& attrs = s.requests[index].attrs;
      set(attrs, "Acct-Input-Octets", index == s1_stop ? "2000" : "1000");
      set(attrs, "Acct-Input-Gigawords", "1");
      set(attrs, "Acct-Output-Gigawords", "0");
    }
  }));
  cases.push_back(clean("valid-message-authenticator", [](Spec& s) {
    s.requests[s2_start].attrs.push_back({"Message-Authenticator", "0x" + std::string(32, '0')});
  }));
  cases.push_back(clean("accounting-on-after-stops", [](Spec& s) {
    s.requests.push_back(at(170, {{"Acct-Status-Type", "Accounting-On"},
                                  {"Acct-Session-Id", q("00000000")},
                                  {"NAS-IP-Address", "10.1.1.147"},
                                  {"Acct-Delay-Time", "0"}}));
  }));
  cases.push_back(clean("rekey-after-stop-reuses-address", [](Spec& s) {
    s.requests.push_back(at(200, start_attrs("00000003", "11.1.2.2", "10.13.13.1", "joe@cclient")));
    s.requests.push_back(
        at(230, update_attrs("Stop", "00000003", "11.1.2.2", {30, 100, 100, 1, 1})));
  }));
  return cases;
}

Trace build_trace(const Spec& spec, const radius::Dictionary& dict) {
  Trace trace;
  trace.default_secret = spec.secret;
  trace.interim_interval = spec.interim_interval;
  trace.responses_recorded = spec.responses_recorded;
  trace.begin = spec.begin;
  std::vector<const Request*> order;
  for (const auto& request : spec.requests) {
    order.push_back(&request);
  }
  std::stable_sort(order.begin(), order.end(),
                   [](const Request* a, const Request* b) { return a->time < b->time; });
  std::map<std::string, unsigned> next_id;
  for (const auto* request : order) {
    unsigned& counter = next_id.try_emplace(request->client, 1).first->second;
    const std::uint8_t id = request->identifier.value_or(static_cast<std::uint8_t>(counter++));
    std::string text = "Accounting-Request id=" + std::to_string(id) + " {";
    for (std::size_t i = 0; i < request->attrs.size(); ++i) {
      text += (i ? ", " : " ") + request->attrs[i].first + " = " + request->attrs[i].second;
    }
    text += " }";
    auto packet = radius::parse_packet_text(text, dict);
    if (!packet) {
      throw std::runtime_error("corpus: " + packet.error().message + " in " + text);
    }
    auto wire = radius::encode_packet(*packet, dict);
    radius::sign_request(wire, spec.secret);
    if (request->corrupt_message_authenticator) {
      const auto offset = attribute_offset(wire, radius::message_authenticator_type);
      wire[offset + 2] ^= 0x5a;
      // Re-sign the Request Authenticator only, so the HMAC alone is wrong.
      std::fill(wire.begin() + 4, wire.begin() + 20, 0);
      const radius::Octets secret(spec.secret.begin(), spec.secret.end());
      const auto digest = radius::md5({wire, secret});
      std::copy(digest.begin(), digest.end(), wire.begin() + 4);
    }
    if (request->corrupt_request_authenticator) {
      wire[4] ^= 0xff;
    }
    radius::Authenticator request_auth{};
    std::copy(wire.begin() + 4, wire.begin() + 20, request_auth.begin());
    trace.packets.push_back(
        {request->time, Direction::to_server, request->client, server, wire, {}, {}, {}, {}});
    if (request->answered && spec.responses_recorded) {
      radius::Packet answer(static_cast<radius::Code>(request->response_code), id);
      if (!request->response_attrs.empty()) {
        std::string reply_text = "Accounting-Response id=" + std::to_string(id) + " {";
        for (std::size_t i = 0; i < request->response_attrs.size(); ++i) {
          reply_text += (i ? ", " : " ") + request->response_attrs[i].first + " = " +
                        request->response_attrs[i].second;
        }
        reply_text += " }";
        auto parsed = radius::parse_packet_text(reply_text, dict);
        if (!parsed) {
          throw std::runtime_error("corpus: " + parsed.error().message + " in " + reply_text);
        }
        answer = std::move(parsed).value();
      }
      auto reply = radius::encode_packet(answer, dict);
      radius::sign_response(reply, request_auth, spec.secret);
      if (request->corrupt_response_authenticator) {
        reply[4] ^= 0xff;
      }
      trace.packets.push_back({request->time + request->latency,
                               Direction::from_server,
                               server,
                               request->client,
                               reply,
                               {},
                               {},
                               {},
                               {}});
    }
  }
  for (const auto& raw : spec.extra) {
    trace.packets.push_back(
        {raw.time, raw.direction, raw.source, raw.destination, raw.raw, {}, {}, {}, {}});
  }
  std::stable_sort(trace.packets.begin(), trace.packets.end(),
                   [](const TracePacket& a, const TracePacket& b) { return a.time < b.time; });
  return trace;
}

namespace {

/** The same endpoint with its port moved by shift (the server's 1813 stays). */
std::string shifted(const std::string& text, int shift) {
  const auto colon = text.rfind(':');
  const int port = std::stoi(text.substr(colon + 1));
  return port == 1813 ? text : text.substr(0, colon + 1) + std::to_string(port + shift);
}

} // namespace

std::vector<TracePacket> interleaved_cases(const radius::Dictionary& dict) {
  std::vector<TracePacket> packets;
  int k = 0;
  for (auto c : all_cases()) {
    auto& spec = c.spec;
    const std::string prefix = "c" + std::to_string(k) + "-";
    for (auto& request : spec.requests) {
      request.time += 7.0 * k;
      request.client = shifted(request.client, 100 * k);
      for (auto& [name, value] : request.attrs) {
        if (name == "Acct-Session-Id" && value.size() >= 2) {
          value.insert(1, prefix);
        }
      }
    }
    for (auto& raw : spec.extra) {
      raw.time += 7.0 * k;
      raw.source = shifted(raw.source, 100 * k);
      raw.destination = shifted(raw.destination, 100 * k);
    }
    for (auto& packet : build_trace(spec, dict).packets) {
      packets.push_back(std::move(packet));
    }
    ++k;
  }
  std::stable_sort(packets.begin(), packets.end(),
                   [](const TracePacket& a, const TracePacket& b) { return a.time < b.time; });
  return packets;
}

} // namespace acctlab::conformance::corpus
