#include "radius/accounting_record.hpp"

#include "radius/value.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <array>

namespace acctlab::radius {
namespace {

enum class Field : std::uint8_t {
  none,
  status_type,
  session_id,
  multi_session_id,
  nas_ip,
  nas_ipv6,
  nas_identifier,
  nas_port,
  nas_port_type,
  user_name,
  framed_ip,
  calling_station_id,
  called_station_id,
  delay_time,
  session_time,
  event_timestamp,
  interim_interval,
  terminate_cause,
  input_octets,
  output_octets,
  input_gigawords,
  output_gigawords,
  input_packets,
  output_packets,
  class_attr,
};

// Attributes are bound by name when a dictionary is first used, never by literal number.
struct FieldTable {
  std::array<Field, 256> standard{};
  AttrKey cisco_avpair{};
  AttrKey cisco_nas_port{};

  explicit FieldTable(const Dictionary& dict) {
    const std::pair<const char*, Field> names[] = {
        {"Acct-Status-Type", Field::status_type},
        {"Acct-Session-Id", Field::session_id},
        {"Acct-Multi-Session-Id", Field::multi_session_id},
        {"NAS-IP-Address", Field::nas_ip},
        {"NAS-IPv6-Address", Field::nas_ipv6},
        {"NAS-Identifier", Field::nas_identifier},
        {"NAS-Port", Field::nas_port},
        {"NAS-Port-Type", Field::nas_port_type},
        {"User-Name", Field::user_name},
        {"Framed-IP-Address", Field::framed_ip},
        {"Calling-Station-Id", Field::calling_station_id},
        {"Called-Station-Id", Field::called_station_id},
        {"Acct-Delay-Time", Field::delay_time},
        {"Acct-Session-Time", Field::session_time},
        {"Event-Timestamp", Field::event_timestamp},
        {"Acct-Interim-Interval", Field::interim_interval},
        {"Acct-Terminate-Cause", Field::terminate_cause},
        {"Acct-Input-Octets", Field::input_octets},
        {"Acct-Output-Octets", Field::output_octets},
        {"Acct-Input-Gigawords", Field::input_gigawords},
        {"Acct-Output-Gigawords", Field::output_gigawords},
        {"Acct-Input-Packets", Field::input_packets},
        {"Acct-Output-Packets", Field::output_packets},
        {"Class", Field::class_attr},
    };
    for (const auto& [name, field] : names) {
      if (const auto* def = dict.find(name); def && def->vendor == 0 && def->number < 256) {
        standard[def->number] = field;
      }
    }
    if (const auto* def = dict.find("Cisco-AVPair")) {
      cisco_avpair = def->key();
    }
    if (const auto* def = dict.find("Cisco-NAS-Port")) {
      cisco_nas_port = def->key();
    }
  }
};

const FieldTable& field_table(const Dictionary& dict) {
  thread_local const Dictionary* cached_for = nullptr;
  thread_local std::unique_ptr<FieldTable> table;
  if (cached_for != &dict) {
    table = std::make_unique<FieldTable>(dict);
    cached_for = &dict;
  }
  return *table;
}

std::string as_text(std::span<const std::uint8_t> v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size());
}

} // namespace

std::string_view status_type_name(std::uint32_t value) noexcept {
  switch (value) {
    case 1:
      return "Start";
    case 2:
      return "Stop";
    case 3:
      return "Interim-Update";
    case 7:
      return "Accounting-On";
    case 8:
      return "Accounting-Off";
    default:
      return "Unknown";
  }
}

std::optional<CiscoAvPair> parse_cisco_avpair(std::string_view text) {
  // Cisco AV pairs are "protocol:attribute=value" or "attribute=value"; '=' marks a mandatory
  // attribute, '*' an optional one. The first separator wins.
  const auto separator = text.find_first_of("=*");
  if (separator == std::string_view::npos || separator == 0) {
    return std::nullopt;
  }
  return CiscoAvPair{std::string(text.substr(0, separator)), text[separator],
                     std::string(text.substr(separator + 1))};
}

std::string to_string(const Ipv4& address) {
  // Dotted quad by hand: the server formats addresses for every request (the session matcher and
  // the record writer), and inet_ntop goes through printf at ~1,800 instructions a call.
  char text[15];
  std::size_t n = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    const unsigned octet = address[i];
    if (octet >= 100) {
      text[n++] = static_cast<char>('0' + octet / 100);
    }
    if (octet >= 10) {
      text[n++] = static_cast<char>('0' + octet / 10 % 10);
    }
    text[n++] = static_cast<char>('0' + octet % 10);
    if (i < 3) {
      text[n++] = '.';
    }
  }
  return std::string(text, n);
}

std::string to_string(const Ipv6& address) {
  char buffer[INET6_ADDRSTRLEN];
  inet_ntop(AF_INET6, address.data(), buffer, sizeof buffer);
  return buffer;
}

const std::string* AccountingRecord::avpair(std::string_view name) const {
  for (const auto& pair : cisco_avpairs) {
    if (pair.name == name) {
      return &pair.value;
    }
  }
  return nullptr;
}

std::string AccountingRecord::nas_identity() const {
  if (nas_ip) {
    return to_string(*nas_ip);
  }
  if (nas_ipv6) {
    return to_string(*nas_ipv6);
  }
  if (nas_identifier) {
    return *nas_identifier;
  }
  return {};
}

