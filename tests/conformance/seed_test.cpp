// The feature document's own three records (tests/vectors/accounting.vec, secret testing123),
// checked against the cisco-ios-ipsec profile: each is a different session. The Interim alone has
// no Start, but its Acct-Session-Time (109 s) says its session began before the trace did (an
// info, not an error: captures start mid-stream); the Stop alone is a stop-only session, and the
// Stop's Acct-Terminate-Cause 0 draws the documented warning.

#include "conformance/engine.hpp"
#include "radius/value.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <set>

using namespace acctlab;
using namespace acctlab::conformance;

namespace {
// The `expect` lines of tests/vectors/accounting.vec: Start id 4, Interim id 22, Stop id 19.
constexpr const char* start_hex =
    "040400dc507bcb0f39a406ce4e993c8481967e6e2c0a30303030303030311a1f0000000901196973616b6d702d67"
    "726f75702d69643d63636c69656e7408060a0d0d011a1400000009010e7672662d69643d636973636f1a23000000"
    "09011d6973616b6d702d696e697461746f722d69703d31312e312e322e321a2400000009011e636f6e6e6563742d"
    "70726f67726573733d4e6f2050726f6772657373010d6a6f654063636c69656e742806000000011a190000000902"
    "134661737445746865726e6574302f302e3105060000000004060a010193290600000000";
constexpr const char* interim_hex =
    "041600c8b18abbf2895b3b315104505f8cdd01ef2c0a30303030303030331a1400000009010e7672662d69643d63"
    "6973636f1a2300000009011d6973616b6d702d696e697461746f722d69703d31312e312e312e321a240000000901"
    "1e636f6e6e6563742d70726f67726573733d4e6f2050726f67726573732e060000006d2a06000002602b06000002"
    "602f06000000043006000000042806000000031a190000000902134661737445746865726e6574302f302e310506"
    "00000000040664010193290600000000";
constexpr const char* stop_hex =
    "041300fa389d633a6abe630b332b1857d18fcc4c2c0a30303030303030321a1400000009010e7672662d69643d63"
    "6973636f1a2300000009011d6973616b6d702d696e697461746f722d69703d31312e312e312e321a240000000901"
    "1e636f6e6e6563742d70726f67726573733d4e6f2050726f67726573732e06000002c52a06000254202b06000254"
    "202f06000003ec3006000003ec3406000000003506000000003106000000001a2000000009011a646973632d6361"
    "7573652d6578743d4e6f20526561736f6e2806000000021a190000000902134661737445746865726e6574302f30"
    "2e31050600000000040664010193290600000000";

TracePacket request(double time, const char* hex) {
  TracePacket packet;
  packet.time = time;
  packet.direction = Direction::to_server;
  packet.source = "127.0.0.1:1646";
  packet.destination = "127.0.0.1:1813";
  packet.raw = *radius::from_hex(hex);
  return packet;
}
} // namespace

TEST_CASE("the feature document's records under cisco-ios-ipsec", "[conformance][seed]") {
  const auto& dict = radius::Dictionary::builtin();
  auto profile = load_profile("cisco-ios-ipsec", dict);
  REQUIRE(profile);
  Trace trace;
  trace.default_secret = "testing123";
  trace.responses_recorded = false; // the document prints the answers' authenticators only
  trace.packets = {request(0, start_hex), request(10, stop_hex), request(20, interim_hex)};
  const auto verdict = check_trace(trace, *profile, dict);

  std::multiset<std::string> errors;
  std::multiset<std::string> warnings;
  std::size_t spelling_notes = 0;
  for (const auto& finding : verdict.findings) {
    if (finding.severity == Severity::error) {
      errors.insert(finding.rule_id);
    } else if (finding.severity == Severity::warning) {
      warnings.insert(finding.rule_id);
    } else if (finding.message.find("isakmp-initator-ip") != std::string::npos) {
      ++spelling_notes;
    }
  }
  // Session 00000003 is an update with no Start that began 89 s before the trace: no error.
  CHECK(errors.empty());
  CHECK(warnings == std::multiset<std::string>{"PKT-TERMINATE-CAUSE-ZERO"});
  CHECK(spelling_notes == 3); // every record spells it the IOS way
  CHECK(verdict.sessions.size() == 3);
  CHECK_FALSE(verdict.has_errors());
  const auto mid_stream =
      std::find_if(verdict.findings.begin(), verdict.findings.end(),
                   [](const Finding& f) { return f.rule_id == "SES-NO-START"; });
  REQUIRE(mid_stream != verdict.findings.end());
  CHECK(mid_stream->severity == Severity::info);
  CHECK(mid_stream->evidence.session_id == "00000003");
  // The arithmetic: received 20 s in, minus 0 s delay, minus 109 s of session = 89 s before.
  CHECK(mid_stream->message.find("minus Acct-Session-Time 109 s") != std::string::npos);
  CHECK(mid_stream->message.find("89.0 s before the trace began") != std::string::npos);

  // Had the capture begun 200 s earlier, the same Interim dates its session inside it: its
  // Start is missing, and that is the NAS's error.
  trace.begin = -200;
  const auto earlier = check_trace(trace, *profile, dict);
  std::multiset<std::string> earlier_errors;
  for (const auto& finding : earlier.findings) {
    if (finding.severity == Severity::error) {
      earlier_errors.insert(finding.rule_id);
      CHECK(finding.party == Party::nas);
      CHECK(finding.message.find("111.0 s after the trace began") != std::string::npos);
    }
  }
  CHECK(earlier_errors == std::multiset<std::string>{"SES-NO-START"});
}
