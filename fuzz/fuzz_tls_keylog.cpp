// libFuzzer target: the TLS key log parser (untrusted text from a user's SSLKEYLOGFILE) and the
// TLS 1.2 / 1.3 record openers over arbitrary records. The first octet chooses the reader and the
// cipher suite; the rest is the key log text, or the record's header and fragment.

#include "pcap/tls_decrypt.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace {

constexpr std::uint16_t tls12_suites[] = {0xC02B, 0xC02C, 0xCCA9, 0xC023, 0xC00A, 0xC024};
constexpr std::uint16_t tls13_suites[] = {0x1301, 0x1302, 0x1303};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace acctlab::capture;
  if (size < 1) {
    return 0;
  }
  const std::uint8_t choice = data[0];
  const std::span<const std::uint8_t> rest(data + 1, size - 1);
  if (choice < 64) {
    const auto log = TlsKeyLog::parse(
        std::string_view(reinterpret_cast<const char*>(rest.data()), rest.size()), "fuzz.keys");
    volatile std::size_t sink = log.sessions() + log.problems().size();
    (void)sink;
    return 0;
  }
  if (rest.size() < 5) {
    return 0;
  }
  std::array<std::uint8_t, 48> secret{};
  secret.fill(0x5a);
  ClientRandom client_random{};
  ClientRandom server_random{};
  server_random.fill(0x11);
  const auto header = rest.first(5);
  const auto fragment = rest.subspan(5);
  if (choice < 160) {
    Tls12Reader reader;
    const auto suite = tls12_suites[choice % std::size(tls12_suites)];
    if (reader.set_keys(suite, secret, client_random, server_random, (choice & 1) != 0,
                        (choice & 2) != 0)) {
      reader.open(header, fragment);
    }
  } else {
    Tls13Reader reader;
    if (reader.set_secret(tls13_suites[choice % std::size(tls13_suites)],
                          std::span(secret).first(choice % 2 ? 32 : 48))) {
      std::uint8_t inner = 0;
      reader.open(header, fragment, inner);
    }
  }
  return 0;
}
