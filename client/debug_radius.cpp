#include "client/debug_radius.hpp"

#include "radius/dictionary.hpp"
#include "radius/ios_debug.hpp"
#include "radius/packet_codec.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>

namespace acctlab::gateway {

std::string format_authenticator(std::span<const std::uint8_t> sixteen) {
  radius::Authenticator authenticator{};
  std::copy_n(sixteen.begin(), std::min(sixteen.size(), authenticator.size()),
              authenticator.begin());
  return radius::ios_authenticator(authenticator);
}

std::string format_aaa_id(std::uint32_t id) {
  char text[9];
  std::snprintf(text, sizeof text, "%08X", id);
  return text;
}

std::vector<std::string> debug_attribute_lines(std::span<const std::uint8_t> wire) {
  // The same rendering as the server's `--debug radius` and the web viewer: the core decodes
  // the datagram and radius/ios_debug.hpp prints it. The authenticator line is the callers'.
  const auto& dict = radius::Dictionary::builtin();
  auto decoded = radius::decode_packet(wire, dict);
  if (!decoded) {
    return {"RADIUS: undecodable packet: " + decoded.error().message()};
  }
  auto lines = radius::ios_debug_lines(*decoded, dict);
  lines.erase(lines.begin());
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

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) {
    s.remove_prefix(1);
  }
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) {
    s.remove_suffix(1);
  }
  return s;
}

std::optional<std::size_t> number_at(std::string_view s) {
  std::size_t value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc{} || end == s.data()) {
    return std::nullopt;
  }
  return value;
}

/** "*Aug 23 04:06:20.131: " or "*00:00:01.000: ": the stamp's length including ": ", or 0. */
std::size_t stamp_length(std::string_view line) {
  if (line.empty() || line.front() != '*') {
    return 0;
  }
  const auto colon = line.find(": ");
  if (colon == std::string_view::npos || colon > 24) {
    return 0;
  }
  // The stamp holds a clock "hh:mm:ss.mmm".
  const auto stamp = line.substr(0, colon);
  return stamp.find(':') != std::string_view::npos && stamp.find('.') != std::string_view::npos
             ? colon + 2
             : 0;
}

/** Octets in "38 F5 EB 46 ... - 45 EB" (pairs of hex digits). */
std::size_t hex_octets(std::string_view s) {
  std::size_t digits = 0;
  for (char c : s) {
    digits += std::isxdigit(static_cast<unsigned char>(c)) ? 1 : 0;
  }
  return digits / 2;
}

bool unfinished(std::string_view body) {
  if (std::count(body.begin(), body.end(), '"') % 2 == 1 || body.ends_with(",")) {
    return true;
  }
  constexpr std::string_view authenticator = "RADIUS: authenticator ";
  return body.starts_with(authenticator) && hex_octets(body.substr(authenticator.size())) < 16;
}

/** "Name [T] LEN rest" (the name may touch the bracket: "Acct-Input-Giga-Word[52] 6 0"). */
std::optional<ListedAttribute> attribute_line(std::string_view body) {
  const auto open = body.find('[');
  const auto close = body.find(']', open == std::string_view::npos ? 0 : open);
  if (open == std::string_view::npos || close == std::string_view::npos || open == 0) {
    return std::nullopt;
  }
  ListedAttribute a;
  a.name = std::string(trim(body.substr(0, open)));
  const auto type = number_at(body.substr(open + 1, close - open - 1));
  auto rest = trim(body.substr(close + 1));
  const auto space = rest.find(' ');
  const auto length = number_at(rest.substr(0, space));
  if (!type || !length || *type > 255) {
    return std::nullopt;
  }
  a.type = static_cast<unsigned>(*type);
  a.length = *length;
  a.value = space == std::string_view::npos ? std::string() : std::string(trim(rest.substr(space)));
  if (a.value.size() >= 2 && a.value.front() == '"' && a.value.back() == '"') {
    a.value = a.value.substr(1, a.value.size() - 2);
  }
  return a;
}

} // namespace

std::vector<ListedRequest> parse_debug_radius(std::string_view text) {
  // Join wrapped lines first: (stamp, body) per logical line.
  std::vector<std::pair<std::string, std::string>> lines;
  bool open = false; // the previous logical line is unfinished
  while (!text.empty()) {
    const auto end = text.find('\n');
    auto line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    if (const auto n = stamp_length(line)) {
      lines.emplace_back(std::string(line.substr(0, n - 2)), std::string(trim(line.substr(n))));
    } else if (open && !trim(line).empty()) {
      lines.back().second += ' ';
      lines.back().second += trim(line);
    } else {
      open = false;
      continue;
    }
    open = unfinished(lines.back().second);
  }

  std::vector<ListedRequest> requests;
  bool in_request = false; // attribute lines belong to the newest request
  std::optional<std::size_t> vendor_length;
  for (const auto& [stamp, body] : lines) {
    constexpr std::string_view send = "): Send Accounting-Request to ";
    if (body.starts_with("RADIUS(") && body.find(send) != std::string::npos) {
      ListedRequest r;
      r.aaa_id = body.substr(7, body.find(')') - 7);
      const auto rest = std::string_view(body).substr(body.find(send) + send.size());
      r.destination = std::string(rest.substr(0, rest.find(' ')));
      if (const auto id = rest.find(" id "); id != std::string_view::npos) {
        r.identifier = static_cast<unsigned>(number_at(rest.substr(id + 4)).value_or(0));
      }
      if (const auto len = rest.find("len "); len != std::string_view::npos) {
        r.length = number_at(rest.substr(len + 4)).value_or(0);
      }
      requests.push_back(std::move(r));
      in_request = true;
      vendor_length.reset();
      continue;
    }
    if (!body.starts_with("RADIUS: ")) {
      continue;
    }
    const auto item = std::string_view(body).substr(8);
    if (item.starts_with("Received from")) {
      in_request = false;
      continue;
    }
    if (!in_request) {
      continue;
    }
    if (item.starts_with("authenticator ")) {
      std::string hex;
      for (char c : item.substr(14)) {
        if (std::isxdigit(static_cast<unsigned char>(c))) {
          hex += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        }
      }
      requests.back().authenticator = hex;
      continue;
    }
    auto attribute = attribute_line(item);
    if (!attribute) {
      continue;
    }
    if (attribute->name.starts_with("Vendor,") && attribute->value.empty()) {
      vendor_length = attribute->length; // the sub-attribute follows
      continue;
    }
    attribute->vendor_length = vendor_length;
    attribute->stamp = stamp;
    vendor_length.reset();
    requests.back().attributes.push_back(std::move(*attribute));
  }
  return requests;
}

} // namespace acctlab::gateway
