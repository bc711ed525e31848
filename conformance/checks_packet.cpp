// Packet-scope checks: each looks at one datagram at a time.

#include "conformance/detail/checks.hpp"
#include "radius/authenticator.hpp"
#include "radius/value.hpp"

#include <optional>

namespace acctlab::conformance::detail {
namespace {

using radius::DataType;

std::string quoted(std::span<const std::uint8_t> value) {
  return radius::quote_text(value);
}

// RFC 8044 §3 (and RFC 2865 §5 for the classic types): the sizes a value must have.
struct SizeRule {
  std::size_t min;
  std::size_t max;
};
std::optional<SizeRule> size_rule(DataType type) {
  switch (type) {
    case DataType::integer:
    case DataType::date:
    case DataType::ipv4addr:
    case DataType::int32:
      return SizeRule{4, 4};
    case DataType::integer64:
    case DataType::ifid:
      return SizeRule{8, 8};
    case DataType::ipv6addr:
      return SizeRule{16, 16};
    case DataType::ipv4prefix:
      return SizeRule{6, 6};
    case DataType::ipv6prefix:
      return SizeRule{2, 18};
    case DataType::uint8:
      return SizeRule{1, 1};
    case DataType::uint16:
      return SizeRule{2, 2};
    case DataType::ether:
      return SizeRule{6, 6};
    case DataType::text:
    case DataType::octets:
      return SizeRule{1, radius::max_attribute_value};
    default:
      return std::nullopt;
  }
}

const radius::AttributeDef* terminate_cause_def(const Analysis& analysis) {
  return analysis.dictionary().find("Acct-Terminate-Cause");
}

} // namespace

std::string status_label(const Analysis& analysis, std::size_t packet) {
  return status_label(analysis.packets()[packet]);
}

std::string status_label(const PacketView& view) {
  const auto status = view.record ? view.record->status_type : std::nullopt;
  if (!status) {
    return "Accounting-Request without Acct-Status-Type";
  }
  const auto name = radius::status_type_name(*status);
  return name.empty() ? "Acct-Status-Type " + std::to_string(*status) : std::string(name);
}

void check_malformed(const Rule& rule, const Analysis& analysis, FindingSink& sink) {
  for (const auto& view : analysis.packets()) {
    if (view.failure) {
      sink.report(rule,
                  "datagram of " + std::to_string(view.trace->raw.size()) + " octets from " +
                      view.trace->source + " is not a RADIUS packet: " + view.failure->message(),
                  analysis.evidence(view.index));
    }
  }
}

namespace {

/** Sent to a port only accounting uses (RFC 2866 §3: 1813; 1646 by older custom): authentication
 * or dynamic authorization there was sent to the accounting server. */
bool to_accounting_port(const TracePacket& packet) {
  const auto colon = packet.destination.rfind(':');
  if (colon == std::string::npos) {
    return false;
  }
  const auto port = std::string_view(packet.destination).substr(colon + 1);
  return port == "1813" || port == "1646";
}

} // namespace

void check_unexpected_code(const Rule& rule, const Analysis& analysis, FindingSink& sink) {
  for (const auto& view : analysis.packets()) {
    if (!view.packet || view.request || view.response) {
      continue;
    }
    // RFC 5997: Status-Server to the accounting port is legitimate. Authentication (RFC 2865)
    // and dynamic authorization (RFC 5176) share captures with accounting: recognised, paired
    // and counted, they are outside the accounting rules' scope.
    if (view.service == Service::status) {
      continue;
    }
    if ((view.service == Service::authentication ||
         view.service == Service::dynamic_authorization) &&
        !to_accounting_port(*view.trace)) {
      continue;
    }
    sink.report(rule,
                radius::code_name(view.packet->code()) + " sent to the accounting server by " +
                    view.trace->source,
                analysis.evidence(view.index));
  }
}

void check_request_authenticator(const Rule& rule, const Analysis& analysis, FindingSink& sink) {
  for (const auto& view : analysis.packets()) {
    if (!view.request) {
      continue;
    }
    // A client the server did not know has no secret to check against.
    if (view.trace->verdict && *view.trace->verdict == "unknown-client") {
      continue;
    }
    if (const auto* secret = analysis.trace().secret_for(view.client)) {
      if (!radius::verify_request_authenticator(view.trace->raw, *secret)) {
        sink.report(rule,
                    status_label(analysis, view.index) + " id " +
                        std::to_string(view.packet->identifier()) +
                        ": Request Authenticator is not MD5(packet + secret) for the shared secret",
                    analysis.evidence(view.index));
      }
    } else if (view.trace->verdict && *view.trace->verdict == "bad-authenticator") {
      sink.report(rule, "the server rejected this request's Request Authenticator",
                  analysis.evidence(view.index));
    }
  }
}

void check_message_authenticator(const Rule& rule, const Analysis& analysis, FindingSink& sink) {
  for (const auto& view : analysis.packets()) {
    if (!view.packet || (!view.request && !view.response)) {
      continue;
    }
    const auto* secret = analysis.trace().secret_for(view.client);
    if (!secret) {
      if (view.trace->verdict && *view.trace->verdict == "bad-message-authenticator") {
        sink.report(rule, "the server rejected this request's Message-Authenticator",
                    analysis.evidence(view.index));
      }
      continue;
    }
    const radius::Authenticator* request_auth = nullptr;
    if (view.response) {
      if (view.answers == none) {
        continue;
      }
      request_auth = &analysis.packets()[view.answers].packet->authenticator();
    }
    const auto result = radius::check_message_authenticator(view.trace->raw, *secret, request_auth);
    if (result == radius::MessageAuthenticatorCheck::invalid ||
        result == radius::MessageAuthenticatorCheck::malformed) {
      sink.report(rule,
                  std::string(view.request ? "request" : "response") + " id " +
                      std::to_string(view.packet->identifier()) + ": Message-Authenticator " +
                      std::string(radius::to_string(result)),
                  analysis.evidence(view.index));
    }
  }
}

void check_value_length(const Rule& rule, const Analysis& analysis, FindingSink& sink) {
  for (const auto& view : analysis.packets()) {
    if (!view.packet) {
      continue;
    }
    for (const auto& attribute : view.packet->attributes()) {
      const auto* def = analysis.dictionary().find(attribute.key());
      if (!def || (attribute.type == radius::vendor_specific_type && !attribute.is_vendor())) {
        continue;
      }
      const auto limits = size_rule(def->type);
      if (!limits) {
        continue;
      }
      const auto value = view.packet->value(attribute);
      const std::size_t size = value.size();
      const std::string named = def->name + " (" + std::string(radius::type_name(def->type)) + ")";
      if (size < limits->min || size > limits->max) {
        const std::string expected =
            limits->min == limits->max
                ? std::to_string(limits->min)
                : std::to_string(limits->min) + "-" + std::to_string(limits->max);
        sink.report(rule,
                    named + " has " + std::to_string(size) + " octets; its type needs " + expected,
                    analysis.evidence(view.index));
        continue;
      }
      // RFC 3162 §2.3 (and RFC 4818 §3, RFC 8044 §3.11): Prefix-Length counts bits of an address
      // (at most 128, or 32 for ipv4prefix), and the Prefix field carries every octet it covers.
      if (def->type == DataType::ipv6prefix || def->type == DataType::ipv4prefix) {
        const unsigned bits = value[1];
        const unsigned most = def->type == DataType::ipv6prefix ? 128 : 32;
        const std::size_t needed = (bits + 7) / 8;
        if (bits > most) {
          sink.report(rule,
                      named + " has prefix length " + std::to_string(bits) +
                          "; its type allows at most " + std::to_string(most),
                      analysis.evidence(view.index));
        } else if (needed > size - 2) {
          sink.report(rule,
                      named + " has prefix length " + std::to_string(bits) + ", which needs " +
                          std::to_string(needed) + " prefix octets; it carries " +
                          std::to_string(size - 2),
                      analysis.evidence(view.index));
        }
      }
    }
  }
}

void check_enum_value(const Rule& rule, const Analysis& analysis, FindingSink& sink) {
  const auto* terminate = terminate_cause_def(analysis);
  for (const auto& view : analysis.packets()) {
    if (!view.packet) {
      continue;
    }
    for (const auto& attribute : view.packet->attributes()) {
      const auto* def = analysis.dictionary().find(attribute.key());
      if (!def || def->values.empty() || def->type != DataType::integer) {
        continue;
      }
      // RFC 2868 §3: a tagged integer's first octet is its tag, not part of the value.
      const auto value =
          radius::read_unsigned(radius::split_tag(*def, view.packet->value(attribute)).value, 4);
      if (!value) {
        continue; // a length problem, reported by the length rule
      }
      if (def == terminate && *value == 0) {
        continue; // its own rule: the seed's Stop sends 0
      }
      if (!def->value_name(*value)) {
        sink.report(rule,
                    def->name + " = " + std::to_string(*value) +
                        " is not a value the dictionary defines",
                    analysis.evidence(view.index));
      }
    }
  }
}

void check_terminate_cause_zero(const Rule& rule, const Analysis& analysis, FindingSink& sink) {
  const auto* terminate = terminate_cause_def(analysis);
  if (!terminate) {
    return;
  }
  for (const auto& view : analysis.packets()) {
    if (!view.request) {
      continue;
    }
    for (const auto& attribute : view.packet->attributes()) {
      if (attribute.key() != terminate->key()) {
        continue;
      }
      const auto value = radius::read_unsigned(view.packet->value(attribute), 4);
      if (value && *value == 0) {
        sink.report(rule,
                    "Acct-Terminate-Cause = 0 (IOS prints \"none [0]\"); RFC 2866 §5.10 defines "
                    "1-18 only",
                    analysis.evidence(view.index));
      }
    }
  }
}

void check_nas_identity(const Rule& rule, const Analysis& analysis, FindingSink& sink) {
  for (const auto& view : analysis.packets()) {
    if (!view.request) {
      continue;
    }
    const auto& record = *view.record;
    if (!record.nas_ip && !record.nas_ipv6 && !record.nas_identifier) {
      sink.report(rule,
                  status_label(analysis, view.index) +
                      " carries none of NAS-IP-Address, NAS-IPv6-Address and NAS-Identifier "
                      "(RFC 2866 §4.1 needs one; RFC 3162 §2.1 adds NAS-IPv6-Address)",
                  analysis.evidence(view.index));
    }
  }
}

void check_avpair_syntax(const Rule& rule, const Analysis& analysis, FindingSink& sink) {
  const auto* avpair = analysis.dictionary().find("Cisco-AVPair");
  if (!avpair) {
    return;
  }
  for (const auto& view : analysis.packets()) {
    if (!view.request) {
      continue;
    }
    for (const auto& attribute : view.packet->attributes()) {
      if (attribute.key() != avpair->key()) {
        continue;
      }
      const auto value = view.packet->value(attribute);
      const std::string_view text(reinterpret_cast<const char*>(value.data()), value.size());
      if (!radius::parse_cisco_avpair(text)) {
        sink.report(rule,
                    "Cisco-AVPair " + quoted(value) + " is not \"name=value\" or \"name*value\"",
                    analysis.evidence(view.index));
      }
    }
  }
}

void check_presence(const PresenceRow& row, const Rule& rule, const Analysis& analysis,
                    FindingSink& sink) {
  for (const auto& view : analysis.packets()) {
    if (!view.request) {
      continue;
    }
    // Retransmissions repeat the first transmission; judge each record once.
    if (analysis.exchanges()[view.exchange].transmissions.front() != view.index) {
      continue;
    }
    const auto status = view.record->status_type;
    if (row.status && status != row.status) {
      continue;
    }
    std::size_t count = 0;
    std::string spelling_seen;
    std::string value_seen; // of an alternative attribute
    if (row.avpair) {
      for (const auto& pair : view.record->cisco_avpairs) {
        for (std::size_t s = 0; s < row.names.size(); ++s) {
          if (pair.name == row.names[s]) {
            ++count;
            if (s > 0) {
              spelling_seen = row.names[s];
            }
          }
        }
      }
    } else {
      // The attribute itself when present, else the first alternative that is (NAS-IPv6-Address
      // for NAS-IP-Address): that one is counted.
      for (std::size_t s = 0; s < row.keys.size(); ++s) {
        count = view.packet->count(row.keys[s]);
        if (count > 0) {
          if (s > 0) {
            spelling_seen = row.names[s];
            const auto* def = analysis.dictionary().find(row.keys[s]);
            for (const auto& attribute : view.packet->attributes()) {
              if (attribute.key() == row.keys[s]) {
                value_seen = radius::format_value(def, view.packet->value(attribute)).text;
                break;
              }
            }
          }
          break;
        }
      }
    }
    std::string what = row.avpair ? "Cisco AV pair " + row.names.front() : row.names.front();
    if (!row.avpair && row.names.size() > 1) {
      what = spelling_seen.empty() ? what : spelling_seen + " (standing for " + what + ")";
      if (count == 0) {
        for (std::size_t s = 1; s < row.names.size(); ++s) {
          what += (s == 1 ? " (nor " : ", nor ") + row.names[s];
        }
        what += ")";
      }
    }
    const std::string status_text =
        status ? status_label(analysis, view.index) : "Accounting-Request";
    if (!row.count.contains(count)) {
      sink.report(rule,
                  status_text + " carries " + what + " " + std::to_string(count) +
                      " time(s); the profile allows " + row.count.text(),
                  analysis.evidence(view.index));
    } else if (!spelling_seen.empty() && row.avpair) {
      sink.report(rule, Severity::info,
                  status_text + " spells " + row.names.front() + " as \"" + spelling_seen +
                      "\" (accepted)",
                  analysis.evidence(view.index));
    } else if (!spelling_seen.empty()) {
      sink.report(rule, Severity::info,
                  status_text + " carries " + spelling_seen + " " + value_seen + " instead of " +
                      row.names.front() + ", which the profile accepts in its stead",
                  analysis.evidence(view.index));
    }
  }
}

} // namespace acctlab::conformance::detail
