#pragma once
// The capture door: RADIUS datagrams read from pcap/pcapng files (through the pcap module's
// DatagramStream: link layers, VLANs, IPv4/IPv6, reassembled fragments) become a Trace whose
// packets carry their file and frame number, so findings point at Wireshark's frame numbers.

#include "conformance/profile.hpp"
#include "conformance/profile_set.hpp"
#include "conformance/run_judge.hpp"
#include "conformance/trace.hpp"
#include "pcap/capture_import.hpp"
#include "pcap/clients_file.hpp"
#include "pcap/import_summary.hpp"
#include "radius/dictionary.hpp"
#include "radius/result.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace acctlab::capture {
class TlsKeyLog;
}

namespace acctlab::conformance {

struct PcapTraceResult {
  Trace trace;
  std::uint64_t frames = 0;
  std::uint64_t issues = 0;        // frames the reader could not use (counted by the pcap module)
  std::vector<std::string> errors; // files that did not open or ended in an error
};

/** Each NAS's secret from a clients file (as the server matches clients), for the rules. */
SecretLookup secret_lookup(const capture::ClientSecrets& secrets);
/** Puts the secret of every client the trace's packets name into trace.secrets. */
void learn_secrets(Trace& trace, const capture::ClientSecrets& secrets);

/** Reads every datagram on a RADIUS port (1812, 1813, 1645, 1646 and extra_ports), and with
 * tls_keys the RADIUS packets of the RadSec sessions it opens. A datagram that is no RADIUS
 * packet, every frame or file part the pcap module could not read, and every RadSec session
 * whose RADIUS was not read (encrypted without a key log line) is listed in trace.unread
 * instead (file, frame, byte offset, reason). */
PcapTraceResult load_trace_from_pcap(const std::vector<std::string>& files,
                                     const std::vector<std::uint16_t>& extra_ports = {},
                                     const capture::TlsKeyLog* tls_keys = nullptr);

/**
 * The rules over a capture import (`acctlab pcap analyze --db`): reads the packets stored under
 * run_id, judges them as `check --pcap` judges the capture (answers recorded; each NAS's secret
 * from the clients file when given), stores the findings under that run with their packet,
 * record, session, file and frame, and returns the summary the import's report shows. Judged in
 * parts (conformance/run_judge.hpp) unless options.part_packets is 0: then the whole run is
 * loaded and judged by check_trace, which gives the same findings in the same order.
 */
Expected<capture::ConformanceSummary, std::string>
judge_imported_run(const std::string& database, std::int64_t run_id,
                   const capture::ClientSecrets* secrets, const Profile& profile,
                   const radius::Dictionary& dict, std::optional<double> interim_interval = {},
                   const RunJudgeOptions& options = {});
/** The same with a profile per NAS: when the set holds more than one profile the whole run is
 * loaded and judged by check_trace (parts judge with one profile). */
Expected<capture::ConformanceSummary, std::string>
judge_imported_run(const std::string& database, std::int64_t run_id,
                   const capture::ClientSecrets* secrets, const ProfileSet& profiles,
                   const radius::Dictionary& dict, std::optional<double> interim_interval = {},
                   const RunJudgeOptions& options = {});

/** judge_imported_run as the import's judge (throws std::runtime_error with its error). The
 * pointers must outlive the judge. */
capture::RunJudge make_import_judge(ProfileSet profiles, const radius::Dictionary* dict,
                                    const capture::ClientSecrets* secrets,
                                    std::optional<double> interim_interval,
                                    std::size_t part_packets = RunJudgeOptions{}.part_packets);

} // namespace acctlab::conformance
