// The viewer over a database written by the server's own writer (storage::RecordWriter), read
// while the writer is still running: WAL lets the read-only site see each commit.

#include "radius/authenticator.hpp"
#include "radius/packet_codec.hpp"
#include "radius/session_matcher.hpp"
#include "radius/text_form.hpp"
#include "storage/record_writer.hpp"
#include "tests/web/web_fixture.hpp"
#include "web/site.hpp"

#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>
#include <condition_variable>
#include <mutex>

using namespace acctlab;
namespace json = boost::json;

namespace {

class Completions {
public:
  void add(std::vector<storage::Completion>&& done) {
    std::lock_guard lock(mutex_);
    count_ += done.size();
    changed_.notify_all();
  }
  bool wait_for(std::size_t n) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, std::chrono::seconds(10), [&] { return count_ >= n; });
  }

private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::size_t count_ = 0;
};

storage::WriteItem write_item(const std::string& text, double time) {
  const auto& dict = radius::Dictionary::builtin();
  auto packet = radius::parse_packet_text(text, dict);
  REQUIRE(packet);
  auto wire = radius::encode_packet(*packet, dict);
  radius::sign_request(wire, "testing123");
  auto decoded = radius::decode_packet(wire, dict);
  REQUIRE(decoded);
  storage::WriteItem item;
  item.packet.raw.assign(wire.begin(), wire.end());
  item.packet.src_addr = "127.0.0.1";
  item.packet.src_port = 1646;
  item.packet.code = 4;
  item.packet.identifier = decoded->identifier();
  item.packet.receive_time = time;
  storage::RecordInput input;
  input.record = radius::make_accounting_record(*decoded, dict);
  input.nas_key = radius::session_nas_key(input.record, "127.0.0.1");
  input.event_time = time;
  item.nas = input.nas_key;
  item.record = std::move(input);
  item.tag = 1;
  return item;
}

json::object api(web::Site& site, const std::string& target) {
  auto response = site.handle("GET", target);
  INFO(target << " -> " << response.body.substr(0, 300));
  REQUIRE(response.status == 200);
  return json::parse(response.body).as_object();
}

} // namespace

TEST_CASE("pages over a database the server's writer is filling", "[web][writer]") {
  const auto path = web::test::test_directory("writer") + "/acct.db";
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::remove((path + suffix).c_str());
  }
  const double t0 = web::test::fixture_base_time;
  Completions done;
  storage::WriterOptions options;
  storage::RecordWriter writer(path, options, [&](auto&& c) { done.add(std::move(c)); });
  web::Site site(path);

  writer.submit(write_item(
      R"(Accounting-Request id=4 { Acct-Session-Id = "00000001", Cisco-AVPair = "isakmp-group-id=cclient", Framed-IP-Address = 10.13.13.1, Cisco-AVPair = "vrf-id=cisco", Cisco-AVPair = "isakmp-initator-ip=11.1.2.2", Cisco-AVPair = "connect-progress=No Progress", User-Name = "joe@cclient", Acct-Status-Type = Start, Cisco-NAS-Port = "FastEthernet0/0.1", NAS-Port = 0, NAS-IP-Address = 10.1.1.147, Acct-Delay-Time = 0 })",
      t0));
  REQUIRE(done.wait_for(1));
  auto overview = api(site, "/api/overview");
  CHECK(overview.at("live").at("sessions").at("open").as_int64() == 1);
  auto live = site.live_update(-1);
  REQUIRE(live);

  writer.submit(write_item(
      R"(Accounting-Request id=22 { Acct-Session-Id = "00000001", Cisco-AVPair = "isakmp-initator-ip=11.1.2.2", Acct-Session-Time = 109, Acct-Input-Octets = 608, Acct-Output-Octets = 608, Acct-Input-Packets = 4, Acct-Output-Packets = 4, Acct-Status-Type = Interim-Update, NAS-IP-Address = 10.1.1.147, Acct-Delay-Time = 0 })",
      t0 + 109));
  writer.submit(write_item(
      R"(Accounting-Request id=19 { Acct-Session-Id = "00000001", Acct-Session-Time = 709, Acct-Input-Octets = 152608, Acct-Output-Octets = 152608, Acct-Input-Packets = 1004, Acct-Output-Packets = 1004, Acct-Terminate-Cause = User-Request, Acct-Status-Type = Stop, NAS-IP-Address = 10.1.1.147, Acct-Delay-Time = 2 })",
      t0 + 709));
  writer.submit(write_item(
      R"(Accounting-Request id=5 { Acct-Session-Id = "x\"<b>", User-Name = "<script>alert(1)</script>", Acct-Status-Type = Start, NAS-IP-Address = 10.1.1.147 })",
      t0 + 800));
  REQUIRE(done.wait_for(4));

  // The watcher connection notices the commits.
  auto after = site.live_update(live->first);
  REQUIRE(after);
  CHECK(json::parse(after->second).at("records").as_int64() == 4);

  auto closed = api(site, "/api/sessions?state=closed");
  REQUIRE(closed.at("total").as_int64() == 1);
  const auto& row = closed.at("sessions").as_array()[0].as_object();
  CHECK(row.at("acct_session_id").as_string() == "00000001");
  CHECK(row.at("user_name").as_string() == "joe@cclient");
  CHECK(row.at("input_octets").as_int64() == 152608);
  CHECK(row.at("peer").as_string() == "11.1.2.2");
  const auto id = row.at("id").as_int64();

  auto detail = api(site, "/api/sessions/" + std::to_string(id));
  const auto& records = detail.at("records").as_array();
  REQUIRE(records.size() == 3);
  CHECK(records[0].at("status").as_string() == "Start");
  CHECK(records[1].at("status").as_string() == "Interim-Update");
  CHECK(records[2].at("status").as_string() == "Stop");
  CHECK(records[2].at("delay").as_int64() == 2);
  bool saw_group = false;
  for (const auto& a : records[0].at("attribute_list").as_array()) {
    saw_group |= a.at("value").as_string() == "\"isakmp-group-id=cclient\"";
  }
  CHECK(saw_group);

  auto page = site.handle("GET", "/sessions/" + std::to_string(id));
  CHECK(page.status == 200);
  CHECK(page.body.find("Interim-Update") != std::string::npos);
  auto list = site.handle("GET", "/sessions");
  CHECK(list.body.find("<script>alert") == std::string::npos);
  CHECK(list.body.find("&lt;script&gt;alert(1)&lt;/script&gt;") != std::string::npos);

  auto nas = api(site, "/api/nas");
  REQUIRE(nas.at("nas").as_array().size() == 1);
  CHECK(nas.at("nas").as_array()[0].at("requests").as_int64() == 4);
  CHECK(nas.at("nas").as_array()[0].at("sessions").as_int64() == 2);
  writer.stop();
}
