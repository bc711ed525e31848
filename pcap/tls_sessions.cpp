#include "pcap/tls_sessions.hpp"

#include <algorithm>

namespace acctlab::capture {
namespace {

// A TLS record is at most 2^14 + 256 octets of fragment (RFC 8446 §5.2) plus its header: an
// unfinished handshake record never needs more. A direction holding more is not followed.
constexpr std::size_t max_buffered = 20 * 1024;

// RFC 8446 §5.1 / RFC 5246 §6.2.1: ContentType values.
constexpr std::uint8_t record_change_cipher_spec = 20;
constexpr std::uint8_t record_alert = 21;
constexpr std::uint8_t record_handshake = 22;
constexpr std::uint8_t record_application_data = 23;
// RFC 8446 §4: HandshakeType values.
constexpr std::uint8_t client_hello = 1;
constexpr std::uint8_t server_hello = 2;
// Extension types: server_name (RFC 6066), ALPN (RFC 7301), supported_versions (RFC 8446).
constexpr std::uint16_t ext_server_name = 0;
constexpr std::uint16_t ext_alpn = 16;
constexpr std::uint16_t ext_supported_versions = 43;
constexpr std::uint16_t ext_encrypt_then_mac = 22; // RFC 7366

std::uint16_t be16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>(p[0] << 8 | p[1]);
}
std::uint32_t be32(const std::uint8_t* p) {
  return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3];
}

std::string version_name(std::uint16_t version) {
  switch (version) {
    case 0x0301:
      return "TLSv1.0";
    case 0x0302:
      return "TLSv1.1";
    case 0x0303:
      return "TLSv1.2";
    case 0x0304:
      return "TLSv1.3";
    default:
      return {}; // GREASE (RFC 8701) and the unknown are not named
  }
}

void append_word(std::string& list, const std::string& word) {
  if (!word.empty()) {
    list += list.empty() ? word : " " + word;
  }
}

/** A bounds-checked reader over a hello message; any overrun marks it failed. */
struct Reader {
  std::span<const std::uint8_t> data;
  std::size_t at = 0;
  bool failed = false;

  bool need(std::size_t n) {
    if (failed || data.size() - at < n) {
      failed = true;
      return false;
    }
    return true;
  }
  std::uint8_t u8() { return need(1) ? data[at++] : 0; }
  std::uint16_t u16() {
    if (!need(2)) {
      return 0;
    }
    at += 2;
    return be16(data.data() + at - 2);
  }
  std::span<const std::uint8_t> take(std::size_t n) {
    if (!need(n)) {
      return {};
    }
    at += n;
    return data.subspan(at - n, n);
  }
};

/** ALPN's ProtocolNameList (RFC 7301 §3.1): length-prefixed names. */
std::string alpn_names(std::span<const std::uint8_t> list) {
  Reader r{list};
  std::string names;
  const auto total = r.u16();
  auto body = r.take(total);
  Reader inner{body};
  while (!inner.failed && inner.at < body.size()) {
    const auto length = inner.u8();
    const auto name = inner.take(length);
    if (!inner.failed) {
      append_word(names, std::string(name.begin(), name.end()));
    }
  }
  return names;
}

/** server_name's list (RFC 6066 §3): the first host_name. */
std::string server_name(std::span<const std::uint8_t> list) {
  Reader r{list};
  r.u16();
  const auto type = r.u8();
  const auto length = r.u16();
  const auto name = r.take(length);
  return !r.failed && type == 0 ? std::string(name.begin(), name.end()) : std::string();
}

/** What the hellos say that decryption needs. */
struct HelloKeys {
  std::optional<ClientRandom>& client_random;
  std::optional<ClientRandom>& server_random;
  std::uint16_t& cipher_suite;
  bool& encrypt_then_mac;
};

