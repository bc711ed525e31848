#include "client/event_log.hpp"

#include "client/debug_radius.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <cstdio>

namespace acctlab::gateway {
namespace {

std::string hex(std::span<const std::uint8_t> bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (std::uint8_t b : bytes) {
    char h[3];
    std::snprintf(h, sizeof h, "%02x", b);
    out += h;
  }
  return out;
}

} // namespace

std::string record_json(const AccountingEvent& e, bool accounted,
                        const std::vector<std::string>& slots) {
  boost::json::object o;
  o["time_ms"] = e.time.count();
  o["event"] = "record";
  o["kind"] = std::string(to_string(e.kind));
  o["peer"] = e.peer;
  o["aaa_id"] = format_aaa_id(e.aaa_id);
  o["session_id"] = e.session_id;
  o["list"] = e.list ? e.list->name : "";
  o["accounted"] = accounted;
  boost::json::array servers;
  for (const auto& s : slots) {
    servers.emplace_back(s);
  }
  o["slots"] = std::move(servers);
  o["session_time"] = e.session_time;
  o["input_octets"] = e.input.octets;
  o["output_octets"] = e.output.octets;
  o["input_packets"] = e.input.packets;
  o["output_packets"] = e.output.packets;
  return boost::json::serialize(o);
}

std::string transport_json(const TransportEvent& e, const ServerEndpoint* server) {
  boost::json::object o;
  o["time_ms"] = e.time.count();
  o["event"] = std::string(to_string(e.kind));
  o["record"] = e.label;
  o["aaa_id"] = format_aaa_id(e.aaa_id);
  if (server) {
    o["slot"] = server->slot;
    o["server"] = server->to_string();
    o["configured"] = server->configured;
  }
  o["id"] = e.identifier;
  o["local_port"] = e.local_port;
  switch (e.kind) {
    case TransportEvent::Kind::sent:
    case TransportEvent::Kind::lost:
      o["attempt"] = e.attempt;
      o["acct_delay_time"] = e.delay;
      o["new_identifier"] = e.new_identifier;
      o["len"] = e.wire.size();
      if (e.wire.size() >= 20) {
        o["authenticator"] = hex(std::span(e.wire).subspan(4, 16));
      }
      o["packet"] = hex(e.wire);
      break;
    case TransportEvent::Kind::answer:
    case TransportEvent::Kind::dropped_answer:
    case TransportEvent::Kind::bad_answer:
      o["verified"] = e.kind != TransportEvent::Kind::bad_answer;
      o["len"] = e.wire.size();
      if (e.wire.size() >= 20) {
        o["response_authenticator"] = hex(std::span(e.wire).subspan(4, 16));
      }
      o["packet"] = hex(e.wire);
      o["rtt_ms"] = e.rtt.count();
      break;
    default:
      o["attempt"] = e.attempt;
      break;
  }
  if (!e.reason.empty()) {
    o["reason"] = e.reason;
  }
  return boost::json::serialize(o);
}

std::string error_json(Millis time, int line, const std::string& message) {
  boost::json::object o;
  o["time_ms"] = time.count();
  o["event"] = "error";
  o["line"] = line;
  o["message"] = message;
  return boost::json::serialize(o);
}

std::string summary_json(Millis time,
                         const std::vector<std::pair<std::string, std::uint64_t>>& counts) {
  boost::json::object o;
  o["time_ms"] = time.count();
  o["event"] = "summary";
  for (const auto& [name, value] : counts) {
    o[name] = value;
  }
  return boost::json::serialize(o);
}

} // namespace acctlab::gateway
