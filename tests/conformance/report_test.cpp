#include "conformance/profile.hpp"
#include "conformance/report.hpp"
#include "defect_corpus.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <catch2/catch.hpp>

using namespace acctlab;
using namespace acctlab::conformance;

namespace {
Verdict sample_verdict() {
  const auto& dict = radius::Dictionary::builtin();
  auto profile = load_profile("cisco-ios-ipsec", dict);
  REQUIRE(profile);
  auto spec = corpus::clean_spec();
  // Two defects: a Stop with Acct-Terminate-Cause 0 (warning) and an unanswered Stop (an error
  // of the server's, and the NAS's warning for never sending it again).
  for (auto& request : spec.requests) {
    if (auto* status = corpus::find(request.attrs, "Acct-Status-Type");
        status && *status == "Stop") {
      corpus::set(request.attrs, "Acct-Terminate-Cause", "0");
      if (*corpus::find(request.attrs, "Acct-Session-Id") == "\"00000002\"") {
        request.answered = false;
      }
    }
  }
  auto trace = corpus::build_trace(spec, dict);
  trace.packets[0].file = "lab.pcap";
  trace.packets[0].frame = 12;
  return check_trace(trace, *profile, dict);
}

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) {
    ++n;
  }
  return n;
}
} // namespace

TEST_CASE("JSON report carries every finding with its evidence", "[conformance][report]") {
  const auto verdict = sample_verdict();
  REQUIRE(verdict.has_errors());
  const auto root = boost::json::parse(render_json(verdict)).as_object();
  CHECK(root.at("verdict").as_string() == "fail");
  CHECK(root.at("profile").as_string() == "cisco-ios-ipsec");
  CHECK(root.at("rules").as_array().size() == verdict.rules.size());
  const auto& findings = root.at("findings").as_array();
  REQUIRE(findings.size() == verdict.findings.size());
  bool unanswered = false;
  std::size_t zero_cause = 0;
  for (const auto& item : findings) {
    const auto& f = item.as_object();
    CHECK(f.contains("scope"));
    CHECK(f.contains("message"));
    const auto& evidence = f.at("evidence").as_object();
    CHECK_FALSE(evidence.at("packets").as_array().empty());
    CHECK_FALSE(evidence.at("nas").as_string().empty());
    if (f.at("rule").as_string() == "EXC-UNANSWERED") {
      unanswered = true;
      CHECK(f.at("severity").as_string() == "error");
      CHECK(evidence.at("acct_session_id").as_string() == "00000002");
      CHECK(f.at("party").as_string() == "server");
    }
    if (f.at("rule").as_string() == "PKT-TERMINATE-CAUSE-ZERO") {
      ++zero_cause;
      CHECK(f.at("severity").as_string() == "warning");
    }
  }
  CHECK(unanswered);
  CHECK(zero_cause == 2);
  // Worst first.
  CHECK(findings.front().as_object().at("severity").as_string() == "error");
  // A verdict per party: the server failed, the NAS only drew warnings.
  const auto& parties = root.at("parties").as_object();
  CHECK(parties.at("server").at("verdict").as_string() == "fail");
  CHECK(parties.at("server").at("errors").as_int64() == 1);
  CHECK(parties.at("nas").at("verdict").as_string() == "pass");
  CHECK(parties.at("nas").at("warnings").as_int64() == 3);
  CHECK(parties.at("path").at("verdict").as_string() == "pass");
  const auto& profiles = root.at("profiles").as_array();
  REQUIRE(profiles.size() == 1);
  CHECK(profiles.front().at("profile").as_string() == "cisco-ios-ipsec");
}

TEST_CASE("JUnit report has one testcase per rule and per session", "[conformance][report]") {
  const auto verdict = sample_verdict();
  const auto xml = render_junit(verdict);
  CHECK(occurrences(xml, "<testcase ") == verdict.rules.size() + verdict.sessions.size());
  CHECK(occurrences(xml, "<failure ") == 3 + 2); // three rules, two sessions
  CHECK(xml.find("name=\"EXC-UNANSWERED\"") != std::string::npos);
  CHECK(xml.find("<testsuite name=\"sessions\" tests=\"2\" failures=\"2\">") != std::string::npos);
  CHECK(xml.find("Acct-Session-Id &quot;00000002&quot;") != std::string::npos); // escaped
}

TEST_CASE("terminal summary: worst first, colour only when asked", "[conformance][report]") {
  const auto verdict = sample_verdict();
  const auto plain = render_text(verdict);
  CHECK(plain.find('\033') == std::string::npos);
  const auto unanswered = plain.find("FAIL EXC-UNANSWERED");
  const auto zero = plain.find("FAIL PKT-TERMINATE-CAUSE-ZERO");
  REQUIRE(unanswered != std::string::npos);
  REQUIRE(zero != std::string::npos);
  CHECK(unanswered < zero);
  CHECK(plain.find("verdict: FAIL") != std::string::npos);
  CHECK(plain.find("3 failed") != std::string::npos);
  CHECK(plain.find("verdict: FAIL (NAS pass: 0 errors, 3 warnings; server fail: 1 errors, 0 "
                   "warnings; path pass)") != std::string::npos);
  CHECK(render_text(verdict, {.colour = true}).find("\033[31m") != std::string::npos);
}

TEST_CASE("JUnit report stays well-formed XML for hostile finding text", "[conformance][report]") {
  auto verdict = sample_verdict();
  REQUIRE_FALSE(verdict.findings.empty());
  for (auto& finding : verdict.findings) {
    finding.message = "bad <x> 'q' \x01\x1B[31m end";
  }
  const auto xml = render_junit(verdict);
  // XML 1.0 §2.2: the controls become U+FFFD, the specials references.
  CHECK(xml.find("bad &lt;x&gt; &#39;q&#39; \xEF\xBF\xBD\xEF\xBF\xBD[31m end") !=
        std::string::npos);
  CHECK(std::none_of(xml.begin(), xml.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t' && c != '\r';
  }));
}
