#include "client/debug_radius.hpp"

#include "client/accounting_packet.hpp"

#include <cstdio>
#include <string_view>

namespace acctlab::gateway {
namespace {

struct Name {
  std::uint8_t type;
  std::string_view name;
  enum class Form : std::uint8_t { text, integer, address, status, cause } form;
};

// IOS's labels, from the document's listings.
constexpr Name names[] = {
    {attr::user_name, "User-Name", Name::Form::text},
    {attr::nas_ip_address, "NAS-IP-Address", Name::Form::address},
    {attr::nas_port, "NAS-Port", Name::Form::integer},
    {attr::framed_ip_address, "Framed-IP-Address", Name::Form::address},
    {attr::acct_status_type, "Acct-Status-Type", Name::Form::status},
    {attr::acct_delay_time, "Acct-Delay-Time", Name::Form::integer},
    {attr::acct_input_octets, "Acct-Input-Octets", Name::Form::integer},
    {attr::acct_output_octets, "Acct-Output-Octets", Name::Form::integer},
    {attr::acct_session_id, "Acct-Session-Id", Name::Form::text},
    {attr::acct_session_time, "Acct-Session-Time", Name::Form::integer},
    {attr::acct_input_packets, "Acct-Input-Packets", Name::Form::integer},
    {attr::acct_output_packets, "Acct-Output-Packets", Name::Form::integer},
    {attr::acct_terminate_cause, "Acct-Terminate-Cause", Name::Form::cause},
    {attr::acct_input_gigawords, "Acct-Input-Giga-Words", Name::Form::integer},
    {attr::acct_output_gigawords, "Acct-Output-Giga-Words", Name::Form::integer},
};

// IOS prints the name in a 20-column field: "Acct-Session-Id [44]", "Acct-Terminate-Cause[49]",
// "Acct-Input-Giga-Word[52]" (cut to 20 characters).
std::string label(std::string_view name, unsigned type) {
  std::string out(name.substr(0, 20));
  if (name.size() < 20) {
    out += ' ';
  }
  return out + "[" + std::to_string(type) + "]";
}

std::string quoted(std::span<const std::uint8_t> value) {
  std::string out = "\"";
  for (std::uint8_t c : value) {
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char hex[5];
      std::snprintf(hex, sizeof hex, "\\%03o", c);
      out += hex;
    }
  }
  return out + "\"";
}

std::string hex(std::span<const std::uint8_t> value) {
  std::string out;
  for (std::uint8_t c : value) {
    char h[3];
    std::snprintf(h, sizeof h, "%02X", c);
    out += h;
  }
  return out;
}

std::uint32_t be32(std::span<const std::uint8_t> v) {
  return std::uint32_t{v[0]} << 24 | std::uint32_t{v[1]} << 16 | std::uint32_t{v[2]} << 8 | v[3];
}

std::string value_text(const Name* name, std::span<const std::uint8_t> value) {
  if (!name) {
    return hex(value);
  }
  switch (name->form) {
    case Name::Form::text:
      return quoted(value);
    case Name::Form::integer:
      return value.size() == 4 ? std::to_string(be32(value)) : hex(value);
    case Name::Form::address:
      return value.size() == 4 ? std::to_string(value[0]) + "." + std::to_string(value[1]) + "." +
                                     std::to_string(value[2]) + "." + std::to_string(value[3])
                               : hex(value);
    case Name::Form::status: {
      if (value.size() != 4) {
        return hex(value);
      }
      std::uint32_t v = be32(value);
      // IOS calls Interim-Update "Watchdog" in its debug output.
      std::string_view text = v == 1 ? "Start" : v == 2 ? "Stop" : v == 3 ? "Watchdog" : "?";
      return std::string(text) + " [" + std::to_string(v) + "]";
    }
    case Name::Form::cause: {
      if (value.size() != 4) {
        return hex(value);
      }
      std::uint32_t v = be32(value);
      std::string_view text = v == 0   ? "none"
                              : v == 1 ? "user-request"
                              : v == 2 ? "lost-carrier"
                                       : "?";
      return std::string(text) + " [" + std::to_string(v) + "]";
    }
  }
  return hex(value);
}

} // namespace