AccountingRecord make_accounting_record(const Packet& packet, const Dictionary& dict) {
  const auto& table = field_table(dict);
  AccountingRecord record;
  std::optional<std::uint32_t> in_octets, out_octets, in_giga, out_giga;

  auto u32 = [&](std::span<const std::uint8_t> v, std::string_view name,
                 std::optional<std::uint32_t>& out) {
    if (auto n = read_unsigned(v, 4)) {
      out = static_cast<std::uint32_t>(*n);
    } else {
      record.notes.push_back(std::string(name) + " has " + std::to_string(v.size()) +
                             " octets, not 4");
    }
  };
  auto ipv4 = [&](std::span<const std::uint8_t> v, std::string_view name,
                  std::optional<Ipv4>& out) {
    if (v.size() == 4) {
      out.emplace();
      std::copy(v.begin(), v.end(), out->begin());
    } else {
      record.notes.push_back(std::string(name) + " has " + std::to_string(v.size()) +
                             " octets, not 4");
    }
  };

  // Sized once: an IPsec record carries four to six Cisco-AVPairs, and growing the vector
  // pair by pair reallocated and moved them three times per record.
  record.cisco_avpairs.reserve(static_cast<std::size_t>(
      std::count_if(packet.attributes().begin(), packet.attributes().end(),
                    [&](const auto& attribute) { return attribute.key() == table.cisco_avpair; })));
  for (const auto& attribute : packet.attributes()) {
    const auto v = packet.value(attribute);
    if (attribute.vendor) {
      if (attribute.key() == table.cisco_avpair) {
        if (auto pair = parse_cisco_avpair(as_text(v))) {
          record.cisco_avpairs.push_back(std::move(*pair));
        } else {
          record.notes.push_back("Cisco-AVPair \"" + as_text(v) + "\" has no '=' or '*'");
        }
      } else if (attribute.key() == table.cisco_nas_port) {
        record.cisco_nas_port = as_text(v);
      }
      continue;
    }
    switch (table.standard[attribute.type]) {
      case Field::none:
        break;
      case Field::status_type:
        u32(v, "Acct-Status-Type", record.status_type);
        break;
      case Field::session_id:
        record.session_id = as_text(v);
        break;
      case Field::multi_session_id:
        record.multi_session_id = as_text(v);
        break;
      case Field::nas_ip:
        ipv4(v, "NAS-IP-Address", record.nas_ip);
        break;
      case Field::nas_ipv6:
        if (v.size() == 16) {
          record.nas_ipv6.emplace();
          std::copy(v.begin(), v.end(), record.nas_ipv6->begin());
        } else {
          record.notes.push_back("NAS-IPv6-Address has " + std::to_string(v.size()) +
                                 " octets, not 16");
        }
        break;
      case Field::nas_identifier:
        record.nas_identifier = as_text(v);
        break;
      case Field::nas_port:
        u32(v, "NAS-Port", record.nas_port);
        break;
      case Field::nas_port_type:
        u32(v, "NAS-Port-Type", record.nas_port_type);
        break;
      case Field::user_name:
        record.user_name = as_text(v);
        break;
      case Field::framed_ip:
        ipv4(v, "Framed-IP-Address", record.framed_ip);
        break;
      case Field::calling_station_id:
        record.calling_station_id = as_text(v);
        break;
      case Field::called_station_id:
        record.called_station_id = as_text(v);
        break;
      case Field::delay_time:
        u32(v, "Acct-Delay-Time", record.delay_time);
        break;
      case Field::session_time:
        u32(v, "Acct-Session-Time", record.session_time);
        break;
      case Field::event_timestamp:
        u32(v, "Event-Timestamp", record.event_timestamp);
        break;
      case Field::interim_interval:
        u32(v, "Acct-Interim-Interval", record.interim_interval);
        break;
      case Field::terminate_cause:
        u32(v, "Acct-Terminate-Cause", record.terminate_cause);
        break;
      case Field::input_octets:
        u32(v, "Acct-Input-Octets", in_octets);
        break;
      case Field::output_octets:
        u32(v, "Acct-Output-Octets", out_octets);
        break;
      case Field::input_gigawords:
        u32(v, "Acct-Input-Gigawords", in_giga);
        break;
      case Field::output_gigawords:
        u32(v, "Acct-Output-Gigawords", out_giga);
        break;
      case Field::input_packets:
        u32(v, "Acct-Input-Packets", record.input_packets);
        break;
      case Field::output_packets:
        u32(v, "Acct-Output-Packets", record.output_packets);
        break;
      case Field::class_attr:
        if (!record.class_text) {
          record.class_text = "0x" + to_hex(v);
        }
        break;
    }
  }
  // RFC 2869 §5.1, §5.2: the 64-bit count is octets + 2^32 x gigawords.
  if (in_octets || in_giga) {
    record.input_octets = (std::uint64_t{in_giga.value_or(0)} << 32) | in_octets.value_or(0);
  }
  if (out_octets || out_giga) {
    record.output_octets = (std::uint64_t{out_giga.value_or(0)} << 32) | out_octets.value_or(0);
  }
  return record;
}

} // namespace acctlab::radius
