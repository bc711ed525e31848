// Decode + Request Authenticator verification of the feature document's 220-octet Cisco Start
// record, on one core. Baseline in the same run: MD5 alone over the same octets (the floor that
// verification cannot go below) and framing checks alone.
//
//   build/bench/radius/bench_radius_decode [seconds-per-measurement]

#include "radius/accounting_record.hpp"
#include "radius/authenticator.hpp"
#include "radius/document_records.hpp"
#include "radius/packet_codec.hpp"
#include "radius/text_form.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>

using namespace acctlab::radius;
using Clock = std::chrono::steady_clock;

namespace {

template <class Work> double rate(double seconds, Work&& work) {
  std::size_t done = 0;
  const auto start = Clock::now();
  const auto until = start + std::chrono::duration<double>(seconds);
  while (Clock::now() < until) {
    for (int i = 0; i < 1000; ++i) {
      work();
    }
    done += 1000;
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  return static_cast<double>(done) / elapsed;
}

} // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 2.0;
  const auto& dict = Dictionary::builtin();
  auto packet = parse_packet_text(document_start_text, dict);
  if (!packet) {
    std::fprintf(stderr, "bench: %s\n", packet.error().message.c_str());
    return 1;
  }
  auto wire = encode_packet(*packet, dict);
  sign_request(wire, "testing123");
  std::size_t sink = 0;

  const double md5_only =
      rate(seconds, [&] { sink += md5({std::span<const std::uint8_t>(wire)})[0]; });
  const double framing = rate(seconds, [&] { sink += check_framing(wire).has_value(); });
  const double decode_verify = rate(seconds, [&] {
    auto decoded = decode_packet(wire, dict);
    sink += decoded->attributes().size();
    sink += verify_request_authenticator(wire, "testing123");
  });
  const double full = rate(seconds, [&] {
    auto decoded = decode_packet(wire, dict);
    sink += verify_request_authenticator(wire, "testing123");
    sink += make_accounting_record(*decoded, dict).session_id.size();
  });
  std::printf("packet: %zu octets, %zu attributes\n", wire.size(), packet->attributes().size());
  std::printf("md5 only (baseline)               %12.0f /s\n", md5_only);
  std::printf("framing check only                %12.0f /s\n", framing);
  std::printf("decode + verify authenticator     %12.0f /s   %.2fx of md5-only\n", decode_verify,
              decode_verify / md5_only);
  std::printf("decode + verify + AccountingRecord %11.0f /s   %.2fx of md5-only\n", full,
              full / md5_only);
  return sink == 0 ? 2 : 0;
}
