// Untrusted input never crashes the engine: every corpus trace with single-byte mutations and
// truncations of its packets is judged, and every finding names a rule of the catalog.

#include "conformance/catalog.hpp"
#include "conformance/engine.hpp"
#include "conformance/profile.hpp"
#include "defect_corpus.hpp"

#include <catch2/catch.hpp>
#include <random>
#include <set>

using namespace acctlab;
using namespace acctlab::conformance;

TEST_CASE("mutated traces are judged without crashing", "[conformance][grind]") {
  const auto& dict = radius::Dictionary::builtin();
  auto profile = load_profile("cisco-ios-ipsec", dict);
  REQUIRE(profile);
  std::set<std::string> ids;
  for (const auto& rule : rules_for(*profile)) {
    ids.insert(rule.id);
  }
  std::mt19937 random(20260427); // fixed seed: runs repeat exactly
  std::size_t runs = 0;
  std::size_t findings = 0;
  for (const auto& c : corpus::all_cases()) {
    const auto base = corpus::build_trace(c.spec, dict);
    if (base.packets.empty()) {
      continue; // a capture edge with nothing in it: no packet to mutate
    }
    for (int round = 0; round < 24; ++round) {
      auto trace = base;
      auto& packet = trace.packets[random() % trace.packets.size()];
      if (packet.raw.empty()) {
        continue;
      }
      switch (round % 3) {
        case 0: // flip one byte anywhere, header included
          packet.raw[random() % packet.raw.size()] ^= static_cast<std::uint8_t>(1 + random() % 255);
          break;
        case 1: // cut the datagram short
          packet.raw.resize(random() % packet.raw.size());
          break;
        case 2: // an attribute length byte pointing anywhere
          if (packet.raw.size() > 21) {
            packet.raw[20 + random() % (packet.raw.size() - 21) + 1] =
                static_cast<std::uint8_t>(random());
          }
          break;
      }
      trace.packets[random() % trace.packets.size()].direction =
          static_cast<Direction>(random() % 3);
      const auto verdict = check_trace(trace, *profile, dict);
      for (const auto& finding : verdict.findings) {
        CHECK(ids.count(finding.rule_id) == 1);
      }
      findings += verdict.findings.size();
      ++runs;
    }
  }
  CHECK(runs > 1000);
  CHECK(findings > 0);
}
