#pragma once
// A run's JSON report (runs.report) read as a stream of its top-level members. `acctlab check
// --db` on a large database stores a report of hundreds of megabytes (440 MB for 724,829
// requests), nearly all of it the "findings" and "sessions" lists; what a page shows of it (the
// verdict, the counts, the per-rule list) is a few kilobytes at its head. Parsing the whole
// report into a DOM took 4.4 GB and 17 s for one run page (docs/PERFORMANCE.md, "check --db
// storing its report"). Here the cell is read a piece at a time (CellReader) through a SAX parser,
// and only the members asked for are built, each within a size limit: memory stays at a piece and
// the members kept, and a caller that has what it needs stops reading.

#include "storage/read_db.hpp"

#include <boost/json/value.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace acctlab::storage {

struct ReportScanOptions {
  /** Which top-level members to build (null: all). Others are parsed past, never built. */
  std::function<bool(std::string_view key)> wanted;
  /** A member whose value takes more than this (its strings' bytes, 16 a value) is left out and
   * named in ReportScan::omitted. */
  std::size_t member_limit = 256 * 1024;
  /** The members kept may take this much in all; later ones are left out. */
  std::size_t total_limit = 1024 * 1024;
  /** The names of the members left out are kept up to this many bytes in all; the others are
   * counted (ReportScan::omitted_unnamed). */
  std::size_t omitted_names_limit = 64 * 1024;
};

struct ReportScan {
  enum class Status {
    complete,   // the whole report was read: a JSON object
    stopped,    // the visitor asked to stop
    not_object, // valid JSON that is not an object, or not JSON at all (see reason)
  };
  Status status = Status::not_object;
  std::int64_t bytes = 0;           // the cell's size
  std::string reason;               // not_object: what is wrong, and at which bytes
  std::vector<std::string> omitted; // members too large to keep, in order
  std::int64_t omitted_unnamed = 0; // more of them, past options.omitted_names_limit
};

/** Called with each top-level member kept, in order; returns false to stop reading. */
using ReportMember = std::function<bool(std::string_view key, boost::json::value&& value)>;

/** Streams the cell through the parser, calling member for the members kept. */
ReportScan scan_report(const CellReader& cell, const ReportMember& member,
                       const ReportScanOptions& options = {});

} // namespace acctlab::storage
