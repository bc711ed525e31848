#include "pcap/capture_reader.hpp"

#include "radius/packet_codec.hpp"

#include <cstdio>
#include <cstring>
#include <pcap/pcap.h>
#include <poll.h>
#include <sys/stat.h>

namespace acctlab::capture {

namespace {
// libpcap reads each record with two fread calls; a large stdio buffer turns them into memcpy.
constexpr std::size_t stdio_buffer_size = 256 * 1024;
} // namespace

std::unique_ptr<FileReader> FileReader::open(const std::string& path, std::string& error) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    error = std::string(std::strerror(errno));
    return nullptr;
  }
  std::unique_ptr<FileReader> reader(new FileReader());
  reader->stdio_buffer_ = std::make_unique<char[]>(stdio_buffer_size);
  std::setvbuf(file, reader->stdio_buffer_.get(), _IOFBF, stdio_buffer_size);
  // The magic number says how records are laid out (for the offsets issues name): pcapng's
  // Section Header Block type, or the modified pcap format's 24-octet record headers.
  std::uint8_t magic[4] = {};
  if (std::fread(magic, 1, sizeof magic, file) == sizeof magic) {
    const std::uint32_t le =
        magic[0] | (magic[1] << 8) | (magic[2] << 16) | (std::uint32_t{magic[3]} << 24);
    reader->pcapng_ = le == 0x0A0D0D0Au;
    if (le == 0xA1B2CD34u || le == 0x34CDB2A1u) {
      reader->record_header_ = 24;
    }
  }
  std::rewind(file);
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  // Nanosecond precision: libpcap scales microsecond files, so one unit serves both.
  reader->handle_ =
      pcap_fopen_offline_with_tstamp_precision(file, PCAP_TSTAMP_PRECISION_NANO, errbuf);
  if (reader->handle_ == nullptr) {
    std::fclose(file);
    error = errbuf;
    return nullptr;
  }
  reader->link_type_ = pcap_datalink(reader->handle_);
  reader->next_offset_ = reader->pcapng_ ? reader->position() : 24;
  return reader;
}

bool other_service_port(std::uint16_t port) noexcept {
  switch (port) {
    case 1701:
    case 1900:
    case 2049:
    case 3478:
    case 3702:
    case 4500:
    case 4789:
    case 5060:
    case 5353:
    case 5355:
    case 6081:
      return true;
    default:
      return port >= 1 && port <= 1023;
  }
}

std::string radius_filter(const std::vector<std::uint16_t>& extra_ports) {
  std::string ports;
  for (auto port : radius_ports) {
    ports += (ports.empty() ? "port " : " or port ") + std::to_string(port);
  }
  for (auto port : extra_ports) {
    ports += " or port " + std::to_string(port);
  }
  // ip[6:2] & 0x3fff: More Fragments or a fragment offset (RFC 791); ip6[6] = 44: a Fragment
  // header right after the fixed IPv6 header (RFC 8200 §4.5).
  // And ICMP Port Unreachable (icmp[0] = 3, icmp[1] = 3; ICMPv6 type 1 code 4 right after the
  // fixed header): a closed RADIUS port's answer, read by DatagramStream::note_icmp.
  return "(udp and (" + ports +
         ")) or (ip and ip[6:2] & 0x3fff != 0) or (ip6 and ip6[6] = 44) or "
         "(icmp and icmp[0] = 3 and icmp[1] = 3) or (ip6 and ip6[6] = 58 and ip6[40] = 1 and "
         "ip6[41] = 4)";
}