void read_hello(TlsSession& session, std::uint8_t type, std::span<const std::uint8_t> body,
                HelloKeys keys) {
  Reader r{body};
  const auto legacy_version = r.u16();
  const auto random = r.take(32);
  if (!r.failed) {
    auto& kept = type == client_hello ? keys.client_random : keys.server_random;
    kept.emplace();
    std::copy(random.begin(), random.end(), kept->begin());
  }
  r.take(r.u8()); // legacy_session_id
  if (type == client_hello) {
    r.take(r.u16()); // cipher_suites
    r.take(r.u8());  // compression methods
  } else {
    keys.cipher_suite = r.u16();
    if (!r.failed) {
      session.cipher_suite = cipher_suite_name(keys.cipher_suite);
    }
    r.u8(); // compression
  }
  std::string offered;
  std::string chosen = version_name(legacy_version);
  if (r.failed || r.at == body.size()) {
    if (type == server_hello) {
      session.version = chosen;
    }
    return; // no extensions
  }
  const auto extensions_length = r.u16();
  Reader e{r.take(extensions_length)};
  while (!e.failed && e.at < e.data.size()) {
    const auto ext = e.u16();
    const auto data = e.take(e.u16());
    if (e.failed) {
      break;
    }
    if (ext == ext_server_name && type == client_hello) {
      session.sni = server_name(data);
    } else if (ext == ext_encrypt_then_mac && type == server_hello) {
      keys.encrypt_then_mac = true;
    } else if (ext == ext_alpn) {
      (type == client_hello ? session.alpn_offered : session.alpn) = alpn_names(data);
    } else if (ext == ext_supported_versions) {
      Reader v{data};
      if (type == client_hello) {
        const auto n = v.u8();
        for (std::size_t i = 0; i + 1 < n && !v.failed; i += 2) {
          append_word(offered, version_name(v.u16()));
        }
      } else {
        chosen = version_name(v.u16()); // RFC 8446 §4.2.1: the real choice under TLS 1.3
      }
    }
  }
  if (type == client_hello) {
    session.offered_versions = offered.empty() ? version_name(legacy_version) : offered;
  } else {
    session.version = chosen;
  }
}

} // namespace

std::vector<std::uint16_t> radsec_ports(const std::vector<std::uint16_t>& extra_ports) {
  std::vector<std::uint16_t> ports{2083};
  ports.insert(ports.end(), extra_ports.begin(), extra_ports.end());
  return ports;
}

TlsSessionTracker::TlsSessionTracker(std::vector<std::uint16_t> ports, std::size_t max_sessions,
                                     const TlsKeyLog* keys, RadsecPacketSink sink)
    : ports_(std::move(ports)), max_sessions_(max_sessions), keys_(keys), sink_(std::move(sink)) {}

bool TlsSessionTracker::decrypting(const Flow& flow) const {
  return keys_ && flow.random &&
         (flow.session.version == "TLSv1.3" ||
          (flow.session.version == "TLSv1.2" && flow.server_random));
}

bool TlsSessionTracker::decrypt(Flow& flow, Direction& direction, bool from_client,
                                std::span<const std::uint8_t> record) {
  auto fail = [&](const std::string& why) {
    if (flow.session.unreadable.empty()) {
      flow.session.unreadable = why;
    }
    return false;
  };
  const std::string side = from_client ? "CLIENT_" : "SERVER_";
  if (direction.stage == 0) {
    const auto* secret = keys_->find(*flow.random, side + "HANDSHAKE_TRAFFIC_SECRET");
    if (!secret) {
      return fail("no key log entry for this session (its ClientHello random)");
    }
    if (!direction.reader.set_secret(flow.cipher_suite, *secret)) {
      return fail("cipher suite " + cipher_suite_name(flow.cipher_suite) + " is not decrypted");
    }
    direction.stage = 1;
  }
  std::uint8_t inner = 0;
  auto plain = direction.reader.open(record.first(5), record.subspan(5), inner);
  if (!plain) {
    return fail("a TLS record did not decrypt with the key log's secrets");
  }
  if (direction.stage == 1) {
    // RFC 8446 §4.4.4: Finished (type 20) ends this side's handshake; application traffic
    // secret 0 protects what follows.
    bool finished = false;
    for (std::size_t at = 0; inner == record_handshake && at + 4 <= plain->size();) {
      finished = finished || (*plain)[at] == 20;
      at += 4 + (std::size_t{(*plain)[at + 1]} << 16 | std::size_t{(*plain)[at + 2]} << 8 |
                 (*plain)[at + 3]);
    }
    if (finished) {
      const auto* secret = keys_->find(*flow.random, side + "TRAFFIC_SECRET_0");
      if (!secret || !direction.reader.set_secret(flow.cipher_suite, *secret)) {
        return fail("no application traffic secret in the key log for this session");
      }
      direction.stage = 2;
      flow.session.decrypted = true;
    }
    return true;
  }
  if (inner != record_application_data) {
    return true; // NewSessionTicket and the like
  }
  return frame_radius(flow, direction, from_client, *plain);
}

