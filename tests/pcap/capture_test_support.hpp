#pragma once
// Helpers shared by the capture tests: scratch paths under the build tree, running real tools
// (tshark, editcap) and reading their output, and datagram payloads that say who they are.

#include "pcap/capture_reader.hpp"
#include "pcap/pcap_writer.hpp"

#include <array>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

namespace acctlab::capture::test {

/** A fresh scratch directory for one test, under the build tree. */
inline std::filesystem::path scratch_dir(const std::string& name) {
  auto dir = std::filesystem::path(ACCTLAB_BINARY_DIR) / "test-scratch" / "pcap" / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

/** Runs a shell command and returns its standard output; exit_code receives its status. */
inline std::string run(const std::string& command, int* exit_code = nullptr) {
  std::string output;
  std::FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) {
    if (exit_code) {
      *exit_code = -1;
    }
    return output;
  }
  std::array<char, 4096> buffer{};
  std::size_t n = 0;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) {
    output.append(buffer.data(), n);
  }
  const int status = ::pclose(pipe);
  if (exit_code) {
    *exit_code = status;
  }
  return output;
}

inline std::size_t count_lines(const std::string& text) {
  std::size_t lines = 0;
  for (char c : text) {
    lines += c == '\n';
  }
  return lines;
}

/** A payload of `size` octets whose first four carry `tag`, the rest a pattern derived from it. */
inline std::vector<std::uint8_t> tagged_payload(std::uint32_t tag, std::size_t size) {
  std::vector<std::uint8_t> p(size);
  for (std::size_t i = 0; i < size; ++i) {
    p[i] = static_cast<std::uint8_t>((tag * 31 + i * 7) & 0xFF);
  }
  for (std::size_t i = 0; i < 4 && i < size; ++i) {
    p[i] = static_cast<std::uint8_t>(tag >> (24 - 8 * i));
  }
  return p;
}

inline std::uint32_t payload_tag(std::span<const std::uint8_t> p) {
  if (p.size() < 4) {
    return 0xFFFFFFFF;
  }
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         p[3];
}

inline Endpoint endpoint(const char* address, std::uint16_t port) {
  return Endpoint{*IpAddress::parse(address), port};
}

/** A spec for a NAS → server datagram at t seconds. */
inline UdpFrameSpec spec_v4(double seconds, std::uint16_t dport = 1813) {
  UdpFrameSpec spec;
  spec.timestamp_ns = static_cast<std::int64_t>(seconds * 1e9) + 1'700'000'000'000'000'000;
  spec.source = endpoint("192.0.2.10", 50000);
  spec.destination = endpoint("192.0.2.1", dport);
  return spec;
}

inline UdpFrameSpec spec_v6(double seconds, std::uint16_t dport = 1813) {
  UdpFrameSpec spec = spec_v4(seconds, dport);
  spec.source = endpoint("2001:db8::10", 50000);
  spec.destination = endpoint("2001:db8::1", dport);
  return spec;
}

/** Reads every matching datagram of the files: (file, frame, tag) per datagram. */
struct Seen {
  std::uint32_t file_index;
  std::uint64_t frame;
  std::int64_t timestamp_ns;
  std::uint32_t tag;
  std::size_t size;
  bool reassembled;
};

inline std::vector<Seen> read_all(DatagramStream& stream) {
  std::vector<Seen> seen;
  UdpDatagram d;
  while (stream.next(d)) {
    seen.push_back({d.file_index, d.frame, d.timestamp_ns, payload_tag(d.payload), d.payload.size(),
                    d.reassembled});
  }
  return seen;
}

} // namespace acctlab::capture::test
