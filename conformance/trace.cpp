#include "conformance/trace.hpp"

#include "radius/line_reader.hpp"
#include "radius/value.hpp"

#include <charconv>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace acctlab::conformance {
namespace {

std::vector<std::string_view> split_words(std::string_view line) {
  std::vector<std::string_view> words;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) {
      ++i;
    }
    const std::size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') {
      ++i;
    }
    if (i > start) {
      words.push_back(line.substr(start, i - start));
    }
  }
  return words;
}

template <class T> bool parse_number(std::string_view text, T& out) {
  const auto* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc{} && ptr == end;
}

bool parse_double(std::string_view text, double& out) {
  // std::from_chars for double is in libstdc++ 11+; strtod needs a terminated copy.
  const std::string copy(text);
  char* end = nullptr;
  out = std::strtod(copy.c_str(), &end);
  return !copy.empty() && end == copy.c_str() + copy.size();
}

} // namespace

std::string_view to_string(Direction direction) noexcept {
  switch (direction) {
    case Direction::to_server:
      return "to-server";
    case Direction::from_server:
      return "from-server";
    case Direction::unknown:
      return "unknown";
  }
  return "unknown";
}

std::string host_part(std::string_view endpoint) {
  if (!endpoint.empty() && endpoint.front() == '[') {
    const auto close = endpoint.find(']');
    return std::string(
        endpoint.substr(1, close == std::string_view::npos ? endpoint.size() - 1 : close - 1));
  }
  const auto colon = endpoint.rfind(':');
  if (colon != std::string_view::npos && endpoint.find(':') == colon) {
    return std::string(endpoint.substr(0, colon));
  }
  return std::string(endpoint);
}

const std::string* Trace::secret_for(std::string_view client) const {
  if (auto it = secrets.find(host_part(client)); it != secrets.end()) {
    return &it->second;
  }
  return default_secret ? &*default_secret : nullptr;
}

double Trace::first_moment() const {
  if (begin) {
    return *begin;
  }
  return packets.empty() ? 0 : packets.front().time;
}

double Trace::last_moment() const {
  if (end) {
    return *end;
  }
  return packets.empty() ? 0 : packets.back().time;
}

namespace {
const Trace::Window* window_at(const std::vector<Trace::Window>& windows, double time) {
  const Trace::Window* found = nullptr;
  for (const auto& window : windows) {
    if (window.begin <= time && (!found || window.begin > found->begin)) {
      found = &window;
    }
  }
  return found;
}
} // namespace

double Trace::window_begin(double time) const {
  const auto* window = window_at(windows, time);
  return window ? window->begin : first_moment();
}

const std::string& Trace::window_file(double time) const {
  static const std::string none;
  const auto* window = window_at(windows, time);
  return window ? window->file : none;
}

Trace Trace::without_packets() const {
  Trace part;
  part.secrets = secrets;
  part.default_secret = default_secret;
  part.responses_recorded = responses_recorded;
  part.interim_interval = interim_interval;
  part.begin = begin;
  part.end = end;
  part.nas_intervals = nas_intervals;
  part.windows = windows;
  part.unread = unread;
  part.refusals = refusals;
  return part;
}

std::string TraceError::to_string() const {
  return "line " + std::to_string(line) + ": " + message;
}