bool TlsSessionTracker::change_cipher_spec(Flow& flow, Direction& direction, bool from_client) {
  auto fail = [&](const std::string& why) {
    if (flow.session.unreadable.empty()) {
      flow.session.unreadable = why;
    }
    return false;
  };
  if (direction.stage != 0) {
    return fail("a second ChangeCipherSpec (renegotiation) is not followed");
  }
  if (!Tls12Reader::supported(flow.cipher_suite)) {
    return fail("cipher suite " + cipher_suite_name(flow.cipher_suite) + " is not decrypted");
  }
  // RFC 5246 §8.1: the master secret, logged as CLIENT_RANDOM by the session's ClientHello random.
  const auto* master = keys_->find(*flow.random, "CLIENT_RANDOM");
  if (!master) {
    return fail("no key log entry (CLIENT_RANDOM) for this session (its ClientHello random)");
  }
  if (!direction.reader12.set_keys(flow.cipher_suite, *master, *flow.random, *flow.server_random,
                                   from_client, flow.encrypt_then_mac)) {
    return fail("the key block of cipher suite " + cipher_suite_name(flow.cipher_suite) +
                " could not be derived");
  }
  direction.stage = 2;
  return true;
}

bool TlsSessionTracker::decrypt12(Flow& flow, Direction& direction, bool from_client,
                                  std::span<const std::uint8_t> record) {
  auto plain = direction.reader12.open(record.first(5), record.subspan(5));
  if (!plain) {
    if (flow.session.unreadable.empty()) {
      flow.session.unreadable = "a TLS record did not decrypt with the key log's master secret";
    }
    return false;
  }
  flow.session.decrypted = true;
  if (record[0] != record_application_data) {
    return true; // Finished, an alert
  }
  return frame_radius(flow, direction, from_client, *plain);
}

bool TlsSessionTracker::frame_radius(Flow& flow, Direction& direction, bool from_client,
                                     std::span<const std::uint8_t> plain) {
  auto fail = [&](const std::string& why) {
    if (flow.session.unreadable.empty()) {
      flow.session.unreadable = why;
    }
    return false;
  };
  auto& radius = direction.radius;
  radius.insert(radius.end(), plain.begin(), plain.end());
  std::size_t at = 0;
  while (radius.size() - at >= 4) {
    const std::size_t length = std::size_t{radius[at + 2]} << 8 | radius[at + 3];
    if (length < 20 || length > 4096) {
      return fail("a decrypted RADIUS Length outside 20..4096");
    }
    if (radius.size() - at < length) {
      break;
    }
    ++flow.session.radius_packets;
    if (sink_) {
      const auto& source = from_client ? flow.session.client : flow.session.server;
      const auto& destination = from_client ? flow.session.server : flow.session.client;
      sink_(source, destination, flow.now_ns, flow.now_frame,
            std::span<const std::uint8_t>(radius.data() + at, length));
    }
    at += length;
  }
  radius.erase(radius.begin(), radius.begin() + static_cast<std::ptrdiff_t>(at));
  return true;
}

