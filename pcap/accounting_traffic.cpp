#include "pcap/accounting_traffic.hpp"

#include "pcap/pcap_writer.hpp"
#include "radius/authenticator.hpp"
#include "radius/dictionary.hpp"
#include "radius/packet_codec.hpp"

#include <algorithm>
#include <queue>
#include <random>

namespace acctlab::capture {

namespace {

using radius::Octets;

struct Pending {
  std::int64_t time_ns;
  std::uint64_t order; // equal times keep insertion order
  bool to_server;
  std::uint32_t nas;
  std::uint16_t nas_port;
  Octets payload;
  bool operator>(const Pending& other) const {
    return time_ns != other.time_ns ? time_ns > other.time_ns : order > other.order;
  }
};

// Attribute handles bound by name when the generator starts (never by literal number).
struct Attrs {
  const radius::AttributeDef* user_name;
  const radius::AttributeDef* nas_ip;
  const radius::AttributeDef* nas_port;
  const radius::AttributeDef* status_type;
  const radius::AttributeDef* session_id;
  const radius::AttributeDef* delay_time;
  const radius::AttributeDef* framed_ip;
  const radius::AttributeDef* session_time;
  const radius::AttributeDef* input_octets;
  const radius::AttributeDef* output_octets;
  const radius::AttributeDef* terminate_cause;
  const radius::AttributeDef* cisco_avpair;
  const radius::AttributeDef* cisco_nas_port;
};

std::array<std::uint8_t, 4> u32(std::uint32_t v) {
  return {static_cast<std::uint8_t>(v >> 24), static_cast<std::uint8_t>(v >> 16),
          static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)};
}

} // namespace

std::uint64_t TrafficTruth::lost_before(std::int64_t timeout_ns) const {
  return static_cast<std::uint64_t>(
      std::count_if(lost_last_sent_ns.begin(), lost_last_sent_ns.end(),
                    [&](std::int64_t sent) { return sent + timeout_ns <= last_ns; }));
}

