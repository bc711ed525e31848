// The capture door: a corpus trace written as a pcap file, read back through libpcap, judged;
// findings name the capture file and frame numbers.

#include "conformance/engine.hpp"
#include "conformance/pcap_trace.hpp"
#include "conformance/profile.hpp"
#include "defect_corpus.hpp"
#include "pcap/pcap_writer.hpp"

#include <catch2/catch.hpp>
#include <filesystem>

using namespace acctlab;
using namespace acctlab::conformance;

namespace {
capture::Endpoint endpoint(const std::string& text) {
  const auto colon = text.rfind(':');
  return {*capture::IpAddress::parse(text.substr(0, colon)),
          static_cast<std::uint16_t>(std::stoi(text.substr(colon + 1)))};
}
} // namespace

TEST_CASE("a capture becomes a trace with file and frame evidence", "[conformance][pcap]") {
  const auto& dict = radius::Dictionary::builtin();

  corpus::Spec spec;
  for (const auto& c : corpus::all_cases()) {
    if (c.name == "rekey-opens-session") {
      spec = c.spec;
    }
  }
  REQUIRE_FALSE(spec.requests.empty());
  const auto trace = corpus::build_trace(spec, dict);
  const auto path = (std::filesystem::temp_directory_path() /
                     ("acctlab-conformance-" + std::to_string(::getpid()) + ".pcap"))
                        .string();
  std::string error;
  auto writer = capture::PcapWriter::create(path, error, capture::PcapWriter::Precision::nano);
  REQUIRE(writer);
  std::uint32_t ip_id = 1;
  for (const auto& packet : trace.packets) {
    capture::UdpFrameSpec frame;
    frame.timestamp_ns = static_cast<std::int64_t>((1700000000.0 + packet.time) * 1e9);
    frame.source = endpoint(packet.source);
    frame.destination = endpoint(packet.destination);
    frame.ip_id = ip_id++;
    frame.fragment_size = packet.raw.size() > 200 ? 128 : 0; // the long Starts travel in pieces
    REQUIRE(writer->write_udp(frame, packet.raw));
  }
  REQUIRE(writer->close());

  const auto loaded = load_trace_from_pcap({path});
  CHECK(loaded.errors.empty());
  REQUIRE(loaded.trace.packets.size() == trace.packets.size());
  for (std::size_t i = 0; i < trace.packets.size(); ++i) {
    CHECK(loaded.trace.packets[i].raw == trace.packets[i].raw);
    CHECK(loaded.trace.packets[i].direction == trace.packets[i].direction);
  }
  Trace judged = loaded.trace;
  judged.default_secret = spec.secret;
  judged.interim_interval = spec.interim_interval;
  auto profile = load_profile("cisco-ios-ipsec", dict);
  REQUIRE(profile);
  const auto verdict = check_trace(judged, *profile, dict);
  std::vector<std::string> errors;
  const Finding* rekey = nullptr;
  for (const auto& finding : verdict.findings) {
    if (finding.severity == Severity::error) {
      errors.push_back(finding.rule_id);
      rekey = &finding;
    }
  }
  CHECK(errors == std::vector<std::string>{"SES-REKEY-NEW-SESSION"});
  REQUIRE(rekey);
  CHECK(rekey->evidence.file == path);
  REQUIRE(rekey->evidence.frames.size() == 2);
  CHECK(rekey->evidence.frames.front() < rekey->evidence.frames.back());

  CHECK_FALSE(load_trace_from_pcap({path + ".absent"}).errors.empty());
  std::filesystem::remove(path);
}
