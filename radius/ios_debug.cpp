#include "radius/ios_debug.hpp"

#include "radius/value.hpp"

#include <cstdio>

namespace acctlab::radius {
namespace {

// IOS prints some attributes under its own names; the feature document's examples show these.
std::string ios_name(const AttributeDef* def, const Attribute& attribute) {
  if (!def) {
    return attribute.vendor ? "Attr-26." + std::to_string(attribute.vendor) + "." +
                                  std::to_string(attribute.vendor_type)
                            : "Attr-" + std::to_string(attribute.type);
  }
  if (def->name == "Cisco-AVPair") {
    return "Cisco AVpair";
  }
  if (def->name == "Cisco-NAS-Port") {
    return "cisco-nas-port";
  }
  if (def->name == "Acct-Input-Gigawords") {
    return "Acct-Input-Giga-Word";
  }
  if (def->name == "Acct-Output-Gigawords") {
    return "Acct-Output-Giga-Word";
  }
  return def->name;
}

// IOS writes enumerated values as "Name [n]", calls Interim-Update "Watchdog", and shows an
// Acct-Terminate-Cause of 0 as "none" (the document's Stop example).
std::string ios_value(const AttributeDef* def, std::span<const std::uint8_t> value) {
  if (def && def->type == DataType::integer && value.size() == 4 && !def->values.empty()) {
    const auto number = *read_unsigned(value, 4);
    std::string name;
    if (def->name == "Acct-Status-Type" && number == 3) {
      name = "Watchdog";
    } else if (def->name == "Acct-Terminate-Cause" && number == 0) {
      name = "none";
    } else if (const auto* known = def->value_name(number)) {
      name = *known;
    } else {
      name = "unknown";
    }
    return name + " [" + std::to_string(number) + "]";
  }
  const auto text = format_value(def, value);
  return text.text;
}

std::string label(const std::string& name, unsigned number) {
  // IOS cuts names at 20 characters and then leaves no space before the bracket.
  std::string out = name.substr(0, 20);
  if (out.size() < 20) {
    out += ' ';
  }
  return out + "[" + std::to_string(number) + "]";
}

} // namespace

std::string ios_authenticator(const Authenticator& a) {
  std::string out;
  char buffer[4];
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (i == 8) {
      out += "- ";
    }
    std::snprintf(buffer, sizeof buffer, "%02X", a[i]);
    out += buffer;
    if (i + 1 < a.size()) {
      out += ' ';
    }
  }
  return out;
}

std::vector<std::string> ios_debug_lines(const Packet& packet, const Dictionary& dict) {
  std::vector<std::string> lines;
  lines.push_back("RADIUS: authenticator " + ios_authenticator(packet.authenticator()));
  const auto& attributes = packet.attributes();
  for (std::size_t i = 0; i < attributes.size(); ++i) {
    const auto& attribute = attributes[i];
    const auto value = packet.value(attribute);
    const AttributeDef* def = dict.find(attribute.key());
    if (attribute.vendor) {
      const bool new_vsa = i == 0 || attributes[i - 1].vendor != attribute.vendor ||
                           attributes[i - 1].vsa_group != attribute.vsa_group;
      const auto* vendor = dict.vendor(attribute.vendor);
      const std::size_t header = vendor ? vendor->type_size + vendor->length_size : 2;
      if (new_vsa) {
        std::size_t vsa_length = 2 + 4;
        for (std::size_t j = i; j < attributes.size() && attributes[j].vendor == attribute.vendor &&
                                attributes[j].vsa_group == attribute.vsa_group;
             ++j) {
          vsa_length += header + attributes[j].length;
        }
        lines.push_back("RADIUS: Vendor, " +
                        (vendor ? vendor->name : std::to_string(attribute.vendor)) + " [26] " +
                        std::to_string(vsa_length));
      }
      lines.push_back("RADIUS: " + ios_name(def, attribute).substr(0, 20) + " [" +
                      std::to_string(attribute.vendor_type) + "] " +
                      std::to_string(header + value.size()) + " " + ios_value(def, value));
      continue;
    }
    lines.push_back("RADIUS: " + label(ios_name(def, attribute), attribute.type) + " " +
                    std::to_string(2 + value.size()) + " " + ios_value(def, value));
  }
  return lines;
}

} // namespace acctlab::radius
