#pragma once
// The filters a report query reads (storage/reports.hpp): names and values as text, as the viewer
// takes them from a URL's query string (web::QueryParams parses and encodes that form). Values
// reach SQL only as bound parameters.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace acctlab::storage {

class ReportFilters {
public:
  std::string get(std::string_view key) const;
  bool has(std::string_view key) const;
  /** The value as an integer clamped to [min, max]; fallback when absent or not a number. */
  std::int64_t get_int(std::string_view key, std::int64_t fallback, std::int64_t min,
                       std::int64_t max) const;
  void set(std::string key, std::string value);
  void erase(std::string_view key);
  const std::map<std::string, std::string, std::less<>>& values() const { return values_; }

private:
  std::map<std::string, std::string, std::less<>> values_;
};

/** Accepts "YYYY-MM-DD", "YYYY-MM-DD HH:MM[:SS]", "YYYY-MM-DDTHH:MM[:SS]" (UTC) or unix seconds. */
std::optional<double> parse_time(std::string_view text);

} // namespace acctlab::storage
