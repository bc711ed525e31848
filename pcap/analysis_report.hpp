#pragma once
// Renders an AnalysisResult as text for people or as JSON (Boost.JSON) for programs.

#include "pcap/capture_analysis.hpp"

#include <boost/json/value.hpp>
#include <string>

namespace acctlab::capture {

/** The report's verdict: "incomplete" or "no accounting traffic" when the capture allows no other
 * (capture_verdict), "incomplete" when the database refused packets of an import, else an
 * import's conformance verdict ("pass", "fail"), else "complete". */
std::string report_verdict(const AnalysisResult& r);

/** One packet the database refused during an import: "FILE frame N: NAS ... Acct-Session-Id ...
 * (Interim-Update): the database refused it: MESSAGE". */
std::string refused_packet_text(const RefusedPacket& packet);

/** A session the database refused to mark stale during an import. */
std::string refused_mark_text(const RefusedStaleMark& mark);

boost::json::value to_json(const AnalysisResult& result);
std::string to_text(const AnalysisResult& result);

} // namespace acctlab::capture
