#pragma once
// Import of captured RADIUS traffic into an acctlab database as a run of kind 'pcap': every
// datagram on a RADIUS port becomes a packets row (with its file and frame) through the server's
// group-commit writer (storage/record_writer.hpp); valid Accounting-Requests become records
// matched into sessions by the server's SessionMatcher, in capture time. What the server would
// have refused (bad authenticators, unknown clients, malformed datagrams, retransmissions) is
// stored with that verdict and never as a record.

#include "pcap/capture_analysis.hpp"
#include "pcap/capture_reader.hpp"
#include "pcap/clients_file.hpp"
#include "pcap/import_summary.hpp"
#include "radius/dictionary.hpp"
#include "radius/packet_codec.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace acctlab::capture {

struct ImportOptions {
  std::string database;
  const ClientSecrets* secrets = nullptr; // without it authenticators are not checked
  const radius::Dictionary* dictionary = nullptr;
  /** The names the packets rows carry, by file index (the paths as given). */
  std::vector<std::string> file_names;
  /** RFC 5080 §2.2.2's duplicate window, as the server uses it: an identical request within it
   * is a retransmission (verdict 'duplicate'), not a second record. */
  double duplicate_window = 30;
  /** Session staleness, as the server's defaults (radius::MatcherOptions). */
  std::uint32_t default_interim_interval = 600;
  std::uint32_t stale_factor = 3;
  /** Items queued in the writer before the reader waits for commits (bounds memory). */
  std::size_t max_queued = 20000;
};

/** Feeds datagrams into the writer; finish() stops it and counts what the run holds. */
class CaptureImporter {
public:
  /** Opens (and migrates) the database and inserts the run row; throws std::runtime_error. */
  explicit CaptureImporter(ImportOptions options);
  ~CaptureImporter();
  CaptureImporter(const CaptureImporter&) = delete;
  CaptureImporter& operator=(const CaptureImporter&) = delete;

  /** One datagram on a RADIUS port and what the decoder made of it. */
  void on_datagram(const UdpDatagram& datagram,
                   const radius::DecodeResult<radius::Packet>& decoded);
  /**
   * Commits everything, judges staleness at end_time (capture time, unix seconds) and counts the
   * run's packets, records and sessions. Throws std::runtime_error when the database fails.
   */
  ImportSummary finish(double end_time);
  /** Writes the run's verdict and report (JSON) and its finish time. */
  void close_run(const std::string& verdict, const std::string& report_json);

  std::int64_t run_id() const;

private:
  struct State;
  std::unique_ptr<State> state_;
};

/** Runs the conformance rules over a stored run and stores their findings under it. */
using RunJudge =
    std::function<ConformanceSummary(const std::string& database, std::int64_t run_id)>;

/**
 * analyze_captures with the import beside it: every datagram is analysed and stored, then the
 * run is judged (when judge is set) and closed with its verdict and the JSON report, which
 * result.import describes. Throws std::runtime_error when the database cannot be written; bad
 * capture input is counted in the result as analyze_captures counts it.
 */
AnalysisResult import_captures(const std::vector<std::string>& files, AnalysisOptions analysis,
                               ImportOptions options, const RunJudge& judge);

} // namespace acctlab::capture
