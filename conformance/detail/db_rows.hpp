#pragma once
// Reading stored packets rows as trace packets, shared by the database door (db_trace.cpp) and
// the judge of stored runs (run_judge.cpp).

#include "conformance/trace.hpp"

struct sqlite3_stmt;

namespace acctlab::conformance::detail {

/** The packets columns a trace needs, in the order read_packet_row expects them. */
inline constexpr const char* packet_columns =
    "id, receive_time, src_addr, src_port, dst_addr, dst_port, code, verdict, file, frame, raw";

/** The current row of a statement selecting packet_columns (from column `first` on). Sets
 * `response` when the stored code is an answer's. */
TracePacket read_packet_row(sqlite3_stmt* row, bool& response, int first = 0);

} // namespace acctlab::conformance::detail
