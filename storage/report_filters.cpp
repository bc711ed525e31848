#include "storage/report_filters.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace acctlab::storage {
namespace {
// Howard Hinnant's days_from_civil (a public domain algorithm).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool parse_uint(std::string_view text, unsigned& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size();
}
} // namespace

std::string ReportFilters::get(std::string_view key) const {
  const auto it = values_.find(key);
  return it == values_.end() ? std::string{} : it->second;
}

bool ReportFilters::has(std::string_view key) const {
  const auto it = values_.find(key);
  return it != values_.end() && !it->second.empty();
}

std::int64_t ReportFilters::get_int(std::string_view key, std::int64_t fallback, std::int64_t min,
                                    std::int64_t max) const {
  const auto text = get(key);
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) {
    return fallback;
  }
  return std::clamp(value, min, max);
}

void ReportFilters::set(std::string key, std::string value) {
  values_[std::move(key)] = std::move(value);
}

void ReportFilters::erase(std::string_view key) {
  const auto it = values_.find(key);
  if (it != values_.end()) {
    values_.erase(it);
  }
}

std::optional<double> parse_time(std::string_view text) {
  if (text.empty()) {
    return std::nullopt;
  }
  if (text.find('-') == std::string_view::npos) {
    double value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || !std::isfinite(value)) {
      return std::nullopt;
    }
    return value;
  }
  // YYYY-MM-DD[( |T)HH:MM[:SS]]
  if (text.size() < 10 || text[4] != '-' || text[7] != '-') {
    return std::nullopt;
  }
  unsigned y = 0;
  unsigned mo = 0;
  unsigned d = 0;
  if (!parse_uint(text.substr(0, 4), y) || !parse_uint(text.substr(5, 2), mo) ||
      !parse_uint(text.substr(8, 2), d) || mo < 1 || mo > 12 || d < 1 || d > 31) {
    return std::nullopt;
  }
  unsigned hh = 0;
  unsigned mm = 0;
  unsigned ss = 0;
  if (text.size() > 10) {
    if ((text[10] != 'T' && text[10] != ' ') || text.size() < 16 || text[13] != ':') {
      return std::nullopt;
    }
    if (!parse_uint(text.substr(11, 2), hh) || !parse_uint(text.substr(14, 2), mm) || hh > 23 ||
        mm > 59) {
      return std::nullopt;
    }
    if (text.size() > 16) {
      if (text.size() != 19 || text[16] != ':' || !parse_uint(text.substr(17, 2), ss) || ss > 60) {
        return std::nullopt;
      }
    }
  }
  return static_cast<double>(days_from_civil(y, mo, d) * 86400 + hh * 3600 + mm * 60 + ss);
}

} // namespace acctlab::storage
