#pragma once
// The database door: a Trace read from the packets an `acctlab serve` database stored, and the
// verdict's findings written back to its findings table, linked to the packet, record and session
// rows that prove them. Uses the server's schema (storage/schema.cpp); no schema of its own.

#include "conformance/engine.hpp"
#include "conformance/trace.hpp"
#include "radius/result.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace acctlab::conformance {

struct DbTraceOptions {
  std::optional<std::int64_t> run_id; // only the packets of this run
  std::optional<std::string> secret;  // shared secret for every client, when known
};

/** Reads the stored packets in arrival order. Errors are one line ("no such table: packets"). */
Expected<Trace, std::string> load_trace_from_db(const std::string& path,
                                                const DbTraceOptions& options = {});

/**
 * Records a conformance run (runs.kind 'conform', verdict, JSON report as a BLOB of its UTF-8
 * bytes: read it as CAST(report AS TEXT) for SQLite's JSON functions) and one findings row per
 * finding, linked to packets.id, records.id and sessions.id through the evidence's first stored
 * packet. Returns the run id.
 */
Expected<std::int64_t, std::string> store_findings(const std::string& path, const Verdict& verdict,
                                                   const std::string& json_report);

/**
 * Writes the findings under an existing run (a capture import's 'pcap' run), linked as
 * store_findings links them, with the file and frame of the trace packet each is about. The run
 * row is its owner's. Returns the number of findings stored.
 */
Expected<std::size_t, std::string> store_findings_in_run(const std::string& path,
                                                         const Verdict& verdict,
                                                         std::int64_t run_id, const Trace& trace);

} // namespace acctlab::conformance
