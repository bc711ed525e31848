// `acctlab capture` on the loopback interface: the reference gateway talks to `acctlab serve` on a
// free loopback port while the capture runs for a few seconds; the report, the database import
// and the saved file must account for every exchange. Capturing needs root or CAP_NET_RAW (CI
// runs as root); without it, or without a capturable `lo`, the test exits with ctest's skip code
// and says why.

#include "gateway_capture.hpp"
#include "pcap/capture_reader.hpp"
#include "storage/sqlite.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <iostream>

using namespace acctlab;
using namespace acctlab::capture;
using namespace acctlab::capture::test;

namespace {

constexpr int skip_code = 77; // SKIP_RETURN_CODE in tests/pcap/CMakeLists.txt

void require_loopback_capture() {
  std::string error;
  LiveSpec spec;
  spec.interface = "lo";
  spec.filter = radius_filter({});
  if (!FileReader::open_live(spec, error)) {
    std::cout << "SKIPPED: cannot capture on lo (" << error << "); run as root or with CAP_NET_RAW"
              << std::endl;
    std::exit(skip_code);
  }
}

std::uint64_t number(const boost::json::value& v) {
  return v.to_number<std::uint64_t>();
}

} // namespace

TEST_CASE("A live capture on lo sees the gateway's exchanges and imports them", "[pcap][live]") {
  require_loopback_capture();
  const auto dir = scratch_dir("live");
  AcctlabProcess serve(
      {"serve", "--listen", "127.0.0.1:0", "--db", (dir / "serve.db").string(), "--stats", "0"},
      dir / "serve.log");
  const auto port = serve.wait_for_port();
  REQUIRE(port != 0);
  const auto server = "127.0.0.1:" + std::to_string(port);

  // The capture's duration must outlast the gateway's run on a loaded machine (a 3 s capture
  // missed part of it once beside parallel builds); it is the test's fixed cost.
  AcctlabProcess capture({"capture", "-i", "lo", "--port", std::to_string(port), "--duration", "10",
                          "--db", (dir / "capture.db").string(), "--write",
                          (dir / "capture.pcap").string(), "--report", "json", "--out",
                          (dir / "report.json").string()},
                         dir / "capture.log");
  REQUIRE(capture.wait_for_log("capturing on lo"));
  int status = 0;
  run(acctlab_binary + " gateway --scenario " + scenarios + "periodic-interims.scn --server " +
          server + " --server " + server + " --secret testing123 --clock virtual > " +
          (dir / "gateway.log").string() + " 2>&1",
      &status);
  REQUIRE(status == 0);
  REQUIRE(capture.wait(std::chrono::seconds(20)) == 0);
  INFO(capture.log());
  serve.signal(SIGTERM);
  CHECK(serve.wait() == 0);

  const auto report = boost::json::parse(read_text(dir / "report.json")).as_object();
  const auto& totals = report.at("totals").as_object();
  CHECK(number(totals.at("requests")) == 7); // Start, five Interim-Updates, Stop
  CHECK(number(totals.at("responses")) == 7);
  CHECK(number(totals.at("linked")) == 7);
  CHECK(number(totals.at("unanswered")) == 0);
  CHECK(number(totals.at("latency_ms").at("count")) == 7);
  const auto& import = report.at("import").as_object();
  CHECK(number(import.at("records")) == 7);
  CHECK(number(import.at("sessions").at("closed")) == 1);
  CHECK(import.at("run_verdict") == "pass");
  // What only the live capture knows: nothing lost before libpcap, 14 frames saved.
  const auto& live = report.at("live").as_object();
  CHECK(live.at("interface") == "lo");
  CHECK(number(live.at("kernel_drops")) == 0);
  CHECK(number(live.at("frames_written")) == 14);

  // The database names the saved file, and the saved file holds those frames.
  storage::Database db((dir / "capture.db").string());
  const auto file = (dir / "capture.pcap").string();
  CHECK(db.query_int64("SELECT count(*) FROM packets WHERE file = '" + file + "'").value_or(-1) ==
        14);
  CHECK(db.query_int64("SELECT count(*) FROM records").value_or(-1) == 7);
  CHECK(db.query_int64("SELECT max(frame) FROM packets").value_or(-1) <= 14);
  const auto again = run(acctlab_binary + " pcap analyze " + file + " --port " +
                             std::to_string(port) + " --report json",
                         &status);
  REQUIRE(status == 0);
  const auto reread = boost::json::parse(again).as_object();
  CHECK(reread.at("totals").at("requests") == totals.at("requests"));
  CHECK(reread.at("totals").at("linked") == totals.at("linked"));
}

TEST_CASE("A live capture stops at SIGINT and reports what it saw", "[pcap][live]") {
  require_loopback_capture();
  const auto dir = scratch_dir("live-interrupt");
  AcctlabProcess capture({"capture", "-i", "lo", "--port", "40999"}, dir / "capture.log");
  REQUIRE(capture.wait_for_log("capturing on lo"));
  // One request that nobody answers, then the interrupt.
  const auto text = run(acctlab_binary + " pcap replay " + std::string(ACCTLAB_SOURCE_DIR) +
                        "/tests/pcap/absent.pcap --server 127.0.0.1:40999 --secret s 2>&1");
  CHECK(text.find("no capture could be read") != std::string::npos);
  capture.signal(SIGINT);
  // It saw no accounting traffic: status 4 (docs/cli.md), after a clean stop and report.
  CHECK(capture.wait(std::chrono::seconds(10)) == 4);
  const auto log = capture.log();
  INFO(log);
  CHECK(log.find("acctlab capture: stopped;") != std::string::npos);
  CHECK(log.find("file live:lo:") != std::string::npos);
}
