#pragma once
// IPv4 (RFC 791 §3.2) and IPv6 (RFC 8200 §4.5) fragment reassembly in bounded memory: limits on
// concurrent datagrams and buffered octets, and a timeout measured in capture time. Overlapping
// fragments drop the whole datagram (RFC 5722); exact duplicates are ignored.

#include "pcap/capture_issue.hpp"
#include "pcap/frame_parser.hpp"
#include "pcap/ip_address.hpp"

#include <cstdint>
#include <functional>
#include <list>
#include <span>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace acctlab::capture {

struct ReassemblyLimits {
  std::size_t max_datagrams = 1024;          // concurrent incomplete datagrams
  std::size_t max_bytes = 16u * 1024 * 1024; // octets buffered across them
  // RFC 791 suggests a 15 s lower bound; Linux's ipfrag_time and RFC 8200's 60 s bracket 30 s.
  std::int64_t timeout_ns = 30'000'000'000;
};

/** Where a frame came from: file index (order given) and 1-based frame number in that file. */
struct FrameRef {
  std::uint32_t file_index = 0;
  std::uint64_t frame = 0;
  std::uint64_t offset = 0; // the frame's record in its file
};

class FragmentReassembler {
public:
  /** Receives each issue with the frame of the datagram's first fragment. */
  using IssueCallback = std::function<void(IssueKind, FrameRef, std::string_view detail)>;

  explicit FragmentReassembler(ReassemblyLimits limits = {}, IssueCallback on_issue = {});

  /**
   * Adds one fragment (a ParsedFrame of kind fragment, with its addresses). Returns the
   * reassembled payload (what follows the IP header, or IPv6's fragment header) when this fragment
   * completes its datagram; the span stays valid until the next call. Empty otherwise.
   */
  std::span<const std::uint8_t> add(const ParsedFrame& fragment, std::int64_t timestamp_ns,
                                    FrameRef where);

  /** Drops datagrams whose first fragment is older than the timeout at capture time now_ns. */
  void expire(std::int64_t now_ns) {
    if (!pending_.empty()) {
      expire_before(now_ns - limits_.timeout_ns);
    }
  }

  /** Ends the capture: every incomplete datagram is reported as timed out. */
  void finish();

  std::size_t pending_datagrams() const { return index_.size(); }
  std::size_t buffered_bytes() const { return buffered_bytes_; }
  std::uint64_t reassembled() const { return reassembled_; }

private:
  struct Key {
    IpAddress source;
    IpAddress destination;
    std::uint32_t id = 0;
    std::uint8_t protocol = 0;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const noexcept;
  };
  struct Range {
    std::uint32_t begin;
    std::uint32_t end;
  };
  struct Pending {
    Key key;
    std::int64_t first_seen_ns = 0;
    FrameRef first_frame;
    bool dropped = false; // kept as a tombstone so the rest of its fragments are ignored
    bool have_last = false;
    std::uint32_t total = 0;
    std::uint32_t received = 0;
    std::vector<std::uint8_t> data;
    std::vector<Range> ranges; // sorted by begin, disjoint
  };
  using PendingList = std::list<Pending>;

  void expire_before(std::int64_t cutoff_ns);
  void drop(Pending& p, IssueKind kind, FrameRef where, std::string_view detail);
  void erase(PendingList::iterator it);
  bool make_room(std::size_t octets, const Pending* keep);

  ReassemblyLimits limits_;
  IssueCallback on_issue_;
  PendingList pending_; // in order of first fragment
  std::unordered_map<Key, PendingList::iterator, KeyHash> index_;
  std::vector<std::vector<std::uint8_t>> spare_buffers_;
  std::vector<std::uint8_t> completed_;
  std::size_t buffered_bytes_ = 0;
  std::uint64_t reassembled_ = 0;
};

} // namespace acctlab::capture
