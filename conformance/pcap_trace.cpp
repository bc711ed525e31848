#include "conformance/pcap_trace.hpp"

#include "conformance/db_trace.hpp"
#include "conformance/engine.hpp"
#include "pcap/capture_reader.hpp"
#include "pcap/tls_sessions.hpp"
#include "radius/packet_codec.hpp"

#include <algorithm>
#include <map>
#include <stdexcept>

namespace acctlab::conformance {

SecretLookup secret_lookup(const capture::ClientSecrets& secrets) {
  return [&secrets](const std::string& host) -> std::optional<std::string> {
    if (const auto address = capture::IpAddress::parse(host)) {
      if (const auto* client = secrets.find(*address)) {
        return client->secret;
      }
    }
    return std::nullopt;
  };
}

void learn_secrets(Trace& trace, const capture::ClientSecrets& secrets) {
  const auto lookup = secret_lookup(secrets);
  for (const auto& packet : trace.packets) {
    auto host =
        host_part(packet.direction == Direction::from_server ? packet.destination : packet.source);
    if (trace.secrets.count(host) != 0) {
      continue;
    }
    if (auto secret = lookup(host)) {
      trace.secrets.emplace(std::move(host), std::move(*secret));
    }
  }
}

PcapTraceResult load_trace_from_pcap(const std::vector<std::string>& files,
                                     const std::vector<std::uint16_t>& extra_ports,
                                     const capture::TlsKeyLog* tls_keys) {
  PcapTraceResult result;
  capture::StreamOptions options;
  options.extra_ports = extra_ports;
  options.tls_keys = tls_keys;
  capture::DatagramStream stream(files, options);
  capture::UdpDatagram datagram;
  const auto is_server_port = [&](std::uint16_t port) {
    return std::find(std::begin(capture::radius_ports), std::end(capture::radius_ports), port) !=
               std::end(capture::radius_ports) ||
           std::find(extra_ports.begin(), extra_ports.end(), port) != extra_ports.end();
  };
  const auto file_of = [&](std::uint32_t index) {
    return index < files.size() ? files[index] : std::to_string(index);
  };
  while (stream.next(datagram)) {
    if (!radius::could_be_radius(datagram.payload)) {
      // Another protocol on a RADIUS port, or noise: not read as RADIUS, so not judged as a
      // NAS's malformed packet (pcap analyze counts it the same way).
      result.trace.unread.push_back(
          {std::string(capture::to_string(capture::IssueKind::not_radius)),
           file_of(datagram.file_index), datagram.frame, datagram.offset,
           capture::not_radius_detail(datagram.source.to_string(), datagram.destination.to_string(),
                                      datagram.payload)});
      continue;
    }
    TracePacket packet;
    packet.time = static_cast<double>(datagram.timestamp_ns) / 1e9;
    packet.source = datagram.source.to_string();
    packet.destination = datagram.destination.to_string();
    // The server side is the one on a RADIUS port; when both are, the analysis decides by code.
    const bool to_server = is_server_port(datagram.destination.port);
    const bool from_server = is_server_port(datagram.source.port);
    packet.direction = to_server == from_server ? Direction::unknown
                       : to_server              ? Direction::to_server
                                                : Direction::from_server;
    packet.raw.assign(datagram.payload.begin(), datagram.payload.end());
    packet.file = datagram.file_index < files.size() ? files[datagram.file_index] : std::string();
    packet.frame = datagram.frame;
    result.trace.packets.push_back(std::move(packet));
  }
  result.frames = stream.stats().frames;
  // The capture's edges are its first and last frame, whatever they carried.
  if (const auto& stats = stream.stats(); stats.first_ns && stats.last_ns) {
    result.trace.begin = static_cast<double>(*stats.first_ns) / 1e9;
    result.trace.end = static_cast<double>(*stats.last_ns) / 1e9;
  }
  for (const auto& u : stream.stats().port_unreachables) {
    result.trace.refusals.push_back({static_cast<double>(u.timestamp_ns) / 1e9,
                                     file_of(u.file_index), u.frame, u.sender.to_string(),
                                     u.receiver.to_string(), u.identifier});
  }
  result.issues = stream.issues().size();
  // Everything the stream could not read, where and why; the file-level ones first.
  std::vector<Unread> stream_unread;
  for (const auto& issue : stream.issues()) {
    std::string detail =
        issue.detail.empty() ? std::string(capture::describe(issue.kind)) : issue.detail;
    stream_unread.push_back({std::string(capture::to_string(issue.kind)), file_of(issue.file_index),
                             issue.frame, issue.offset, std::move(detail)});
  }
  for (const auto& session : stream.tls_sessions().sessions()) {
    if (capture::radius_not_read(session)) {
      stream_unread.push_back({"radsec_not_read", file_of(session.first_frame.file_index),
                               session.first_frame.frame, session.first_frame.offset,
                               capture::not_read_detail(session, tls_keys != nullptr)});
    }
  }
  result.trace.unread.insert(result.trace.unread.begin(), stream_unread.begin(),
                             stream_unread.end());
  // Several captures: each is watched from its first frame to its last, and not between.
  if (files.size() > 1) {
    for (const auto& summary : stream.files()) {
      if (summary.first_ns && summary.last_ns) {
        result.trace.windows.push_back({static_cast<double>(*summary.first_ns) / 1e9,
                                        static_cast<double>(*summary.last_ns) / 1e9, summary.path});
      }
    }
  }
  for (const auto& summary : stream.files()) {
    if (!summary.complete) {
      result.errors.push_back(summary.path + (summary.link_type < 0
                                                  ? ": cannot be read as a capture"
                                                  : ": ends in an error"));
    }
  }
  return result;
}

Expected<capture::ConformanceSummary, std::string>
judge_imported_run(const std::string& database, std::int64_t run_id,
                   const capture::ClientSecrets* secrets, const Profile& profile,
                   const radius::Dictionary& dict, std::optional<double> interim_interval,
                   const RunJudgeOptions& judge_options) {
  return judge_imported_run(database, run_id, secrets, ProfileSet(profile), dict, interim_interval,
                            judge_options);
}

Expected<capture::ConformanceSummary, std::string>
judge_imported_run(const std::string& database, std::int64_t run_id,
                   const capture::ClientSecrets* secrets, const ProfileSet& profiles,
                   const radius::Dictionary& dict, std::optional<double> interim_interval,
                   const RunJudgeOptions& judge_options) {
  const auto& profile = profiles.fallback();
  if (judge_options.part_packets > 0 && profiles.single()) {
    SecretLookup lookup;
    if (secrets) {
      lookup = secret_lookup(*secrets);
    }
    return judge_stored_run(database, run_id, profile, dict, lookup, interim_interval,
                            judge_options);
  }
  DbTraceOptions options;
  options.run_id = run_id;
  auto loaded = load_trace_from_db(database, options);
  if (!loaded) {
    return Unexpected(loaded.error());
  }
  Trace trace = std::move(loaded).value();
  // A capture records both directions: a request without an answer is unanswered, as
  // `check --pcap` judges the same file.
  trace.responses_recorded = true;
  trace.interim_interval = interim_interval;
  if (secrets) {
    learn_secrets(trace, *secrets);
  }
  const auto verdict = check_trace(trace, profiles, dict);
  if (judge_options.stats) {
    *judge_options.stats = {trace.packets.size(), 1, trace.packets.size()};
  }
  auto stored = store_findings_in_run(database, verdict, run_id, trace);
  if (!stored) {
    return Unexpected(stored.error());
  }

  capture::ConformanceSummary summary;
  summary.profile = verdict.profile;
  if (!profiles.single()) {
    for (const auto& nas : verdict.nas_profiles) {
      summary.nas_profiles.emplace_back(nas.client, nas.profile);
    }
  }
  summary.verdict = verdict.has_errors() ? "fail" : "pass";
  summary.rules = verdict.rules.size();
  summary.errors = verdict.count(Severity::error);
  summary.warnings = verdict.count(Severity::warning);
  summary.infos = verdict.count(Severity::info);
  summary.findings_stored = *stored;
  for (const auto& nas : verdict.nas_profiles) {
    if (!nas.fit_note.empty()) {
      summary.fit_notes.push_back("NAS " + nas.client + ": " + nas.fit_note);
    }
  }
  for (const auto& outcome : verdict.outcomes) {
    summary.rules_failed += outcome.failed() ? 1 : 0;
    const auto& rule = verdict.rules[outcome.rule];
    summary.results.push_back({rule.id, rule.source, std::string(to_string(rule.severity)),
                               std::string(to_string(rule.scope)), rule.summary,
                               !outcome.failed()});
  }
  std::map<std::string, capture::ConformanceSummary::RuleCount> by_rule;
  for (const auto& finding : verdict.findings) {
    auto& count = by_rule[finding.rule_id];
    if (count.count == 0 || finding.severity > parse_severity(count.severity)) {
      count.severity = std::string(to_string(finding.severity));
    }
    count.rule_id = finding.rule_id;
    ++count.count;
    const auto& evidence = finding.evidence;
    const TracePacket* subject =
        !evidence.packets.empty() && evidence.packets.back() < trace.packets.size()
            ? &trace.packets[evidence.packets.back()]
            : nullptr;
    const bool framed = subject && subject->frame;
    summary.findings_with_frame += framed ? 1 : 0;
    if (summary.examples.size() < 10) {
      summary.examples.push_back({finding.rule_id, std::string(to_string(finding.severity)),
                                  finding.message, subject && subject->file ? *subject->file : "",
                                  framed ? *subject->frame : 0});
    }
  }
  const auto rank = [](const std::string& severity) {
    return static_cast<int>(parse_severity(severity).value_or(Severity::info));
  };
  for (auto& [id, count] : by_rule) {
    summary.by_rule.push_back(std::move(count));
  }
  std::stable_sort(
      summary.by_rule.begin(), summary.by_rule.end(), [&](const auto& a, const auto& b) {
        return rank(a.severity) != rank(b.severity) ? rank(a.severity) > rank(b.severity)
                                                    : a.count > b.count;
      });
  return summary;
}

capture::RunJudge make_import_judge(ProfileSet profiles, const radius::Dictionary* dict,
                                    const capture::ClientSecrets* secrets,
                                    std::optional<double> interim_interval,
                                    std::size_t part_packets) {
  return [profiles = std::move(profiles), dict, secrets, interim_interval,
          part_packets](const std::string& database, std::int64_t run_id) {
    RunJudgeOptions options;
    options.part_packets = part_packets;
    auto judged =
        judge_imported_run(database, run_id, secrets, profiles, *dict, interim_interval, options);
    if (!judged) {
      throw std::runtime_error("conformance: " + judged.error());
    }
    return std::move(judged).value();
  };
}

} // namespace acctlab::conformance
