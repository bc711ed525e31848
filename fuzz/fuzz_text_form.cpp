// libFuzzer target: arbitrary text through the packet text form parser (`acctlab radius encode`
// reads it from the user). A packet that parses must render to text that parses to the same
// packet; the checked encoder refuses it only for its total length (the parser already refused
// every attribute too long), and an encoding it accepts decodes to the same attributes, none
// truncated.

#include "radius/packet_codec.hpp"
#include "radius/text_form.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace {

using namespace acctlab::radius;

// Attributes in order, ignoring how vendor sub-attributes are grouped: the encoder starts a new
// Vendor-Specific when a group outgrows 255 octets (RFC 2865 §5.26), so grouping may change.
bool same_attributes(const Packet& a, const Packet& b) {
  if (a.attributes().size() != b.attributes().size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.attributes().size(); ++i) {
    const auto& x = a.attributes()[i];
    const auto& y = b.attributes()[i];
    const auto vx = a.value(x);
    const auto vy = b.value(y);
    if (x.key() != y.key() || x.type != y.type ||
        !std::equal(vx.begin(), vx.end(), vy.begin(), vy.end())) {
      return false;
    }
  }
  return true;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto& dict = Dictionary::builtin();
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto packet = parse_packet_text(text, dict);
  if (!packet) {
    (void)packet.error().message;
    return 0;
  }
  for (const TextOptions options : {TextOptions{}, TextOptions{true, true}}) {
    auto again = parse_packet_text(render_packet(*packet, dict, options), dict);
    if (!again || !(*again == *packet)) {
      __builtin_trap(); // the rendered text must carry the parsed packet exactly
    }
  }
  auto encoded = try_encode_packet(*packet, dict);
  if (!encoded) {
    // The parser checks each attribute with the encoder's own rule (check_attribute), so only
    // their sum can be refused, and only when it is really over RFC 2865 §3's 4096 octets.
    const auto& failure = encoded.error();
    if (failure.error != EncodeError::packet_too_long || failure.size <= max_packet_size ||
        failure.message().empty()) {
      __builtin_trap();
    }
    return 0;
  }
  const auto& wire = *encoded;
  const std::size_t length = (std::size_t{wire[2]} << 8) | wire[3];
  if (wire.size() > max_packet_size || length != wire.size()) {
    __builtin_trap(); // a packet the encoder accepted must be one a receiver takes whole
  }
  auto decoded = decode_packet(wire, dict);
  if (!decoded) {
    __builtin_trap(); // a parsed packet that fits must encode to a valid datagram
  }
  bool raw_vendor_specific = false;
  for (const auto& attribute : packet->attributes()) {
    raw_vendor_specific |= attribute.type == vendor_specific_type && !attribute.is_vendor();
  }
  // A raw Vendor-Specific (contents kept as octets) may well split into sub-attributes on decode.
  if (!raw_vendor_specific && !same_attributes(*decoded, *packet)) {
    __builtin_trap();
  }
  return 0;
}
