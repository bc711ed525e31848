#pragma once
// A small classic-pcap writer: the file format of libpcap's savefile.c, one link type per file,
// and frame builders for Ethernet (optionally VLAN-tagged) / IPv4 or IPv6 / UDP with correct
// checksums and optional IP fragmentation. Tests and the benchmark generator use it.

#include "pcap/ip_address.hpp"

#include <cstdint>
#include <cstdio>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace acctlab::capture {

struct UdpFrameSpec {
  std::int64_t timestamp_ns = 0;
  Endpoint source; // source.address and destination.address must share a family
  Endpoint destination;
  std::vector<std::uint16_t> vlan_ids; // outer first; outer ones are 802.1ad S-tags (QinQ)
  std::uint32_t ip_id = 0;             // IPv4 Identification / IPv6 Fragment Identification
  // Largest fragment payload in octets (rounded down to a multiple of 8); 0: never fragment.
  std::size_t fragment_size = 0;
  // IPv6 only: extension headers put before UDP (and before a Fragment header), by type:
  // 0 Hop-by-Hop, 43 Routing, 60 Destination Options. Each is 8 octets of padding.
  std::vector<std::uint8_t> ipv6_extensions;
  std::uint8_t ttl = 64;
};

/** IP packets (header through UDP data) for one datagram: one, or its fragments in order. */
void build_ip_packets(const UdpFrameSpec& spec, std::span<const std::uint8_t> payload,
                      std::vector<std::vector<std::uint8_t>>& packets);

/** The same packets framed in Ethernet II with spec's VLAN tags. */
void build_ethernet_frames(const UdpFrameSpec& spec, std::span<const std::uint8_t> payload,
                           std::vector<std::vector<std::uint8_t>>& frames);

/** RFC 1071 Internet checksum of data, continuing from a partial 32-bit sum. */
std::uint16_t internet_checksum(std::span<const std::uint8_t> data, std::uint32_t sum = 0);

class PcapWriter {
public:
  enum class Precision : std::uint8_t { micro, nano };

  /** Creates path; nullptr with error set when it cannot. link_type is a LINKTYPE_ value. */
  static std::unique_ptr<PcapWriter> create(const std::string& path, std::string& error,
                                            Precision precision = Precision::micro,
                                            std::uint32_t snaplen = 65535,
                                            std::uint32_t link_type = 1);
  ~PcapWriter();
  PcapWriter(const PcapWriter&) = delete;
  PcapWriter& operator=(const PcapWriter&) = delete;

  /** Writes one record; octets beyond the snaplen are cut (the original length is recorded). */
  bool write_frame(std::int64_t timestamp_ns, std::span<const std::uint8_t> frame);
  /** Writes the Ethernet frame(s) of one UDP datagram (the file must be LINKTYPE_ETHERNET). */
  bool write_udp(const UdpFrameSpec& spec, std::span<const std::uint8_t> payload);
  /** Flushes and closes; false if any write failed. */
  bool close();

  std::uint64_t frames_written() const { return frames_written_; }

private:
  PcapWriter() = default;
  std::FILE* file_ = nullptr;
  std::unique_ptr<char[]> buffer_;
  Precision precision_ = Precision::micro;
  std::uint32_t snaplen_ = 65535;
  bool ok_ = true;
  std::uint64_t frames_written_ = 0;
  std::vector<std::vector<std::uint8_t>> scratch_;
};

} // namespace acctlab::capture
