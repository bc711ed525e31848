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
#include <vector>

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

/**
 * Which NASes a report may show: every one (an admin, or a viewer without accounts), or a set
 * (an operator: the NASes of its groups, web/nas_scope.hpp). A NAS is named twice over: by its
 * identity (sessions.nas_key, a record's nas_identity, the nas table's identity) and by the
 * source addresses its requests came from (packets.src_addr). A scoped report reads only rows
 * that one of the lists names, through bound parameters in its WHERE clauses; empty lists show
 * nothing.
 */
struct NasScope {
  bool all = true;
  std::vector<std::string> nas_keys;
  std::vector<std::string> addresses;

  static NasScope everything() { return {}; }
  static NasScope only(std::vector<std::string> nas_keys, std::vector<std::string> addresses) {
    return {false, std::move(nas_keys), std::move(addresses)};
  }
};

/** Accepts "YYYY-MM-DD", "YYYY-MM-DD HH:MM[:SS]", "YYYY-MM-DDTHH:MM[:SS]" (UTC) or unix seconds. */
std::optional<double> parse_time(std::string_view text);

} // namespace acctlab::storage
