#pragma once
// `acctlab capture`: a live interface through libpcap (immediate mode, a BPF filter on the
// RADIUS ports and IP fragments) into the same analysis, and the same import when a database is
// given, until stopped or for a duration. The raw frames can be saved with the project's writer.

#include "pcap/capture_analysis.hpp"
#include "pcap/capture_import.hpp"

#include <functional>
#include <string>
#include <vector>

namespace acctlab::capture {

struct LiveCaptureOptions {
  std::string interface;
  double duration = 0; // seconds; 0: until stop_requested
  /** Saves every captured frame here (classic pcap, nanoseconds); packets rows and findings
   * then name this file, and their frame numbers are its frames. */
  std::string write_path;
  std::function<bool()> stop_requested;
  /** Called once the interface is capturing, with the filter in use. */
  std::function<void(const std::string& filter)> on_started;
};

struct LiveCaptureResult {
  AnalysisResult analysis;
  std::uint64_t kernel_drops = 0; // frames libpcap reports lost (kernel and interface)
  std::uint64_t frames_written = 0;
  std::string error; // the capture could not start, or the saved file could not be written
};

/**
 * Captures until stop_requested() or the duration, analysing as `pcap analyze` does (the
 * analysis options' ports extend the filter). With import set, imports as `pcap analyze --db`
 * (the run's file name is write_path, or "live:IFACE"). Throws std::runtime_error only for a
 * database failure, as import_captures does.
 */
LiveCaptureResult capture_live(const LiveCaptureOptions& options, AnalysisOptions analysis,
                               const ImportOptions* import, const RunJudge& judge);

} // namespace acctlab::capture
