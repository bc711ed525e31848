#pragma once
// Stored packets rows as trace packets, shared by the database door (db_trace.cpp) and the judge
// of stored runs (run_judge.cpp). storage/ reads the rows; this turns them into a Trace's terms.

#include "conformance/trace.hpp"
#include "storage/judge_stage.hpp"

namespace acctlab::conformance::detail {

/** A trace joining the packets of several capture files (an import of several captures) was
 * watched per file: each file's first and last packet become a window (none for one file). */
void add_file_windows(Trace& trace);

/** A stored packet as a trace packet. Sets `response` when the stored code is an answer's. */
TracePacket to_trace_packet(storage::StoredPacket&& row, bool& response);

} // namespace acctlab::conformance::detail
