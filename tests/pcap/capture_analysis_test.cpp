#include "pcap/accounting_traffic.hpp"
#include "pcap/analysis_report.hpp"
#include "pcap/capture_analysis.hpp"
#include "tests/pcap/capture_test_support.hpp"
#include "tests/pcap/radius_test_packets.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

using namespace acctlab::capture;
using namespace acctlab::capture::test;
using acctlab::radius::Code;

namespace {

std::string tshark(const std::filesystem::path& file, const std::string& args) {
  return run("tshark -n -r '" + file.string() + "' " + args + " 2>/dev/null");
}

std::vector<std::string> split(const std::string& line, char sep) {
  std::vector<std::string> out;
  std::string field;
  std::istringstream in(line);
  while (std::getline(in, field, sep)) {
    out.push_back(field);
  }
  if (sep != '\n' && !line.empty() && line.back() == sep) {
    out.emplace_back();
  }
  return out;
}

} // namespace

TEST_CASE("The analyser finds what the generator wrote", "[pcap][analysis]") {
  const auto dir = scratch_dir("truth");
  const auto file = dir / "traffic.pcap";
  TrafficSpec spec;
  spec.exchanges = 6000;
  spec.nas_count = 5;
  spec.requests_per_second = 1000; // six seconds: some lost requests time out inside it
  spec.lost = 0.03;
  spec.retransmitted = 0.04;
  spec.retransmit_after_ns = 1'000'000'000;
  TrafficTruth truth;
  std::string error;
  REQUIRE(write_accounting_capture(file.string(), spec, truth, error));

  auto secrets = ClientSecrets::parse("client all {\n ipaddr = 198.51.100.0/24\n"
                                      " secret = testing123\n}\n",
                                      "inline", error);
  REQUIRE(secrets);
  AnalysisOptions options;
  options.secrets = &*secrets;
  // Exchanges are kept the duplicate window (at least the timeout): one as long as the timeout,
  // so that the table's bound shows within the capture's six seconds.
  options.duplicate_window_ns = options.timeout_ns;
  std::size_t csv_lines = 0;
  options.csv = [&](std::string_view text) { csv_lines += count_lines(std::string(text)); };
  const auto r = analyze_captures({file.string()}, options);

  CHECK(r.stream.frames == truth.frames);
  CHECK(r.decoded == truth.frames);
  const auto& t = r.totals;
  CHECK(t.requests == truth.requests);
  CHECK(t.responses == truth.responses);
  CHECK(t.exchanges == truth.exchanges);
  CHECK(t.linked == truth.answered);
  CHECK(t.unanswered == truth.lost_before(options.timeout_ns));
  CHECK(t.unanswered + t.unanswered_at_end == truth.lost);
  CHECK(t.unanswered > 0);
  CHECK(t.retransmissions == truth.retransmitted);
  CHECK(t.retransmission_histogram[0] == truth.retransmitted);
  CHECK(t.by_status_type[1] == truth.by_status_type[1]);
  CHECK(t.by_status_type[2] == truth.by_status_type[2]);
  CHECK(t.by_status_type[3] == truth.by_status_type[3]);
  CHECK(t.request_authenticator_valid == truth.exchanges);
  CHECK(t.request_authenticator_invalid == 0);
  CHECK(t.response_authenticator_valid == truth.answered);
  CHECK(t.response_authenticator_invalid == 0);
  // Timestamps are microseconds in the file: latencies agree to within one.
  CHECK(std::abs(t.latency.min_ns() - truth.min_latency_ns) <= 1000);
  CHECK(std::abs(t.latency.max_ns() - truth.max_latency_ns) <= 1000);
  CHECK(t.latency.quantile_ns(0.5) >= t.latency.min_ns());
  CHECK(t.latency.quantile_ns(0.99) <= t.latency.max_ns());
  CHECK(r.per_nas.size() == 5);
  CHECK(csv_lines == truth.exchanges + 1);
  CHECK(t.identifier_reused == 0);
  CHECK(t.answers_without_request == 0);
  CHECK(r.peak_open_exchanges < truth.exchanges); // bounded by the window
}