std::unique_ptr<FileReader> FileReader::open_live(const LiveSpec& spec, std::string& error) {
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  pcap_t* handle = pcap_create(spec.interface.c_str(), errbuf);
  if (handle == nullptr) {
    error = errbuf;
    return nullptr;
  }
  std::unique_ptr<FileReader> reader(new FileReader());
  reader->handle_ = handle;
  reader->live_ = true;
  pcap_set_snaplen(handle, spec.snaplen);
  pcap_set_promisc(handle, 0);
  // Immediate mode: each frame is delivered as it arrives, not when a buffer block fills.
  pcap_set_immediate_mode(handle, 1);
  pcap_set_timeout(handle, spec.read_timeout_ms);
  if (pcap_set_tstamp_precision(handle, PCAP_TSTAMP_PRECISION_NANO) != 0) {
    reader->timestamp_scale_ = 1000;
  }
  const int rc = pcap_activate(handle);
  if (rc < 0) {
    error = rc == PCAP_ERROR_PERM_DENIED
                ? "permission denied (capturing needs root or CAP_NET_RAW): " +
                      std::string(pcap_geterr(handle))
                : std::string(pcap_statustostr(rc)) + ": " + pcap_geterr(handle);
    return nullptr;
  }
  if (pcap_get_tstamp_precision(handle) != PCAP_TSTAMP_PRECISION_NANO) {
    reader->timestamp_scale_ = 1000;
  }
  bpf_program program{};
  if (pcap_compile(handle, &program, spec.filter.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0) {
    error = "filter \"" + spec.filter + "\": " + pcap_geterr(handle);
    return nullptr;
  }
  const int set = pcap_setfilter(handle, &program);
  pcap_freecode(&program);
  if (set != 0) {
    error = "filter: " + std::string(pcap_geterr(handle));
    return nullptr;
  }
  // Non-blocking, waited on with poll(): libpcap's read timeout is not honoured the same way by
  // every Linux capture mechanism (TPACKET_V3 may block until a frame arrives), and a stop
  // request must be seen within read_timeout_ms.
  if (pcap_setnonblock(handle, 1, errbuf) != 0 || pcap_get_selectable_fd(handle) < 0) {
    error = std::string("cannot poll the capture: ") + errbuf;
    return nullptr;
  }
  reader->read_timeout_ms_ = spec.read_timeout_ms;
  reader->link_type_ = pcap_datalink(handle);
  return reader;
}

std::uint64_t FileReader::dropped() const {
  struct pcap_stat stats {};
  if (!live_ || handle_ == nullptr || pcap_stats(handle_, &stats) != 0) {
    return 0;
  }
  return std::uint64_t{stats.ps_drop} + stats.ps_ifdrop;
}

FileReader::~FileReader() {
  if (handle_ != nullptr) {
    pcap_close(handle_); // closes the FILE before stdio_buffer_ is freed
  }
}

FileReader::Status FileReader::next(RawFrame& out, IssueKind& kind, std::string& detail) {
  if (finished_) {
    return Status::end;
  }
  pcap_pkthdr* header = nullptr;
  const u_char* data = nullptr;
  int rc = pcap_next_ex(handle_, &header, &data);
  if (rc == 0 && live_) {
    pollfd wait{pcap_get_selectable_fd(handle_), POLLIN, 0};
    if (::poll(&wait, 1, read_timeout_ms_) <= 0) {
      return Status::idle;
    }
    rc = pcap_next_ex(handle_, &header, &data);
  }
  if (rc == 1) {
    ++frames_read_;
    out.frame = frames_read_;
    out.timestamp_ns = std::int64_t{header->ts.tv_sec} * 1'000'000'000 +
                       std::int64_t{header->ts.tv_usec} * timestamp_scale_;
    out.captured_length = header->caplen;
    out.original_length = header->len;
    out.data = {data, header->caplen};
    out.offset = next_offset_;
    if (!live_) {
      next_offset_ = pcapng_ ? position() : next_offset_ + record_header_ + header->caplen;
    }
    return Status::frame;
  }
  if (rc == 0 && live_) {
    return Status::idle;
  }
  finished_ = true;
  if (rc == PCAP_ERROR_BREAK) {
    return Status::end;
  }
  detail = pcap_geterr(handle_);
  // libpcap says "truncated dump file" (pcap) or "truncated pcapng dump file" when the file ends
  // inside a record; anything else is a record it could not make sense of.
  kind = detail.find("truncated") != std::string::npos ? IssueKind::file_truncated
                                                       : IssueKind::file_corrupt;
  return Status::error;
}

std::uint64_t FileReader::position() const {
  if (live_) {
    return 0;
  }
  std::FILE* file = pcap_file(handle_);
  if (file == nullptr) {
    return 0;
  }
  const long at = std::ftell(file);
  return at < 0 ? 0 : static_cast<std::uint64_t>(at);
}

struct DatagramStream::Source {
  std::uint32_t index = 0;
  std::unique_ptr<FileReader> reader;
  int link_type = 0;
  RawFrame head;
  bool has_head = false;
  bool done = false;
  bool complete = false;
  std::uint64_t size = 0;
  std::uint64_t final_position = 0;
  std::string path;
  std::optional<std::int64_t> first_ns; // the file's earliest and latest frame
  std::optional<std::int64_t> last_ns;
};

DatagramStream::DatagramStream(std::vector<std::string> paths, StreamOptions options)
    : options_(std::move(options)),
      reassembler_(options_.reassembly,
                   [this](IssueKind kind, FrameRef where, std::string_view detail) {
                     report(kind, where, detail);
                   }),
      tls_sessions_(
          radsec_ports(options_.extra_ports), 1024, options_.tls_keys,
          [this](const Endpoint& source, const Endpoint& destination, std::int64_t timestamp_ns,
                 FrameRef where, std::span<const std::uint8_t> packet) {
            UdpDatagram datagram;
            datagram.file_index = where.file_index;
            datagram.frame = where.frame;
            datagram.timestamp_ns = timestamp_ns;
            datagram.source = source;
            datagram.destination = destination;
            pending_.emplace_back(datagram,
                                  std::vector<std::uint8_t>(packet.begin(), packet.end()));
          }) {
  for (auto port : radius_ports) {
    ports_.set(port);
  }
  for (auto port : options_.extra_ports) {
    ports_.set(port);
  }
  std::uint32_t index = 0;
  for (auto& path : paths) {
    auto source = std::make_unique<Source>();
    source->index = index++;
    source->path = std::move(path);
    struct stat st {};
    if (::stat(source->path.c_str(), &st) == 0) {
      source->size = static_cast<std::uint64_t>(st.st_size);
      bytes_total_ += source->size;
    }
    std::string error;
    source->reader = FileReader::open(source->path, error);
    if (!source->reader) {
      source->done = true;
      source->link_type = -1;
      report(IssueKind::file_open_failed, {source->index, 0, 0}, error);
    } else {
      source->link_type = source->reader->link_type();
      if (!link_type_supported(source->link_type)) {
        source->done = true;
        const char* name = pcap_datalink_val_to_name(source->link_type);
        report(IssueKind::unsupported_link_type, {source->index, 0},
               name != nullptr ? name : std::to_string(source->link_type));
      }
    }
    sources_.push_back(std::move(source));
  }
}

DatagramStream::DatagramStream(std::unique_ptr<FileReader> live, std::string name,
                               StreamOptions options)
    : DatagramStream(std::vector<std::string>{}, std::move(options)) {
  auto source = std::make_unique<Source>();
  source->path = std::move(name);
  source->link_type = live->link_type();
  source->reader = std::move(live);
  if (!link_type_supported(source->link_type)) {
    source->done = true;
    const char* link = pcap_datalink_val_to_name(source->link_type);
    report(IssueKind::unsupported_link_type, {0, 0},
           link != nullptr ? link : std::to_string(source->link_type));
  }
  sources_.push_back(std::move(source));
}

std::vector<std::size_t> udp_gso_segments(std::span<const std::uint8_t> payload) {
  constexpr std::size_t header = 20;
  const auto length_at = [&](std::size_t offset) {
    return static_cast<std::size_t>(payload[offset + 2]) << 8 | payload[offset + 3];
  };
  // The common case first: one packet whose Length covers the datagram (or more: a short one).
  if (payload.size() < 2 * header || length_at(0) >= payload.size() || length_at(0) < header) {
    return {};
  }
  std::vector<std::size_t> sizes;
  // Bounded: each step consumes at least a header's 20 octets of a payload under 64 KiB.
  for (std::size_t offset = 0; offset < payload.size();) {
    if (payload.size() - offset < header) {
      return {};
    }
    const auto length = length_at(offset);
    const bool last = offset + length == payload.size();
    if (length < header || offset + length > payload.size() ||
        (!sizes.empty() && (last ? length > sizes.front() : length != sizes.front())) ||
        radius::check_framing(payload.subspan(offset, length))) {
      return {};
    }
    sizes.push_back(length);
    offset += length;
  }
  return sizes;
}

DatagramStream::~DatagramStream() = default;

void DatagramStream::report(IssueKind kind, FrameRef where, std::string_view detail) {
  issue_counts_.add(kind);
  if (issues_.size() < options_.max_issues_kept) {
    issues_.push_back(
        Issue{kind, where.file_index, where.frame, std::string(detail), where.offset});
  }
}

// Makes sure source has its next frame at hand; false when the file is finished.
bool DatagramStream::fill(Source& source) {
  if (source.has_head) {
    return true;
  }
  if (source.done) {
    return false;
  }
  IssueKind kind{};
  std::string detail;
  const bool live = source.reader->live();
  auto status = FileReader::Status::idle;
  // A live source is idle when its read timeout passes without a frame; asking keep_going
  // before each read bounds the wait for an interrupt or the end of --duration to one timeout.
  while (status == FileReader::Status::idle) {
    if (live && options_.keep_going && !options_.keep_going()) {
      source.reader->stop();
    }
    status = source.reader->next(source.head, kind, detail);
  }
  switch (status) {
    case FileReader::Status::frame:
      source.has_head = true;
      if (options_.on_frame) {
        options_.on_frame(source.link_type, source.head);
      }
      return true;
    case FileReader::Status::idle: // not reached: the loop above waits it out
    case FileReader::Status::end:
      source.complete = true;
      break;
    case FileReader::Status::error:
      report(kind, {source.index, source.reader->frames_read() + 1, source.reader->next_offset()},
             detail);
      break;
  }
  source.done = true;
  source.final_position = source.reader->position();
  return false;
}

void DatagramStream::note_icmp(const ParsedFrame& parsed, const Source& source) {
  PortUnreachable quoted;
  if (!parse_port_unreachable(parsed.protocol, parsed.payload, quoted)) {
    return;
  }
  if (!options_.all_udp && !ports_.test(quoted.receiver.port) && !ports_.test(quoted.sender.port)) {
    return;
  }
  PortUnreachableNotice notice;
  const auto& q = quoted.quoted_payload;
  if (q.size() >= radius::header_size) {
    if (!radius::could_be_radius(q)) {
      return; // another protocol's datagram that shared a RADIUS port number
    }
    notice.code = q[0];
    notice.identifier = q[1];
  }
  ++stats_.port_unreachable;
  if (stats_.port_unreachables.size() < 10000) {
    notice.file_index = source.index;
    notice.frame = source.head.frame;
    notice.timestamp_ns = source.head.timestamp_ns;
    notice.reporter = parsed.source;
    notice.sender = quoted.sender;
    notice.receiver = quoted.receiver;
    stats_.port_unreachables.push_back(notice);
  }
}

bool DatagramStream::emit(const ParsedFrame& parsed, const Source& source, bool reassembled,
                          UdpDatagram& out) {
  ++stats_.udp;
  if (!options_.all_udp && !ports_.test(parsed.source_port) &&
      !ports_.test(parsed.destination_port)) {
    return false;
  }
  if (!options_.all_udp &&
      ports_.test(parsed.source_port) != ports_.test(parsed.destination_port)) {
    const auto other =
        ports_.test(parsed.source_port) ? parsed.destination_port : parsed.source_port;
    if (other_service_port(other) && radius::check_framing(parsed.payload)) {
      // DNS from port 1813 to 53 and the like: another protocol's, not a RADIUS packet (one
      // framed as RADIUS, say from a NAS on a system port, is still read as one).
      if (stats_.other_protocol++ < 10) {
        stats_.other_protocol_examples.push_back({source.index,
                                                  source.head.frame,
                                                  {parsed.source, parsed.source_port},
                                                  {parsed.destination, parsed.destination_port},
                                                  parsed.payload.size()});
      }
      return false;
    }
  }
  ++stats_.udp_matched;
  out.file_index = source.index;
  out.frame = source.head.frame;
  out.offset = source.head.offset;
  out.timestamp_ns = source.head.timestamp_ns;
  out.source = {parsed.source, parsed.source_port};
  out.destination = {parsed.destination, parsed.destination_port};
  out.vlan_count = parsed.vlan_count;
  out.vlan_ids[0] = parsed.vlan_ids[0];
  out.vlan_ids[1] = parsed.vlan_ids[1];
  out.reassembled = reassembled;
  out.segment = 0;
  out.payload = parsed.payload;
  split_segments(out);
  return true;
}

void DatagramStream::split_segments(UdpDatagram& out) {
  const auto sizes = udp_gso_segments(out.payload);
  if (sizes.empty()) {
    return;
  }
  ++stats_.gso_datagrams;
  stats_.gso_packets += sizes.size();
  std::size_t offset = sizes.front();
  for (std::size_t i = 1; i < sizes.size(); ++i) {
    UdpDatagram part = out;
    part.segment = static_cast<std::uint16_t>(i + 1);
    const auto octets = out.payload.subspan(offset, sizes[i]);
    pending_.emplace_back(part, std::vector<std::uint8_t>(octets.begin(), octets.end()));
    offset += sizes[i];
  }
  out.segment = 1;
  out.payload = out.payload.first(sizes.front());
}

// Decodes the source's head frame; true when it yields a matching datagram.
bool DatagramStream::process(Source& source, UdpDatagram& out) {
  const RawFrame& frame = source.head;
  ++stats_.frames;
  stats_.first_ns = std::min(stats_.first_ns.value_or(frame.timestamp_ns), frame.timestamp_ns);
  stats_.last_ns = std::max(stats_.last_ns.value_or(frame.timestamp_ns), frame.timestamp_ns);
  source.first_ns = std::min(source.first_ns.value_or(frame.timestamp_ns), frame.timestamp_ns);
  source.last_ns = std::max(source.last_ns.value_or(frame.timestamp_ns), frame.timestamp_ns);
  stats_.captured_bytes += frame.captured_length;
  reassembler_.expire(frame.timestamp_ns);
  ParsedFrame& parsed = parsed_;
  const FrameRef where{source.index, frame.frame, frame.offset};
  switch (parse_frame(source.link_type, frame.data, parsed)) {
    case FrameKind::udp:
      return emit(parsed, source, false, out);
    case FrameKind::fragment: {
      ++stats_.fragments;
      const auto payload = reassembler_.add(parsed, frame.timestamp_ns, where);
      if (payload.empty()) {
        return false;
      }
      ++stats_.reassembled;
      const auto family = parsed.source.family;
      switch (parse_reassembled(family, parsed.protocol, payload, parsed)) {
        case FrameKind::udp:
          return emit(parsed, source, true, out);
        case FrameKind::invalid:
          ++stats_.invalid_frames;
          report(parsed.issue, where, "reassembled datagram");
          return false;
        default:
          ++stats_.other_ip;
          return false;
      }
    }
    case FrameKind::other_ip:
      ++stats_.other_ip;
      if (parsed.protocol == 6) { // TCP
        tls_sessions_.add(parsed, frame.timestamp_ns, where);
      } else if (parsed.protocol == 1 || parsed.protocol == 58) { // ICMP, ICMPv6
        note_icmp(parsed, source);
      }
      return false;
    case FrameKind::not_ip:
      ++stats_.not_ip;
      return false;
    case FrameKind::invalid:
      ++stats_.invalid_frames;
      if (parsed.beyond_capture && frame.captured_length < frame.original_length) {
        report(IssueKind::cut_by_snaplen, where,
               "captured " + std::to_string(frame.captured_length) + " of " +
                   std::to_string(frame.original_length) + " octets");
      } else {
        report(parsed.issue, where, {});
      }
      return false;
  }
  return false;
}

bool DatagramStream::next(UdpDatagram& out) {
  while (!finished_) {
    if (!pending_.empty()) {
      out = pending_.front().first;
      pending_current_ = std::move(pending_.front().second);
      pending_.pop_front();
      out.payload = pending_current_;
      ++stats_.udp_matched; // a RADIUS packet handed on, like a datagram on a RADIUS port
      return true;
    }
    Source* best = nullptr;
    for (auto& source : sources_) {
      if (!fill(*source)) {
        continue;
      }
      // Strictly earlier wins, so equal timestamps keep file order.
      if (best == nullptr || source->head.timestamp_ns < best->head.timestamp_ns) {
        best = source.get();
      }
    }
    if (best == nullptr) {
      finished_ = true;
      reassembler_.finish();
      return false;
    }
    best->has_head = false; // the frame's data stays valid until this reader's next call
    if (process(*best, out)) {
      return true;
    }
  }
  return false;
}

const std::vector<FileSummary>& DatagramStream::files() const {
  summaries_.clear();
  for (const auto& source : sources_) {
    summaries_.push_back(FileSummary{source->path, source->link_type,
                                     source->reader ? source->reader->frames_read() : 0,
                                     source->complete, source->first_ns, source->last_ns});
  }
  return summaries_;
}

std::uint64_t DatagramStream::bytes_consumed() const {
  std::uint64_t sum = 0;
  for (const auto& source : sources_) {
    if (source->done) {
      sum += source->size;
    } else if (source->reader) {
      sum += source->reader->position();
    }
  }
  return sum;
}

} // namespace acctlab::capture
