#pragma once
// Reads pcap and pcapng files through libpcap and turns them into a stream of UDP datagrams:
// one file or several merged into one time-ordered stream (stable by file order on equal times).
// Bad input is counted and kept as Issue values with file and frame number; reading goes on.

#include "pcap/capture_issue.hpp"
#include "pcap/fragment_reassembler.hpp"
#include "pcap/frame_parser.hpp"
#include "pcap/ip_address.hpp"
#include "pcap/tls_sessions.hpp"

#include <bitset>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

struct pcap; // libpcap's pcap_t

namespace acctlab::capture {

/** One record as libpcap returns it; data is valid until the reader's next call. */
struct RawFrame {
  std::uint64_t frame = 0;       // 1-based, as Wireshark numbers frames
  std::int64_t timestamp_ns = 0; // since the Unix epoch
  std::uint32_t captured_length = 0;
  std::uint32_t original_length = 0;
  std::uint64_t offset = 0; // where its record begins in the file (pcapng: the blocks read with it)
  std::span<const std::uint8_t> data;
};

/** What a live capture listens to (`acctlab capture`). */
struct LiveSpec {
  std::string interface;
  std::string filter; // BPF, compiled for the interface's link type
  int snaplen = 65535;
  int read_timeout_ms = 100; // how often next() returns idle when nothing arrives
};

/** The BPF filter for RADIUS on the given ports, with IP fragments (they carry no UDP ports
 * after the first, and the reassembler needs them all). */
std::string radius_filter(const std::vector<std::uint16_t>& extra_ports);

/** One capture file opened through libpcap (pcap or pcapng, read with nanosecond timestamps),
 * or a live interface. */
class FileReader {
public:
  enum class Status : std::uint8_t { frame, end, error, idle };

  /** Opens path; on failure returns nullptr and sets error to libpcap's reason. */
  static std::unique_ptr<FileReader> open(const std::string& path, std::string& error);
  /** Opens an interface (immediate mode, the spec's filter); nullptr with libpcap's reason. */
  static std::unique_ptr<FileReader> open_live(const LiveSpec& spec, std::string& error);
  ~FileReader();
  FileReader(const FileReader&) = delete;
  FileReader& operator=(const FileReader&) = delete;

  /** Reads the next record. On error, kind and detail describe it and the file is finished.
   * A live reader returns idle when its read timeout passes without a frame. */
  Status next(RawFrame& out, IssueKind& kind, std::string& detail);

  int link_type() const { return link_type_; }
  std::uint64_t frames_read() const { return frames_read_; }
  /** Octets of the file consumed so far (for progress reporting). */
  std::uint64_t position() const;
  /** Where the next record begins: after an error, the offset of the record that failed. */
  std::uint64_t next_offset() const { return next_offset_; }

private:
  FileReader() = default;
  ::pcap* handle_ = nullptr;
  std::unique_ptr<char[]> stdio_buffer_; // must outlive the FILE that libpcap closes
  int link_type_ = 0;
  std::uint64_t frames_read_ = 0;
  bool finished_ = false;
  bool live_ = false;
  std::int64_t timestamp_scale_ = 1; // 1000 when a live handle gives microseconds
  int read_timeout_ms_ = 100;
  // Record offsets: a pcap file's records follow its 24-octet header, each a 16-octet header (24
  // in the modified format) and caplen octets; a pcapng file's are asked of the FILE.
  bool pcapng_ = false;
  std::uint64_t record_header_ = 16;
  std::uint64_t next_offset_ = 0;

public:
  bool live() const { return live_; }
  /** Ends a live capture: next() returns end from now on. */
  void stop() { finished_ = true; }
  /** libpcap's drop counters for a live capture (kernel and interface), when it has them. */
  std::uint64_t dropped() const;
};

/** A UDP datagram found in a capture; payload is valid until the stream's next call. */
struct UdpDatagram {
  std::uint32_t file_index = 0; // position of its file in the list given to the stream
  std::uint64_t frame = 0;      // the frame that carried it (the last fragment if reassembled)
  std::uint64_t offset = 0;     // that frame's record in the file (RawFrame::offset)
  std::int64_t timestamp_ns = 0;
  Endpoint source;
  Endpoint destination;
  std::uint8_t vlan_count = 0;
  std::uint16_t vlan_ids[2] = {0, 0};
  bool reassembled = false;
  /** Which RADIUS packet of a UDP segmentation offload super-datagram this is (1-based; see
   * udp_gso_segments), or 0 when the captured datagram was one packet. */
  std::uint16_t segment = 0;
  std::span<const std::uint8_t> payload;

