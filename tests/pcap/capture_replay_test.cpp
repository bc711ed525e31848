// `acctlab pcap replay` against a real `acctlab serve` on a loopback port: every Accounting-Request
// of a gateway capture reaches the server's database, re-signed with the server's secret; with a
// wrong secret the server drops them all and the report says so.

#include "gateway_capture.hpp"
#include "storage/sqlite.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <map>
#include <set>

using namespace acctlab;
using namespace acctlab::capture;
using namespace acctlab::capture::test;

namespace {

std::multiset<std::string> records_of(storage::Database& db) {
  std::multiset<std::string> out;
  auto q = db.prepare("SELECT acct_session_id, status_type, input_octets, output_octets, "
                      "session_time FROM records");
  while (q.step()) {
    out.insert(q.column_text(0) + "/" + q.column_text(1) + "/" + q.column_text(2) + "/" +
               q.column_text(3) + "/" + q.column_text(4));
  }
  return out;
}

std::uint64_t number(const boost::json::object& o, const char* key) {
  return o.at(key).to_number<std::uint64_t>();
}

} // namespace

TEST_CASE("Replay re-signs a capture's requests and the server stores every record",
          "[pcap][replay]") {
  const auto dir = scratch_dir("replay");
  const auto capture = gateway_capture(dir, "periodic-interims.scn", true);
  // The replay target knows 127.0.0.1 under another secret than the capture's testing123.
  write_text(dir / "target-clients.conf", loopback_clients("replay-secret"));
  AcctlabProcess serve({"serve", "--listen", "127.0.0.1:0", "--db", (dir / "target.db").string(),
                        "--clients", (dir / "target-clients.conf").string(), "--stats", "0"},
                       dir / "target.log");
  const auto port = serve.wait_for_port();
  REQUIRE(port != 0);
  const auto server = " --server 127.0.0.1:" + std::to_string(port);

  int status = 0;
  run(acctlab_binary + " pcap replay " + capture.pcap.string() + server +
          " --secret replay-secret --report json --out " + (dir / "replay.json").string(),
      &status);
  CHECK(status == 0);
  const auto report = boost::json::parse(read_text(dir / "replay.json")).as_object();
  INFO(read_text(dir / "replay.json"));
  // 7 records of the scenario and the wrong-secret copy of the Start (re-signed, it is valid);
  // the unchanged retransmission in the capture is sent once.
  CHECK(number(report.at("capture").as_object(), "accounting_requests") == 9);
  CHECK(number(report.at("capture").as_object(), "retransmissions") == 1);
  CHECK(number(report, "sent") == 8);
  CHECK(number(report, "answered") == 8);
  CHECK(number(report, "valid_answers") == 8);
  CHECK(number(report, "unanswered") == 0);
  const auto& latency = report.at("latency_ms").as_object();
  CHECK(number(latency, "count") == 8);
  CHECK(latency.at("min").as_double() <= latency.at("median").as_double());
  CHECK(latency.at("median").as_double() <= latency.at("p99").as_double());
  CHECK(latency.at("p99").as_double() <= latency.at("max").as_double());

  // Without --secret, each NAS's secret comes from a clients file; paced at 100 requests/s.
  run(acctlab_binary + " pcap replay " + capture.pcap.string() + server + " --secrets " +
          (dir / "target-clients.conf").string() + " --speed 100/s --report json --out " +
          (dir / "paced.json").string(),
      &status);
  CHECK(status == 0);
  const auto paced = boost::json::parse(read_text(dir / "paced.json")).as_object();
  CHECK(number(paced, "valid_answers") == 8);
  CHECK(paced.at("seconds").as_double() >= 0.069); // 8 requests, the last one 70 ms in

  serve.signal(SIGTERM);
  REQUIRE(serve.wait() == 0);
  storage::Database target((dir / "target.db").string());
  storage::Database original(capture.server_db.string());
  const auto replayed = records_of(target);
  const auto originals = records_of(original);
  // Every record the gateway's server got, stored once (storage/record_key.hpp): the re-signed
  // copy of the Start and the second replay's 8 requests are the same records again, within the
  // window, kept as answered packets with verdict 'duplicate'.
  CHECK(replayed == originals);
  CHECK(replayed.size() == 7);
  CHECK(
      target.query_int64("SELECT count(*) FROM packets WHERE verdict = 'duplicate'").value_or(-1) ==
      9);
  CHECK(target
            .query_int64("SELECT count(*) FROM packets WHERE verdict NOT IN ('ok', "
                         "'duplicate')")
            .value_or(-1) == 0);
}

