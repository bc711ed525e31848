// The rules a field capture needs, one by one on small traces built from the defect corpus's
// clean base: each passes what it should and says why, with the values, when it fails.

#include "conformance/analysis.hpp"
#include "conformance/catalog.hpp"
#include "conformance/detail/checks.hpp"
#include "conformance/engine.hpp"
#include "conformance/profile.hpp"
#include "defect_corpus.hpp"

#include <catch2/catch.hpp>

using namespace acctlab;
using namespace acctlab::conformance;
using namespace acctlab::conformance::corpus;

namespace {

const radius::Dictionary& dict() {
  return radius::Dictionary::builtin();
}

Profile shipped(const std::string& name) {
  auto profile = load_profile(name, dict());
  REQUIRE(profile);
  return std::move(profile).value();
}

std::vector<Finding> findings_of(const Spec& spec, const Profile& profile, const std::string& id) {
  const auto verdict = check_trace(build_trace(spec, dict()), profile, dict());
  std::vector<Finding> out;
  for (const auto& finding : verdict.findings) {
    if (finding.rule_id == id) {
      out.push_back(finding);
    }
  }
  return out;
}

std::size_t errors_and_warnings(const Spec& spec, const Profile& profile) {
  const auto verdict = check_trace(build_trace(spec, dict()), profile, dict());
  return verdict.count(Severity::error) + verdict.count(Severity::warning);
}

// Positions of the clean base's requests (defect_corpus.cpp).
enum : std::size_t { s1_start, s2_start, s2_stop, s1_interim1, s1_interim2, s1_stop };

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace

TEST_CASE("every new rule names its party, source and an example of each side",
          "[conformance][records]") {
  const auto rules = builtin_rules();
  for (const auto& rule : rules) {
    INFO(rule.id);
    CHECK_FALSE(rule.example_pass.empty());
    CHECK_FALSE(rule.example_fail.empty());
  }
  const auto party = [&](const char* id) {
    const auto* rule = find_rule(rules, id);
    REQUIRE(rule);
    CHECK(rule->source.find("RFC ") != std::string::npos);
    return rule->party;
  };
  CHECK(party("EXC-RESPONSE-ATTRIBUTES") == Party::server);
  CHECK(party("EXC-PROXY-STATE") == Party::server);
  for (const auto* id : {"PKT-EVENT-TIMESTAMP-COUNT", "PKT-EVENT-TIMESTAMP-CLOCK",
                         "PKT-COUNTER-PAIRS", "SES-COUNTER-RATE", "SES-ATTRIBUTE-CONSISTENCY"}) {
    INFO(id);
    CHECK(party(id) == Party::nas);
  }
}

TEST_CASE("a NAS-IP-Address row is met by NAS-IPv6-Address, and the finding says which",
          "[conformance][records]") {
  const auto cisco = shipped("cisco-ios-ipsec");
  auto spec = clean_spec();
  for (auto& request : spec.requests) {
    remove(request.attrs, "NAS-IP-Address");
    request.attrs.push_back({"NAS-IPv6-Address", "2001:db8::147"});
  }
  CHECK(errors_and_warnings(spec, cisco) == 0);
  const auto notes = findings_of(spec, cisco, "CISCO-START-NAS-IP-ADDRESS");
  REQUIRE(notes.size() == 2);
  CHECK(notes[0].severity == Severity::info);
  CHECK(contains(notes[0].message, "NAS-IPv6-Address 2001:db8::147 instead of NAS-IP-Address"));

  // Neither: the row fails and says what it looked for; PKT-NAS-IDENTITY needs one of three.
  for (auto& request : spec.requests) {
    remove(request.attrs, "NAS-IPv6-Address");
  }
  const auto missing = findings_of(spec, cisco, "CISCO-STOP-NAS-IP-ADDRESS");
  REQUIRE(missing.size() == 2);
  CHECK(missing[0].severity == Severity::error);
  CHECK(contains(missing[0].message, "NAS-IP-Address (nor NAS-IPv6-Address) 0 time(s)"));
  const auto identity = findings_of(spec, cisco, "PKT-NAS-IDENTITY");
  REQUIRE_FALSE(identity.empty());
  CHECK(contains(identity[0].message, "NAS-IP-Address, NAS-IPv6-Address and NAS-Identifier"));

  // Both: the canonical attribute is the one counted.
  spec = clean_spec();
  spec.requests[s1_start].attrs.push_back({"NAS-IPv6-Address", "2001:db8::147"});
  CHECK(errors_and_warnings(spec, cisco) == 0);
  CHECK(findings_of(spec, cisco, "CISCO-START-NAS-IP-ADDRESS").empty());
}

TEST_CASE("profile rows take attribute alternatives, clock-tolerance and max-link-rate parse",
          "[conformance][records]") {
  auto profile = parse_profile("name x\nid-prefix x\nclock-tolerance 2m\nmax-link-rate 10G\n"
                               "Start NAS-IP-Address|NAS-IPv6-Address 1 RFC 3162 §2.1\n",
                               "x", dict());
  REQUIRE(profile);
  CHECK(profile->options.clock_tolerance == Approx(120));
  CHECK(profile->options.max_link_rate == Approx(10e9));
  REQUIRE(profile->rows.size() == 1);
  CHECK(profile->rows[0].id == "X-START-NAS-IP-ADDRESS");
  CHECK(profile->rows[0].names == std::vector<std::string>{"NAS-IP-Address", "NAS-IPv6-Address"});
  CHECK(profile->rows[0].keys.size() == 2);
  CHECK(profile->rows[0].keys[1] == radius::AttrKey{0, 95});
  const auto defaults = parse_profile("name y\n", "y", dict());
  REQUIRE(defaults);
  CHECK(defaults->options.clock_tolerance == Approx(300));
  CHECK(defaults->options.max_link_rate == Approx(100e9));

  const auto error = [](std::string_view text) {
    auto result = parse_profile(text, "p", dict());
    REQUIRE_FALSE(result);
    return result.error().to_string();
  };
  CHECK(error("Start NAS-IP-Address|Nope 1 RFC 1\n") == "p:1: unknown attribute 'Nope'");
  CHECK(error("max-link-rate fast\n").starts_with("p:1: max-link-rate takes"));
  CHECK(error("max-link-rate 0\n").starts_with("p:1: max-link-rate takes"));
  CHECK(error("clock-tolerance soon\n").starts_with("p:1: clock-tolerance takes a duration"));
}

TEST_CASE("EXC-RESPONSE-ATTRIBUTES: only Proxy-State, Vendor-Specific, Message-Authenticator",
          "[conformance][records]") {
  const auto cisco = shipped("cisco-ios-ipsec");
  auto spec = clean_spec();
  spec.requests[s1_interim1].response_attrs = {
      {"Cisco-AVPair", "\"note=x\""}, {"Message-Authenticator", "0x" + std::string(32, '0')}};
  CHECK(findings_of(spec, cisco, "EXC-RESPONSE-ATTRIBUTES").empty());
  spec.requests[s1_stop].response_attrs = {{"Class", "0x01"}, {"Session-Timeout", "60"}};
  const auto found = findings_of(spec, cisco, "EXC-RESPONSE-ATTRIBUTES");
  REQUIRE(found.size() == 1);
  CHECK(found[0].party == Party::server);
  CHECK(found[0].scope == Scope::exchange);
  CHECK(contains(found[0].message, "carries Class (25), Session-Timeout (27)"));
}

TEST_CASE("EXC-PROXY-STATE: the answer returns the request's Proxy-State unmodified, in order",
          "[conformance][records]") {
  const auto cisco = shipped("cisco-ios-ipsec");
  auto spec = clean_spec();
  spec.requests[s1_start].attrs.push_back({"Proxy-State", "0x3636"});
  spec.requests[s1_start].attrs.push_back({"Proxy-State", "0x01"});
  spec.requests[s1_start].response_attrs = {{"Proxy-State", "0x3636"}, {"Proxy-State", "0x01"}};
  CHECK(findings_of(spec, cisco, "EXC-PROXY-STATE").empty());
  // Reordered: the proxy's own is no longer where it put it.
  spec.requests[s1_start].response_attrs = {{"Proxy-State", "0x01"}, {"Proxy-State", "0x3636"}};
  auto found = findings_of(spec, cisco, "EXC-PROXY-STATE");
  REQUIRE(found.size() == 1);
  CHECK(found[0].party == Party::server);
  CHECK(contains(found[0].message, "carries Proxy-State 0x01, 0x3636; its request carried "
                                   "0x3636, 0x01"));
  // Dropped.
  spec.requests[s1_start].response_attrs.clear();
  found = findings_of(spec, cisco, "EXC-PROXY-STATE");
  REQUIRE(found.size() == 1);
  CHECK(contains(found[0].message, "carries Proxy-State none; its request carried 0x3636, 0x01"));
  // Added by a server whose request had none.
  auto added = clean_spec();
  added.requests[s2_stop].response_attrs = {{"Proxy-State", "0x07"}};
  found = findings_of(added, cisco, "EXC-PROXY-STATE");
  REQUIRE(found.size() == 1);
  CHECK(contains(found[0].message, "carries Proxy-State 0x07; its request carried none"));
}

TEST_CASE("Event-Timestamp: one per request, the clock is judged on absolute trace times only",
          "[conformance][records]") {
  const auto cisco = shipped("cisco-ios-ipsec");
  constexpr double base = 1800000000;
  auto spec = clean_spec();
  for (auto& request : spec.requests) {
    request.time += base;
    set(request.attrs, "Event-Timestamp", std::to_string(static_cast<std::uint64_t>(request.time)));
  }
  CHECK(errors_and_warnings(spec, cisco) == 0);

  // Sent 400 s late with Acct-Delay-Time 400: on time.
  auto late = spec;
  late.requests[s1_stop].time += 400;
  set(late.requests[s1_stop].attrs, "Acct-Delay-Time", "400");
  CHECK(findings_of(late, cisco, "PKT-EVENT-TIMESTAMP-CLOCK").empty());
  // Sent 400 s late without saying so: the stamp is 400 s behind.
  late = spec;
  late.requests[s1_stop].time += 400;
  auto behind = findings_of(late, cisco, "PKT-EVENT-TIMESTAMP-CLOCK");
  REQUIRE(behind.size() == 1);
  CHECK(behind[0].severity == Severity::warning);
  CHECK(contains(behind[0].message, "400 s behind its receive time"));
  CHECK(contains(behind[0].message, "tolerance 300 s"));
  // A profile with a wider tolerance accepts it.
  auto wide = cisco;
  wide.options.clock_tolerance = 600;
  CHECK(findings_of(late, wide, "PKT-EVENT-TIMESTAMP-CLOCK").empty());

  // The same stamps on a trace timed from 0: the clock is not judged.
  auto relative = clean_spec();
  set(relative.requests[s1_start].attrs, "Event-Timestamp", "1800000000");
  CHECK(findings_of(relative, cisco, "PKT-EVENT-TIMESTAMP-CLOCK").empty());

  // Two stamps: an error naming both values.
  relative.requests[s1_start].attrs.push_back({"Event-Timestamp", "1800000001"});
  const auto twice = findings_of(relative, cisco, "PKT-EVENT-TIMESTAMP-COUNT");
  REQUIRE(twice.size() == 1);
  CHECK(twice[0].severity == Severity::error);
  CHECK(contains(twice[0].message, "Event-Timestamp 2 times"));
}

TEST_CASE("counters: packets without octets, and growth beyond max-link-rate",
          "[conformance][records]") {
  auto cisco = shipped("cisco-ios-ipsec");
  auto spec = clean_spec();
  set(spec.requests[s2_stop].attrs, "Acct-Output-Octets", "0"); // with 20 packets
  const auto pairs = findings_of(spec, cisco, "PKT-COUNTER-PAIRS");
  REQUIRE(pairs.size() == 1);
  CHECK(contains(pairs[0].message,
                 "Acct-Output-Octets 0 with Acct-Output-Packets 20: packets cannot travel"));

  // The clean base: session 1's Stop counts 152608 octets 30 s after 91000: 16.4 kbit/s.
  CHECK(findings_of(clean_spec(), cisco, "SES-COUNTER-RATE").empty());
  cisco.options.max_link_rate = 10e3;
  const auto fast = findings_of(clean_spec(), cisco, "SES-COUNTER-RATE");
  REQUIRE_FALSE(fast.empty());
  CHECK(contains(fast[0].message, "kbit/s, more than the profile's max-link-rate 10.0 kbit/s"));

  // A lone Stop is measured over its own Acct-Session-Time.
  auto lone = clean_spec();
  lone.requests.erase(lone.requests.begin() + s2_start);
  cisco.options.max_link_rate = 100;
  const auto stop_only = findings_of(lone, cisco, "SES-COUNTER-RATE");
  REQUIRE_FALSE(stop_only.empty());
  CHECK(contains(stop_only[0].message, "the session's beginning (Acct-Session-Time 30 s)"));
}

TEST_CASE("SES-ATTRIBUTE-CONSISTENCY reports the record that lacks what the others carried",
          "[conformance][records]") {
  const auto cisco = shipped("cisco-ios-ipsec");
  auto spec = clean_spec();
  // Both updates carry the framed address; the Stop does not.
  for (const auto index : {s1_interim1, s1_interim2}) {
    spec.requests[index].attrs.push_back({"Framed-IP-Address", "10.13.13.1"});
  }
  const auto found = findings_of(spec, cisco, "SES-ATTRIBUTE-CONSISTENCY");
  REQUIRE(found.size() == 1);
  CHECK(found[0].severity == Severity::warning);
  CHECK(contains(found[0].message, "Stop (record 4 of the session) lacks Framed-IP-Address"));
  CHECK(contains(found[0].message, "Interim-Update (record 2 of the session) = 10.13.13.1"));
  REQUIRE(found[0].evidence.packets.size() == 3);
  // The Stop, which lacks it, comes last: a stored finding links to that record.
  CHECK(found[0].evidence.packets.back() > found[0].evidence.packets.front());
  CHECK(found[0].evidence.packets.back() > found[0].evidence.packets[1]);

  // The Start's Framed-IP-Address is not expected in updates (the document's are without it).
  CHECK(findings_of(clean_spec(), cisco, "SES-ATTRIBUTE-CONSISTENCY").empty());
  // Gigawords come with the first wrap: an update without them before is not inconsistent.
  auto wrapped = clean_spec();
  set(wrapped.requests[s1_interim2].attrs, "Acct-Input-Gigawords", "1");
  set(wrapped.requests[s1_stop].attrs, "Acct-Input-Gigawords", "1");
  CHECK(findings_of(wrapped, cisco, "SES-ATTRIBUTE-CONSISTENCY").empty());
}

TEST_CASE("SES-INTERIM-CADENCE says which interval it used and where it came from",
          "[conformance][records]") {
  const auto cisco = shipped("cisco-ios-ipsec");
  // The clean base without a configured interval: two gaps are too few to infer from.
  auto spec = clean_spec();
  spec.interim_interval = std::nullopt;
  spec.requests.erase(spec.requests.begin() + s1_interim2); // a 90 s gap before the Stop
  CHECK(findings_of(spec, cisco, "SES-INTERIM-CADENCE").empty());

  // Acct-Interim-Interval in the records.
  set(spec.requests[s1_start].attrs, "Acct-Interim-Interval", "60");
  auto found = findings_of(spec, cisco, "SES-INTERIM-CADENCE");
  REQUIRE(found.size() == 1);
  CHECK(contains(found[0].message, "interval from the session's Acct-Interim-Interval"));
  CHECK(contains(found[0].message, "Stop 90.0 s after the previous Interim-Update"));

  // Configured for the trace.
  spec = clean_spec();
  spec.requests.erase(spec.requests.begin() + s1_interim2);
  found = findings_of(spec, cisco, "SES-INTERIM-CADENCE");
  REQUIRE(found.size() == 1);
  CHECK(contains(found[0].message, "configured for the trace (--interim-interval)"));
  // Configured in the profile.
  auto every_minute = cisco;
  every_minute.options.interim_interval = 60;
  found = findings_of(spec, every_minute, "SES-INTERIM-CADENCE");
  REQUIRE(found.size() == 1);
  CHECK(contains(found[0].message, "configured in profile cisco-ios-ipsec"));
}

TEST_CASE("the interval a NAS shows counts each update once", "[conformance][records]") {
  // Session 1 with updates at 60, 120, 180 and 240 s: three gaps of 60 s.
  auto spec = clean_spec();
  spec.interim_interval = std::nullopt;
  for (const double t : {180.0, 240.0}) {
    auto update = spec.requests[s1_interim2];
    update.time = t;
    set(update.attrs, "Acct-Session-Time", std::to_string(static_cast<int>(t)));
    spec.requests.push_back(update);
  }
  spec.requests[s1_stop].time = 270;
  set(spec.requests[s1_stop].attrs, "Acct-Session-Time", "270");
  const auto trace = build_trace(spec, dict());
  detail::IntervalTally once;
  detail::IntervalTally twice; // every packet fed twice: a retransmission of each
  for (std::size_t i = 0; i < trace.packets.size(); ++i) {
    const auto view = view_packet(trace.packets[i], i, dict());
    once.add(view, dict());
    twice.add(view, dict());
    twice.add(view, dict());
  }
  for (const auto* tally : {&once, &twice}) {
    const auto estimates = tally->estimates();
    REQUIRE(estimates.size() == 1);
    CHECK(estimates.begin()->first == "10.1.1.147");
    CHECK(estimates.begin()->second.seconds == Approx(60));
    CHECK(estimates.begin()->second.gaps == 3);
  }
  // Judged with that interval: the updates are on time, nothing to report.
  const auto cisco = shipped("cisco-ios-ipsec");
  CHECK(findings_of(spec, cisco, "SES-INTERIM-CADENCE").empty());
}
