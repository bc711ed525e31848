#include "storage/report_scan.hpp"

#include <algorithm>
#include <array>
#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/error.hpp>
#include <boost/json/value_stack.hpp>
#include <boost/system/errc.hpp>

namespace acctlab::storage {
namespace {

namespace json = boost::json;
using json::string_view;
using error_code = json::error_code;

/** The parser's handler: follows the depth, builds the members wanted on a value_stack (as
 * Boost.JSON's own parser does) and lets everything else pass. */
class MemberHandler {
public:
  static constexpr std::size_t max_object_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_array_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_key_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_string_size = static_cast<std::size_t>(-1);

  MemberHandler(const ReportMember& member, const ReportScanOptions& options, ReportScan& scan)
      : member_(member), options_(options), scan_(scan) {}

  bool stopped() const { return stopped_; }
  /** What the report is when it is valid JSON but no object ("array", ...), else null. */
  const char* refused() const { return refused_; }

  bool on_document_begin(error_code&) { return true; }
  bool on_document_end(error_code&) { return true; }

  bool on_object_begin(error_code& ec) {
    if (depth_ == 0) {
      depth_ = 1; // the report itself
      return true;
    }
    return open(ec);
  }
  bool on_object_end(std::size_t n, error_code& ec) {
    return close(ec, [&] { stack_.push_object(n); });
  }
  bool on_array_begin(error_code& ec) {
    if (depth_ == 0) {
      return refuse(ec, "array"); // a report is an object
    }
    return open(ec);
  }
  bool on_array_end(std::size_t n, error_code& ec) {
    return close(ec, [&] { stack_.push_array(n); });
  }

  bool on_key_part(string_view s, std::size_t, error_code&) {
    if (depth_ == 1) {
      append_key(s);
    } else if (building_) {
      cost(s.size());
      if (building_) {
        stack_.push_chars(s);
      }
    }
    return true;
  }
  bool on_key(string_view s, std::size_t, error_code&) {
    if (depth_ == 1) {
      append_key(s);
      key_ = std::move(key_part_);
      key_part_.clear();
    } else if (building_) {
      cost(s.size() + value_cost);
      if (building_) {
        stack_.push_key(s);
      }
    }
    return true;
  }
  bool on_string_part(string_view s, std::size_t, error_code& ec) {
    if (depth_ == 0) {
      return refuse(ec, "string");
    }
    if (depth_ == 1 && !in_member_) {
      begin_member();
    }
    if (building_) {
      cost(s.size());
      if (building_) {
        stack_.push_chars(s);
      }
    }
    return true;
  }
  bool on_string(string_view s, std::size_t, error_code& ec) {
    return scalar(ec, "string", s.size(), [&] { stack_.push_string(s); });
  }
  bool on_number_part(string_view, error_code&) { return true; }
  bool on_int64(std::int64_t i, string_view, error_code& ec) {
    return scalar(ec, "number", 0, [&] { stack_.push_int64(i); });
  }
  bool on_uint64(std::uint64_t u, string_view, error_code& ec) {
    return scalar(ec, "number", 0, [&] { stack_.push_uint64(u); });
  }
  bool on_double(double d, string_view, error_code& ec) {
    return scalar(ec, "number", 0, [&] { stack_.push_double(d); });
  }
  bool on_bool(bool b, error_code& ec) {
    return scalar(ec, "boolean", 0, [&] { stack_.push_bool(b); });
  }
  bool on_null(error_code& ec) {
    return scalar(ec, "null", 0, [&] { stack_.push_null(); });
  }
  bool on_comment_part(string_view, error_code&) { return true; }
  bool on_comment(string_view, error_code&) { return true; }

private:
  // What a value costs besides its strings: boost::json::value is 16 bytes.
  static constexpr std::size_t value_cost = sizeof(json::value);

  void append_key(string_view s) {
    // A key longer than a member may be is cut: it names nothing a page looks for.
    const auto room = options_.member_limit - std::min(options_.member_limit, key_part_.size());
    key_part_.append(s.data(), std::min(room, s.size()));
  }

  void begin_member() {
    in_member_ = true;
    building_ = !options_.wanted || options_.wanted(key_);
    member_cost_ = 0;
    if (building_) {
      stack_.reset();
      cost(key_.size()); // the key is kept with the value (as long as a member may be)
    }
  }

