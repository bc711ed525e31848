#pragma once
// A capture of a real gateway run: the reference gateway runs a scenario against `acctlab serve`
// on loopback, and its wire log becomes a pcap written by the project's PcapWriter (the server
// shown on port 1813, long Starts fragmented), plus one request signed with a wrong secret.

#include "capture_test_support.hpp"
#include "conformance/tester.hpp"
#include "process_support.hpp"
#include "radius/authenticator.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>

namespace acctlab::capture::test {

inline const std::string acctlab_binary = std::string(ACCTLAB_BINARY_DIR) + "/acctlab";
inline const std::string scenarios = std::string(ACCTLAB_SOURCE_DIR) + "/client/scenarios/";

/** The gateway talked to a server on a free port; the capture shows it on 1813, as in the lab. */
inline std::uint16_t server_port = 0;

inline Endpoint parse_endpoint(const std::string& text) {
  const auto colon = text.rfind(':');
  auto port = static_cast<std::uint16_t>(std::stoi(text.substr(colon + 1)));
  return {*IpAddress::parse(text.substr(0, colon)),
          port == server_port ? std::uint16_t{1813} : port};
}

struct GatewayCapture {
  std::filesystem::path pcap;
  std::filesystem::path server_db;
  std::size_t frames = 0;
  std::size_t bad_frame = 0; // the frame of the request signed with a wrong secret
};

/**
 * Runs a gateway scenario against `acctlab serve`, turns the gateway's wire log into a pcap with
 * PcapWriter (the long Starts fragmented, as IOS's do on a small MTU), and appends one copy of
 * the first request signed with a wrong secret.
 */
inline GatewayCapture gateway_capture(const std::filesystem::path& dir, const std::string& scenario,
                                      bool retransmit_first = false) {
  GatewayCapture out;
  out.server_db = dir / "serve.db";
  AcctlabProcess serve(
      {"serve", "--listen", "127.0.0.1:0", "--db", out.server_db.string(), "--stats", "0"},
      dir / "serve.log");
  const auto port = serve.wait_for_port();
  REQUIRE(port != 0);
  const auto server = "127.0.0.1:" + std::to_string(port);
  server_port = port;
  int status = 0;
  // The capture places the run at 1700000000 + its time; the gateway's clock, which stamps
  // Event-Timestamp (lab.cfg sends it), starts there too.
  run(acctlab_binary + " gateway --scenario " + scenarios + scenario + " --server " + server +
          " --server " + server +
          " --secret testing123 --clock virtual --nas-clock 1700000000 --events " +
          (dir / "events.jsonl").string() + " > " + (dir / "gateway.log").string() + " 2>&1",
      &status);
  REQUIRE(status == 0);
  serve.signal(SIGTERM);
  REQUIRE(serve.wait() == 0);

  auto trace = conformance::trace_from_event_log(read_text(dir / "events.jsonl"));
  REQUIRE(trace);
  REQUIRE(trace->packets.size() >= 4);
  out.pcap = dir / "gateway.pcap";
  std::string error;
  auto writer = PcapWriter::create(out.pcap.string(), error, PcapWriter::Precision::nano);
  REQUIRE(writer);
  std::uint32_t ip_id = 1;
  const auto write = [&](double time, const std::string& from, const std::string& to,
                         std::span<const std::uint8_t> raw) {
    UdpFrameSpec frame;
    frame.timestamp_ns = static_cast<std::int64_t>((1'700'000'000.0 + time) * 1e9);
    frame.source = parse_endpoint(from);
    frame.destination = parse_endpoint(to);
    frame.ip_id = ip_id++;
    frame.fragment_size = raw.size() > 200 ? 128 : 0;
    REQUIRE(writer->write_udp(frame, raw));
    out.frames += frame.fragment_size ? (raw.size() + 8 + 127) / 128 : 1;
  };
  for (std::size_t i = 0; i < trace->packets.size(); ++i) {
    const auto& packet = trace->packets[i];
    write(packet.time, packet.source, packet.destination, packet.raw);
    if (i == 0 && retransmit_first) {
      // The NAS retransmitting its first request unchanged (RFC 5080 §2.2.1).
      write(packet.time + 0.0005, packet.source, packet.destination, packet.raw);
    }
  }
  // The first request again, with an Identifier of its own and signed with another secret.
  const auto& first = trace->packets.front();
  std::vector<std::uint8_t> bad(first.raw.begin(), first.raw.end());
  bad[1] = 251;
  radius::sign_request(bad, "not-the-secret");
  write(trace->packets.back().time + 1, first.source, first.destination, bad);
  out.bad_frame = out.frames;
  REQUIRE(writer->close());
  write_text(dir / "clients.conf", loopback_clients("testing123"));
  return out;
}

} // namespace acctlab::capture::test
