#include "pcap/capture_issue.hpp"

#include <string>

namespace acctlab::capture {
namespace {

struct IssueText {
  IssueKind kind;
  std::string_view name;
  std::string_view text;
};

constexpr std::array<IssueText, issue_kind_count> issue_table{{
    {IssueKind::file_open_failed, "file_open_failed",
     "the file cannot be opened as pcap or pcapng"},
    {IssueKind::file_truncated, "file_truncated", "the file ends in the middle of a record"},
    {IssueKind::file_corrupt, "file_corrupt",
     "a record is corrupt; the rest of the file cannot be read"},
    {IssueKind::unsupported_link_type, "unsupported_link_type",
     "the capture's link-layer type is not decoded"},
    {IssueKind::cut_by_snaplen, "cut_by_snaplen",
     "the capture kept fewer octets than the datagram has (snaplen)"},
    {IssueKind::link_header_truncated, "link_header_truncated",
     "the frame is shorter than its link-layer header"},
    {IssueKind::ip_header_invalid, "ip_header_invalid", "the IP header is invalid"},
    {IssueKind::ip_length_invalid, "ip_length_invalid",
     "the IP length disagrees with the header or the frame"},
    {IssueKind::ipv6_extension_invalid, "ipv6_extension_invalid",
     "an IPv6 extension header is truncated or the chain is too long"},
    {IssueKind::udp_header_truncated, "udp_header_truncated", "the UDP header is incomplete"},
    {IssueKind::udp_length_invalid, "udp_length_invalid",
     "the UDP Length is below 8 or beyond the IP payload"},
    {IssueKind::fragment_invalid, "fragment_invalid",
     "a fragment is misaligned, too large, or contradicts its datagram's end"},
    {IssueKind::fragment_overlap, "fragment_overlap",
     "a fragment overlaps an earlier one with different data; the datagram is dropped"},
    {IssueKind::fragment_timeout, "fragment_timeout",
     "a fragmented datagram was still incomplete when its reassembly time ran out"},
    {IssueKind::fragment_evicted, "fragment_evicted",
     "a fragmented datagram was dropped to keep reassembly memory bounded"},
    {IssueKind::not_radius, "not_radius",
     "a datagram on a RADIUS port is not a RADIUS packet (another protocol, or noise)"},
}};

static_assert([] {
  for (std::size_t i = 0; i < issue_table.size(); ++i) {
    if (static_cast<std::size_t>(issue_table[i].kind) != i) {
      return false;
    }
  }
  return true;
}());

} // namespace

std::string_view to_string(IssueKind kind) noexcept {
  const auto i = static_cast<std::size_t>(kind);
  return i < issue_table.size() ? issue_table[i].name : "unknown";
}

std::string_view describe(IssueKind kind) noexcept {
  const auto i = static_cast<std::size_t>(kind);
  return i < issue_table.size() ? issue_table[i].text : "unknown issue";
}

std::optional<IssueKind> issue_kind_from_string(std::string_view name) noexcept {
  for (const auto& entry : issue_table) {
    if (entry.name == name) {
      return entry.kind;
    }
  }
  return std::nullopt;
}

std::string not_radius_detail(const std::string& source, const std::string& destination,
                              std::span<const std::uint8_t> payload) {
  std::string out = std::to_string(payload.size()) + " octets " + source + " -> " + destination;
  if (payload.size() < 20) {
    return out + ": shorter than a RADIUS header (20 octets)";
  }
  const unsigned length = (unsigned{payload[2]} << 8) | payload[3];
  if (length < 20 || length > 4096) {
    return out + ": Length " + std::to_string(length) + " is outside 20..4096";
  }
  return out + ": code " + std::to_string(payload[0]) + " is not a RADIUS code";
}

std::uint64_t IssueCounts::total() const {
  std::uint64_t sum = 0;
  for (auto c : counts) {
    sum += c;
  }
  return sum;
}

} // namespace acctlab::capture
