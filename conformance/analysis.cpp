#include "conformance/analysis.hpp"

#include "radius/authenticator.hpp"
#include "radius/packet_codec.hpp"

#include <algorithm>
#include <map>
#include <tuple>
#include <unordered_map>

namespace acctlab::conformance {
namespace {

using radius::Code;

// What identifies a request's content: for a retransmission (Copy::retransmission), everything
// but what RFC 5080 §2.2.1 lets one change — Identifier and authenticator always, and
// Acct-Delay-Time; for the same record on another path (Copy::record: a broadcast or failover
// copy, or a proxy's forward), also what a proxy adds or recomputes on the way — its own
// Proxy-State (RFC 2865 §5.33) and Message-Authenticator (RFC 3579 §3.2).
enum class Copy : std::uint8_t { retransmission, record };

std::string content_key(const radius::Packet& packet, const radius::AttrKey& delay_key,
                        Copy copy = Copy::retransmission) {
  std::string key;
  key.reserve(256);
  for (const auto& attribute : packet.attributes()) {
    if (attribute.key() == delay_key) {
      continue;
    }
    if (copy == Copy::record && !attribute.is_vendor() &&
        (attribute.type == radius::proxy_state_type ||
         attribute.type == radius::message_authenticator_type)) {
      continue;
    }
    // Fixed-width shape, then the value with its length: unambiguous without separators.
    const auto value = packet.value(attribute);
    const std::uint32_t shape[4] = {attribute.type, attribute.vendor, attribute.vendor_type,
                                    static_cast<std::uint32_t>(value.size())};
    key.append(reinterpret_cast<const char*>(shape), sizeof shape);
    key.append(reinterpret_cast<const char*>(value.data()), value.size());
  }
  return key;
}

radius::AttrKey delay_key_of(const radius::Dictionary& dict) {
  if (const auto* def = dict.find("Acct-Delay-Time")) {
    return def->key();
  }
  return radius::AttrKey{0, 41};
}

} // namespace

Service service_of(Code code) noexcept {
  switch (code) {
    case Code::accounting_request:
    case Code::accounting_response:
      return Service::accounting;
    case Code::access_request:
    case Code::access_accept:
    case Code::access_reject:
    case Code::access_challenge:
      return Service::authentication;
    case Code::disconnect_request:
    case Code::disconnect_ack:
    case Code::disconnect_nak:
    case Code::coa_request:
    case Code::coa_ack:
    case Code::coa_nak:
      return Service::dynamic_authorization;
    case Code::status_server:
    case Code::status_client:
      return Service::status;
  }
  return Service::unknown;
}

bool is_request(Code code) noexcept {
  return code == Code::access_request || code == Code::accounting_request ||
         code == Code::status_server || code == Code::disconnect_request ||
         code == Code::coa_request;
}

std::string nas_endpoint(const TracePacket& packet) {
  if (packet.raw.empty()) {
    return packet.source;
  }
  const auto code = static_cast<Code>(packet.raw[0]);
  const auto service = service_of(code);
  if (service == Service::unknown) {
    return packet.direction == Direction::from_server ? packet.destination : packet.source;
  }
  const bool nas_sends =
      service == Service::dynamic_authorization ? !is_request(code) : is_request(code);
  return nas_sends ? packet.source : packet.destination;
}

std::string_view to_string(Service service) noexcept {
  switch (service) {
    case Service::accounting:
      return "accounting";
    case Service::authentication:
      return "authentication";
    case Service::dynamic_authorization:
      return "dynamic authorization";
    case Service::status:
      return "status";
    case Service::unknown:
      return "unknown";
  }
  return "unknown";
}

PacketView view_packet(const TracePacket& tp, std::size_t index, const radius::Dictionary& dict) {
  PacketView view;
  view.index = index;
  view.trace = &tp;
  view.event_time = tp.time;
  auto decoded = radius::decode_packet(tp.raw, dict);
  bool to_server = tp.direction == Direction::to_server;
  if (decoded) {
    view.packet = std::move(decoded).value();
    if (tp.direction == Direction::unknown) {
      to_server = is_request(view.packet->code());
    }
  } else {
    view.failure = decoded.error();
    if (tp.direction == Direction::unknown && !tp.raw.empty()) {
      to_server = is_request(static_cast<Code>(tp.raw[0]));
    }
  }
  view.client = to_server ? tp.source : tp.destination;
  if (view.packet) {
    view.service = service_of(view.packet->code());
  }
  if (view.packet && to_server && view.packet->code() == Code::accounting_request) {
    view.request = true;
    view.record = radius::make_accounting_record(*view.packet, dict);
    const auto identity = view.record->nas_identity();
    view.nas_key = identity.empty() ? host_part(view.client) : identity;
    if (view.record->delay_time) {
      view.event_time = tp.time - *view.record->delay_time;
    }
  } else if (!to_server && view.packet &&
             (view.service == Service::accounting || view.service == Service::unknown)) {
    // Other services' answers are recognised by pairing (Analysis); an Access-Accept that
    // answers an Accounting-Request is made a response there, for EXC-RESPONSE-CODE.
    view.response = true;
  }
  return view;
}

std::string exchange_key(const PacketView& view, const radius::Dictionary& dict) {
  return view.trace->source + '\x1e' + view.trace->destination + '\x1e' +
         content_key(*view.packet, delay_key_of(dict));
}

std::string record_copy_key(const PacketView& view, const radius::Dictionary& dict) {
  return view.nas_key + '\x1e' + content_key(*view.packet, delay_key_of(dict), Copy::record);
}

void append_evidence(Evidence& evidence, std::size_t trace_index, const PacketView& view,
                     const PacketView* answered) {
  evidence.packets.push_back(trace_index);
  if (view.trace->packet_id) {
    evidence.packet_ids.push_back(*view.trace->packet_id);
  }
  if (view.packet) {
    evidence.identifiers.push_back(view.packet->identifier());
  }
  if (view.trace->frame) {
    evidence.frames.push_back(*view.trace->frame);
  }
  if (view.trace->file && evidence.file.empty()) {
    evidence.file = *view.trace->file;
  }
  // The finding is about the last packet named (earlier ones are context), so the NAS and
  // session are the last record's; an answer speaks for its request.
  if (view.record) {
    evidence.nas = view.nas_key;
    evidence.session_id = view.record->session_id;
  } else if (answered && answered->record) {
    evidence.nas = answered->nas_key;
    evidence.session_id = answered->record->session_id;
  }
}

Analysis::Analysis(const Trace& trace, const Profile& profile, const radius::Dictionary& dict)
    : Analysis(trace, profile, dict, {}) {}

Analysis::Analysis(const Trace& trace, const Profile& profile, const radius::Dictionary& dict,
                   std::vector<std::size_t> trace_indices)
    : trace_(trace), profile_(profile), dict_(dict), trace_indices_(std::move(trace_indices)) {
  const radius::AttrKey delay_key = delay_key_of(dict);
  packets_.reserve(trace.packets.size());
  // client, server and Identifier -> requests with that identifier, in order.
  std::unordered_map<std::string, std::vector<std::size_t>> by_id;
  const auto id_key = [](const std::string& client, const std::string& server, std::uint8_t id) {
    return client + '\x1e' + server + '\x1e' + static_cast<char>(id);
  };
  std::unordered_map<std::string, std::size_t> exchange_by_content;
  std::unordered_map<std::string, std::size_t> session_by_key;
  by_id.reserve(trace.packets.size());
  exchange_by_content.reserve(trace.packets.size());

  for (std::size_t i = 0; i < trace.packets.size(); ++i) {
    const auto& tp = trace.packets[i];
    PacketView view = view_packet(tp, i, dict);
    const bool from_client = view.packet && view.client == tp.source;
    if (from_client && is_request(view.packet->code())) {
      by_id[id_key(tp.source, tp.destination, view.packet->identifier())].push_back(i);
    }
    if (view.request) {
      const auto key =
          tp.source + '\x1e' + tp.destination + '\x1e' + content_key(*view.packet, delay_key);
      auto [it, inserted] = exchange_by_content.try_emplace(key, exchanges_.size());
      if (inserted) {
        exchanges_.emplace_back();
      }
      view.exchange = it->second;
      exchanges_[it->second].transmissions.push_back(i);
    } else if (view.packet && !from_client) {
      auto it = by_id.find(id_key(tp.destination, tp.source, view.packet->identifier()));
      if (it != by_id.end() && !it->second.empty()) {
        const std::size_t request = it->second.back();
        auto& asked = packets_[request];
        view.answers = request;
        if (asked.answer == none) {
          asked.answer = i;
        }
        if (asked.request) {
          view.response = true; // whatever its code: EXC-RESPONSE-CODE judges it
          auto& exchange = exchanges_[asked.exchange];
          if (exchange.answered_by == none) {
            exchange.answered_by = i;
          }
        } else {
          // Status-Server is answered with an Accounting-Response on the accounting port
          // (RFC 5997 §3): the answer belongs to its request's service.
          view.response = false;
          view.service = asked.service;
        }
      }
    }
    packets_.push_back(std::move(view));
  }

  // Sessions: the first transmission of each exchange, by NAS and Acct-Session-Id, in order.
  // Accounting-On/Off describe the NAS, not a session (RFC 2866 §5.1).
  // A record broadcast to several servers, moved to another server by failover, or forwarded by
  // a proxy (a capture taken on the proxy holds both legs) is one record of its session: keep the
  // first copy (same NAS and content apart from Acct-Delay-Time, Proxy-State and
  // Message-Authenticator). Each copy's exchange is still judged on its own leg.
  // The same content sent again from the same address to the same server after the first was
  // answered, and after the NAS went on to another record of that session, is no copy but a
  // record of its own (pam_radius_auth in a fresh PID namespace gives every login the
  // Acct-Session-Id of process 1, and its Starts are the same octets but for Identifier and
  // authenticator); RFC5080-RESEND-NEW-ID draws the same line. Without a record in between it
  // stays a copy: an answer the capture saw may have been lost after it, and the NAS's
  // retransmission of that record is then right.
  std::unordered_map<std::string, std::size_t> record_copies;
  for (std::size_t i = 0; i < packets_.size(); ++i) {
    const auto& view = packets_[i];
    if (!view.request || exchanges_[view.exchange].transmissions.front() != i) {
      continue;
    }
    auto [copy, fresh] = record_copies.try_emplace(record_copy_key(view, dict), i);
    if (!fresh) {
      const auto& first = packets_[copy->second];
      const auto answered = exchanges_[first.exchange].answered_by;
      const auto session = session_by_key.find(view.nas_key + '\x1e' + view.record->session_id);
      const bool moved_on = session != session_by_key.end() &&
                            sessions_[session->second].records.back() != copy->second;
      const bool again = trace.responses_recorded && answered != none && answered < i &&
                         first.trace->destination == view.trace->destination &&
                         host_part(first.client) == host_part(view.client) && moved_on;
      if (!again) {
        continue;
      }
      copy->second = i;
    }
    const auto st = view.record->status_type;
    if (view.record->session_id.empty() || (st && (*st == 7 || *st == 8))) {
      continue;
    }
    auto [it, inserted] = session_by_key.try_emplace(
        view.nas_key + '\x1e' + view.record->session_id, sessions_.size());
    if (inserted) {
      sessions_.push_back({view.nas_key, view.record->session_id, {}});
    }
    sessions_[it->second].records.push_back(i);
  }
}

std::optional<std::uint32_t> Analysis::status(std::size_t packet) const {
  const auto& view = packets_[packet];
  return view.record ? view.record->status_type : std::nullopt;
}

Party Analysis::party_of(const Finding& finding) const {
  if (finding.scope != Scope::packet || finding.party != Party::nas ||
      finding.evidence.packets.empty()) {
    return finding.party;
  }
  std::size_t index = finding.evidence.packets.front();
  if (!trace_indices_.empty()) { // a part: its packets' whole-trace indices are ascending
    const auto it = std::lower_bound(trace_indices_.begin(), trace_indices_.end(), index);
    if (it == trace_indices_.end() || *it != index) {
      return finding.party;
    }
    index = static_cast<std::size_t>(it - trace_indices_.begin());
  }
  if (index >= packets_.size()) {
    return finding.party;
  }
  const auto& view = packets_[index];
  const bool from_server = view.packet && !view.request && view.client != view.trace->source;
  return from_server ? Party::server : finding.party;
}

Evidence Analysis::evidence(std::size_t packet) const {
  return evidence(std::vector<std::size_t>{packet});
}

Evidence Analysis::evidence(const std::vector<std::size_t>& packets) const {
  Evidence evidence;
  for (const auto index : packets) {
    const auto& view = packets_[index];
    append_evidence(evidence, trace_index(index), view,
                    view.answers != none ? &packets_[view.answers] : nullptr);
  }
  if (evidence.nas.empty() && !packets.empty()) {
    evidence.nas = host_part(packets_[packets.front()].client);
  }
  return evidence;
}

} // namespace acctlab::conformance
