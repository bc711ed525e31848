#include "pcap/fragment_reassembler.hpp"

#include <algorithm>
#include <cstring>

namespace acctlab::capture {

namespace {
// An IP datagram's Total Length is 16 bits: no reassembled payload can exceed it.
constexpr std::uint32_t max_datagram_octets = 65535;
} // namespace

std::size_t FragmentReassembler::KeyHash::operator()(const Key& k) const noexcept {
  std::size_t h = hash_value(k.source);
  h = hash_value(k.destination, h);
  h ^= (std::size_t{k.id} << 8) | k.protocol;
  return h * 1099511628211ull;
}

FragmentReassembler::FragmentReassembler(ReassemblyLimits limits, IssueCallback on_issue)
    : limits_(limits), on_issue_(std::move(on_issue)) {}

void FragmentReassembler::drop(Pending& p, IssueKind kind, FrameRef where,
                               std::string_view detail) {
  if (on_issue_) {
    on_issue_(kind, where, detail);
  }
  p.dropped = true;
  buffered_bytes_ -= p.data.size();
  p.data.clear();
  p.ranges.clear();
}

void FragmentReassembler::erase(PendingList::iterator it) {
  buffered_bytes_ -= it->data.size();
  if (it->data.capacity() != 0 && spare_buffers_.size() < 16) {
    it->data.clear();
    spare_buffers_.push_back(std::move(it->data));
  }
  index_.erase(it->key);
  pending_.erase(it);
}

void FragmentReassembler::expire_before(std::int64_t cutoff_ns) {
  while (!pending_.empty() && pending_.front().first_seen_ns < cutoff_ns) {
    Pending& p = pending_.front();
    if (!p.dropped && on_issue_) {
      on_issue_(IssueKind::fragment_timeout, p.first_frame, "reassembly timeout");
    }
    erase(pending_.begin());
  }
}

void FragmentReassembler::finish() {
  while (!pending_.empty()) {
    Pending& p = pending_.front();
    if (!p.dropped && on_issue_) {
      on_issue_(IssueKind::fragment_timeout, p.first_frame, "incomplete at the end of the capture");
    }
    erase(pending_.begin());
  }
}

// Evicts the oldest datagrams (never `keep`) until `octets` more fit; false if they never can.
bool FragmentReassembler::make_room(std::size_t octets, const Pending* keep) {
  if (octets > limits_.max_bytes) {
    return false;
  }
  auto it = pending_.begin();
  while (buffered_bytes_ + octets > limits_.max_bytes && it != pending_.end()) {
    if (&*it == keep) {
      ++it;
      continue;
    }
    if (!it->dropped && on_issue_) {
      on_issue_(IssueKind::fragment_evicted, it->first_frame, "reassembly memory limit");
    }
    auto next = std::next(it);
    erase(it);
    it = next;
  }
  return buffered_bytes_ + octets <= limits_.max_bytes;
}

std::span<const std::uint8_t> FragmentReassembler::add(const ParsedFrame& fragment,
                                                       std::int64_t timestamp_ns, FrameRef where) {
  expire(timestamp_ns);
  const Key key{fragment.source, fragment.destination, fragment.fragment_id, fragment.protocol};
  auto found = index_.find(key);
  if (found == index_.end()) {
    if (index_.size() >= limits_.max_datagrams && !pending_.empty()) {
      if (!pending_.front().dropped && on_issue_) {
        on_issue_(IssueKind::fragment_evicted, pending_.front().first_frame,
                  "too many concurrent datagrams");
      }
      erase(pending_.begin());
    }
    Pending fresh;
    fresh.key = key;
    fresh.first_seen_ns = timestamp_ns;
    fresh.first_frame = where;
    if (!spare_buffers_.empty()) {
      fresh.data = std::move(spare_buffers_.back());
      spare_buffers_.pop_back();
    }
    pending_.push_back(std::move(fresh));
    found = index_.emplace(key, std::prev(pending_.end())).first;
  }
  Pending& p = *found->second;
  if (p.dropped) {
    return {};
  }

  const auto length = static_cast<std::uint32_t>(fragment.payload.size());
  const std::uint32_t begin = fragment.fragment_offset;
  const std::uint32_t end = begin + length;
  // RFC 791 / RFC 8200: every fragment but the last carries a multiple of 8 octets.
  if ((fragment.more_fragments && (length == 0 || length % 8 != 0)) || end > max_datagram_octets) {
    drop(p, IssueKind::fragment_invalid, where, "misaligned or oversized fragment");
    return {};
  }
  if (!fragment.more_fragments) {
    if ((p.have_last && p.total != end) || (!p.ranges.empty() && p.ranges.back().end > end)) {
      drop(p, IssueKind::fragment_invalid, where, "conflicting end of datagram");
      return {};
    }
    p.have_last = true;
    p.total = end;
  } else if (p.have_last && end > p.total) {
    drop(p, IssueKind::fragment_invalid, where, "fragment beyond the end of the datagram");
    return {};
  }

  // Overlap check; ranges are sorted and disjoint.
  auto pos = std::lower_bound(p.ranges.begin(), p.ranges.end(), begin,
                              [](const Range& r, std::uint32_t b) { return r.begin < b; });
  const bool overlaps_next = pos != p.ranges.end() && pos->begin < end;
  const bool overlaps_prev = pos != p.ranges.begin() && std::prev(pos)->end > begin;
  if (overlaps_next || overlaps_prev) {
    const bool exact_duplicate =
        overlaps_next && pos->begin == begin && pos->end == end &&
        std::memcmp(p.data.data() + begin, fragment.payload.data(), length) == 0;
    if (exact_duplicate) {
      return {};
    }
    drop(p, IssueKind::fragment_overlap, where, "overlapping fragment");
    return {};
  }

  if (end > p.data.size()) {
    const std::size_t growth = end - p.data.size();
    if (!make_room(growth, &p)) {
      drop(p, IssueKind::fragment_evicted, where, "reassembly memory limit");
      return {};
    }
    p.data.resize(end);
    buffered_bytes_ += growth;
  }
  if (length != 0) {
    std::memcpy(p.data.data() + begin, fragment.payload.data(), length);
  }
  p.ranges.insert(pos, Range{begin, end});
  p.received += length;
  if (!p.have_last || p.received != p.total) {
    return {};
  }
  // The completed buffer leaves the reassembler's accounting; the previous one is recycled.
  buffered_bytes_ -= p.data.size();
  completed_.swap(p.data);
  p.data.clear();
  erase(found->second);
  ++reassembled_;
  return completed_;
}

} // namespace acctlab::capture