TEST_CASE("Pairs and counts agree with tshark's RADIUS dissector", "[pcap][analysis]") {
  const auto dir = scratch_dir("tshark-pairs");
  const auto file = dir / "traffic.pcap";
  TrafficSpec spec;
  spec.exchanges = 400;
  spec.nas_count = 3;
  spec.lost = 0.05;
  spec.retransmitted = 0.05;
  spec.retransmit_after_ns = 20'000'000;
  TrafficTruth truth;
  std::string error;
  REQUIRE(write_accounting_capture(file.string(), spec, truth, error));
  std::string csv;
  AnalysisOptions options;
  options.csv = [&](std::string_view text) { csv += text; };
  const auto r = analyze_captures({file.string()}, options);

  // Packets by code.
  const auto codes = tshark(file, "-Y radius -T fields -e radius.code");
  std::map<std::string, std::uint64_t> by_code;
  for (const auto& line : split(codes, '\n')) {
    ++by_code[line];
  }
  CHECK(by_code["4"] == r.totals.by_code[4]);
  CHECK(by_code["5"] == r.totals.by_code[5]);

  // Every answer's request frame, as tshark links them, against our CSV.
  std::set<std::pair<std::string, std::string>> theirs;
  for (const auto& line : split(tshark(file, "-Y 'radius.code == 5' -T fields -e radius.reqframe "
                                             "-e frame.number"),
                                '\n')) {
    const auto f = split(line, '\t');
    REQUIRE(f.size() == 2);
    theirs.insert({f[0], f[1]});
  }
  std::set<std::pair<std::string, std::string>> ours;
  for (const auto& line : split(csv, '\n')) {
    const auto f = split(line, ',');
    if (f.size() > 11 && f[11] == "answered") {
      ours.insert({f[1], f[2]});
    }
  }
  CHECK(ours.size() == truth.answered);
  CHECK(ours == theirs);
  // tshark flags the retransmitted requests as duplicates.
  CHECK(count_lines(tshark(file, "-Y 'radius.dup' -T fields -e frame.number")) ==
        r.totals.retransmissions);
}

TEST_CASE("Another service's traffic from a RADIUS port number is left out, not judged as "
          "RADIUS, and the capture stays complete",
          "[pcap][analysis]") {
  const auto dir = scratch_dir("other-protocol");
  const auto file = dir / "neighbours.pcap";
  {
    std::string error;
    auto w = PcapWriter::create(file.string(), error);
    REQUIRE(w);
    const auto req = accounting_request(1, 1, "ok");
    REQUIRE(w->write_udp(spec_v4(0.0), req));
    auto reply = spec_v4(0.1);
    std::swap(reply.source, reply.destination);
    REQUIRE(w->write_udp(reply, response_to(req)));
    // A DNS query from port 1813 to 53 whose first octets read as RADIUS code 1 with Length 288
    // (ID 0x01xx, flags RD+AD): not framed as RADIUS (288 octets claimed, 29 present).
    auto dns = spec_v4(0.2, 53);
    dns.source = endpoint("192.0.2.10", 1813);
    const std::vector<std::uint8_t> query{0x01, 0x5e, 0x01, 0x20, 0,   1,   0, 0,   0,   0,
                                          0,    0,    3,    'n',  'a', 's', 3, 'l', 'a', 'b',
                                          0,    0,    1,    0,    1,   0,   0, 0,   0};
    REQUIRE(w->write_udp(dns, query));
    // The same from mDNS's port to RADIUS's: another service too.
    auto mdns = spec_v4(0.3, 1812);
    mdns.source = endpoint("192.0.2.11", 5353);
    REQUIRE(w->write_udp(mdns, query));
    // A NAS on a system port whose packet is framed as RADIUS: read as RADIUS.
    auto low = spec_v4(0.4);
    low.source = endpoint("192.0.2.12", 1000);
    REQUIRE(w->write_udp(low, accounting_request(2, 1, "low-port")));
    // Not RADIUS from an ephemeral port: nothing says it is another service's, so the capture
    // cannot be called whole.
    REQUIRE(w->write_udp(spec_v4(0.5), std::vector<std::uint8_t>{'h', 'e', 'l', 'l', 'o'}));
  }
  AnalysisOptions options;
  const auto r = analyze_captures({file.string()}, options);
  CHECK(r.stream.other_protocol == 2);
  REQUIRE(r.stream.other_protocol_examples.size() == 2);
  CHECK(r.stream.other_protocol_examples[0].frame == 3);
  CHECK(r.stream.other_protocol_examples[0].source.to_string() == "192.0.2.10:1813");
  CHECK(r.stream.other_protocol_examples[0].destination.to_string() == "192.0.2.1:53");
  CHECK(r.stream.other_protocol_examples[1].frame == 4);
  CHECK(r.radius_datagrams == 4);
  CHECK(r.decoded == 3);
  std::size_t decode_errors = 0;
  for (const auto count : r.decode_errors) {
    decode_errors += count;
  }
  CHECK(decode_errors == 0);
  CHECK(r.issue_counts[IssueKind::not_radius] == 1);
  CHECK(capture_verdict(r) == CaptureVerdict::incomplete);
  const auto text = to_text(r);
  CHECK(text.find("other protocols on RADIUS port numbers: 2 datagrams") != std::string::npos);
  CHECK(text.find("frame 3, 192.0.2.10:1813 -> 192.0.2.1:53, 29 octets") != std::string::npos);

  // Without the ephemeral port's noise the capture is whole.
  const auto clean = dir / "clean.pcap";
  {
    std::string error;
    auto w = PcapWriter::create(clean.string(), error);
    REQUIRE(w);
    REQUIRE(w->write_udp(spec_v4(0.0), accounting_request(1, 1, "ok")));
    auto dns = spec_v4(0.2, 53);
    dns.source = endpoint("192.0.2.10", 1646);
    REQUIRE(w->write_udp(dns, std::vector<std::uint8_t>(40, 0x07)));
  }
  const auto whole = analyze_captures({clean.string()}, options);
  CHECK(whole.stream.other_protocol == 1);
  CHECK(whole.issue_counts.total() == 0);
  CHECK(capture_verdict(whole) == CaptureVerdict::complete);
}