void TlsSessionTracker::add(const ParsedFrame& parsed, std::int64_t timestamp_ns, FrameRef where) {
  // RFC 9293 §3.1: ports, sequence number, data offset, flags.
  const auto segment = parsed.payload;
  if (segment.size() < 20) {
    return;
  }
  const std::uint16_t source_port = be16(segment.data());
  const std::uint16_t destination_port = be16(segment.data() + 2);
  const bool to_server = std::find(ports_.begin(), ports_.end(), destination_port) != ports_.end();
  const bool from_server = std::find(ports_.begin(), ports_.end(), source_port) != ports_.end();
  if (!to_server && !from_server) {
    return;
  }
  const std::size_t header_length = static_cast<std::size_t>(segment[12] >> 4) * 4;
  if (header_length < 20 || header_length > segment.size()) {
    return;
  }
  const std::uint32_t sequence = be32(segment.data() + 4);
  const std::uint8_t flags = segment[13];
  const bool syn = (flags & 0x02) != 0;
  const bool fin = (flags & 0x01) != 0;
  const Endpoint source{parsed.source, source_port};
  const Endpoint destination{parsed.destination, destination_port};
  const auto key = to_server ? std::pair{source, destination} : std::pair{destination, source};
  auto it = flows_.find(key);
  if (it == flows_.end()) {
    if (flows_.size() >= max_sessions_) {
      ++not_kept_;
      return;
    }
    it = flows_.emplace(key, Flow{}).first;
    auto& session = it->second.session;
    session.client = key.first;
    session.server = key.second;
    session.first_frame = where;
    session.first_ns = timestamp_ns;
    it->second.order = next_order_++;
  }
  Flow& flow = it->second;
  flow.session.last_ns = timestamp_ns;
  flow.now_ns = timestamp_ns;
  flow.now_frame = where;
  flow.session.syn_seen = flow.session.syn_seen || syn;
  flow.session.fin_seen = flow.session.fin_seen || fin;
  const auto data = segment.subspan(header_length);
  (to_server ? flow.session.octets_to_server : flow.session.octets_to_client) += data.size();
  consume(flow, to_server ? flow.to_server : flow.to_client, to_server, sequence, syn, data);
}

void TlsSessionTracker::consume(Flow& flow, Direction& direction, bool from_client,
                                std::uint32_t sequence, bool syn,
                                std::span<const std::uint8_t> data) {
  if (syn) {
    direction.started = true;
    direction.next_sequence = sequence + 1;
    return;
  }
  if (data.empty()) {
    return;
  }
  if (!direction.started) {
    // The capture began inside the stream: record boundaries are unknown.
    direction.started = true;
    direction.reading = false;
    direction.next_sequence = sequence + static_cast<std::uint32_t>(data.size());
    if (flow.session.unreadable.empty()) {
      flow.session.unreadable = "the capture began inside the TCP stream";
    }
    return;
  }
  const auto offset = static_cast<std::int32_t>(sequence - direction.next_sequence);
  if (offset > 0) {
    // A segment the capture missed (or one still to come out of order): stop reading here.
    if (direction.reading && flow.session.unreadable.empty()) {
      flow.session.unreadable = "a gap in the TCP stream (a segment not captured)";
    }
    direction.reading = false;
    direction.next_sequence = sequence + static_cast<std::uint32_t>(data.size());
    return;
  }
  const auto already = static_cast<std::size_t>(-offset);
  if (already >= data.size()) {
    return; // a retransmission of what was read
  }
  auto fresh = data.subspan(already);
  direction.next_sequence += static_cast<std::uint32_t>(fresh.size());
  if (!direction.reading) {
    return;
  }
  // The rest of a record already counted (application data) is passed over, not kept.
  const auto skipped = std::min(direction.skip, fresh.size());
  direction.skip -= skipped;
  fresh = fresh.subspan(skipped);
  if (fresh.empty()) {
    return;
  }
  direction.buffer.insert(direction.buffer.end(), fresh.begin(), fresh.end());
  read_records(flow, direction, from_client);
  if (direction.buffer.size() > max_buffered) {
    direction.reading = false;
    direction.buffer = {};
    if (flow.session.unreadable.empty()) {
      flow.session.unreadable = "a handshake record longer than TLS allows";
    }
  }
}

