// libFuzzer target: arbitrary text through the NAS clients file parser (clients.conf format, what
// `acctlab serve --clients` and `pcap analyze --secrets` read). Every client that parses must
// hold an address that prints and parses back to itself and is matched by its own prefix.

#include "server/clients_file.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace acctlab::server;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto clients = parse_clients(text, "fuzz.conf");
  if (!clients) {
    (void)clients.error().to_string();
    return 0;
  }
  for (const auto& client : clients->clients()) {
    if (client.prefix_length > client.address.bit_length()) {
      __builtin_trap(); // contains() walks prefix_length bits of the address
    }
    const auto again = IpAddress::parse(client.address.to_string());
    if (!again || !(*again == client.address)) {
      __builtin_trap();
    }
    const Client* best = clients->match(client.address);
    if (best == nullptr || best->prefix_length < client.prefix_length) {
      __builtin_trap(); // longest prefix first: at least as specific as the client itself
    }
  }
  return 0;
}
