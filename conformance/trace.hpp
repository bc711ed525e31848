#pragma once
// A Trace is what the engine checks: datagrams in the order they were seen, with time, addresses
// and raw octets. The live server's database, the reference gateway's event log and pcap captures
// all become Traces, so one engine gives one verdict whatever the door.
//
// Text form (one packet a line; `acctlab check --trace FILE` reads it, the corpus writes it):
//   # acctlab trace
//   secret testing123                 (for every client; or: secret 127.0.0.1 testing123)
//   interim-interval 60               (the NAS's configured update interval, seconds)
//   responses recorded|absent         (absent: the source kept requests only)
//   window 0.000 300.000              (the trace's first and last moment; default: its packets')
//   unread file_truncated x.pcap 17 2312 the file ends in the middle of a record
//                                     (REASON FILE FRAME OFFSET [DETAIL]: not read, see Unread)
//   packet 0.000 to-server 127.0.0.1:40000 127.0.0.1:1813 0404...  [file=x.pcap frame=3] [id=17]

#include "radius/packet.hpp"
#include "radius/result.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace acctlab::conformance {

enum class Direction : std::uint8_t { unknown, to_server, from_server };
std::string_view to_string(Direction direction) noexcept;

struct TracePacket {
  double time = 0; // seconds (unix time or relative; only differences matter)
  Direction direction = Direction::unknown;
  std::string source;      // "127.0.0.1:40000" or "[::1]:40000"
  std::string destination; // "127.0.0.1:1813"
  radius::Octets raw;
  std::optional<std::string> file; // capture file and frame number, when from a capture
  std::optional<std::uint64_t> frame;
  std::optional<std::int64_t> packet_id; // row in the packets table, when from a database
  std::optional<std::string> verdict;    // the server's verdict, when from a database
};

/** The interim interval a NAS shows: the median gap between consecutive Interim-Updates of its
 * sessions (whole seconds), and how many gaps it is the median of. */
struct IntervalEstimate {
  double seconds = 0;
  std::size_t gaps = 0;
};

/** A part of the source that was not read as RADIUS: a capture's frame cut by its snaplen or
 * damaged, a file that ends inside a record or cannot be read, a datagram on a RADIUS port that is
 * no RADIUS packet. A trace with any is incomplete: no verdict can pass it. */
struct Unread {
  std::string reason; // the pcap module's issue name: file_truncated, cut_by_snaplen, not_radius
  std::string file;
  std::uint64_t frame = 0;  // 0: the file as a whole
  std::uint64_t offset = 0; // octets into the file: the record concerned
  std::string detail;
};

/** A closed port's host answering a datagram with ICMP Port Unreachable (captures only): the
 * quoted datagram's sender and the closed port, and its RADIUS Identifier when the error quotes
 * it. Evidence that nothing listened, not a packet of the exchange. */
struct Refusal {
  double time = 0;
  std::string file;
  std::uint64_t frame = 0;
  std::string sender;   // "127.0.0.1:40000"
  std::string receiver; // the closed port, "127.0.0.1:1813"
  int identifier = -1;
};

struct Trace {
  std::vector<TracePacket> packets;
  /** ICMP Port Unreachable errors about the trace's datagrams (captures only; not part of the
   * text form). */
  std::vector<Refusal> refusals;
  /** What the source held that was not read (captures only). */
  std::vector<Unread> unread;
  std::map<std::string, std::string, std::less<>> secrets; // client address (no port) -> secret
  std::optional<std::string> default_secret;
  /** False when the source stored requests only (a server database): skip answer checks. */
  bool responses_recorded = true;
  /** The NAS's configured interim interval in seconds, when known. */
  std::optional<double> interim_interval;
  /** The trace's first and last moment when the source knows them (a capture's first and last
   * frame, a server run's start and stop); else its first and last packet are. A session whose
   * records reach back before the beginning began before the trace did. */
  std::optional<double> begin;
  std::optional<double> end;

  /** When the trace joins several captures: each one's first and last moment. Time between them
   * was not watched, so edges are judged per capture (window_begin). */
  struct Window {
    double begin = 0;
    double end = 0;
    std::string file;
  };
  std::vector<Window> windows;

  double first_moment() const;
  double last_moment() const;
  /** The first moment of the watched span holding `time`: the window that holds it (or the
   * latest one begun before it), else the trace's first moment. */
  double window_begin(double time) const;
  /** The capture file of that window, empty without windows. */
  const std::string& window_file(double time) const;
  /** Everything but the packets: a part of the trace, judged apart, keeps the whole's context. */
  Trace without_packets() const;
  /** When this trace is one part of a larger one (conformance/run_judge.cpp): the interval each
   * NAS (by its key) shows over the whole trace. Unset: SES-INTERIM-CADENCE infers it from this
   * trace. Not part of the text form. */
  std::optional<std::map<std::string, IntervalEstimate, std::less<>>> nas_intervals;

  /** The secret shared with the client at this address ("ip:port" or "ip"), if known. */
  const std::string* secret_for(std::string_view client) const;
};

/** "127.0.0.1:1813" -> "127.0.0.1"; "[::1]:1813" -> "::1". */
std::string host_part(std::string_view endpoint);

struct TraceError {
  int line = 0;
  std::string message;
  std::string to_string() const;
};

Expected<Trace, TraceError> parse_trace(std::string_view text);
Expected<Trace, TraceError> load_trace_file(const std::string& path);
std::string format_trace(const Trace& trace);

} // namespace acctlab::conformance
