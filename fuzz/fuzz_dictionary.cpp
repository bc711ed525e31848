// libFuzzer target: arbitrary text as a FreeRADIUS-format dictionary (`--dictionary FILE`). The
// input is the root file; $INCLUDE reaches the input again (loops) or one of our own dictionary
// files by name. A dictionary that loads must render a packet holding each attribute it defines,
// with values of several sizes, as text that parses back to the same packet.

#include "radius/dictionary_parser.hpp"
#include "radius/packet_codec.hpp"
#include "radius/text_form.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// The files compiled into acctlab_radius (radius/embed_files.cmake), as Dictionary::builtin reads
// them.
namespace acctlab::radius::detail {
extern const std::pair<std::string_view, std::string_view> embedded_dictionaries[];
extern const unsigned embedded_dictionary_count;
} // namespace acctlab::radius::detail

namespace {

using namespace acctlab::radius;

// A packet with every attribute the dictionary defines that can be on the wire, each with values
// of the sizes its type cares about: empty, byte, short, integer, ipv6 prefix/ifid, ipv6, odd.
Packet sample_packet(const Dictionary& dict) {
  constexpr std::size_t sizes[] = {0, 1, 2, 4, 6, 8, 16, 17, 18};
  Packet packet(Code::accounting_request, 1);
  for (const auto* def : dict.all()) {
    if (packet.attributes().size() >= 3000) {
      break; // the value buffer's offsets are 16 bits; a datagram holds far fewer anyway
    }
    if (!def->oid.empty() || (def->vendor == 0 && def->number > 255)) {
      continue; // nested or server-internal: no wire form of their own
    }
    const auto* vendor = def->vendor ? dict.vendor(def->vendor) : nullptr;
    const unsigned type_size = vendor ? vendor->type_size : 1;
    if (def->vendor && type_size < 4 && (def->number >> (8 * type_size)) != 0) {
      continue; // does not fit its vendor's type field; the decoder cannot produce it
    }
    for (const std::size_t size : sizes) {
      std::vector<std::uint8_t> value(size);
      for (std::size_t i = 0; i < value.size(); ++i) {
        value[i] = static_cast<std::uint8_t>(i * 37 + def->number); // printable and not
      }
      if (def->vendor) {
        packet.add_vendor(def->vendor, def->number, value);
      } else {
        packet.add(static_cast<std::uint8_t>(def->number), value);
      }
    }
  }
  return packet;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const DictionaryReader reader = [&input](const std::string& path) -> std::optional<std::string> {
    const auto slash = path.find_last_of('/');
    const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
    if (name == "fuzz.dictionary") {
      return input;
    }
    for (unsigned i = 0; i < detail::embedded_dictionary_count; ++i) {
      if (detail::embedded_dictionaries[i].first == name) {
        return std::string(detail::embedded_dictionaries[i].second); // one of our own files
      }
    }
    return std::nullopt;
  };
  auto dict = load_dictionary("fuzz/fuzz.dictionary", reader);
  if (!dict) {
    (void)dict.error().to_string();
    return 0;
  }
  const auto packet = sample_packet(*dict);
  for (const TextOptions options : {TextOptions{}, TextOptions{true, true}}) {
    auto again = parse_packet_text(render_packet(packet, *dict, options), *dict);
    if (!again || !(*again == packet)) {
      __builtin_trap(); // what the dictionary renders, it must read back
    }
  }
  return 0;
}
