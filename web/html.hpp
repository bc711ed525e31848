#pragma once
// Text helpers for the pages: HTML escaping, query strings, times, byte counts and the page
// frame. Everything that came from a packet or the database goes through escape() (or a numeric
// formatter) before it reaches HTML; nothing here touches Beast or SQLite.

#include "radius/markup.hpp"
#include "storage/report_filters.hpp"

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

/** A parsed query string; later duplicates win. The reports read it as their filters. */
class QueryParams : public storage::ReportFilters {
public:
  QueryParams() = default;
  explicit QueryParams(std::string_view query);
  /** "a=1&b=2" of the non-empty values, encoded. */
  std::string encode() const;
};

/** "2026-11-27 02:30:05" (UTC); "" for a NaN/absent time. */
std::string format_time(double unix_seconds);
using storage::parse_time;
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