  /** Adds n to the member's cost; past its limit the member is dropped and named. */
  void cost(std::size_t n) {
    member_cost_ += n;
    const auto room = std::min(options_.member_limit,
                               options_.total_limit - std::min(options_.total_limit, kept_));
    if (member_cost_ > room) {
      building_ = false;
      stack_.reset(); // frees what was built of it
      // Named while the names fit their own limit, else counted: a report of millions of small
      // members leaves out nearly all of them once total_limit is spent.
      if (key_.size() <= options_.omitted_names_limit - omitted_names_) {
        omitted_names_ += key_.size();
        scan_.omitted.push_back(key_);
      } else {
        omitted_names_ = options_.omitted_names_limit; // later names, however short, are counted
        ++scan_.omitted_unnamed;
      }
    }
  }

  /** The member is complete: hand it over. */
  bool end_member(error_code& ec) {
    in_member_ = false;
    if (!building_) {
      return true;
    }
    building_ = false;
    kept_ += member_cost_;
    if (!member_(key_, stack_.release())) {
      stopped_ = true;
      ec = boost::system::errc::make_error_code(boost::system::errc::operation_canceled);
      return false;
    }
    return true;
  }

  bool open(error_code&) {
    if (depth_ == 1) {
      begin_member();
    }
    ++depth_;
    if (building_) {
      cost(value_cost);
    }
    return true;
  }

  template <class Push> bool close(error_code& ec, Push push) {
    --depth_;
    if (depth_ == 0) {
      return true; // the report's end
    }
    if (building_) {
      push();
    }
    return depth_ == 1 ? end_member(ec) : true;
  }

  template <class Push>
  bool scalar(error_code& ec, const char* kind, std::size_t bytes, Push push) {
    if (depth_ == 0) {
      return refuse(ec, kind);
    }
    if (depth_ == 1 && !in_member_) {
      begin_member();
    }
    if (building_) {
      cost(bytes + value_cost);
      if (building_) {
        push();
      }
    }
    return depth_ == 1 ? end_member(ec) : true;
  }

  bool refuse(error_code& ec, const char* what) {
    refused_ = what;
    ec = boost::system::errc::make_error_code(boost::system::errc::invalid_argument);
    return false;
  }

  const ReportMember& member_;
  const ReportScanOptions& options_;
  ReportScan& scan_;
  json::value_stack stack_;
  std::string key_part_; // the top-level key being read
  std::string key_;      // the member being read
  int depth_ = 0;        // 1: between the report's members
  bool in_member_ = false;
  bool building_ = false;
  bool stopped_ = false;
  const char* refused_ = nullptr;
  std::size_t member_cost_ = 0;
  std::size_t kept_ = 0;          // what the members handed over cost
  std::size_t omitted_names_ = 0; // the bytes of the names in scan_.omitted
};

} // namespace

ReportScan scan_report(const CellReader& cell, const ReportMember& member,
                       const ReportScanOptions& options) {
  ReportScan scan;
  scan.bytes = cell.size();
  json::basic_parser<MemberHandler> parser(json::parse_options{}, member, options, scan);
  std::array<char, 64 * 1024> piece{};
  std::int64_t at = 0;
  error_code ec;
  do {
    const auto n = cell.read(piece, at);
    const auto used =
        parser.write_some(at + static_cast<std::int64_t>(n) < scan.bytes, piece.data(), n, ec);
    if (!ec && used < n) {
      // The parser stops at the object's end (and the whitespace after it) and would take what
      // follows as a second document: json::parse refuses that (extra_data), and so does this.
      scan.reason = "something follows the JSON object, at byte " +
                    std::to_string(at + static_cast<std::int64_t>(used));
      return scan;
    }
    at += static_cast<std::int64_t>(n);
    if (ec && !parser.handler().stopped()) {
      // The parser names no byte of its error: say which piece it was in.
      const auto* refused = parser.handler().refused();
      const auto within = ", within bytes " + std::to_string(at - static_cast<std::int64_t>(n)) +
                          "-" + std::to_string(at);
      if (refused) {
        scan.reason = std::string("a JSON ") + refused + ", not an object" + within;
      } else if (ec == json::error::incomplete) {
        scan.reason = "the JSON ends early, at byte " + std::to_string(at);
      } else {
        scan.reason = ec.message() + within;
      }
    }
  } while (!ec && at < scan.bytes);
  if (parser.handler().stopped()) {
    scan.status = ReportScan::Status::stopped;
  } else if (!ec && parser.done()) {
    scan.status = ReportScan::Status::complete;
  } else if (scan.reason.empty()) {
    scan.reason = "the JSON ends early, at byte " + std::to_string(at); // an empty cell
  }
  return scan;
}

} // namespace acctlab::storage
