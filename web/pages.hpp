#pragma once
// HTML renderings of the report objects (storage/reports.hpp). Every value taken from the report is
// escaped or formatted as a number here; links carry URL-encoded values.

#include "web/html.hpp"

#include <boost/json/object.hpp>
#include <string>
#include <string_view>

namespace acctlab::web {

std::string overview_page(const boost::json::object& report);
std::string sessions_page(const boost::json::object& report, const QueryParams& params);
std::string session_page(const boost::json::object& report);
std::string packet_page(const boost::json::object& report);
std::string conformance_page(const boost::json::object& report);
std::string rule_page(const boost::json::object& report, const QueryParams& params);
std::string usage_page(const boost::json::object& report, const QueryParams& params);
std::string runs_page(const boost::json::object& report);
std::string run_page(const boost::json::object& report);
std::string nas_page(const boost::json::object& report);
std::string error_page(unsigned status, std::string_view message);

/** The sessions of a sessions report as CSV (RFC 4180). */
std::string sessions_csv(const boost::json::object& report);

} // namespace acctlab::web
