// libFuzzer target: arbitrary text through the reference gateway's IOS configuration reader
// (`acctlab gateway --config`), then through what the gateway does with the model: the
// description, profile matching and the accounting lists' servers.

#include "client/ios_config.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace acctlab::gateway;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto result = read_ios_config(text);
  int lines = 1;
  for (char c : text) {
    lines += c == '\n';
  }
  for (const auto& diagnostic : result.diagnostics) {
    if (diagnostic.line < 0 || diagnostic.line > lines) {
      __builtin_trap(); // a diagnostic names a line of the text
    }
    (void)diagnostic.to_string();
  }
  if (result.usable() != (result.count(Diagnostic::Severity::error) == 0)) {
    __builtin_trap();
  }
  const IosConfig& config = result.config;
  (void)describe(config);
  const IkeIdentity identities[] = {
      {IkeIdentity::Type::key_id, "cclient"},
      {IkeIdentity::Type::ipv4_address, "11.1.2.2"},
      {IkeIdentity::Type::fqdn, "host.example.com"},
      {IkeIdentity::Type::user_fqdn, "joe@example.com"},
  };
  for (const auto& identity : identities) {
    const auto match = match_profile(config, identity);
    for (const auto& entry : config.crypto_maps) {
      if (const auto* list = resolve_accounting_list(config, match.profile, entry.map_name)) {
        (void)accounting_servers(config, *list);
      }
    }
  }
  for (const auto& list : config.accounting_lists) {
    (void)accounting_servers(config, list);
  }
  (void)config.crypto_interface();
  return 0;
}
