#pragma once
// Text helpers for the pages: HTML escaping, query strings, times, byte counts and the page
// frame. Everything that came from a packet or the database goes through escape() (or a numeric
// formatter) before it reaches HTML; nothing here touches Beast or SQLite.

#include "radius/markup.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace acctlab::web {

/** Escapes text for element content and quoted attribute values: radius::escape_markup, the one
 * escape the pages and the JUnit report share, under the short name the pages use. */
inline std::string escape(std::string_view text) {
  return radius::escape_markup(text);
}

/** Decodes %XX and '+' (application/x-www-form-urlencoded); bad escapes are kept literally. */
std::string url_decode(std::string_view text);
/** Percent-encodes everything but unreserved characters (RFC 3986 §2.3). */
std::string url_encode(std::string_view text);

/** A parsed query string; later duplicates win. */
class QueryParams {
public:
  QueryParams() = default;
  explicit QueryParams(std::string_view query);
  std::string get(std::string_view key) const;
  bool has(std::string_view key) const;
  /** The value as an integer clamped to [min, max]; fallback when absent or not a number. */
  std::int64_t get_int(std::string_view key, std::int64_t fallback, std::int64_t min,
                       std::int64_t max) const;
  void set(std::string key, std::string value);
  void erase(std::string_view key);
  /** "a=1&b=2" of the non-empty values, encoded. */
  std::string encode() const;
  const std::map<std::string, std::string, std::less<>>& values() const { return values_; }

private:
  std::map<std::string, std::string, std::less<>> values_;
};

/** "2026-11-27 02:30:05" (UTC); "" for a NaN/absent time. */
std::string format_time(double unix_seconds);
/** Accepts "YYYY-MM-DD", "YYYY-MM-DD HH:MM[:SS]", "YYYY-MM-DDTHH:MM[:SS]" (UTC) or unix seconds. */
std::optional<double> parse_time(std::string_view text);
/** "1.5 MiB" */
std::string format_bytes(std::int64_t bytes);
/** "1h 02m 03s" */
std::string format_duration(std::int64_t seconds);
/** "1,234,567" */
std::string format_count(std::int64_t value);

/** The navigation entries; active is the path of the current section. */
std::string page(std::string_view title, std::string_view active, std::string_view body,
                 bool live = false);

} // namespace acctlab::web
