#pragma once
// What the server says, and how a line is printed: as text for people, or as one JSON object per
// line (time, level, event, nas, message, fields) for journald and log shippers. No Asio here.

#include <concepts>
#include <functional>
#include <span>
#include <string>
#include <string_view>

namespace acctlab::server {

enum class LogLevel { debug, info, warning, error };
std::string_view to_string(LogLevel level) noexcept;

/** A value a log line carries for machines (JSON logs); number says it is a JSON number. */
struct LogField {
  std::string key;
  std::string value;
  bool number = false;
};

/** One thing the server says: a stable event name for machines, a line for people. */
struct LogEntry {
  LogLevel level = LogLevel::info;
  std::string_view event;   // "listening", "stats", "packet_dropped", ... (docs/server.md)
  std::string_view nas;     // empty for lines about no NAS in particular
  std::string_view message; // the human-readable line, as the text log prints it
  std::span<const LogField> fields;
};

/**
 * Where the server's log lines go. Takes a callable of the whole entry, or of (level, nas, line)
 * for callers that only print the line.
 */
class LogSink {
public:
  LogSink() = default;
  template <class F>
  requires std::invocable<F&, const LogEntry&> LogSink(F sink) : sink_(std::move(sink)) {}
  template <class F>
  requires(!std::invocable<F&, const LogEntry&> &&
           std::invocable<F&, LogLevel, std::string_view, std::string_view>) LogSink(F sink)
      : sink_([sink = std::move(sink)](const LogEntry& entry) mutable {
          sink(entry.level, entry.nas, entry.message);
        }) {}
  explicit operator bool() const { return static_cast<bool>(sink_); }
  void operator()(const LogEntry& entry) const { sink_(entry); }

private:
  std::function<void(const LogEntry&)> sink_;
};

/** "acctlab serve: warning [gw1]: dropped packet ..." as the text log prints it. */
std::string format_log_text(const LogEntry& entry, std::string_view program);
/**
 * One JSON object, no newline: {"time":"2026-12-07T12:51:06.123Z","level":"info","event":"stats",
 * "nas":null,"message":"...","fields":{...}}. time is seconds since the epoch (UTC). Text that is
 * not UTF-8 (a NAS-Identifier is whatever the NAS sent) has each bad byte replaced by U+FFFD.
 */
std::string format_log_json(const LogEntry& entry, double time);

} // namespace acctlab::server
