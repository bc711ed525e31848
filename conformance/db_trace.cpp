#include "conformance/db_trace.hpp"

#include "conformance/detail/db_rows.hpp"
#include "storage/sqlite.hpp"

#include <algorithm>
#include <map>

namespace acctlab::conformance {
namespace {

std::string endpoint(const std::string& address, std::int64_t port) {
  if (address.find(':') != std::string::npos) {
    return "[" + address + "]:" + std::to_string(port);
  }
  return address + ":" + std::to_string(port);
}

bool is_response_code(int code) {
  return code == 2 || code == 3 || code == 5 || code == 11 || code == 41 || code == 42 ||
         code == 44 || code == 45;
}

/** The findings as rows of the findings table. The last stored packet of the evidence is the one
 * a finding is about (a retransmission, a late record, an answer); earlier ones are context. */
std::vector<storage::FindingRow> finding_rows(const Verdict& verdict, const Trace* trace) {
  std::vector<storage::FindingRow> rows;
  rows.reserve(verdict.findings.size());
  for (const auto& finding : verdict.findings) {
    storage::FindingRow row;
    row.rule_id = finding.rule_id;
    row.severity = std::string(to_string(finding.severity));
    row.scope = std::string(to_string(finding.scope));
    row.message = finding.message;
    const auto& evidence = finding.evidence;
    if (!evidence.packet_ids.empty()) {
      row.packet_id = evidence.packet_ids.back();
    }
    // The file and frame of the packet the finding is about: from the trace when given (the
    // evidence's file is its first packet's, which differs when a finding spans two files).
    const TracePacket* subject =
        trace && !evidence.packets.empty() && evidence.packets.back() < trace->packets.size()
            ? &trace->packets[evidence.packets.back()]
            : nullptr;
    if (subject) {
      row.file = subject->file;
      if (subject->frame) {
        row.frame = static_cast<std::int64_t>(*subject->frame);
      }
    } else {
      if (!evidence.file.empty()) {
        row.file = evidence.file;
      }
      if (!evidence.frames.empty()) {
        row.frame = static_cast<std::int64_t>(evidence.frames.back());
      }
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

} // namespace

void detail::add_file_windows(Trace& trace) {
  std::map<std::string, Trace::Window> by_file;
  for (const auto& packet : trace.packets) {
    if (!packet.file) {
      continue;
    }
    auto [it, inserted] = by_file.try_emplace(*packet.file);
    auto& window = it->second;
    if (inserted) {
      window = {packet.time, packet.time, *packet.file};
    }
    window.begin = std::min(window.begin, packet.time);
    window.end = std::max(window.end, packet.time);
  }
  if (by_file.size() > 1) {
    for (auto& [file, window] : by_file) {
      trace.windows.push_back(std::move(window));
    }
  }
}

TracePacket detail::to_trace_packet(storage::StoredPacket&& row, bool& response) {
  TracePacket packet;
  packet.packet_id = row.id;
  packet.time = row.receive_time;
  packet.source = endpoint(row.src_addr, row.src_port);
  if (row.dst_addr) {
    packet.destination = endpoint(*row.dst_addr, row.dst_port);
  }
  // A server stores requests only; a capture import stores the answers too.
  response = row.code && is_response_code(*row.code);
  packet.direction = response ? Direction::from_server : Direction::to_server;
  packet.verdict = std::move(row.verdict);
  packet.file = std::move(row.file);
  if (row.frame) {
    packet.frame = static_cast<std::uint64_t>(*row.frame);
  }
  packet.raw = std::move(row.raw);
  return packet;
}

Expected<Trace, std::string> load_trace_from_db(const std::string& path,
                                                const DbTraceOptions& options) {
  Trace trace;
  trace.default_secret = options.secret;
  trace.responses_recorded = false;
  try {
    storage::read_stored_packets(path, options.run_id, [&](storage::StoredPacket&& row) {
      bool response = false;
      trace.packets.push_back(detail::to_trace_packet(std::move(row), response));
      trace.responses_recorded = trace.responses_recorded || response;
    });
  } catch (const storage::Error& error) {
    return Unexpected(path + ": " + error.what());
  }
  detail::add_file_windows(trace);
  if (const auto window = storage::serve_window(path, options.run_id);
      window && !trace.packets.empty()) {
    trace.begin = std::min(window->first, trace.packets.front().time);
    trace.end = std::max(window->second, trace.packets.back().time);
  }
  return trace;
}

Expected<std::int64_t, std::string> store_findings(const std::string& path, const Verdict& verdict,
                                                   const std::string& json_report) {
  try {
    return storage::store_conform_run(path, verdict.has_errors(), json_report,
                                      finding_rows(verdict, nullptr));
  } catch (const storage::Error& error) {
    return Unexpected(path + ": " + error.what());
  }
}

Expected<std::size_t, std::string> store_findings_in_run(const std::string& path,
                                                         const Verdict& verdict,
                                                         std::int64_t run_id, const Trace& trace) {
  try {
    return storage::store_findings_in_run(path, run_id, finding_rows(verdict, &trace));
  } catch (const storage::Error& error) {
    return Unexpected(path + ": " + error.what());
  }
}

} // namespace acctlab::conformance
