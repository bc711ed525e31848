#include "server/log_entry.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>

namespace acctlab::server {
namespace {

/** Length of the valid UTF-8 sequence at text[i], or 0 (RFC 3629 §4: no overlongs, no
 * surrogates, nothing above U+10FFFF). */
std::size_t utf8_sequence(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const auto tail = [&](std::size_t k) { return k < text.size() && (byte(k) & 0xC0) == 0x80; };
  const unsigned char c = byte(i);
  if (c >= 0xC2 && c <= 0xDF) {
    return tail(i + 1) ? 2 : 0;
  }
  if (c >= 0xE0 && c <= 0xEF) {
    if (!tail(i + 1) || !tail(i + 2)) {
      return 0;
    }
    const unsigned char d = byte(i + 1);
    if ((c == 0xE0 && d < 0xA0) || (c == 0xED && d >= 0xA0)) {
      return 0;
    }
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!tail(i + 1) || !tail(i + 2) || !tail(i + 3)) {
      return 0;
    }
    const unsigned char d = byte(i + 1);
    if ((c == 0xF0 && d < 0x90) || (c == 0xF4 && d >= 0x90)) {
      return 0;
    }
    return 4;
  }
  return 0;
}

void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      switch (c) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        default:
          if (c < 0x20 || c == 0x7F) {
            char escaped[8];
            std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
            out += escaped;
          } else {
            out += static_cast<char>(c);
          }
      }
      ++i;
      continue;
    }
    if (const auto length = utf8_sequence(text, i)) {
      out.append(text.substr(i, length));
      i += length;
    } else {
      out += "\\ufffd";
      ++i;
    }
  }
  out += '"';
}

/** A field marked as a number is written as one only when it is one (JSON has no nan/inf). */
bool json_number(std::string_view text) {
  if (text.empty()) {
    return false;
  }
  std::size_t i = text[0] == '-' ? 1 : 0;
  const auto digits = [&] {
    const auto start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      ++i;
    }
    return i > start;
  };
  if (i >= text.size() ||
      (text[i] == '0' && i + 1 < text.size() && text[i + 1] >= '0' && text[i + 1] <= '9')) {
    return false;
  }
  if (!digits()) {
    return false;
  }
  if (i < text.size() && text[i] == '.') {
    ++i;
    if (!digits()) {
      return false;
    }
  }
  return i == text.size();
}

} // namespace

std::string_view to_string(LogLevel level) noexcept {
  switch (level) {
    case LogLevel::debug:
      return "debug";
    case LogLevel::info:
      return "info";
    case LogLevel::warning:
      return "warning";
    case LogLevel::error:
      return "error";
  }
  return "info";
}

std::string format_log_text(const LogEntry& entry, std::string_view program) {
  if (entry.level == LogLevel::debug) {
    return std::string(entry.message); // IOS debug lines are printed as IOS prints them
  }
  std::string line(program);
  line += ": ";
  line += to_string(entry.level);
  if (!entry.nas.empty()) {
    line += " [";
    line += entry.nas;
    line += "]";
  }
  line += ": ";
  line += entry.message;
  return line;
}

std::string format_log_json(const LogEntry& entry, double time) {
  const auto seconds = static_cast<std::time_t>(std::floor(time));
  const auto millis = static_cast<int>((time - std::floor(time)) * 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char stamp[96];
  std::snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                std::clamp(millis, 0, 999));
  std::string out = "{\"time\":\"";
  out += stamp;
  out += "\",\"level\":\"";
  out += to_string(entry.level);
  out += "\",\"event\":";
  append_json_string(out, entry.event.empty() ? std::string_view("message") : entry.event);
  out += ",\"nas\":";
  if (entry.nas.empty()) {
    out += "null";
  } else {
    append_json_string(out, entry.nas);
  }
  out += ",\"message\":";
  append_json_string(out, entry.message);
  out += ",\"fields\":{";
  bool first = true;
  for (const auto& field : entry.fields) {
    if (!first) {
      out += ',';
    }
    first = false;
    append_json_string(out, field.key);
    out += ':';
    if (field.number && json_number(field.value)) {
      out += field.value;
    } else {
      append_json_string(out, field.value);
    }
  }
  out += "}}";
  return out;
}

} // namespace acctlab::server