  std::int64_t timestamp_us() const { return timestamp_ns / 1000; }
};

/** RADIUS's ports: RFC 2865/2866 (1812, 1813) and the historical 1645, 1646. */
inline constexpr std::uint16_t radius_ports[] = {1812, 1813, 1645, 1646};

/**
 * Whether a port is the well-known port of a service other than RADIUS: the system ports 1-1023
 * (RFC 6335 §6) and registered ports that common UDP protocols use on both sides or as their
 * server port (SSDP 1900, L2TP 1701, NFS 2049, STUN 3478, WS-Discovery 3702, IPsec NAT-T 4500,
 * VXLAN 4789, SIP 5060, mDNS 5353, LLMNR 5355, Geneve 6081). A datagram between such a port and
 * a RADIUS port number is that service's, sent from an ephemeral port that happened to be 1645,
 * 1646, 1812 or 1813 (the range 1024-5000 of older stacks includes them), unless it is framed
 * as RADIUS.
 */
bool other_service_port(std::uint16_t port) noexcept;

/**
 * The RADIUS packets a captured UDP payload holds when it is a UDP segmentation offload
 * super-datagram: a sender using UDP_SEGMENT (acctlab serve answering a burst to one NAS does)
 * hands the kernel several datagrams of gso_size octets under one UDP header, the last possibly
 * shorter, and a capture on the sending host (always on loopback; on a NIC that segments in
 * hardware, too) records that whole before it is cut. On the wire each part was a datagram of its
 * own. Returns each packet's size, in order, when the payload is two or more RADIUS packets back
 * to back, each framed (radius::check_framing), all of the first one's size but the last, which
 * is no longer, ending exactly at the payload's end; otherwise empty (one packet, perhaps with
 * padding after its Length, which RFC 2865 §3 says to ignore).
 */
std::vector<std::size_t> udp_gso_segments(std::span<const std::uint8_t> payload);

/** A datagram of another protocol that shared a port number with RADIUS (other_service_port):
 * left out of the RADIUS datagrams and counted, the first few kept to be named in reports. */
struct OtherProtocolDatagram {
  std::uint32_t file_index = 0;
  std::uint64_t frame = 0;
  Endpoint source;
  Endpoint destination;
  std::size_t octets = 0;
};

/** An ICMP Port Unreachable about a datagram to or from a RADIUS port (parse_port_unreachable):
 * the host of the closed port saying that nothing listened there. */
struct PortUnreachableNotice {
  std::uint32_t file_index = 0;
  std::uint64_t frame = 0;
  std::int64_t timestamp_ns = 0;
  IpAddress reporter; // the ICMP message's source
  Endpoint sender;    // of the datagram it quotes
  Endpoint receiver;  // the closed port
  int code = -1;      // the quoted RADIUS packet's code and Identifier, -1 when not quoted
  int identifier = -1;
};

struct StreamOptions {
  std::vector<std::uint16_t> extra_ports; // added to radius_ports
  bool all_udp = false;                   // ignore the port filter
  ReassemblyLimits reassembly;
  std::size_t max_issues_kept = 10000; // beyond this issues are only counted
  /** Live sources: asked before every read and after every idle timeout; false ends the
   * capture (an interrupt, a duration reached). */
  std::function<bool()> keep_going;
  /** RadSec: the key log that opens TLS 1.3 sessions on the RadSec ports; their RADIUS
   * packets come out of next() like datagrams (the session's endpoints, the carrying frame). */
  const TlsKeyLog* tls_keys = nullptr;
  /** Sees every frame as read (link type and frame), e.g. to save the raw capture. */
  std::function<void(int link_type, const RawFrame& frame)> on_frame;
};

struct StreamStats {
  std::uint64_t frames = 0;
  std::uint64_t captured_bytes = 0;
  std::uint64_t not_ip = 0;
  std::uint64_t other_ip = 0;
  std::uint64_t udp = 0;         // whole UDP datagrams, any port, including reassembled ones
  std::uint64_t udp_matched = 0; // on a selected port: what next() returned
  std::uint64_t fragments = 0;   // IP fragments of UDP datagrams
  std::uint64_t reassembled = 0; // datagrams completed from fragments
  std::uint64_t invalid_frames = 0;
  /** On a RADIUS port number but between it and another service's port, not framed as RADIUS:
   * another protocol's traffic, not read as RADIUS and not a capture issue. */
  std::uint64_t other_protocol = 0;
  std::vector<OtherProtocolDatagram> other_protocol_examples; // the first 10
  /** UDP segmentation offload super-datagrams (udp_gso_segments) read as the packets they hold. */
  std::uint64_t gso_datagrams = 0;
  std::uint64_t gso_packets = 0;
  /** ICMP Port Unreachable errors about RADIUS datagrams, and the first 10,000 of them. */
  std::uint64_t port_unreachable = 0;
  std::vector<PortUnreachableNotice> port_unreachables;
  /** The earliest and latest frame time read (any frame, RADIUS or not): the capture's edges. */
  std::optional<std::int64_t> first_ns;
  std::optional<std::int64_t> last_ns;
};

struct FileSummary {
  std::string path;
  int link_type = -1; // -1 when the file did not open
  std::uint64_t frames = 0;
  bool complete = false;                // read to its end without a file error
  std::optional<std::int64_t> first_ns; // its earliest and latest frame, when it had any
  std::optional<std::int64_t> last_ns;
};

class DatagramStream {
public:
  DatagramStream(std::vector<std::string> paths, StreamOptions options = {});
  /** A live capture, named name in the file list (frames numbered from 1 as it starts). */
  DatagramStream(std::unique_ptr<FileReader> live, std::string name, StreamOptions options);
  ~DatagramStream();
  DatagramStream(const DatagramStream&) = delete;
  DatagramStream& operator=(const DatagramStream&) = delete;