TEST_CASE("Bad datagrams on RADIUS ports: not RADIUS is a capture issue, a malformed RADIUS "
          "packet a decode error, each with its frame",
          "[pcap][analysis]") {
  const auto dir = scratch_dir("decode-errors");
  const auto file = dir / "bad.pcap";
  {
    std::string error;
    auto w = PcapWriter::create(file.string(), error);
    REQUIRE(w);
    const auto req = accounting_request(1, 1, "ok");
    REQUIRE(w->write_udp(spec_v4(0.0), req));
    REQUIRE(w->write_udp(spec_v4(0.1), std::vector<std::uint8_t>{'h', 'e', 'l', 'l', 'o'}));
    auto overlong = accounting_request(2, 1, "bad");
    overlong[2] = 0x20; // Length 8192: no RADIUS packet is that long
    REQUIRE(w->write_udp(spec_v4(0.2), overlong));
    auto reply = spec_v4(0.3);
    std::swap(reply.source, reply.destination);
    REQUIRE(w->write_udp(reply, response_to(req)));
    auto broken = accounting_request(3, 1, "broken");
    broken[21] = 200; // the first attribute's Length runs past the packet
    REQUIRE(w->write_udp(spec_v4(0.4), broken));
  }
  AnalysisOptions options;
  const auto r = analyze_captures({file.string()}, options);
  using acctlab::radius::DecodeError;
  CHECK(r.radius_datagrams == 5);
  CHECK(r.decoded == 2);
  // "hello" and the 8192-octet Length are not RADIUS: capture issues with frame and offset.
  CHECK(r.issue_counts[IssueKind::not_radius] == 2);
  std::vector<std::uint64_t> issue_frames;
  for (const auto& issue : r.issues) {
    CHECK(issue.kind == IssueKind::not_radius);
    CHECK(issue.offset > 24);
    issue_frames.push_back(issue.frame);
  }
  CHECK(issue_frames == std::vector<std::uint64_t>{2, 3});
  CHECK(capture_verdict(r) == CaptureVerdict::incomplete);
  // The RADIUS packet whose attribute overflows is a decode error, named by its code.
  CHECK(r.decode_errors[static_cast<std::size_t>(DecodeError::attribute_overflows_packet)] == 1);
  CHECK(r.decode_errors[static_cast<std::size_t>(DecodeError::truncated_header)] == 0);
  CHECK(r.decode_errors[static_cast<std::size_t>(DecodeError::length_too_large)] == 0);
  CHECK(r.totals.linked == 1);
  std::vector<std::uint64_t> frames;
  for (const auto& e : r.events) {
    if (e.kind == EventKind::decode_error) {
      frames.push_back(e.frame);
    }
  }
  CHECK(frames == std::vector<std::uint64_t>{5});
  const auto text = to_text(r);
  CHECK(text.find("not_radius: 2") != std::string::npos);
  CHECK(text.find("frame 2 (offset ") != std::string::npos);
  CHECK(text.find("5 octets 192.0.2.10:50000 -> 192.0.2.1:1813") != std::string::npos);
  CHECK(text.find("shorter than a RADIUS header") != std::string::npos);
  CHECK(text.find(": Length 8") != std::string::npos); // 0x20xx: 8192 and more
  CHECK(text.find("is outside 20..4096") != std::string::npos);
  CHECK(text.find("frame 5: Accounting-Request id 3") != std::string::npos);
  CHECK(text.find("attribute_overflows_packet at offset 20") != std::string::npos);
  CHECK(text.find("Access-Request id 0") == std::string::npos);
  CHECK(text.find("verdict: incomplete") != std::string::npos);
}

