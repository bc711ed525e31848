// libFuzzer target: arbitrary datagram sequences through the decoder and the request/response
// tracker (hash table, slab, expiry queues). Input: records of
//   [flags][time step][length][payload...]
// flags bit 0: direction (to the server or back), bits 1-2: which NAS endpoint, bit 3: IPv6.

#include "pcap/exchange_tracker.hpp"
#include "radius/packet_codec.hpp"

#include <cstddef>
#include <cstdint>
#include <span>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace acctlab::capture;
  TrackerOptions options;
  options.timeout_ns = 1'000'000'000;
  options.max_events_kept = 64;
  ExchangeTracker tracker(options);
  const auto& dict = acctlab::radius::Dictionary::builtin();
  const std::uint8_t v4_server[4] = {192, 0, 2, 1};
  const std::uint8_t v6_server[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  std::int64_t now = 0;
  std::uint64_t frame = 0;
  std::size_t at = 0;
  while (at + 3 <= size) {
    const std::uint8_t flags = data[at];
    now += std::int64_t{data[at + 1]} * 20'000'000; // up to about 5 s per step
    const std::size_t length = std::min<std::size_t>(data[at + 2], size - at - 3);
    const std::span<const std::uint8_t> payload(data + at + 3, length);
    at += 3 + length;

    const bool v6 = (flags & 8) != 0;
    std::uint8_t nas_octets[16] = {198, 51, 100, static_cast<std::uint8_t>((flags >> 1) & 3)};
    if (v6) {
      nas_octets[0] = 0x20;
      nas_octets[1] = 0x01;
      nas_octets[15] = static_cast<std::uint8_t>((flags >> 1) & 3);
    }
    const Endpoint server{v6 ? IpAddress::v6(v6_server) : IpAddress::v4(v4_server), 1813};
    const Endpoint nas{v6 ? IpAddress::v6(nas_octets) : IpAddress::v4(nas_octets),
                       static_cast<std::uint16_t>(1000 + (flags >> 4))};
    UdpDatagram d;
    d.frame = ++frame;
    d.timestamp_ns = now;
    d.source = (flags & 1) ? server : nas;
    d.destination = (flags & 1) ? nas : server;
    d.payload = payload;
    auto packet = acctlab::radius::decode_packet(payload, dict);
    if (packet) {
      tracker.on_packet(d, *packet);
    } else {
      tracker.on_decode_error(d, packet.error());
    }
  }
  tracker.finish();
  if (tracker.open_exchanges() != 0) {
    __builtin_trap(); // finish() closes everything
  }
  return 0;
}