  /** The next matching datagram in time order; false when every file is finished. */
  bool next(UdpDatagram& out);

  const StreamStats& stats() const { return stats_; }
  const IssueCounts& issue_counts() const { return issue_counts_; }
  /** The first max_issues_kept issues, in the order seen. */
  const std::vector<Issue>& issues() const { return issues_; }
  const std::vector<FileSummary>& files() const;
  /** Octets of all files consumed so far and their total size, for a progress bar. */
  std::uint64_t bytes_consumed() const;
  std::uint64_t bytes_total() const { return bytes_total_; }
  /** RadSec (TLS on TCP 2083) sessions seen so far. */
  const TlsSessionTracker& tls_sessions() const { return tls_sessions_; }

private:
  struct Source;

  void report(IssueKind kind, FrameRef where, std::string_view detail);
  bool fill(Source& source);
  bool process(Source& source, UdpDatagram& out);
  bool emit(const ParsedFrame& parsed, const Source& source, bool reassembled, UdpDatagram& out);
  /** An ICMP or ICMPv6 message: kept when it says a RADIUS datagram's port was closed. */
  void note_icmp(const ParsedFrame& parsed, const Source& source);
  void split_segments(UdpDatagram& out);

  StreamOptions options_;
  std::bitset<65536> ports_;
  std::vector<std::unique_ptr<Source>> sources_;
  mutable std::vector<FileSummary> summaries_;
  FragmentReassembler reassembler_;
  TlsSessionTracker tls_sessions_;
  // RADIUS packets read out of one frame beyond the one next() returned for it (RadSec records,
  // the later parts of a UDP segmentation offload super-datagram), handed out by next() in the
  // order found.
  std::deque<std::pair<UdpDatagram, std::vector<std::uint8_t>>> pending_;
  std::vector<std::uint8_t> pending_current_;
  StreamStats stats_;
  IssueCounts issue_counts_;
  std::vector<Issue> issues_;
  std::uint64_t bytes_total_ = 0;
  bool finished_ = false;
  ParsedFrame parsed_;
};

} // namespace acctlab::capture