void TlsSessionTracker::read_records(Flow& flow, Direction& direction, bool from_client) {
  std::size_t at = 0;
  auto& buffer = direction.buffer;
  // RFC 8446 §5.1: type (1), legacy version (2), length (2), fragment.
  while (buffer.size() - at >= 5) {
    const std::uint8_t type = buffer[at];
    const std::size_t length = be16(buffer.data() + at + 3);
    if (type < 20 || type > 24) {
      direction.reading = false;
      if (flow.session.unreadable.empty()) {
        flow.session.unreadable = "not TLS records";
      }
      buffer.clear();
      return;
    }
    if (buffer.size() - at - 5 < length) {
      if (type != record_handshake && !decrypting(flow)) {
        // Counted now and passed over as it arrives: only handshakes (the hellos) are kept
        // whole, so a direction holds at most one handshake record's octets.
        if (type == record_application_data) {
          ++flow.session.application_records;
        }
        direction.skip = length - (buffer.size() - at - 5);
        at = buffer.size();
      }
      break;
    }
    const std::span<const std::uint8_t> fragment(buffer.data() + at + 5, length);
    const std::span<const std::uint8_t> whole(buffer.data() + at, 5 + length);
    const bool tls12 = decrypting(flow) && flow.session.version == "TLSv1.2";
    if (tls12 && type == record_change_cipher_spec) {
      if (!change_cipher_spec(flow, direction, from_client)) {
        direction.reading = false;
        buffer = {};
        return;
      }
    } else if (tls12 && direction.stage == 2 &&
               (type == record_handshake || type == record_alert ||
                type == record_application_data)) {
      // RFC 5246 §7.1: after ChangeCipherSpec every record of this direction is protected,
      // the Finished message first.
      flow.session.application_records += type == record_application_data ? 1 : 0;
      if (!decrypt12(flow, direction, from_client, whole)) {
        direction.reading = false;
        buffer = {};
        return;
      }
    } else if (type == record_application_data) {
      ++flow.session.application_records;
      if (decrypting(flow) &&
          !decrypt(flow, direction, from_client,
                   std::span<const std::uint8_t>(buffer.data() + at, 5 + length))) {
        direction.reading = false;
        buffer = {};
        return;
      }
    } else if (type == record_handshake && fragment.size() >= 4) {
      const std::uint8_t message = fragment[0];
      const std::size_t message_length =
          std::size_t{fragment[1]} << 16 | std::size_t{fragment[2]} << 8 | fragment[3];
      const bool hello =
          (message == client_hello && from_client) || (message == server_hello && !from_client);
      // Once encrypted (TLS 1.3 after the ServerHello), handshake records are type 23: a
      // plaintext handshake record is readable.
      const bool unread = message == client_hello ? flow.session.offered_versions.empty()
                                                  : flow.session.version.empty();
      if (hello && unread && fragment.size() - 4 >= message_length) {
        read_hello(flow.session, message, fragment.subspan(4, message_length),
                   {flow.random, flow.server_random, flow.cipher_suite, flow.encrypt_then_mac});
      }
    }
    at += 5 + length;
  }
  buffer.erase(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(at));
  if (buffer.capacity() > max_buffered && buffer.size() < max_buffered / 4) {
    buffer.shrink_to_fit(); // a large segment passed through; keep the flow small
  }
}

std::vector<TlsSession> TlsSessionTracker::sessions() const {
  std::vector<std::pair<std::uint64_t, const TlsSession*>> ordered;
  for (const auto& [key, flow] : flows_) {
    ordered.emplace_back(flow.order, &flow.session);
  }
  std::sort(ordered.begin(), ordered.end());
  std::vector<TlsSession> out;
  for (const auto& [order, session] : ordered) {
    out.push_back(*session);
  }
  return out;
}

std::string not_read_detail(const TlsSession& session, bool keys_given) {
  std::string why = session.unreadable;
  if (why.empty()) {
    why = keys_given ? "not decrypted" : "encrypted, and no --tls-keylog was given";
  }
  return "RadSec session " + session.client.to_string() + " -> " + session.server.to_string() +
         (session.version.empty() ? std::string() : " (" + session.version + ")") + ": " +
         std::to_string(session.application_records) + " application records not read: " + why;
}

} // namespace acctlab::capture
