#include "pcap/analysis_report.hpp"

#include "radius/accounting_record.hpp"
#include "radius/decode_error.hpp"
#include "storage/pg_connection.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <cstdio>

namespace acctlab::capture {

namespace json = boost::json;

namespace {

constexpr const char* histogram_labels[retransmission_buckets] = {"1", "2", "3", "4", "5+"};

std::string status_name(std::size_t value) {
  const auto name = radius::status_type_name(static_cast<std::uint32_t>(value));
  return name == "Unknown" ? std::to_string(value) : std::string(name);
}

double ms(double ns) {
  return ns / 1e6;
}

json::object latency_json(const LatencyHistogram& h) {
  json::object o;
  o["count"] = h.count();
  if (h.count() != 0) {
    o["min"] = ms(static_cast<double>(h.min_ns()));
    o["mean"] = ms(h.mean_ns());
    o["median"] = ms(static_cast<double>(h.quantile_ns(0.5)));
    o["p90"] = ms(static_cast<double>(h.quantile_ns(0.9)));
    o["p99"] = ms(static_cast<double>(h.quantile_ns(0.99)));
    o["max"] = ms(static_cast<double>(h.max_ns()));
  }
  return o;
}

json::object counters_json(const TrafficCounters& c) {
  json::object o;
  json::object codes;
  for (std::size_t code = 0; code < c.by_code.size(); ++code) {
    if (c.by_code[code] != 0) {
      codes[radius::code_name(static_cast<radius::Code>(code))] = c.by_code[code];
    }
  }
  o["packets_by_code"] = std::move(codes);
  json::object status;
  for (std::size_t v = 0; v < c.by_status_type.size(); ++v) {
    if (c.by_status_type[v] != 0) {
      status[status_name(v)] = c.by_status_type[v];
    }
  }
  if (c.status_type_absent != 0) {
    status["absent"] = c.status_type_absent;
  }
  if (c.status_type_other != 0) {
    status["other"] = c.status_type_other;
  }
  o["acct_status_type"] = std::move(status);
  o["requests"] = c.requests;
  o["responses"] = c.responses;
  o["other_codes"] = c.other_codes;
  o["exchanges"] = c.exchanges;
  o["linked"] = c.linked;
  o["unanswered"] = c.unanswered;
  o["unanswered_at_end"] = c.unanswered_at_end;
  o["late_answers"] = c.late_answers;
  o["retransmissions"] = c.retransmissions;
  json::object histogram;
  for (std::size_t b = 0; b < retransmission_buckets; ++b) {
    histogram[histogram_labels[b]] = c.retransmission_histogram[b];
  }
  o["retransmission_histogram"] = std::move(histogram);
  o["duplicate_requests"] = c.duplicate_requests;
  o["duplicate_responses"] = c.duplicate_responses;
  o["answers_without_request"] = c.answers_without_request;
  o["identifier_reused"] = c.identifier_reused;
  o["response_code_mismatch"] = c.response_code_mismatch;
  o["authenticators"] = {{"request_valid", c.request_authenticator_valid},
                         {"request_invalid", c.request_authenticator_invalid},
                         {"response_valid", c.response_authenticator_valid},
                         {"response_invalid", c.response_authenticator_invalid}};
  o["latency_ms"] = latency_json(c.latency);
  return o;
}

template <class Map> std::vector<typename Map::const_pointer> sorted(const Map& map) {
  std::vector<typename Map::const_pointer> out;
  for (const auto& entry : map) {
    out.push_back(&entry);
  }
  std::sort(out.begin(), out.end(), [](auto* a, auto* b) { return a->first < b->first; });
  return out;
}

std::string file_name(const AnalysisResult& r, std::uint32_t index) {
  return index < r.files.size() ? r.files[index].path : std::to_string(index);
}

json::object session_counts_json(const SessionCounts& c) {
  return {{"opened", c.opened}, {"open", c.open}, {"closed", c.closed}, {"stale", c.stale}};
}

json::object import_json(const ImportSummary& i) {
  json::object o;
  o["database"] = storage::database_display_name(i.database); // a URI's password left out
  o["run_id"] = i.run_id;
  o["run_verdict"] = i.run_verdict;
  o["packets"] = i.packets;
  json::object verdicts;
  for (const auto& [verdict, n] : i.packets_by_verdict) {
    verdicts[verdict] = n;
  }
  o["packets_by_verdict"] = std::move(verdicts);
  o["records"] = i.records;
  json::object sessions = session_counts_json(i.sessions);
  json::object by_nas;
  for (const auto& [nas, counts] : i.sessions_by_nas) {
    by_nas[nas] = session_counts_json(counts);
  }
  sessions["by_nas"] = std::move(by_nas);
  o["sessions"] = std::move(sessions);
  json::array refused;
  for (const auto& p : i.refused_packets) {
    json::object packet{{"file", p.file},
                        {"frame", p.frame},
                        {"nas", p.nas},
                        {"source", p.source},
                        {"acct_session_id", p.acct_session_id},
                        {"message", p.message}};
    if (p.status_type) {
      packet["status_type"] = radius::status_type_name(*p.status_type);
    }
    if (!p.sqlstate.empty()) {
      packet["sqlstate"] = p.sqlstate;
    }
    refused.push_back(std::move(packet));
  }
  o["refused"] = {{"count", i.refused}, {"list", std::move(refused)}};
  json::array stale_refused;
  for (const auto& m : i.stale_refused) {
    stale_refused.push_back(
        {{"nas", m.nas}, {"acct_session_id", m.acct_session_id}, {"message", m.message}});
  }
  o["stale_refused"] = std::move(stale_refused);
  o["seconds"] = i.seconds;
  if (i.conformance) {
    const auto& c = *i.conformance;
    json::array rules;
    for (const auto& rule : c.by_rule) {
      rules.push_back(
          {{"rule_id", rule.rule_id}, {"severity", rule.severity}, {"count", rule.count}});
    }
    json::array examples;
    for (const auto& e : c.examples) {
      json::object example{{"rule_id", e.rule_id},
                           {"severity", e.severity},
                           {"message", e.message},
                           {"file", e.file}};
      if (e.frame != 0) {
        example["frame"] = e.frame;
      }
      examples.push_back(std::move(example));
    }
    json::array results;
    for (const auto& r : c.results) {
      results.push_back({{"id", r.id},
                         {"source", r.source},
                         {"severity", r.severity},
                         {"scope", r.scope},
                         {"summary", r.summary},
                         {"passed", r.passed}});
    }
    json::array nas_profiles;
    for (const auto& [nas, profile] : c.nas_profiles) {
      nas_profiles.push_back({{"nas", nas}, {"profile", profile}});
    }
    o["conformance"] = {{"profile", c.profile},
                        {"profiles", std::move(nas_profiles)},
                        {"verdict", c.verdict},
                        {"rules", c.rules},
                        {"rules_failed", c.rules_failed},
                        {"errors", c.errors},
                        {"warnings", c.warnings},
                        {"infos", c.infos},
                        {"findings_stored", c.findings_stored},
                        {"findings_with_frame", c.findings_with_frame},
                        {"by_rule", std::move(rules)},
                        {"examples", std::move(examples)},
                        {"fit_notes", json::value_from(c.fit_notes)},
                        // The same per-rule list `acctlab conform` stores, for the viewer.
                        {"rule_results", std::move(results)}};
  }
  return o;
}

} // namespace

std::string refused_packet_text(const RefusedPacket& p) {
  std::string text = p.file + " frame " + std::to_string(p.frame) + ": NAS " + p.nas;
  if (!p.acct_session_id.empty()) {
    text += " Acct-Session-Id " + p.acct_session_id;
  }
  if (p.status_type) {
    text += " (" + std::string(radius::status_type_name(*p.status_type)) + ")";
  }
  text += ": the database refused it: " + p.message;
  if (!p.sqlstate.empty()) {
    text += " (SQLSTATE " + p.sqlstate + ")";
  }
  return text;
}

std::string refused_mark_text(const RefusedStaleMark& mark) {
  return "NAS " + mark.nas + " Acct-Session-Id " + mark.acct_session_id +
         ": the database refused to mark the session stale (it stays open there): " + mark.message;
}

std::string report_verdict(const AnalysisResult& r) {
  const auto capture = capture_verdict(r);
  if (capture != CaptureVerdict::complete) {
    return std::string(to_string(capture));
  }
  if (r.import && r.import->refused > 0) {
    // Packets the database refused are not in the run the rules judged (docs/pcap.md).
    return std::string(to_string(CaptureVerdict::incomplete));
  }
  if (r.import && r.import->conformance) {
    return r.import->conformance->verdict;
  }
  return "complete";
}

json::value to_json(const AnalysisResult& r) {
  json::object root;
  root["verdict"] = report_verdict(r);
  // What was not read, in the shape `acctlab check --pcap` reports it.
  json::array unread;
  for (const auto& i : r.issues) {
    unread.push_back({{"file", file_name(r, i.file_index)},
                      {"frame", i.frame},
                      {"offset", i.offset},
                      {"reason", to_string(i.kind)},
                      {"detail", i.detail}});
  }
  root["unread"] = std::move(unread);
  json::array files;
  for (const auto& f : r.files) {
    files.push_back({{"path", f.path},
                     {"link_type", f.link_type},
                     {"frames", f.frames},
                     {"complete", f.complete}});
  }
  root["files"] = std::move(files);
  root["stream"] = {{"frames", r.stream.frames},
                    {"captured_bytes", r.stream.captured_bytes},
                    {"not_ip", r.stream.not_ip},
                    {"other_ip", r.stream.other_ip},
                    {"udp", r.stream.udp},
                    {"radius_port_datagrams", r.stream.udp_matched},
                    {"ip_fragments", r.stream.fragments},
                    {"reassembled", r.stream.reassembled},
                    {"invalid_frames", r.stream.invalid_frames},
                    {"other_protocol", r.stream.other_protocol},
                    {"gso_datagrams", r.stream.gso_datagrams},
                    {"gso_packets", r.stream.gso_packets},
                    {"port_unreachable", r.stream.port_unreachable}};
  json::array other_protocol;
  for (const auto& d : r.stream.other_protocol_examples) {
    other_protocol.push_back({{"file", file_name(r, d.file_index)},
                              {"frame", d.frame},
                              {"source", d.source.to_string()},
                              {"destination", d.destination.to_string()},
                              {"octets", d.octets}});
  }
  root["stream"].as_object()["other_protocol_examples"] = std::move(other_protocol);
  json::array unreachable;
  for (const auto& u : r.stream.port_unreachables) {
    json::object o{{"file", file_name(r, u.file_index)},
                   {"frame", u.frame},
                   {"reporter", u.reporter.to_string()},
                   {"sender", u.sender.to_string()},
                   {"closed_port", u.receiver.to_string()}};
    if (u.code >= 0) {
      o["code"] = radius::code_name(static_cast<radius::Code>(u.code));
      o["identifier"] = u.identifier;
    }
    unreachable.push_back(std::move(o));
  }
  root["stream"].as_object()["port_unreachables"] = std::move(unreachable);
  json::object issue_counts;
  for (std::size_t k = 0; k < issue_kind_count; ++k) {
    if (r.issue_counts.counts[k] != 0) {
      issue_counts[to_string(static_cast<IssueKind>(k))] = r.issue_counts.counts[k];
    }
  }
  json::array issues;
  for (const auto& i : r.issues) {
    issues.push_back({{"kind", to_string(i.kind)},
                      {"file", file_name(r, i.file_index)},
                      {"frame", i.frame},
                      {"offset", i.offset},
                      {"detail", i.detail}});
  }
  root["capture_issues"] = {{"counts", std::move(issue_counts)}, {"list", std::move(issues)}};
  json::array tls;
  for (const auto& s : r.tls_sessions) {
    tls.push_back({{"client", s.client.to_string()},
                   {"server", s.server.to_string()},
                   {"file", file_name(r, s.first_frame.file_index)},
                   {"first_frame", s.first_frame.frame},
                   {"version", s.version},
                   {"cipher_suite", s.cipher_suite},
                   {"offered_versions", s.offered_versions},
                   {"sni", s.sni},
                   {"alpn", s.alpn},
                   {"alpn_offered", s.alpn_offered},
                   {"octets_to_server", s.octets_to_server},
                   {"octets_to_client", s.octets_to_client},
                   {"application_records", s.application_records},
                   {"radius_packets", s.radius_packets},
                   {"decrypted", s.decrypted},
                   {"opened_in_capture", s.syn_seen},
                   {"closed_in_capture", s.fin_seen},
                   {"unreadable", s.unreadable}});
  }
  root["radsec_sessions"] = std::move(tls);
  root["radsec_sessions_not_read"] = r.tls_sessions_not_decrypted;
  if (r.tls_keys_given) {
    json::array problems;
    for (const auto& p : r.tls_keylog_problems) {
      problems.push_back(json::value(p));
    }
    root["tls_keylog"] = {{"sessions_not_decrypted", r.tls_sessions_not_decrypted},
                          {"lines_not_read", r.tls_keylog_lines_not_read},
                          {"first_lines_not_read", std::move(problems)}};
  }
  root["radius_datagrams"] = r.radius_datagrams;
  root["decoded"] = r.decoded;
  json::object decode_errors;
  for (std::size_t e = 0; e < r.decode_errors.size(); ++e) {
    if (r.decode_errors[e] != 0) {
      decode_errors[radius::to_string(static_cast<radius::DecodeError>(e))] = r.decode_errors[e];
    }
  }
  root["decode_errors"] = std::move(decode_errors);
  root["timeout_s"] = static_cast<double>(r.timeout_ns) / 1e9;
  root["duplicate_window_s"] = static_cast<double>(r.duplicate_window_ns) / 1e9;
  root["secrets"] = r.secrets_given;
  root["peak_open_exchanges"] = r.peak_open_exchanges;
  root["totals"] = counters_json(r.totals);
  json::array nas;
  for (const auto* entry : sorted(r.per_nas)) {
    json::object o = counters_json(entry->second);
    o["nas"] = entry->first.to_string();
    nas.push_back(std::move(o));
  }
  root["nas"] = std::move(nas);
  json::array servers;
  for (const auto* entry : sorted(r.per_server)) {
    json::object o = counters_json(entry->second);
    o["server"] = entry->first.to_string();
    servers.push_back(std::move(o));
  }
  root["servers"] = std::move(servers);
  json::object event_counts;
  for (std::size_t k = 0; k < event_kind_count; ++k) {
    event_counts[to_string(static_cast<EventKind>(k))] = r.event_counts[k];
  }
  json::array events;
  for (const auto& e : r.events) {
    json::object o{{"kind", to_string(e.kind)},
                   {"file", file_name(r, e.file_index)},
                   {"frame", e.frame},
                   {"code", radius::code_name(static_cast<radius::Code>(e.code))},
                   {"identifier", e.identifier},
                   {"client", e.client.to_string()},
                   {"server", e.server.to_string()}};
    if (e.related_frame != 0) {
      o["request_file"] = file_name(r, e.related_file_index);
      o["request_frame"] = e.related_frame;
    }
    if (e.kind == EventKind::decode_error) {
      o["error"] = radius::to_string(e.decode_error);
      o["offset"] = e.decode_offset;
    }
    events.push_back(std::move(o));
  }
  root["events"] = {{"counts", std::move(event_counts)}, {"list", std::move(events)}};
  if (r.first_time != 0 || r.last_time != 0) {
    root["capture_time"] = {{"first", r.first_time}, {"last", r.last_time}};
  }
  if (r.import) {
    root["import"] = import_json(*r.import);
  }
  return root;
}

namespace {

void append(std::string& out, const char* format, auto... args) {
  char buffer[512];
  const int n = std::snprintf(buffer, sizeof buffer, format, args...);
  if (n > 0) {
    out.append(buffer, std::min<std::size_t>(static_cast<std::size_t>(n), sizeof buffer - 1));
  }
}

void counters_text(std::string& out, const TrafficCounters& c) {
  std::string codes;
  for (std::size_t code = 0; code < c.by_code.size(); ++code) {
    if (c.by_code[code] != 0) {
      append(codes, "%s%s %llu", codes.empty() ? "" : ", ",
             radius::code_name(static_cast<radius::Code>(code)).c_str(),
             static_cast<unsigned long long>(c.by_code[code]));
    }
  }
  append(out, "    packets: %s\n", codes.empty() ? "none" : codes.c_str());
  std::string status;
  for (std::size_t v = 0; v < c.by_status_type.size(); ++v) {
    if (c.by_status_type[v] != 0) {
      append(status, "%s%s %llu", status.empty() ? "" : ", ", status_name(v).c_str(),
             static_cast<unsigned long long>(c.by_status_type[v]));
    }
  }
  if (c.status_type_absent != 0) {
    append(status, "%sabsent %llu", status.empty() ? "" : ", ",
           static_cast<unsigned long long>(c.status_type_absent));
  }
  if (c.status_type_other != 0) {
    append(status, "%sother %llu", status.empty() ? "" : ", ",
           static_cast<unsigned long long>(c.status_type_other));
  }
  if (!status.empty()) {
    append(out, "    Acct-Status-Type: %s\n", status.c_str());
  }
  std::string late;
  if (c.late_answers != 0) {
    append(late, "; %llu answered late, after the timeout",
           static_cast<unsigned long long>(c.late_answers));
  }
  append(out,
         "    exchanges %llu, linked %llu, no response %llu (+%llu pending at end%s), "
         "answers without request %llu\n",
         static_cast<unsigned long long>(c.exchanges), static_cast<unsigned long long>(c.linked),
         static_cast<unsigned long long>(c.unanswered),
         static_cast<unsigned long long>(c.unanswered_at_end), late.c_str(),
         static_cast<unsigned long long>(c.answers_without_request));
  append(out,
         "    retransmissions %llu (per request: 1: %llu, 2: %llu, 3: %llu, 4: %llu, 5+: %llu), "
         "duplicate requests %llu, duplicate responses %llu, Identifier reused %llu, "
         "code mismatch %llu\n",
         static_cast<unsigned long long>(c.retransmissions),
         static_cast<unsigned long long>(c.retransmission_histogram[0]),
         static_cast<unsigned long long>(c.retransmission_histogram[1]),
         static_cast<unsigned long long>(c.retransmission_histogram[2]),
         static_cast<unsigned long long>(c.retransmission_histogram[3]),
         static_cast<unsigned long long>(c.retransmission_histogram[4]),
         static_cast<unsigned long long>(c.duplicate_requests),
         static_cast<unsigned long long>(c.duplicate_responses),
         static_cast<unsigned long long>(c.identifier_reused),
         static_cast<unsigned long long>(c.response_code_mismatch));
  if (c.request_authenticator_valid + c.request_authenticator_invalid +
          c.response_authenticator_valid + c.response_authenticator_invalid !=
      0) {
    append(out,
           "    authenticators: requests %llu valid / %llu invalid, responses %llu valid / "
           "%llu invalid\n",
           static_cast<unsigned long long>(c.request_authenticator_valid),
           static_cast<unsigned long long>(c.request_authenticator_invalid),
           static_cast<unsigned long long>(c.response_authenticator_valid),
           static_cast<unsigned long long>(c.response_authenticator_invalid));
  }
  const auto& h = c.latency;
  if (h.count() != 0) {
    append(out,
           "    latency ms: min %.3f, mean %.3f, median %.3f, p90 %.3f, p99 %.3f, max %.3f "
           "(%llu)\n",
           ms(static_cast<double>(h.min_ns())), ms(h.mean_ns()),
           ms(static_cast<double>(h.quantile_ns(0.5))), ms(static_cast<double>(h.quantile_ns(0.9))),
           ms(static_cast<double>(h.quantile_ns(0.99))), ms(static_cast<double>(h.max_ns())),
           static_cast<unsigned long long>(h.count()));
  }
}

void session_counts_text(std::string& out, const SessionCounts& c) {
  append(out, "opened %llu: closed %llu, stale %llu, open at end %llu\n",
         static_cast<unsigned long long>(c.opened), static_cast<unsigned long long>(c.closed),
         static_cast<unsigned long long>(c.stale), static_cast<unsigned long long>(c.open));
}

void import_text(std::string& out, const ImportSummary& i) {
  append(out, "imported into %s as run %lld (%s), %.2f s:\n",
         storage::database_display_name(i.database).c_str(), static_cast<long long>(i.run_id),
         i.run_verdict.c_str(), i.seconds);
  std::string verdicts;
  for (const auto& [verdict, n] : i.packets_by_verdict) {
    append(verdicts, "%s%s %llu", verdicts.empty() ? "" : ", ", verdict.c_str(),
           static_cast<unsigned long long>(n));
  }
  append(out, "  packets %llu (%s), records %llu\n", static_cast<unsigned long long>(i.packets),
         verdicts.empty() ? "none" : verdicts.c_str(), static_cast<unsigned long long>(i.records));
  out += "  sessions ";
  session_counts_text(out, i.sessions);
  for (const auto& [nas, counts] : i.sessions_by_nas) {
    append(out, "    NAS %s: ", nas.c_str());
    session_counts_text(out, counts);
  }
  if (i.refused > 0) {
    append(out, "  refused by the database, not stored: %llu packet(s)%s\n",
           static_cast<unsigned long long>(i.refused),
           i.refused > i.refused_packets.size() ? " (the first listed)" : "");
    for (const auto& p : i.refused_packets) {
      out += "    " + refused_packet_text(p) + "\n";
    }
  }
  for (const auto& m : i.stale_refused) {
    out += "  " + refused_mark_text(m) + "\n";
  }
  if (!i.conformance) {
    return;
  }
  const auto& c = *i.conformance;
  append(out,
         "conformance (profile %s): %s; %zu of %zu rules failed; %zu errors, %zu warnings, %zu "
         "infos; %zu findings stored\n",
         c.profile.c_str(), c.verdict == "pass" ? "PASS" : "FAIL", c.rules_failed, c.rules,
         c.errors, c.warnings, c.infos, c.findings_stored);
  for (const auto& note : c.fit_notes) {
    out += "  profile fit: " + note + "\n";
  }
  for (const auto& rule : c.by_rule) {
    append(out, "  %-8s %s: %zu\n", rule.severity.c_str(), rule.rule_id.c_str(), rule.count);
  }
  for (const auto& e : c.examples) {
    append(out, "    %s %s", e.rule_id.c_str(), e.file.c_str());
    if (e.frame != 0) {
      append(out, " frame %llu", static_cast<unsigned long long>(e.frame));
    }
    out += ": " + e.message + "\n";
  }
}

} // namespace

/** RadSec: the TLS sessions seen, and that their RADIUS packets are encrypted. */
void tls_sessions_text(std::string& out, const AnalysisResult& r) {
  if (r.tls_sessions.empty()) {
    return;
  }
  append(out,
         "RadSec (TLS on TCP 2083 or a --port): %zu session(s)%s; the RADIUS packets inside are "
         "encrypted, read only with --tls-keylog (TLS 1.3; TLS 1.2 with AES-GCM, "
         "ChaCha20-Poly1305 or AES-CBC suites)\n",
         r.tls_sessions.size(),
         r.tls_sessions_not_kept
             ? (", " + std::to_string(r.tls_sessions_not_kept) + " more not kept").c_str()
             : "");
  if (r.tls_keys_given) {
    append(out, "  key log: %llu session(s) not decrypted, %llu line(s) not read\n",
           static_cast<unsigned long long>(r.tls_sessions_not_decrypted),
           static_cast<unsigned long long>(r.tls_keylog_lines_not_read));
    for (const auto& p : r.tls_keylog_problems) {
      append(out, "    %s\n", p.c_str());
    }
  }
  for (const auto& s : r.tls_sessions) {
    append(out,
           "  %s -> %s frame %llu: %s%s%s (offered %s), SNI %s, ALPN %s, %llu octets to server, "
           "%llu to client, %llu application records, %llu RADIUS packets decrypted%s%s\n",
           s.client.to_string().c_str(), s.server.to_string().c_str(),
           static_cast<unsigned long long>(s.first_frame.frame),
           s.version.empty() ? "version unseen" : s.version.c_str(),
           s.cipher_suite.empty() ? "" : " ", s.cipher_suite.c_str(),
           s.offered_versions.empty() ? "-" : s.offered_versions.c_str(),
           s.sni.empty() ? "-" : s.sni.c_str(),
           !s.alpn.empty() ? s.alpn.c_str()
                           : (s.alpn_offered.empty() ? "-" : ("offered " + s.alpn_offered).c_str()),
           static_cast<unsigned long long>(s.octets_to_server),
           static_cast<unsigned long long>(s.octets_to_client),
           static_cast<unsigned long long>(s.application_records),
           static_cast<unsigned long long>(s.radius_packets),
           s.unreadable.empty() ? "" : "; unreadable: ", s.unreadable.c_str());
  }
}

std::string to_text(const AnalysisResult& r) {
  std::string out;
  for (const auto& f : r.files) {
    append(out, "file %s: %llu frames%s\n", f.path.c_str(),
           static_cast<unsigned long long>(f.frames), f.complete ? "" : " (not read to the end)");
  }
  append(out,
         "frames %llu, UDP %llu, on RADIUS ports %llu, IP fragments %llu (reassembled %llu), "
         "decoded %llu\n",
         static_cast<unsigned long long>(r.stream.frames),
         static_cast<unsigned long long>(r.stream.udp),
         static_cast<unsigned long long>(r.stream.udp_matched),
         static_cast<unsigned long long>(r.stream.fragments),
         static_cast<unsigned long long>(r.stream.reassembled),
         static_cast<unsigned long long>(r.decoded));
  if (r.stream.other_protocol != 0) {
    const auto& first = r.stream.other_protocol_examples.front();
    append(out,
           "other protocols on RADIUS port numbers: %llu datagrams between a RADIUS port number "
           "and another service's port, not framed as RADIUS, not read (first: %s frame %llu, "
           "%s -> %s, %zu octets)\n",
           static_cast<unsigned long long>(r.stream.other_protocol),
           file_name(r, first.file_index).c_str(), static_cast<unsigned long long>(first.frame),
           first.source.to_string().c_str(), first.destination.to_string().c_str(), first.octets);
  }
  if (r.stream.gso_datagrams != 0) {
    append(out,
           "UDP segmentation offload: %llu captured datagrams held %llu RADIUS packets back to "
           "back (recorded on the sending host before the kernel cut them), read one by one\n",
           static_cast<unsigned long long>(r.stream.gso_datagrams),
           static_cast<unsigned long long>(r.stream.gso_packets));
  }
  if (r.stream.port_unreachable != 0) {
    append(out,
           "ICMP port unreachable: %llu RADIUS datagrams were refused by their destination's "
           "host (nothing listened on the port)\n",
           static_cast<unsigned long long>(r.stream.port_unreachable));
    std::size_t shown = 0;
    for (const auto& u : r.stream.port_unreachables) {
      if (++shown > 10) {
        break;
      }
      std::string what = "a datagram";
      if (u.code >= 0) {
        what = radius::code_name(static_cast<radius::Code>(u.code)) + " id " +
               std::to_string(u.identifier);
      }
      append(out, "    %s frame %llu: %s from %s refused, %s closed (ICMP from %s)\n",
             file_name(r, u.file_index).c_str(), static_cast<unsigned long long>(u.frame),
             what.c_str(), u.sender.to_string().c_str(), u.receiver.to_string().c_str(),
             u.reporter.to_string().c_str());
    }
  }
  tls_sessions_text(out, r);
  if (r.issue_counts.total() != 0) {
    out += "capture issues:\n";
    for (std::size_t k = 0; k < issue_kind_count; ++k) {
      if (r.issue_counts.counts[k] != 0) {
        append(out, "  %s: %llu\n", std::string(to_string(static_cast<IssueKind>(k))).c_str(),
               static_cast<unsigned long long>(r.issue_counts.counts[k]));
      }
    }
    std::size_t shown = 0;
    for (const auto& i : r.issues) {
      if (++shown > 20) {
        break;
      }
      append(out, "    %s frame %llu (offset %llu): %s%s%s\n", file_name(r, i.file_index).c_str(),
             static_cast<unsigned long long>(i.frame), static_cast<unsigned long long>(i.offset),
             std::string(to_string(i.kind)).c_str(), i.detail.empty() ? "" : ": ",
             i.detail.c_str());
    }
  }
  bool any_decode_error = false;
  for (std::size_t e = 0; e < r.decode_errors.size(); ++e) {
    if (r.decode_errors[e] != 0) {
      if (!any_decode_error) {
        out += "decode errors:\n";
        any_decode_error = true;
      }
      append(out, "  %s: %llu\n",
             std::string(radius::to_string(static_cast<radius::DecodeError>(e))).c_str(),
             static_cast<unsigned long long>(r.decode_errors[e]));
    }
  }
  out += "all traffic:\n";
  counters_text(out, r.totals);
  for (const auto* entry : sorted(r.per_nas)) {
    append(out, "NAS %s:\n", entry->first.to_string().c_str());
    counters_text(out, entry->second);
  }
  for (const auto* entry : sorted(r.per_server)) {
    append(out, "server %s:\n", entry->first.to_string().c_str());
    counters_text(out, entry->second);
  }
  bool any_event = false;
  for (std::size_t k = 0; k < event_kind_count; ++k) {
    if (r.event_counts[k] == 0) {
      continue;
    }
    if (!any_event) {
      out += "events (first 10 of each):\n";
      any_event = true;
    }
    const auto kind = static_cast<EventKind>(k);
    append(out, "  %s: %llu\n", std::string(to_string(kind)).c_str(),
           static_cast<unsigned long long>(r.event_counts[k]));
    std::size_t shown = 0;
    for (const auto& e : r.events) {
      if (e.kind != kind || ++shown > 10) {
        continue;
      }
      append(out, "    %s frame %llu: %s id %u %s -> %s", file_name(r, e.file_index).c_str(),
             static_cast<unsigned long long>(e.frame),
             radius::code_name(static_cast<radius::Code>(e.code)).c_str(), e.identifier,
             e.client.to_string().c_str(), e.server.to_string().c_str());
      if (e.related_frame != 0) {
        append(out, " (request frame %llu)", static_cast<unsigned long long>(e.related_frame));
      }
      if (kind == EventKind::decode_error) {
        append(out, " %s at offset %u", std::string(radius::to_string(e.decode_error)).c_str(),
               e.decode_offset);
      }
      out += "\n";
    }
  }
  if (r.import) {
    import_text(out, *r.import);
  }
  const auto verdict = report_verdict(r);
  if (verdict == "incomplete" && r.import && r.import->refused > 0 &&
      capture_verdict(r) == CaptureVerdict::complete) {
    append(out,
           "verdict: incomplete (%llu packet(s) refused by the database: the run was judged "
           "without them)\n",
           static_cast<unsigned long long>(r.import->refused));
  } else if (verdict == "incomplete" && r.issue_counts.total() == 0 &&
             r.tls_sessions_not_decrypted) {
    append(out, "verdict: incomplete (%llu RadSec session(s) not read: %s)\n",
           static_cast<unsigned long long>(r.tls_sessions_not_decrypted),
           r.tls_keys_given ? "see the key log lines above" : "give their key log, --tls-keylog");
  } else if (verdict == "incomplete") {
    append(out, "verdict: incomplete (%llu capture issues: not every frame was read as RADIUS)\n",
           static_cast<unsigned long long>(r.issue_counts.total()));
  } else {
    out += "verdict: " + verdict + "\n";
  }
  return out;
}

} // namespace acctlab::capture
