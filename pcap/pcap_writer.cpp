#include "pcap/pcap_writer.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace acctlab::capture {

namespace {

void put16(std::vector<std::uint8_t>& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}
void put32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  put16(out, static_cast<std::uint16_t>(v >> 16));
  put16(out, static_cast<std::uint16_t>(v));
}
void set16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}
std::uint32_t partial_sum(std::span<const std::uint8_t> data, std::uint32_t sum) {
  std::size_t i = 0;
  for (; i + 1 < data.size(); i += 2) {
    sum += (std::uint32_t{data[i]} << 8) | data[i + 1];
  }
  if (i < data.size()) {
    sum += std::uint32_t{data[i]} << 8;
  }
  return sum;
}

constexpr std::uint8_t ip_proto_udp = 17;

// The UDP datagram (header + data) with its checksum over the pseudo-header (RFC 768, RFC 8200
// §8.1); zero is sent as all ones.
void build_udp(const UdpFrameSpec& spec, std::span<const std::uint8_t> payload,
               std::vector<std::uint8_t>& udp) {
  udp.clear();
  const auto length = static_cast<std::uint16_t>(8 + payload.size());
  put16(udp, spec.source.port);
  put16(udp, spec.destination.port);
  put16(udp, length);
  put16(udp, 0);
  udp.insert(udp.end(), payload.begin(), payload.end());
  const std::size_t n = spec.source.address.size();
  std::uint32_t sum = partial_sum({spec.source.address.octets.data(), n}, 0);
  sum = partial_sum({spec.destination.address.octets.data(), n}, sum);
  sum += ip_proto_udp;
  sum += length;
  std::uint16_t checksum = internet_checksum(udp, sum);
  if (checksum == 0) {
    checksum = 0xFFFF;
  }
  set16(udp.data() + 6, checksum);
}

void ipv4_header(const UdpFrameSpec& spec, std::size_t payload_length, bool more,
                 std::size_t offset, std::vector<std::uint8_t>& out) {
  const std::size_t start = out.size();
  out.push_back(0x45);
  out.push_back(0);
  put16(out, static_cast<std::uint16_t>(20 + payload_length));
  put16(out, static_cast<std::uint16_t>(spec.ip_id));
  put16(out, static_cast<std::uint16_t>((more ? 0x2000u : 0u) | (offset / 8)));
  out.push_back(spec.ttl);
  out.push_back(ip_proto_udp);
  put16(out, 0);
  out.insert(out.end(), spec.source.address.octets.begin(), spec.source.address.octets.begin() + 4);
  out.insert(out.end(), spec.destination.address.octets.begin(),
             spec.destination.address.octets.begin() + 4);
  set16(out.data() + start + 10, internet_checksum({out.data() + start, 20}));
}

// IPv6 header plus spec's extension headers, ending with next_header for what follows them.
void ipv6_header(const UdpFrameSpec& spec, std::size_t rest_length, std::uint8_t last_next,
                 std::vector<std::uint8_t>& out) {
  const std::size_t extensions = spec.ipv6_extensions.size() * 8;
  put32(out, 0x60000000u);
  put16(out, static_cast<std::uint16_t>(extensions + rest_length));
  out.push_back(spec.ipv6_extensions.empty() ? last_next : spec.ipv6_extensions.front());
  out.push_back(spec.ttl);
  out.insert(out.end(), spec.source.address.octets.begin(), spec.source.address.octets.end());
  out.insert(out.end(), spec.destination.address.octets.begin(),
             spec.destination.address.octets.end());
  for (std::size_t i = 0; i < spec.ipv6_extensions.size(); ++i) {
    const std::uint8_t next =
        i + 1 < spec.ipv6_extensions.size() ? spec.ipv6_extensions[i + 1] : last_next;
    out.push_back(next);
    out.push_back(0); // length 0: 8 octets in all
    if (spec.ipv6_extensions[i] == 43) {
      // Routing header with Segments Left 0 (RFC 8200 §4.4): ignored by every node.
      out.insert(out.end(), {253, 0, 0, 0, 0, 0});
    } else {
      out.insert(out.end(), {1, 4, 0, 0, 0, 0}); // a PadN option filling the header
    }
  }
}

} // namespace

std::uint16_t internet_checksum(std::span<const std::uint8_t> data, std::uint32_t sum) {
  sum = partial_sum(data, sum);
  while (sum >> 16) {
    sum = (sum & 0xFFFFu) + (sum >> 16);
  }
  return static_cast<std::uint16_t>(~sum);
}

