// The proof that the checks are right: every defect trace produces its rule's finding and no
// other error or warning, and every clean trace produces none. Prints precision and recall.

#include "conformance/engine.hpp"
#include "conformance/profile.hpp"
#include "conformance/report.hpp"
#include "defect_corpus.hpp"

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

using namespace acctlab;
using namespace acctlab::conformance;

TEST_CASE("defect corpus: precision and recall are 100%", "[conformance][corpus]") {
  const auto& dict = radius::Dictionary::builtin();
  std::map<std::string, Profile> profiles;
  for (const auto* name : {"rfc2866", "cisco-ios-ipsec"}) {
    auto profile = load_profile(name, dict);
    REQUIRE(profile);
    profiles.emplace(name, std::move(profile).value());
  }
  const auto dir = std::filesystem::path(ACCTLAB_BINARY_DIR) / "conformance-corpus";
  std::filesystem::create_directories(dir);

  std::size_t true_positives = 0;
  std::size_t false_positives = 0;
  std::size_t false_negatives = 0;
  std::size_t defects = 0;
  std::size_t cleans = 0;
  std::set<std::string> rules_proven;
  std::size_t edges = 0; // damaged or empty captures, judged by the verdict itself
  for (const auto& c : corpus::all_cases()) {
    // Written out and read back, so the trace format is part of what is proven.
    const auto path = dir / (c.name + ".trace");
    {
      std::ofstream out(path);
      out << "# " << c.name << ": profile " << c.profile << ", expects "
          << c.expected_rule.value_or("no error or warning") << "\n"
          << format_trace(corpus::build_trace(c.spec, dict));
    }
    const auto trace = load_trace_file(path.string());
    REQUIRE(trace);
    const auto verdict = check_trace(*trace, profiles.at(c.profile), dict);

    bool found = false;
    std::vector<std::string> unexpected;
    for (const auto& finding : verdict.findings) {
      if (c.expected_rule && finding.rule_id == *c.expected_rule) {
        found = true;
      } else if (finding.severity != Severity::info &&
                 std::find(c.also.begin(), c.also.end(), finding.rule_id) == c.also.end()) {
        unexpected.push_back(finding.rule_id + ": " + finding.message);
      }
    }
    INFO("case " << c.name);
    for (const auto& text : unexpected) {
      UNSCOPED_INFO("unexpected " << text);
    }
    CHECK(unexpected.empty());
    false_positives += unexpected.size();
    if (c.expected_outcome) {
      // A capture edge: the verdict is the finding, and no pass is ever given.
      ++defects;
      ++edges;
      const auto outcome = VerdictView(verdict).summary().outcome();
      CHECK(to_string(outcome) == to_string(*c.expected_outcome));
      if (outcome == *c.expected_outcome) {
        ++true_positives;
      } else {
        ++false_negatives;
      }
    } else if (c.expected_rule) {
      ++defects;
      CHECK(found);
      if (found) {
        ++true_positives;
        rules_proven.insert(*c.expected_rule);
      } else {
        ++false_negatives;
      }
      // The defect's own finding must fail the verdict when its rule is an error.
      if (found && std::any_of(verdict.findings.begin(), verdict.findings.end(), [&](auto& f) {
            return f.rule_id == *c.expected_rule && f.severity == Severity::error;
          })) {
        CHECK(verdict.has_errors());
      }
    } else {
      ++cleans;
      CHECK_FALSE(verdict.has_errors());
    }
  }
  const double precision = true_positives + false_positives
                               ? static_cast<double>(true_positives) /
                                     static_cast<double>(true_positives + false_positives)
                               : 0.0;
  const double recall = true_positives + false_negatives
                            ? static_cast<double>(true_positives) /
                                  static_cast<double>(true_positives + false_negatives)
                            : 0.0;
  std::printf("conformance corpus: %zu defect traces (%zu rules, %zu damaged or empty captures), "
              "%zu clean traces; TP %zu FP %zu FN %zu; precision %.1f%%, recall %.1f%%\n",
              defects, rules_proven.size(), edges, cleans, true_positives, false_positives,
              false_negatives, precision * 100, recall * 100);
  CHECK(edges >= 6);
  CHECK(defects >= 25);
  CHECK(rules_proven.size() >= 25);
  CHECK(cleans >= 5);
  CHECK(precision == 1.0);
  CHECK(recall == 1.0);
}