TEST_CASE("Replay with a wrong secret gets no valid answer and says why", "[pcap][replay]") {
  const auto dir = scratch_dir("replay-wrong");
  const auto capture = gateway_capture(dir, "periodic-interims.scn");
  write_text(dir / "target-clients.conf", loopback_clients("replay-secret"));
  AcctlabProcess serve({"serve", "--listen", "127.0.0.1:0", "--db", (dir / "target.db").string(),
                        "--clients", (dir / "target-clients.conf").string(), "--stats", "0"},
                       dir / "target.log");
  const auto port = serve.wait_for_port();
  REQUIRE(port != 0);
  int status = 0;
  const auto text = run(acctlab_binary + " pcap replay " + capture.pcap.string() +
                            " --server 127.0.0.1:" + std::to_string(port) +
                            " --secret not-the-secret --timeout 0.2 --retries 1",
                        &status);
  INFO(text);
  CHECK(WEXITSTATUS(status) == 1); // not every request validly answered (docs/cli.md)
  CHECK(text.find("sent 8 requests in 16 transmissions") != std::string::npos);
  CHECK(text.find("answered 0, valid Response Authenticators 0, invalid 0, unanswered 8") !=
        std::string::npos);
  CHECK(text.find("no request was answered") != std::string::npos);
  serve.signal(SIGTERM);
  REQUIRE(serve.wait() == 0);
  storage::Database target((dir / "target.db").string());
  CHECK(target.query_int64("SELECT count(*) FROM records").value_or(-1) == 0);
  CHECK(target.query_int64("SELECT count(*) FROM packets WHERE verdict = 'bad-authenticator'")
            .value_or(-1) == 16);
}

TEST_CASE("Replay reports bad input and refuses to run without a secret", "[pcap][replay]") {
  const auto dir = scratch_dir("replay-bad");
  int status = 0;
  auto text = run(acctlab_binary + " pcap replay " + (dir / "absent.pcap").string() +
                      " --server 127.0.0.1:9 --secret s 2>&1",
                  &status);
  CHECK(WEXITSTATUS(status) == 1);
  CHECK(text.find("no capture could be read") != std::string::npos);
  text = run(acctlab_binary + " pcap replay " + (dir / "absent.pcap").string() +
                 " --server 127.0.0.1:9 2>&1",
             &status);
  CHECK(WEXITSTATUS(status) == 1);
  CHECK(text.find("no secret") != std::string::npos);
  text =
      run(acctlab_binary + " pcap replay x.pcap --server localhost:1813 --secret s 2>&1", &status);
  CHECK(WEXITSTATUS(status) != 0);
  CHECK(text.find("--server localhost:1813") != std::string::npos);
}

TEST_CASE("Replay of a capture without Accounting-Requests says where it looked and fails",
          "[pcap][replay]") {
  const auto dir = scratch_dir("replay-empty");
  // A valid pcap file (little-endian, version 2.4, Ethernet) with no frames at all.
  const unsigned char header[24] = {0xd4, 0xc3, 0xb2, 0xa1, 2,    0,    4, 0, 0, 0, 0, 0,
                                    0,    0,    0,    0,    0xff, 0xff, 0, 0, 1, 0, 0, 0};
  write_text(dir / "empty.pcap", std::string(reinterpret_cast<const char*>(header), sizeof header));
  int status = 0;
  const auto text = run(acctlab_binary + " pcap replay " + (dir / "empty.pcap").string() +
                            " --server 127.0.0.1:9 --secret s 2>&1",
                        &status);
  CHECK(WEXITSTATUS(status) == 1); // not every request validly answered (docs/cli.md)
  CHECK(text.find("nothing to replay") != std::string::npos);
  CHECK(text.find("add --port N") != std::string::npos);
}

TEST_CASE("Replay at the original speed keeps the capture's spacing", "[pcap][replay]") {
  const auto dir = scratch_dir("replay-original");
  gateway_capture(dir, "periodic-interims.scn");
  auto trace = conformance::trace_from_event_log(read_text(dir / "events.jsonl"));
  REQUIRE(trace);
  // The first three requests, 150 ms apart in the capture (the gateway's virtual clock had
  // them minutes apart), each followed by nothing: replay sends the requests only anyway.
  const auto path = (dir / "spaced.pcap").string();
  std::string error;
  auto writer = PcapWriter::create(path, error, PcapWriter::Precision::nano);
  REQUIRE(writer);
  std::size_t written = 0;
  for (const auto& packet : trace->packets) {
    if (packet.direction != conformance::Direction::to_server || written == 3) {
      continue;
    }
    UdpFrameSpec frame;
    frame.timestamp_ns =
        1'700'000'000'000'000'000 + static_cast<std::int64_t>(written) * 150'000'000;
    frame.source = parse_endpoint(packet.source);
    frame.destination = parse_endpoint(packet.destination);
    REQUIRE(writer->write_udp(frame, packet.raw));
    ++written;
  }
  REQUIRE(writer->close());
  REQUIRE(written == 3);

  AcctlabProcess serve(
      {"serve", "--listen", "127.0.0.1:0", "--db", (dir / "target.db").string(), "--stats", "0"},
      dir / "target.log");
  const auto port = serve.wait_for_port();
  REQUIRE(port != 0);
  int status = 0;
  const auto out =
      run(acctlab_binary + " pcap replay " + path + " --server 127.0.0.1:" + std::to_string(port) +
              " --secret testing123 --speed original " + "--report json",
          &status);
  CHECK(status == 0);
  const auto report = boost::json::parse(out).as_object();
  CHECK(number(report, "valid_answers") == 3);
  CHECK(report.at("speed") == "original");
  // The last request leaves 300 ms after the first; an unpaced replay takes a few ms.
  CHECK(report.at("seconds").as_double() >= 0.299);
  CHECK(report.at("seconds").as_double() < 5);
}
