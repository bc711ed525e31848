// RFC 5080 duplicate detection, checked against Wireshark's: on the real strongSwan captures in
// tests/captures (one with the server frozen for 10 s, so charon retransmitted and FreeRADIUS
// answered every copy once thawed), the requests and answers tshark marks as duplicates
// (radius.req.dup, radius.rsp.dup: same client, Identifier and Request Authenticator as an
// earlier request) are exactly the ones `acctlab pcap analyze` reports, frame by frame, and
// `acctlab check --pcap` groups the same requests into exchanges. Exits 77 (ctest: skipped) when
// tshark is not installed or its RADIUS dissector has no duplicate fields.

#include "tests/support/run_command.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <iostream>
#include <set>
#include <sstream>
#include <string>

namespace {

constexpr int skip_code = 77; // SKIP_RETURN_CODE in tests/pcap/CMakeLists.txt

const std::string captures = std::string(ACCTLAB_SOURCE_DIR) + "/tests/captures/";

void require_tshark() {
  const auto fields = acctlab::test::run_command("tshark -G fields 2>/dev/null");
  if (fields.status != 0 || fields.output.find("\tradius.req.dup\t") == std::string::npos ||
      fields.output.find("\tradius.rsp.dup\t") == std::string::npos) {
    std::cout << "SKIPPED: tshark with the RADIUS dissector's duplicate fields (radius.req.dup, "
                 "radius.rsp.dup) is not installed (apt-get install tshark)"
              << std::endl;
    std::exit(skip_code);
  }
}

/** The frames tshark's display filter selects. */
std::set<std::uint64_t> tshark_frames(const std::string& file, const std::string& filter) {
  const auto run = acctlab::test::run_command("tshark -r " + file + " -Y " + filter +
                                              " -T fields -e frame.number 2>/dev/null");
  REQUIRE(run.status == 0);
  std::set<std::uint64_t> frames;
  std::istringstream in(run.output);
  for (std::uint64_t frame = 0; in >> frame;) {
    frames.insert(frame);
  }
  return frames;
}

} // namespace

TEST_CASE("Retransmissions and duplicates are the ones Wireshark's radius.dup marks",
          "[pcap][tshark]") {
  require_tshark();
  std::size_t duplicates_seen = 0;
  for (const char* name : {"strongswan-outage-pause.pcap", "strongswan-outage-down.pcap",
                           "strongswan-lifecycle.pcap", "document-records.pcap"}) {
    const auto file = captures + name;
    INFO(name);
    const auto request_dups = tshark_frames(file, "radius.req.dup");
    const auto response_dups = tshark_frames(file, "radius.rsp.dup");
    duplicates_seen += request_dups.size() + response_dups.size();

    const auto analyzed =
        acctlab::test::run_command(std::string(ACCTLAB_BINARY_DIR) + "/acctlab pcap analyze " +
                                   file + " --report json 2>/dev/null");
    REQUIRE(analyzed.status == 0);
    const auto report = boost::json::parse(analyzed.output).as_object();
    const auto& totals = report.at("totals").as_object();
    CHECK(totals.at("retransmissions").to_number<std::size_t>() +
              totals.at("duplicate_requests").to_number<std::size_t>() ==
          request_dups.size());
    CHECK(totals.at("duplicate_responses").to_number<std::size_t>() == response_dups.size());
    std::set<std::uint64_t> acctlab_request_dups;
    std::set<std::uint64_t> acctlab_response_dups;
    for (const auto& value : report.at("events").at("list").as_array()) {
      const auto& event = value.as_object();
      const auto kind = event.at("kind").as_string();
      const auto frame = event.at("frame").to_number<std::uint64_t>();
      if (kind == "retransmission" || kind == "duplicate_request") {
        acctlab_request_dups.insert(frame);
      } else if (kind == "duplicate_response") {
        acctlab_response_dups.insert(frame);
      }
    }
    CHECK(acctlab_request_dups == request_dups);
    CHECK(acctlab_response_dups == response_dups);

    // check --pcap groups the same transmissions into exchanges: requests - exchanges are the
    // retransmissions (every request in these captures is an accounting one).
    const auto checked =
        acctlab::test::run_command(std::string(ACCTLAB_BINARY_DIR) + "/acctlab check --pcap " +
                                   file + " --secrets " + captures + "clients.conf --report json");
    const auto counts = boost::json::parse(checked.output).at("counts").as_object();
    CHECK(counts.at("requests").to_number<std::size_t>() -
              counts.at("exchanges").to_number<std::size_t>() ==
          request_dups.size());
    CHECK(counts.at("exchanges").to_number<std::size_t>() ==
          totals.at("exchanges").to_number<std::size_t>());
  }
  // The frozen server's capture has them: the comparison is not over empty sets only.
  CHECK(duplicates_seen >= 4);
}