TEST_CASE("acctlab pcap analyze writes JSON and CSV reports", "[pcap][analysis][cli]") {
  const auto dir = scratch_dir("cli");
  const auto a = dir / "a.pcap";
  const auto b = dir / "b.pcap";
  TrafficSpec spec;
  spec.exchanges = 300;
  spec.lost = 0.1;
  TrafficTruth truth_a;
  TrafficTruth truth_b;
  std::string error;
  REQUIRE(write_accounting_capture(a.string(), spec, truth_a, error));
  // The second file: other NASes, starting a little later so both interleave in one stream.
  spec.seed = 2;
  spec.nas_count = 2;
  spec.first_nas = 50;
  spec.start_ns += 25'000'000;
  REQUIRE(write_accounting_capture(b.string(), spec, truth_b, error));
  const auto clients = dir / "clients.conf";
  std::ofstream(clients) << "client lab {\n  ipaddr = 198.51.100.0/24\n  secret = testing123\n}\n";
  const auto json_path = dir / "report.json";
  const auto csv_path = dir / "exchanges.csv";
  const std::string acctlab = std::string(ACCTLAB_BINARY_DIR) + "/acctlab";
  int rc = -1;
  run(acctlab + " pcap analyze '" + a.string() + "' '" + b.string() + "' --secrets '" +
          clients.string() + "' --report json --out '" + json_path.string() + "' --csv '" +
          csv_path.string() + "' --timeout 2",
      &rc);
  REQUIRE(rc == 0);
  std::ifstream in(json_path);
  std::stringstream text;
  text << in.rdbuf();
  boost::system::error_code ec;
  auto doc = boost::json::parse(text.str(), ec);
  REQUIRE_FALSE(ec);
  const auto& totals = doc.at("totals").as_object();
  CHECK(doc.at("files").as_array().size() == 2);
  CHECK(doc.at("timeout_s").to_number<double>() == 2.0);
  CHECK(totals.at("packets_by_code").at("Accounting-Request").to_number<std::uint64_t>() ==
        truth_a.requests + truth_b.requests);
  CHECK(totals.at("linked").to_number<std::uint64_t>() == truth_a.answered + truth_b.answered);
  CHECK(totals.at("authenticators").at("request_invalid").to_number<std::uint64_t>() == 0);
  CHECK(totals.at("authenticators").at("response_valid").to_number<std::uint64_t>() ==
        truth_a.answered + truth_b.answered);
  CHECK(totals.at("acct_status_type").at("Start").to_number<std::uint64_t>() ==
        truth_a.by_status_type[1] + truth_b.by_status_type[1]);
  CHECK(doc.at("nas").as_array().size() == 10);
  CHECK(doc.at("servers").as_array().size() == 1);
  const auto& latency = totals.at("latency_ms").as_object();
  CHECK(latency.at("min").to_number<double>() <= latency.at("median").to_number<double>());
  CHECK(latency.at("p99").to_number<double>() <= latency.at("max").to_number<double>());
  std::ifstream csv(csv_path);
  std::string line;
  std::size_t lines = 0;
  while (std::getline(csv, line)) {
    ++lines;
  }
  CHECK(lines == 1 + truth_a.exchanges + truth_b.exchanges);

  run(acctlab + " pcap analyze '" + (dir / "missing.pcap").string() + "' 2>/dev/null", &rc);
  CHECK(rc != 0);
  run(acctlab + " pcap analyze '" + a.string() + "' --secrets '" + (dir / "none").string() +
          "' 2>/dev/null",
      &rc);
  CHECK(rc != 0);
}
