#pragma once
// Renders an AnalysisResult as text for people or as JSON (Boost.JSON) for programs.

#include "pcap/capture_analysis.hpp"

#include <boost/json/value.hpp>
#include <string>

namespace acctlab::capture {

/** The report's verdict: "incomplete" or "no accounting traffic" when the capture allows no other
 * (capture_verdict), else an import's conformance verdict ("pass", "fail"), else "complete". */
std::string report_verdict(const AnalysisResult& r);

boost::json::value to_json(const AnalysisResult& result);
std::string to_text(const AnalysisResult& result);

} // namespace acctlab::capture
