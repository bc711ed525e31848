#pragma once
// Reading stored packets rows as trace packets, and owning SQLite handles, shared by the database
// door (db_trace.cpp) and the judge of stored runs (run_judge.cpp).

#include "conformance/trace.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <sqlite3.h>
#include <utility>

namespace acctlab::conformance::detail {

struct CloseDb {
  void operator()(sqlite3* db) const { sqlite3_close(db); }
};
struct Finalize {
  void operator()(sqlite3_stmt* statement) const { sqlite3_finalize(statement); }
};
/** Owning handles: the connection is closed, the statement finalized, on every path out. */
using Db = std::unique_ptr<sqlite3, CloseDb>;
using Statement = std::unique_ptr<sqlite3_stmt, Finalize>;

/** The packets columns a trace needs, in the order read_packet_row expects them. */
inline constexpr const char* packet_columns =
    "id, receive_time, src_addr, src_port, dst_addr, dst_port, code, verdict, file, frame, raw";

/** The first start and last finish of the server runs (runs.kind 'serve') of a database, or
 * of one run: the moments a server trace spans beyond its packets. None when no server run has
 * packets there. */
std::optional<std::pair<double, double>> serve_window(sqlite3* db,
                                                      std::optional<std::int64_t> run_id);

/** A trace joining the packets of several capture files (an import of several captures) was
 * watched per file: each file's first and last packet become a window (none for one file). */
void add_file_windows(Trace& trace);

/** The current row of a statement selecting packet_columns (from column `first` on). Sets
 * `response` when the stored code is an answer's. */
TracePacket read_packet_row(sqlite3_stmt* row, bool& response, int first = 0);

} // namespace acctlab::conformance::detail
