// Feeds arbitrary datagrams through the decoder, the text rendering, the typed record view and
// the authenticator checks; then the rendered text back through the text parser, and the packet
// back through the checked encoder. Any crash, sanitizer report or round-trip mismatch is a
// finding.

#include "radius/accounting_record.hpp"
#include "radius/authenticator.hpp"
#include "radius/ios_debug.hpp"
#include "radius/packet_codec.hpp"
#include "radius/text_form.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace acctlab::radius;
  const auto& dict = Dictionary::builtin();
  const std::span<const std::uint8_t> datagram(data, size);
  auto packet = decode_packet(datagram, dict);
  if (!packet) {
    (void)packet.error().message();
    return 0;
  }
  const auto text = render_packet(*packet, dict);
  (void)ios_debug_lines(*packet, dict);
  (void)make_accounting_record(*packet, dict);
  (void)verify_request_authenticator(datagram, "testing123");
  (void)check_message_authenticator(datagram, "testing123", nullptr);
  auto again = parse_packet_text(text, dict);
  if (!again || !(*again == *packet)) {
    __builtin_trap(); // the text form must carry every decoded packet exactly
  }
  // And back to the wire: a packet that decoded fits every limit the encoder checks, and
  // encodes to the datagram's octets up to its Length (the padding beyond is not the packet's).
  auto encoded = try_encode_packet(*packet, dict);
  const std::size_t length = (std::size_t{data[2]} << 8) | data[3];
  if (!encoded || !std::equal(encoded->begin(), encoded->end(), data, data + length)) {
    __builtin_trap();
  }
  return 0;
}
