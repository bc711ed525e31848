// server/log_entry.hpp: log lines for people and for machines.
#include "server/log_entry.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <catch2/catch.hpp>
#include <vector>

using namespace acctlab;
using server::LogEntry;
using server::LogField;
using server::LogLevel;

TEST_CASE("a JSON log line is one strict JSON object, whatever the text holds", "[server][logs]") {
  const std::vector<LogField> fields{
      {"peer", "127.0.0.1:1"},
      {"count", "42", true},
      {"avg_ms", "0.25", true},
      {"not_a_number", "nan", true},
      {"leading_zero", "012", true},
      {"odd", std::string("q\"b\\c\x01\x7f\n\xff\xc3\xa9\xed\xa0\x80")}};
  const LogEntry entry{LogLevel::warning, "packet_dropped", "gw\"1", "line with \xfe byte", fields};
  const auto line = server::format_log_json(entry, 1'765'000'000.25);
  CHECK(line.find('\n') == std::string::npos);
  boost::system::error_code ec;
  const auto value = boost::json::parse(line, ec); // rejects invalid UTF-8 and bare controls
  REQUIRE_FALSE(ec);
  const auto& object = value.as_object();
  CHECK(object.at("time").as_string() == "2025-12-06T05:46:40.250Z");
  CHECK(object.at("level").as_string() == "warning");
  CHECK(object.at("event").as_string() == "packet_dropped");
  CHECK(object.at("nas").as_string() == "gw\"1");
  CHECK(object.at("message").as_string() == "line with \xef\xbf\xbd byte");
  const auto& f = object.at("fields").as_object();
  CHECK(f.at("count").as_int64() == 42);
  CHECK(f.at("avg_ms").as_double() == 0.25);
  CHECK(f.at("not_a_number").as_string() == "nan"); // JSON has no NaN: written as text
  CHECK(f.at("leading_zero").as_string() == "012");
  // Valid é kept; a lone \xff and an encoded surrogate (ED A0 80) become U+FFFD.
  CHECK(f.at("odd").as_string() ==
        "q\"b\\c\x01\x7f\n\xef\xbf\xbd\xc3\xa9\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");

  const auto bare = server::format_log_json({LogLevel::info, "stats", "", "s", {}}, 0);
  CHECK(bare == "{\"time\":\"1970-01-01T00:00:00.000Z\",\"level\":\"info\",\"event\":\"stats\","
                "\"nas\":null,\"message\":\"s\",\"fields\":{}}");
}

TEST_CASE("a text log line is what people read", "[server][logs]") {
  CHECK(server::format_log_text({LogLevel::warning, "packet_dropped", "gw1", "dropped", {}},
                                "acctlab serve") == "acctlab serve: warning [gw1]: dropped");
  CHECK(server::format_log_text({LogLevel::info, "stats", "", "stats x=1", {}}, "acctlab serve") ==
        "acctlab serve: info: stats x=1");
  // IOS-style debug lines are printed as they are.
  CHECK(server::format_log_text({LogLevel::debug, "radius_debug", "gw1", "RADIUS: id 4", {}},
                                "acctlab serve") == "RADIUS: id 4");
}