void build_ip_packets(const UdpFrameSpec& spec, std::span<const std::uint8_t> payload,
                      std::vector<std::vector<std::uint8_t>>& packets) {
  std::vector<std::uint8_t> udp;
  build_udp(spec, payload, udp);
  const bool v6 = spec.source.address.is_v6();
  const std::size_t chunk = spec.fragment_size / 8 * 8;
  std::size_t count = 1;
  if (chunk != 0 && udp.size() > chunk) {
    count = (udp.size() + chunk - 1) / chunk;
  }
  packets.resize(count);
  for (std::size_t i = 0; i < count; ++i) {
    auto& out = packets[i];
    out.clear();
    const std::size_t offset = count == 1 ? 0 : i * chunk;
    const std::size_t length = count == 1 ? udp.size() : std::min(chunk, udp.size() - offset);
    const bool more = i + 1 < count;
    if (!v6) {
      ipv4_header(spec, length, more, offset, out);
    } else if (count == 1) {
      ipv6_header(spec, length, ip_proto_udp, out);
    } else {
      ipv6_header(spec, 8 + length, 44, out);
      out.push_back(ip_proto_udp); // RFC 8200 §4.5 Fragment header
      out.push_back(0);
      put16(out, static_cast<std::uint16_t>(offset | (more ? 1u : 0u)));
      put32(out, spec.ip_id);
    }
    out.insert(out.end(), udp.begin() + static_cast<std::ptrdiff_t>(offset),
               udp.begin() + static_cast<std::ptrdiff_t>(offset + length));
  }
}

void build_ethernet_frames(const UdpFrameSpec& spec, std::span<const std::uint8_t> payload,
                           std::vector<std::vector<std::uint8_t>>& frames) {
  std::vector<std::vector<std::uint8_t>> packets;
  build_ip_packets(spec, payload, packets);
  frames.resize(packets.size());
  for (std::size_t i = 0; i < packets.size(); ++i) {
    auto& out = frames[i];
    out.clear();
    // Locally administered MACs (IEEE 802: second-lowest bit of the first octet).
    out.insert(out.end(), {0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01});
    for (std::size_t t = 0; t < spec.vlan_ids.size(); ++t) {
      put16(out, t + 1 < spec.vlan_ids.size() ? 0x88A8 : 0x8100);
      put16(out, spec.vlan_ids[t] & 0x0FFFu);
    }
    put16(out, spec.source.address.is_v6() ? 0x86DD : 0x0800);
    out.insert(out.end(), packets[i].begin(), packets[i].end());
    // Ethernet's minimum frame is 60 octets before the FCS; short frames are padded.
    if (out.size() < 60) {
      out.resize(60, 0);
    }
  }
}

std::unique_ptr<PcapWriter> PcapWriter::create(const std::string& path, std::string& error,
                                               Precision precision, std::uint32_t snaplen,
                                               std::uint32_t link_type) {
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) {
    error = std::strerror(errno);
    return nullptr;
  }
  std::unique_ptr<PcapWriter> writer(new PcapWriter());
  writer->file_ = file;
  writer->buffer_ = std::make_unique<char[]>(1 << 20);
  std::setvbuf(file, writer->buffer_.get(), _IOFBF, 1 << 20);
  writer->precision_ = precision;
  writer->snaplen_ = snaplen;
  // The classic header in host byte order; readers detect the order from the magic number.
  const std::uint32_t magic = precision == Precision::nano ? 0xA1B23C4Du : 0xA1B2C3D4u;
  const std::uint16_t version[2] = {2, 4};
  const std::uint32_t zone_sigfigs[2] = {0, 0};
  writer->ok_ = std::fwrite(&magic, 4, 1, file) == 1 && std::fwrite(version, 2, 2, file) == 2 &&
                std::fwrite(zone_sigfigs, 4, 2, file) == 2 &&
                std::fwrite(&snaplen, 4, 1, file) == 1 && std::fwrite(&link_type, 4, 1, file) == 1;
  if (!writer->ok_) {
    error = "cannot write the file header";
    return nullptr;
  }
  return writer;
}

PcapWriter::~PcapWriter() {
  close();
}

bool PcapWriter::write_frame(std::int64_t timestamp_ns, std::span<const std::uint8_t> frame) {
  if (file_ == nullptr) {
    return false;
  }
  const auto original = static_cast<std::uint32_t>(frame.size());
  const std::uint32_t captured = std::min(original, snaplen_);
  const std::int64_t unit = precision_ == Precision::nano ? 1 : 1000;
  std::int64_t seconds = timestamp_ns / 1'000'000'000;
  std::int64_t fraction = timestamp_ns % 1'000'000'000;
  if (fraction < 0) {
    fraction += 1'000'000'000;
    --seconds;
  }
  const std::uint32_t record[4] = {static_cast<std::uint32_t>(seconds),
                                   static_cast<std::uint32_t>(fraction / unit), captured, original};
  ok_ = ok_ && std::fwrite(record, sizeof record, 1, file_) == 1 &&
        (captured == 0 || std::fwrite(frame.data(), captured, 1, file_) == 1);
  ++frames_written_;
  return ok_;
}

bool PcapWriter::write_udp(const UdpFrameSpec& spec, std::span<const std::uint8_t> payload) {
  build_ethernet_frames(spec, payload, scratch_);
  for (const auto& frame : scratch_) {
    if (!write_frame(spec.timestamp_ns, frame)) {
      return false;
    }
  }
  return true;
}

bool PcapWriter::close() {
  if (file_ == nullptr) {
    return ok_;
  }
  ok_ = std::fclose(file_) == 0 && ok_;
  file_ = nullptr;
  return ok_;
}

} // namespace acctlab::capture
