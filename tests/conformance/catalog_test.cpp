#include "conformance/catalog.hpp"
#include "conformance/profile.hpp"

#include <catch2/catch.hpp>
#include <set>

using namespace acctlab;
using namespace acctlab::conformance;

namespace {
Profile shipped(const std::string& name) {
  auto profile = load_profile(name, radius::Dictionary::builtin());
  if (!profile) {
    FAIL(profile.error().to_string());
  }
  return std::move(profile).value();
}
} // namespace

TEST_CASE("rule ids are unique and every rule cites a source", "[conformance][catalog]") {
  for (const auto* name : {"rfc2866", "cisco-ios-ipsec"}) {
    const auto rules = rules_for(shipped(name));
    std::set<std::string> ids;
    for (const auto& rule : rules) {
      INFO(name << " " << rule.id);
      CHECK(ids.insert(rule.id).second);
      CHECK_FALSE(rule.source.empty());
      CHECK_FALSE(rule.summary.empty());
      CHECK(static_cast<bool>(rule.check));
    }
    CHECK(rules.size() > builtin_rules().size());
  }
}

TEST_CASE("every source names an RFC section or a row of the feature document",
          "[conformance][catalog]") {
  for (const auto& rule : rules_for(shipped("cisco-ios-ipsec"))) {
    INFO(rule.id << ": " << rule.source);
    const bool rfc = rule.source.find("RFC ") != std::string::npos;
    const bool seed = rule.source.find("seed") != std::string::npos;
    const bool option = rule.source.find("profile option") != std::string::npos;
    CHECK((rfc || seed || option));
  }
}

TEST_CASE("both shipped profiles forbid the RFC 2866 §5.13 zero-count attributes",
          "[conformance][catalog]") {
  for (const auto* name : {"rfc2866", "cisco-ios-ipsec"}) {
    const auto profile = shipped(name);
    for (const auto* forbidden : {"User-Password", "CHAP-Password", "Reply-Message", "State"}) {
      INFO(name << " " << forbidden);
      const auto it = std::find_if(profile.rows.begin(), profile.rows.end(), [&](const auto& r) {
        return !r.status && !r.avpair && r.names.front() == forbidden;
      });
      REQUIRE(it != profile.rows.end());
      CHECK(it->count.max == 0);
      CHECK(it->severity == Severity::error);
    }
  }
}

TEST_CASE("cisco-ios-ipsec binds the gigaword rows to 52 and 53, and says why",
          "[conformance][catalog]") {
  const auto profile = shipped("cisco-ios-ipsec");
  const auto rules = rules_for(profile);
  const PresenceRow* input = nullptr;
  const PresenceRow* output = nullptr;
  for (const auto& row : profile.rows) {
    if (row.status == 2u && row.names.front() == "Acct-Input-Gigawords") {
      input = &row;
    }
    if (row.status == 2u && row.names.front() == "Acct-Output-Gigawords") {
      output = &row;
    }
  }
  REQUIRE(input);
  REQUIRE(output);
  CHECK(input->key == radius::AttrKey{0, 52});
  CHECK(output->key == radius::AttrKey{0, 53});
  const auto* rule = find_rule(rules, output->id);
  REQUIRE(rule);
  CHECK(rule->source.find("52") != std::string::npos);
  CHECK(rule->source.find("53") != std::string::npos);
  CHECK(rule->source.find("RFC 2869") != std::string::npos);
}

TEST_CASE("cisco-ios-ipsec accepts both spellings of isakmp-initiator-ip",
          "[conformance][catalog]") {
  const auto profile = shipped("cisco-ios-ipsec");
  std::size_t rows = 0;
  for (const auto& row : profile.rows) {
    if (row.avpair && row.names.front() == "isakmp-initiator-ip") {
      ++rows;
      REQUIRE(row.names.size() == 2);
      CHECK(row.names[1] == "isakmp-initator-ip");
    }
  }
  CHECK(rows == 3); // Start, Stop, Interim-Update
  CHECK(profile.options.stop_only_allowed);
  CHECK_FALSE(shipped("rfc2866").options.stop_only_allowed);
}

TEST_CASE("find_rule finds built-in and profile rules", "[conformance][catalog]") {
  const auto rules = rules_for(shipped("cisco-ios-ipsec"));
  REQUIRE(find_rule(rules, "PKT-TERMINATE-CAUSE-ZERO"));
  CHECK(find_rule(rules, "PKT-TERMINATE-CAUSE-ZERO")->severity == Severity::warning);
  CHECK(find_rule(rules, "PKT-TERMINATE-CAUSE-ZERO")->source.find("RFC 2866 §5.10") !=
        std::string::npos);
  REQUIRE(find_rule(rules, "CISCO-START-ACCT-SESSION-ID"));
  CHECK(find_rule(rules, "CISCO-START-ACCT-SESSION-ID")->source ==
        "seed Table 1 row acct-session-id");
  CHECK_FALSE(find_rule(rules, "NO-SUCH-RULE"));
}
