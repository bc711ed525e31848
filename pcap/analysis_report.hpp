#pragma once
// Renders an AnalysisResult as text for people or as JSON (Boost.JSON) for programs.

#include "pcap/capture_analysis.hpp"

#include <boost/json/value.hpp>
#include <string>

namespace acctlab::capture {

boost::json::value to_json(const AnalysisResult& result);
std::string to_text(const AnalysisResult& result);

} // namespace acctlab::capture
