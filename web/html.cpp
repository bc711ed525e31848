#include "web/html.hpp"

#include "radius/value.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace acctlab::web {

std::string url_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const int hi = c == '%' && i + 2 < text.size() ? radius::hex_digit(text[i + 1]) : -1;
    const int lo = hi >= 0 ? radius::hex_digit(text[i + 2]) : -1;
    if (c == '+') {
      out.push_back(' ');
    } else if (lo >= 0) {
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string url_encode(std::string_view text) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if ((u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') || u == '-' ||
        u == '_' || u == '.' || u == '~') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(digits[u >> 4]);
      out.push_back(digits[u & 15]);
    }
  }
  return out;
}

QueryParams::QueryParams(std::string_view query) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) {
      continue;
    }
    const auto eq = pair.find('=');
    auto key = url_decode(pair.substr(0, eq));
    auto value = eq == std::string_view::npos ? std::string{} : url_decode(pair.substr(eq + 1));
    set(std::move(key), std::move(value));
  }
}

std::string QueryParams::encode() const {
  std::string out;
  for (const auto& [k, v] : values()) {
    if (v.empty()) {
      continue;
    }
    if (!out.empty()) {
      out.push_back('&');
    }
    out += url_encode(k);
    out.push_back('=');
    out += url_encode(v);
  }
  return out;
}

namespace {
// Howard Hinnant's civil_from_days (a public domain algorithm).
void civil_from_days(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

} // namespace

std::string format_time(double unix_seconds) {
  if (!std::isfinite(unix_seconds) || std::abs(unix_seconds) > 1e12) {
    return {};
  }
  const auto whole = static_cast<std::int64_t>(std::floor(unix_seconds));
  std::int64_t days = whole / 86400;
  std::int64_t rest = whole % 86400;
  if (rest < 0) {
    rest += 86400;
    --days;
  }
  std::int64_t y = 0;
  unsigned m = 0;
  unsigned d = 0;
  civil_from_days(days, y, m, d);
  std::array<char, 40> buf{};
  std::snprintf(buf.data(), buf.size(), "%04lld-%02u-%02u %02lld:%02lld:%02lld",
                static_cast<long long>(y), m, d, static_cast<long long>(rest / 3600),
                static_cast<long long>(rest / 60 % 60), static_cast<long long>(rest % 60));
  return buf.data();
}

std::string format_bytes(std::int64_t bytes) {
  static constexpr std::array<const char*, 6> units{"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double value = static_cast<double>(bytes);
  std::size_t unit = 0;
  while (std::abs(value) >= 1024 && unit + 1 < units.size()) {
    value /= 1024;
    ++unit;
  }
  std::array<char, 32> buf{};
  if (unit == 0) {
    std::snprintf(buf.data(), buf.size(), "%lld B", static_cast<long long>(bytes));
  } else {
    std::snprintf(buf.data(), buf.size(), "%.1f %s", value, units[unit]);
  }
  return buf.data();
}

std::string format_duration(std::int64_t seconds) {
  if (seconds < 0) {
    return "-" + format_duration(-seconds);
  }
  std::array<char, 48> buf{};
  const long long d = seconds / 86400;
  const long long h = seconds / 3600 % 24;
  const long long m = seconds / 60 % 60;
  const long long s = seconds % 60;
  if (d > 0) {
    std::snprintf(buf.data(), buf.size(), "%lldd %02lldh %02lldm", d, h, m);
  } else if (h > 0) {
    std::snprintf(buf.data(), buf.size(), "%lldh %02lldm %02llds", h, m, s);
  } else if (m > 0) {
    std::snprintf(buf.data(), buf.size(), "%lldm %02llds", m, s);
  } else {
    std::snprintf(buf.data(), buf.size(), "%llds", s);
  }
  return buf.data();
}

std::string format_count(std::int64_t value) {
  auto digits = std::to_string(value < 0 ? -value : value);
  std::string out;
  const auto n = digits.size();
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(digits[i]);
    if ((n - i - 1) % 3 == 0 && i + 1 < n) {
      out.push_back(',');
    }
  }
  return value < 0 ? "-" + out : out;
}

std::string page(std::string_view title, std::string_view active, std::string_view body,
                 bool live) {
  static constexpr std::array<std::pair<const char*, const char*>, 6> nav{{
      {"/", "Overview"},
      {"/sessions", "Sessions"},
      {"/usage", "Usage"},
      {"/conformance", "Conformance"},
      {"/runs", "Runs"},
      {"/nas", "NASes"},
  }};
  std::string out;
  out.reserve(body.size() + 1024);
  out += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
         "<title>";
  out += escape(title);
  out += " · acctlab</title><link rel=\"stylesheet\" href=\"/static/style.css\">";
  if (live) {
    // The only script: it follows /events and updates the counters; the page reads fully
    // without it.
    out += "<script src=\"/static/live.js\" defer></script>";
  }
  out += "</head><body><header><a class=\"brand\" href=\"/\">acctlab</a><nav>";
  for (const auto& [href, label] : nav) {
    out += "<a href=\"";
    out += href;
    out += '"';
    if (active == href) {
      out += " class=\"active\"";
    }
    out += '>';
    out += label;
    out += "</a>";
  }
  out += "</nav></header><main><h1>";
  out += escape(title);
  out += "</h1>";
  out += body;
  out += "</main><footer>acctlab report viewer · read-only · <a href=\"/api/overview\">JSON "
         "API</a></footer></body></html>\n";
  return out;
}

} // namespace acctlab::web