std::string format_authenticator(std::span<const std::uint8_t> a) {
  std::string out;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char h[4];
    std::snprintf(h, sizeof h, "%02X", a[i]);
    if (i) {
      out += i == 8 ? " - " : " ";
    }
    out += h;
  }
  return out;
}

std::string format_aaa_id(std::uint32_t id) {
  char text[9];
  std::snprintf(text, sizeof text, "%08X", id);
  return text;
}

std::vector<std::string> debug_attribute_lines(std::span<const std::uint8_t> wire) {
  std::vector<std::string> lines;
  if (wire.size() < 20) {
    return lines;
  }
  std::size_t length = std::min<std::size_t>(wire.size(), std::size_t{wire[2]} << 8 | wire[3]);
  std::size_t i = 20;
  while (i + 2 <= length) {
    std::uint8_t type = wire[i];
    std::uint8_t len = wire[i + 1];
    if (len < 2 || i + len > length) {
      lines.push_back("RADIUS: malformed attribute at offset " + std::to_string(i));
      break;
    }
    auto value = wire.subspan(i + 2, len - 2u);
    if (type == 26 && value.size() >= 4) {
      std::uint32_t vendor = be32(value);
      lines.push_back(
          "RADIUS: Vendor, " +
          (vendor == attr::cisco_vendor ? std::string("Cisco") : std::to_string(vendor)) +
          " [26] " + std::to_string(len));
      auto sub = value.subspan(4);
      std::size_t j = 0;
      while (j + 2 <= sub.size()) {
        std::uint8_t sub_type = sub[j];
        std::uint8_t sub_len = sub[j + 1];
        if (sub_len < 2 || j + sub_len > sub.size()) {
          lines.push_back("RADIUS: malformed vendor attribute");
          break;
        }
        auto sub_value = sub.subspan(j + 2, sub_len - 2u);
        std::string_view sub_name =
            vendor == attr::cisco_vendor && sub_type == attr::cisco_avpair     ? "Cisco AVpair"
            : vendor == attr::cisco_vendor && sub_type == attr::cisco_nas_port ? "cisco-nas-port"
                                                                               : "Vendor-Attribute";
        lines.push_back("RADIUS: " + label(sub_name, sub_type) + " " + std::to_string(sub_len) +
                        " " + quoted(sub_value));
        j += sub_len;
      }
    } else {
      const Name* name = nullptr;
      for (const Name& n : names) {
        if (n.type == type) {
          name = &n;
        }
      }
      std::string shown = name ? std::string(name->name) : "Attribute";
      lines.push_back("RADIUS: " + label(shown, type) + " " + std::to_string(len) + " " +
                      value_text(name, value));
    }
    i += len;
  }
  return lines;
}

std::vector<std::string> debug_request_lines(std::uint32_t aaa_id,
                                             std::span<const std::uint8_t> wire,
                                             const std::string& destination) {
  std::vector<std::string> lines;
  if (wire.size() < 20) {
    return lines;
  }
  std::string id = "RADIUS(" + format_aaa_id(aaa_id) + "): ";
  lines.push_back(id + "sending");
  lines.push_back(id + "Send Accounting-Request to " + destination + " id " +
                  std::to_string(wire[1]) + ", len " + std::to_string(wire.size()));
  lines.push_back("RADIUS: authenticator " + format_authenticator(wire.subspan(4, 16)));
  for (auto& line : debug_attribute_lines(wire)) {
    lines.push_back(std::move(line));
  }
  return lines;
}

std::vector<std::string> debug_response_lines(std::span<const std::uint8_t> wire,
                                              std::uint16_t local_port, const std::string& from) {
  std::vector<std::string> lines;
  if (wire.size() < 20) {
    lines.push_back("RADIUS: Received from " + from + ", short datagram of " +
                    std::to_string(wire.size()) + " octets");
    return lines;
  }
  std::string code = wire[0] == 5 ? "Accounting-response" : "code " + std::to_string(wire[0]);
  lines.push_back("RADIUS: Received from id " + std::to_string(local_port) + "/" +
                  std::to_string(wire[1]) + " " + from + ", " + code + ", len " +
                  std::to_string(wire.size()));
  lines.push_back("RADIUS: authenticator " + format_authenticator(wire.subspan(4, 16)));
  for (auto& line : debug_attribute_lines(wire)) {
    lines.push_back(std::move(line));
  }
  return lines;
}

} // namespace acctlab::gateway
