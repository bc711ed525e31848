// libFuzzer target: arbitrary text through the conformance profile parser (`acctlab check
// --profile FILE`). Every row of a profile that parses must have a sane count range, a source and
// an attribute the dictionary knows (or an AV-pair name).

#include "conformance/profile.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace acctlab::conformance;
  const auto& dict = acctlab::radius::Dictionary::builtin();
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto profile = parse_profile(text, "fuzz.profile", dict);
  if (!profile) {
    (void)profile.error().to_string();
    return 0;
  }
  for (const auto& row : profile->rows) {
    if (row.count.min > row.count.max || row.source.empty() || row.names.empty()) {
      __builtin_trap();
    }
    if (!row.avpair && dict.find(row.key) == nullptr) {
      __builtin_trap();
    }
    (void)row.count.text();
  }
  return 0;
}