Expected<Trace, TraceError> parse_trace(std::string_view text) {
  Trace trace;
  radius::LineReader lines(text);
  while (const auto next = lines.next()) {
    std::string_view line = *next;
    const int line_number = lines.number();
    if (const auto hash = line.find('#'); hash != std::string_view::npos) {
      line = line.substr(0, hash);
    }
    const auto words = split_words(line);
    if (words.empty()) {
      continue;
    }
    auto fail = [&](std::string message) {
      return Unexpected(TraceError{line_number, std::move(message)});
    };
    if (words[0] == "secret") {
      if (words.size() == 2) {
        trace.default_secret = std::string(words[1]);
      } else if (words.size() == 3) {
        trace.secrets[std::string(words[1])] = std::string(words[2]);
      } else {
        return fail("secret takes SECRET or ADDRESS SECRET");
      }
    } else if (words[0] == "interim-interval") {
      double seconds = 0;
      if (words.size() != 2 || !parse_double(words[1], seconds) || seconds <= 0) {
        return fail("interim-interval takes a positive number of seconds");
      }
      trace.interim_interval = seconds;
    } else if (words[0] == "window") {
      double first = 0;
      double last = 0;
      if (words.size() != 3 || !parse_double(words[1], first) || !parse_double(words[2], last) ||
          last < first) {
        return fail("window takes FIRST LAST (seconds, FIRST <= LAST)");
      }
      trace.begin = first;
      trace.end = last;
    } else if (words[0] == "unread") {
      Unread unread;
      if (words.size() < 5 || !parse_number(words[3], unread.frame) ||
          !parse_number(words[4], unread.offset)) {
        return fail("unread takes REASON FILE FRAME OFFSET [DETAIL]");
      }
      unread.reason = std::string(words[1]);
      unread.file = std::string(words[2]);
      for (std::size_t i = 5; i < words.size(); ++i) {
        unread.detail += (i > 5 ? " " : "") + std::string(words[i]);
      }
      trace.unread.push_back(std::move(unread));
    } else if (words[0] == "responses") {
      if (words.size() != 2 || (words[1] != "recorded" && words[1] != "absent")) {
        return fail("responses takes 'recorded' or 'absent'");
      }
      trace.responses_recorded = words[1] == "recorded";
    } else if (words[0] == "packet") {
      if (words.size() < 6) {
        return fail("packet takes TIME DIRECTION SOURCE DESTINATION HEX [file=F] [frame=N] [id=N]");
      }
      TracePacket packet;
      if (!parse_double(words[1], packet.time)) {
        return fail("bad time '" + std::string(words[1]) + "'");
      }
      if (words[2] == "to-server") {
        packet.direction = Direction::to_server;
      } else if (words[2] == "from-server") {
        packet.direction = Direction::from_server;
      } else if (words[2] != "unknown") {
        return fail("direction must be to-server, from-server or unknown");
      }
      packet.source = std::string(words[3]);
      packet.destination = std::string(words[4]);
      auto octets = radius::from_hex(words[5]);
      if (!octets) {
        return fail("bad hex octets");
      }
      packet.raw = std::move(*octets);
      for (std::size_t i = 6; i < words.size(); ++i) {
        const auto eq = words[i].find('=');
        if (eq == std::string_view::npos) {
          return fail("expected key=value, got '" + std::string(words[i]) + "'");
        }
        const auto key = words[i].substr(0, eq);
        const auto value = words[i].substr(eq + 1);
        if (key == "file") {
          packet.file = std::string(value);
        } else if (key == "frame") {
          std::uint64_t frame = 0;
          if (!parse_number(value, frame)) {
            return fail("bad frame number");
          }
          packet.frame = frame;
        } else if (key == "id") {
          std::int64_t id = 0;
          if (!parse_number(value, id)) {
            return fail("bad packet id");
          }
          packet.packet_id = id;
        } else if (key == "verdict") {
          packet.verdict = std::string(value);
        } else {
          return fail("unknown packet field '" + std::string(key) + "'");
        }
      }
      trace.packets.push_back(std::move(packet));
    } else {
      return fail("unknown directive '" + std::string(words[0]) + "'");
    }
  }
  return trace;
}

Expected<Trace, TraceError> load_trace_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Unexpected(TraceError{0, "cannot read " + path});
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return parse_trace(buffer.str());
}

std::string format_trace(const Trace& trace) {
  std::ostringstream out;
  out << "# acctlab trace\n";
  if (trace.default_secret) {
    out << "secret " << *trace.default_secret << '\n';
  }
  for (const auto& [address, secret] : trace.secrets) {
    out << "secret " << address << ' ' << secret << '\n';
  }
  if (trace.interim_interval) {
    out << "interim-interval " << *trace.interim_interval << '\n';
  }
  out << "responses " << (trace.responses_recorded ? "recorded" : "absent") << '\n';
  if (trace.begin || trace.end) {
    char window[80];
    std::snprintf(window, sizeof window, "window %.6f %.6f\n", trace.first_moment(),
                  trace.last_moment());
    out << window;
  }
  for (const auto& unread : trace.unread) {
    out << "unread " << unread.reason << ' ' << unread.file << ' ' << unread.frame << ' '
        << unread.offset;
    if (!unread.detail.empty()) {
      out << ' ' << unread.detail;
    }
    out << '\n';
  }
  for (const auto& packet : trace.packets) {
    char time[32];
    std::snprintf(time, sizeof time, "%.6f", packet.time);
    out << "packet " << time << ' ' << to_string(packet.direction) << ' ' << packet.source << ' '
        << packet.destination << ' ' << radius::to_hex(packet.raw);
    if (packet.file) {
      out << " file=" << *packet.file;
    }
    if (packet.frame) {
      out << " frame=" << *packet.frame;
    }
    if (packet.packet_id) {
      out << " id=" << *packet.packet_id;
    }
    if (packet.verdict) {
      out << " verdict=" << *packet.verdict;
    }
    out << '\n';
  }
  return out.str();
}

} // namespace acctlab::conformance
