// libFuzzer target: arbitrary text through the gateway's scenario parser (`acctlab gateway
// --scenario`). A scenario that parses must only refer to slots and peers it declares.

#include "client/scenario.hpp"

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace acctlab::gateway;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // Limits a hundred times smaller than the gateway's: a legal scenario of a million peers takes
  // ten seconds under ASan (libFuzzer's timeout) and reaches no code a thousand peers do not.
  const ScenarioLimits limits{.peers_per_line = 1000, .peers = 10000, .peer_references = 10000};
  auto scenario = parse_scenario(text, limits);
  if (!scenario) {
    (void)scenario.error().to_string();
    return 0;
  }
  std::set<std::string> peers;
  for (const auto& peer : scenario->peers) {
    peers.insert(peer.name);
  }
  for (const auto& step : scenario->steps) {
    for (const auto& name : step.peers) {
      if (!peers.contains(name)) {
        __builtin_trap(); // every peer a step names was declared
      }
    }
    if (!step.slot.empty() && scenario->slot_index(step.slot) < 0) {
      __builtin_trap();
    }
  }
  (void)scenario_config_path("fuzz/x.scn", *scenario);
  return 0;
}
