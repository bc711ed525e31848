#pragma once
// Everything that can be wrong with a capture, from the file down to the UDP header. Each issue is
// a value with the file and the frame number where it was seen (frames numbered from 1 per file,
// as Wireshark numbers them); readers count them and go on.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace acctlab::capture {

enum class IssueKind : std::uint8_t {
  // The file.
  file_open_failed,      // not readable, or not a pcap/pcapng file
  file_truncated,        // the file ends inside a record
  file_corrupt,          // a record libpcap rejects (bad length, bad block); the rest is unreadable
  unsupported_link_type, // a link layer this reader does not decode (the file is skipped)
  // The frame.
  cut_by_snaplen,         // the datagram is incomplete because the capture kept fewer octets
  link_header_truncated,  // frame shorter than its link-layer or VLAN header
  ip_header_invalid,      // IP version mismatch, IPv4 IHL < 5, header longer than the frame
  ip_length_invalid,      // IP total/payload length smaller than the header or beyond the frame
  ipv6_extension_invalid, // an extension header runs past the packet or the chain is too long
  udp_header_truncated,   // fewer than 8 octets of UDP header
  udp_length_invalid,     // UDP Length < 8 or beyond the IP payload
  // Fragment reassembly (RFC 791 §3.2, RFC 8200 §4.5).
  fragment_invalid, // misaligned, beyond 65535 octets, or contradicting the datagram's end
  fragment_overlap, // overlaps an earlier fragment with different data (RFC 5722): dropped
  fragment_timeout, // datagram incomplete when its reassembly time ran out
  fragment_evicted, // datagram dropped to keep reassembly within its memory bounds
  // The datagram.
  not_radius, // on a RADIUS port but no RADIUS packet: too short, a code RADIUS does not define,
              // or a Length outside 20..4096 (radius::could_be_radius)
};

inline constexpr std::size_t issue_kind_count = 16;

/** The stable name, e.g. "cut_by_snaplen". */
std::string_view to_string(IssueKind kind) noexcept;
/** One sentence for a person. */
std::string_view describe(IssueKind kind) noexcept;
std::optional<IssueKind> issue_kind_from_string(std::string_view name) noexcept;

/** One problem, where it was seen: file index (in the order given), frame number, detail, and
 * the byte offset in the file of the record concerned (for a file error: of the first record
 * that could not be read; for a frame in a pcapng file: of the blocks read with it). */
struct Issue {
  IssueKind kind;
  std::uint32_t file_index = 0;
  std::uint64_t frame = 0; // 0 when the issue concerns the file as a whole
  std::string detail;      // libpcap's message or extra context; may be empty
  std::uint64_t offset = 0;
};

/** Why a datagram on a RADIUS port is not RADIUS, with its size and where it went:
 * "12 octets 192.0.2.1:5000 -> 192.0.2.9:1813: shorter than a RADIUS header (20 octets)". */
std::string not_radius_detail(const std::string& source, const std::string& destination,
                              std::span<const std::uint8_t> payload);

/** Counts per issue kind. */
struct IssueCounts {
  std::array<std::uint64_t, issue_kind_count> counts{};

  void add(IssueKind kind) { ++counts[static_cast<std::size_t>(kind)]; }
  std::uint64_t operator[](IssueKind kind) const { return counts[static_cast<std::size_t>(kind)]; }
  std::uint64_t total() const;
};

} // namespace acctlab::capture