bool write_accounting_capture(const std::string& path, const TrafficSpec& spec, TrafficTruth& truth,
                              std::string& error) {
  const auto& dict = radius::Dictionary::builtin();
  auto need = [&](const char* name) -> const radius::AttributeDef* {
    const auto* def = dict.find(name);
    if (def == nullptr) {
      error = std::string("dictionary lacks ") + name;
    }
    return def;
  };
  const Attrs a{need("User-Name"),          need("NAS-IP-Address"),       need("NAS-Port"),
                need("Acct-Status-Type"),   need("Acct-Session-Id"),      need("Acct-Delay-Time"),
                need("Framed-IP-Address"),  need("Acct-Session-Time"),    need("Acct-Input-Octets"),
                need("Acct-Output-Octets"), need("Acct-Terminate-Cause"), need("Cisco-AVPair"),
                need("Cisco-NAS-Port")};
  if (!error.empty()) {
    return false;
  }
  auto writer = PcapWriter::create(path, error);
  if (!writer) {
    return false;
  }
  truth = TrafficTruth{};
  std::mt19937_64 rng(spec.seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const std::int64_t start_ns = spec.start_ns;
  const auto gap_ns = static_cast<std::int64_t>(1e9 / spec.requests_per_second);
  const Endpoint server{*IpAddress::parse("192.0.2.1"), 1813};
  std::priority_queue<Pending, std::vector<Pending>, std::greater<>> queue;
  std::uint64_t order = 0;
  std::vector<std::uint64_t> per_nas_sequence(spec.nas_count, 0);
  UdpFrameSpec frame;
  bool ok = true;

  auto write = [&](const Pending& p) {
    const std::uint8_t nas_octets[4] = {198, 51, 100,
                                        static_cast<std::uint8_t>(spec.first_nas + p.nas)};
    const Endpoint nas{IpAddress::v4(nas_octets), p.nas_port};
    frame.timestamp_ns = p.time_ns;
    frame.source = p.to_server ? nas : server;
    frame.destination = p.to_server ? server : nas;
    frame.ip_id = static_cast<std::uint32_t>(order);
    ok = writer->write_udp(frame, p.payload) && ok;
    if (truth.frames++ == 0) {
      truth.first_ns = p.time_ns;
    }
    truth.last_ns = std::max(truth.last_ns, p.time_ns);
  };

  for (std::uint64_t i = 0; i < spec.exchanges && ok; ++i) {
    const std::int64_t t = start_ns + static_cast<std::int64_t>(i) * gap_ns;
    while (!queue.empty() && queue.top().time_ns <= t) {
      write(queue.top());
      queue.pop();
    }
    const auto nas = static_cast<std::uint32_t>(i % spec.nas_count);
    const std::uint64_t sequence = per_nas_sequence[nas]++;
    // Identifiers cycle per source port; 64 ports per NAS keep a (port, Identifier) pair from
    // coming back within any sensible timeout (RFC 5080 §2.2.1).
    const auto identifier = static_cast<std::uint8_t>(sequence & 0xFF);
    const auto port = static_cast<std::uint16_t>(20000 + ((sequence >> 8) % 64));
    const std::uint64_t session = sequence / 3;
    static constexpr std::uint32_t cycle[3] = {1, 3, 2}; // Start, Interim-Update, Stop
    const std::uint32_t status = cycle[sequence % 3];

    radius::Packet request(radius::Code::accounting_request, identifier);
    request.reserve(16, 256);
    const std::string user = "user" + std::to_string(session % 1000) + "@cclient";
    const std::string session_id = std::to_string(1000000 + session);
    request.add(static_cast<std::uint8_t>(a.session_id->number), session_id);
    request.add_vendor(9, a.cisco_avpair->number, "isakmp-group-id=cclient");
    const std::uint8_t framed[4] = {10, 13, static_cast<std::uint8_t>(session >> 8),
                                    static_cast<std::uint8_t>(session)};
    request.add(static_cast<std::uint8_t>(a.framed_ip->number), framed);
    request.add_vendor(9, a.cisco_avpair->number, "vrf-id=cisco");
    request.add_vendor(9, a.cisco_avpair->number, "isakmp-initator-ip=11.1.2.2");
    request.add(static_cast<std::uint8_t>(a.user_name->number), user);
    request.add_integer(static_cast<std::uint8_t>(a.status_type->number), status);
    request.add_vendor(9, a.cisco_nas_port->number, "FastEthernet0/0.1");
    request.add_integer(static_cast<std::uint8_t>(a.nas_port->number), 0);
    const std::uint8_t nas_ip[4] = {198, 51, 100, static_cast<std::uint8_t>(spec.first_nas + nas)};
    request.add(static_cast<std::uint8_t>(a.nas_ip->number), nas_ip);
    request.add_integer(static_cast<std::uint8_t>(a.delay_time->number), 0);
    if (status != 1) {
      request.add_integer(static_cast<std::uint8_t>(a.session_time->number),
                          static_cast<std::uint32_t>(60 * (sequence % 3)));
      request.add(static_cast<std::uint8_t>(a.input_octets->number), u32(123456));
      request.add(static_cast<std::uint8_t>(a.output_octets->number), u32(654321));
    }
    if (status == 2) {
      request.add_integer(static_cast<std::uint8_t>(a.terminate_cause->number), 1);
    }
    Octets wire = radius::encode_packet(request, dict);
    radius::sign_request(wire, spec.secret);
    radius::Authenticator request_authenticator;
    std::copy_n(wire.begin() + 4, request_authenticator.size(), request_authenticator.begin());

    ++truth.exchanges;
    ++truth.by_status_type[status];
    const double fate = unit(rng);
    const bool lost = fate < spec.lost;
    const bool retransmitted = !lost && fate < spec.lost + spec.retransmitted;
    std::int64_t last_sent = t;
    write(Pending{t, order++, true, nas, port, wire});
    ++truth.requests;
    if (retransmitted) {
      last_sent = t + spec.retransmit_after_ns;
      queue.push(Pending{last_sent, order++, true, nas, port, wire});
      ++truth.requests;
      ++truth.retransmitted;
      ++truth.by_status_type[status];
    }
    if (lost) {
      ++truth.lost;
      truth.lost_last_sent_ns.push_back(last_sent);
      continue;
    }
    const std::int64_t latency =
        spec.latency_ns +
        static_cast<std::int64_t>(unit(rng) * static_cast<double>(spec.latency_ns));
    radius::Packet response(radius::Code::accounting_response, identifier);
    Octets answer = radius::encode_packet(response, dict);
    radius::sign_response(answer, request_authenticator, spec.secret);
    queue.push(Pending{last_sent + latency, order++, false, nas, port, std::move(answer)});
    ++truth.responses;
    ++truth.answered;
    if (truth.answered == 1) {
      truth.min_latency_ns = truth.max_latency_ns = latency;
    } else {
      truth.min_latency_ns = std::min(truth.min_latency_ns, latency);
      truth.max_latency_ns = std::max(truth.max_latency_ns, latency);
    }
  }
  while (!queue.empty() && ok) {
    write(queue.top());
    queue.pop();
  }
  ok = writer->close() && ok;
  if (!ok) {
    error = "write failed";
  }
  return ok;
}

} // namespace acctlab::capture
