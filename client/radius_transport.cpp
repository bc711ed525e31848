#include "client/radius_transport.hpp"

#include "radius/authenticator.hpp"
#include "radius/dictionary.hpp"
#include "radius/packet_codec.hpp"

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <charconv>
#include <map>
#include <openssl/rand.h>
#include <unistd.h>

namespace acctlab::gateway {

namespace asio = boost::asio;
using asio::ip::udp;

namespace {

// Every socket has 256 Identifiers (RFC 2865 §3); more in-flight requests open more sockets.
// The cap bounds memory and file descriptors whatever a scenario asks for.
constexpr std::size_t max_channels = 256;
// A TLS link's Identifier taken by its Status-Server watchdog, not by a flight.
constexpr std::uint64_t watchdog_owner = ~std::uint64_t{0};
constexpr auto max_backoff = std::chrono::seconds(60);
using Steady = std::chrono::steady_clock;

} // namespace

std::string ServerEndpoint::to_string() const {
  if (host.find(':') != std::string::npos) {
    return "[" + host + "]:" + std::to_string(port);
  }
  return host + ":" + std::to_string(port);
}

std::optional<std::pair<std::string, std::uint16_t>> parse_host_port(std::string_view text) {
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return std::nullopt;
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos || text.find(':') != colon) {
      return std::nullopt;
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (host.empty() || ec != std::errc{} || end != port.data() + port.size() || value == 0 ||
      value > 65535) {
    return std::nullopt;
  }
  std::string h(host);
  if (h == "localhost") {
    h = "127.0.0.1";
  }
  boost::system::error_code error;
  asio::ip::make_address(h, error);
  if (error) {
    return std::nullopt;
  }
  return std::pair{h, static_cast<std::uint16_t>(value)};
}

std::string_view to_string(TransportEvent::Kind kind) {
  switch (kind) {
    case TransportEvent::Kind::sent:
      return "sent";
    case TransportEvent::Kind::lost:
      return "lost";
    case TransportEvent::Kind::answer:
      return "answer";
    case TransportEvent::Kind::bad_answer:
      return "bad_answer";
    case TransportEvent::Kind::dropped_answer:
      return "dropped_answer";
    case TransportEvent::Kind::timeout:
      return "timeout";
    case TransportEvent::Kind::failover:
      return "failover";
    case TransportEvent::Kind::gave_up:
      return "gave_up";
  }
  return "?";
}

struct RadiusTransport::Impl {
  struct Channel {
    explicit Channel(asio::io_context& io) : socket(io) {}
    udp::socket socket;
    bool v6 = false;
    std::uint16_t local_port = 0;
    std::array<std::uint64_t, 256> owner{}; // flight id + 1; 0 is free
    std::size_t used = 0;
    std::uint8_t next_id = 0;
    std::array<std::uint8_t, 4096> buffer{};
    udp::endpoint from;
  };

  struct Record {
    OutgoingRecord spec;
  };

  /** The one RadSec connection to a TLS endpoint, and its 256 Identifiers. */
  struct Link {
    std::unique_ptr<RadsecStream> stream;
    std::unique_ptr<asio::posix::stream_descriptor> watcher; // readiness of a dup of its socket
    std::array<std::uint64_t, 256> owner{};                  // flight id + 1; 0 is free
    std::size_t used = 0;
    std::uint8_t next_id = 0;
    std::uint64_t generation = 0; // counts connections made
    Steady::time_point next_connect{};
    Steady::duration backoff{};
    std::string down_reason;
    Steady::time_point last_traffic{};
    std::optional<std::uint8_t> watchdog_id;
    radius::Authenticator watchdog_authenticator{};
    Steady::time_point watchdog_deadline{};
  };

  struct Flight {
    std::shared_ptr<Record> record;
    std::size_t position = 0; // in record->spec.servers
    std::size_t server = 0;
    std::uint32_t attempt = 0;
    std::optional<std::uint32_t> delay;
    std::size_t channel = 0;
    std::optional<std::uint8_t> identifier;
    radius::Authenticator request_authenticator{};
    std::vector<std::uint8_t> wire;
    Millis deadline{0};
    std::chrono::steady_clock::time_point sent_real;
    bool answerable = false;
    std::uint64_t generation = 0; // TLS: the connection the last transmission went out on
  };

  Impl(const std::vector<ServerEndpoint>& e, TransportOptions o, const Clock& c)
      : endpoints(e), options(o), clock(c), states(e.size(), SlotState::up), links(e.size()) {}

  const std::vector<ServerEndpoint>& endpoints;
  TransportOptions options;
  const Clock& clock;
  asio::io_context io;
  std::vector<udp::endpoint> destinations;
  std::vector<std::unique_ptr<Channel>> channels;
  std::vector<SlotState> states;
  std::map<std::uint64_t, Flight> flights;
  std::uint64_t next_flight = 1;
  std::vector<TransportEvent> events;
  std::vector<Link> links; // by endpoint; used by TLS endpoints only

  std::optional<std::string> open() {
    for (const ServerEndpoint& e : endpoints) {
      boost::system::error_code error;
      auto address = asio::ip::make_address(e.host, error);
      if (error) {
        return "bad server address '" + e.host + "'";
      }
      destinations.emplace_back(address, e.port);
    }
    return std::nullopt;
  }

  Channel* add_channel(bool v6) {
    if (channels.size() >= max_channels) {
      return nullptr;
    }
    auto channel = std::make_unique<Channel>(io);
    boost::system::error_code error;
    channel->socket.open(v6 ? udp::v6() : udp::v4(), error);
    if (!error) {
      channel->socket.bind(udp::endpoint(v6 ? udp::v6() : udp::v4(), 0), error);
    }
    if (error) {
      return nullptr;
    }
    channel->v6 = v6;
    channel->local_port = channel->socket.local_endpoint(error).port();
    channels.push_back(std::move(channel));
    std::size_t index = channels.size() - 1;
    receive(index);
    return channels.back().get();
  }

  void receive(std::size_t index) {
    Channel& c = *channels[index];
    c.socket.async_receive_from(asio::buffer(c.buffer), c.from,
                                [this, index](boost::system::error_code error, std::size_t n) {
                                  if (error == asio::error::operation_aborted) {
                                    return;
                                  }
                                  if (!error) {
                                    on_datagram(index, n);
                                  }
                                  receive(index);
                                });
  }

  bool allocate(Flight& flight, std::uint64_t flight_id) {
    if (endpoints[flight.server].tls) {
      Link& link = links[flight.server];
      for (int k = 0; k < 256; ++k) {
        std::uint8_t id = link.next_id++;
        if (link.owner[id] == 0) {
          link.owner[id] = flight_id + 1;
          ++link.used;
          flight.identifier = id;
          return true;
        }
      }
      return false;
    }
    bool v6 = destinations[flight.server].address().is_v6();
    for (std::size_t i = 0; i <= channels.size(); ++i) {
      Channel* c = nullptr;
      std::size_t index = i;
      if (i < channels.size()) {
        c = channels[i].get();
        if (c->v6 != v6 || c->used == 256) {
          continue;
        }
      } else {
        c = add_channel(v6);
        if (!c) {
          return false;
        }
        index = channels.size() - 1;
      }
      // Identifiers go round the space, so a new request does not reuse the one just freed.
      for (int k = 0; k < 256; ++k) {
        std::uint8_t id = c->next_id++;
        if (c->owner[id] == 0) {
          c->owner[id] = flight_id + 1;
          ++c->used;
          flight.channel = index;
          flight.identifier = id;
          return true;
        }
      }
    }
    return false;
  }

  void release(Flight& flight) {
    if (flight.identifier && endpoints[flight.server].tls) {
      Link& link = links[flight.server];
      link.owner[*flight.identifier] = 0;
      --link.used;
      flight.identifier.reset();
      return;
    }
    if (flight.identifier) {
      Channel& c = *channels[flight.channel];
      c.owner[*flight.identifier] = 0;
      --c.used;
      flight.identifier.reset();
    }
  }

  TransportEvent event(TransportEvent::Kind kind, const Flight& f) {
    TransportEvent e;
    e.kind = kind;
    e.time = clock.now();
    e.handle = f.record->spec.handle;
    e.aaa_id = f.record->spec.aaa_id;
    e.label = f.record->spec.label;
    e.server = f.server;
    e.identifier = f.identifier.value_or(0);
    if (endpoints[f.server].tls) {
      const auto& stream = links[f.server].stream;
      e.local_port = stream ? stream->local_port() : 0;
    } else {
      e.local_port = f.identifier ? channels[f.channel]->local_port : 0;
    }
    e.attempt = f.attempt;
    e.delay = f.delay.value_or(0);
    return e;
  }

  void submit(OutgoingRecord spec) {
    auto record = std::make_shared<Record>(Record{std::move(spec)});
    const auto& servers = record->spec.servers;
    if (servers.empty()) {
      return;
    }
    if (record->spec.broadcast) {
      // `aaa accounting ... broadcast`: every server of the group gets the record.
      for (std::size_t i = 0; i < servers.size(); ++i) {
        start(record, i);
      }
    } else {
      start(record, 0);
    }
  }

  void start(const std::shared_ptr<Record>& record, std::size_t position) {
    std::uint64_t id = next_flight++;
    Flight& f = flights[id];
    f.record = record;
    f.position = position;
    f.server = record->spec.servers[position];
    transmit(id, f);
  }

  void transmit(std::uint64_t id, Flight& f) {
    Millis now = clock.now();
    auto delay = static_cast<std::uint32_t>((now - f.record->spec.created).count() / 1000);
    bool changed = f.wire.empty() || !f.delay || *f.delay != delay;
    if (changed) {
      // RFC 5080 §2.2.1: a changed Acct-Delay-Time changes the packet, so it gets a new
      // Identifier and, being signed over its contents (RFC 2866 §3), a new authenticator.
      release(f);
      if (!allocate(f, id)) {
        TransportEvent e = event(TransportEvent::Kind::gave_up, f);
        e.reason = "no free RADIUS identifier";
        events.push_back(std::move(e));
        flights.erase(id);
        return;
      }
      radius::Packet packet = f.record->spec.build(delay);
      packet.set_identifier(*f.identifier);
      // The record's values come from the scenario and the configuration (user names, group
      // names, VRFs, interfaces): one too long for its attribute, or a packet over 4096
      // octets, drops the record with the reason instead of sending another packet.
      auto encoded = radius::try_encode_packet(packet, radius::Dictionary::builtin());
      if (!encoded) {
        TransportEvent e = event(TransportEvent::Kind::gave_up, f);
        e.reason = "the Accounting-Request cannot be encoded: " + encoded.error().message();
        events.push_back(std::move(e));
        release(f);
        flights.erase(id);
        return;
      }
      f.wire = std::move(encoded).value();
      radius::sign_request(f.wire, endpoints[f.server].secret);
      std::copy(f.wire.begin() + 4, f.wire.begin() + 20, f.request_authenticator.begin());
      f.delay = delay;
    }
    ++f.attempt;
    f.deadline = now + options.timeout;
    SlotState state = states[f.server];
    TransportEvent e = event(
        state == SlotState::down ? TransportEvent::Kind::lost : TransportEvent::Kind::sent, f);
    e.new_identifier = changed;
    e.wire = f.wire;
    if (state == SlotState::down) {
      e.reason = "server " + endpoints[f.server].slot + " is down (scenario)";
      f.answerable = false;
    } else if (endpoints[f.server].tls) {
      std::string why;
      Link& link = links[f.server];
      if (!ensure_link(f.server, why) || !link.stream->write(f.wire)) {
        if (why.empty()) {
          why = "TLS write to " + endpoints[f.server].to_string() + " failed";
          close_link(f.server, why);
        }
        e.kind = TransportEvent::Kind::lost;
        e.reason = why;
        f.answerable = false;
      } else {
        e.local_port = link.stream->local_port();
        f.answerable = true;
        f.generation = link.generation;
        link.last_traffic = Steady::now();
      }
      f.sent_real = std::chrono::steady_clock::now();
    } else {
      boost::system::error_code error;
      channels[f.channel]->socket.send_to(asio::buffer(f.wire), destinations[f.server], 0, error);
      if (error) {
        e.reason = "send failed: " + error.message();
      }
      // With drop-answers the server still answers; waiting for that answer (and discarding it)
      // keeps a virtual-clock run deterministic.
      f.answerable = !error;
      f.sent_real = std::chrono::steady_clock::now();
    }
    events.push_back(std::move(e));
  }

  void on_datagram(std::size_t index, std::size_t size) {
    Channel& c = *channels[index];
    std::vector<std::uint8_t> wire(c.buffer.begin(), c.buffer.begin() + static_cast<long>(size));
    TransportEvent bad;
    bad.kind = TransportEvent::Kind::bad_answer;
    bad.time = clock.now();
    bad.local_port = c.local_port;
    bad.wire = wire;
    if (wire.size() < radius::header_size) {
      bad.reason = "short datagram";
      events.push_back(std::move(bad));
      return;
    }
    std::size_t length = std::size_t{wire[2]} << 8 | wire[3];
    if (length < radius::header_size || length > wire.size()) {
      bad.reason = "Length field does not fit the datagram";
      events.push_back(std::move(bad));
      return;
    }
    wire.resize(length); // RFC 2865 §3: octets beyond Length are padding
    bad.identifier = wire[1];
    std::uint64_t owner = c.owner[wire[1]];
    auto it = owner ? flights.find(owner - 1) : flights.end();
    if (it == flights.end()) {
      bad.reason = "no request waits for this identifier (late or duplicate answer)";
      events.push_back(std::move(bad));
      return;
    }
    std::uint64_t id = it->first;
    Flight& f = it->second;
    if (c.from != destinations[f.server]) {
      bad.reason = "answer from " + c.from.address().to_string() + ":" +
                   std::to_string(c.from.port()) + ", not from the server asked";
      events.push_back(std::move(bad));
      return;
    }
    if (wire[0] != static_cast<std::uint8_t>(radius::Code::accounting_response)) {
      bad.reason = "not an Accounting-Response (code " + std::to_string(wire[0]) + ")";
      events.push_back(std::move(bad));
      return;
    }
    // RFC 2866 §3: the Response Authenticator is MD5(Code+ID+Length+RequestAuth+Attributes+
    // Secret); anything else did not come from a server that knows the secret.
    if (!radius::verify_response_authenticator(wire, f.request_authenticator,
                                               endpoints[f.server].secret)) {
      bad.reason = "Response Authenticator does not verify (wrong secret?)";
      bad.server = f.server;
      f.answerable = false; // its server did answer; a retransmission may still succeed
      events.push_back(std::move(bad));
      return;
    }
    finish(id, f, std::move(wire));
  }

  /** A verified answer completes its flight (or is dropped, as the scenario asks). */
  void finish(std::uint64_t id, Flight& f, std::vector<std::uint8_t> wire) {
    TransportEvent e =
        event(states[f.server] == SlotState::drop_answers ? TransportEvent::Kind::dropped_answer
                                                          : TransportEvent::Kind::answer,
              f);
    e.wire = std::move(wire);
    e.rtt = std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - f.sent_real);
    if (e.kind == TransportEvent::Kind::dropped_answer) {
      e.reason = "server " + endpoints[f.server].slot + " answers are dropped (scenario)";
      f.answerable = false;
      events.push_back(std::move(e));
      return;
    }
    events.push_back(std::move(e));
    release(f);
    flights.erase(id);
  }

  // --- RadSec links ---

  bool ensure_link(std::size_t server, std::string& why) {
    Link& link = links[server];
    if (link.stream) {
      return true;
    }
    const auto now = Steady::now();
    const ServerEndpoint& endpoint = endpoints[server];
    if (now < link.next_connect) {
      why = "TLS connection to " + endpoint.to_string() + " is down (" + link.down_reason +
            "); next attempt in " +
            std::to_string(
                std::chrono::duration_cast<std::chrono::milliseconds>(link.next_connect - now)
                    .count()) +
            " ms";
      return false;
    }
    std::string error;
    link.stream = RadsecStream::connect(endpoint.host, endpoint.port, endpoint.tls_config,
                                        std::min<Millis>(options.timeout, Millis{10000}), error);
    if (!link.stream) {
      // Reconnection with backoff: 1 s, doubling, at most a minute.
      link.backoff = link.backoff.count() == 0
                         ? Steady::duration(std::chrono::seconds(1))
                         : std::min<Steady::duration>(link.backoff * 2, max_backoff);
      link.next_connect = now + link.backoff;
      link.down_reason = error;
      why = "TLS connection to " + endpoint.to_string() + " failed: " + error;
      return false;
    }
    link.backoff = {};
    ++link.generation;
    link.last_traffic = now;
    link.watchdog_id.reset();
    link.watcher =
        std::make_unique<asio::posix::stream_descriptor>(io, ::dup(link.stream->native_handle()));
    wait_readable(server, link.generation);
    return true;
  }

  void wait_readable(std::size_t server, std::uint64_t generation) {
    links[server].watcher->async_wait(asio::posix::stream_descriptor::wait_read,
                                      [this, server, generation](boost::system::error_code error) {
                                        Link& link = links[server];
                                        if (error || !link.stream ||
                                            link.generation != generation) {
                                          return;
                                        }
                                        on_link_readable(server);
                                        if (link.stream && link.generation == generation) {
                                          wait_readable(server, generation);
                                        }
                                      });
  }

  void on_link_readable(std::size_t server) {
    Link& link = links[server];
    // Bounded: a read either frames a packet or ends the loop.
    for (int i = 0; i < 1024 && link.stream; ++i) {
      std::vector<std::uint8_t> wire;
      const auto status = link.stream->read_packet(wire, Millis{0});
      if (status == RadsecStream::ReadStatus::timeout) {
        return;
      }
      if (status != RadsecStream::ReadStatus::packet) {
        close_link(server, status == RadsecStream::ReadStatus::closed
                               ? "the server closed the connection"
                               : "the server sent a Length outside 20..4096");
        return;
      }
      link.last_traffic = Steady::now();
      on_link_answer(server, std::move(wire));
    }
  }

  void close_link(std::size_t server, const std::string& reason) {
    Link& link = links[server];
    if (link.watcher) {
      boost::system::error_code ignored;
      link.watcher->cancel(ignored);
      link.watcher.reset();
    }
    link.stream.reset();
    link.down_reason = reason;
    if (link.watchdog_id) {
      link.owner[*link.watchdog_id] = 0;
      --link.used;
      link.watchdog_id.reset();
    }
    link.backoff = link.backoff.count() == 0
                       ? Steady::duration(std::chrono::seconds(1))
                       : std::min<Steady::duration>(link.backoff * 2, max_backoff);
    link.next_connect = Steady::now() + link.backoff;
    // Requests it carried may go out again on the next connection when they time out.
    for (auto& [id, f] : flights) {
      if (f.server == server) {
        f.answerable = false;
      }
    }
  }

  void on_link_answer(std::size_t server, std::vector<std::uint8_t> wire) {
    Link& link = links[server];
    TransportEvent bad;
    bad.kind = TransportEvent::Kind::bad_answer;
    bad.time = clock.now();
    bad.server = server;
    bad.local_port = link.stream ? link.stream->local_port() : 0;
    bad.identifier = wire[1];
    bad.wire = wire;
    const std::uint64_t owner = link.owner[wire[1]];
    if (owner == watchdog_owner) {
      if (link.watchdog_id == wire[1] &&
          radius::verify_response_authenticator(wire, link.watchdog_authenticator,
                                                endpoints[server].secret)) {
        link.owner[wire[1]] = 0;
        --link.used;
        link.watchdog_id.reset();
        return;
      }
      bad.reason = "answer to the Status-Server watchdog does not verify";
      events.push_back(std::move(bad));
      return;
    }
    auto it = owner ? flights.find(owner - 1) : flights.end();
    if (it == flights.end()) {
      bad.reason = "no request waits for this identifier (late or duplicate answer)";
      events.push_back(std::move(bad));
      return;
    }
    Flight& f = it->second;
    if (wire[0] != static_cast<std::uint8_t>(radius::Code::accounting_response) ||
        !radius::verify_response_authenticator(wire, f.request_authenticator,
                                               endpoints[server].secret)) {
      bad.reason = wire[0] != static_cast<std::uint8_t>(radius::Code::accounting_response)
                       ? "not an Accounting-Response (code " + std::to_string(wire[0]) + ")"
                       : "Response Authenticator does not verify (wrong secret?)";
      events.push_back(std::move(bad));
      return;
    }
    finish(it->first, f, std::move(wire));
  }

  /** Sends Status-Server on TLS links silent for the watchdog interval (RFC 3539 §3.4's idea,
   * RFC 5997 §4.3); a link whose probe goes unanswered is closed and reconnected later. */
  void check_watchdogs() {
    if (options.watchdog.count() <= 0) {
      return;
    }
    const auto now = Steady::now();
    for (std::size_t server = 0; server < links.size(); ++server) {
      Link& link = links[server];
      if (!link.stream) {
        continue;
      }
      if (link.watchdog_id) {
        if (now >= link.watchdog_deadline) {
          close_link(server, "no answer to Status-Server within the timeout");
        }
        continue;
      }
      if (now - link.last_traffic < options.watchdog) {
        continue;
      }
      std::optional<std::uint8_t> id;
      for (int k = 0; k < 256 && !id; ++k) {
        const std::uint8_t candidate = link.next_id++;
        if (link.owner[candidate] == 0) {
          id = candidate;
        }
      }
      if (!id) {
        continue; // every Identifier is busy: the link is anything but idle
      }
      radius::Packet probe(radius::Code::status_server, *id);
      const std::uint8_t zeros[16] = {};
      probe.add(radius::message_authenticator_type, std::span<const std::uint8_t>(zeros));
      auto wire = radius::encode_packet(probe, radius::Dictionary::builtin());
      RAND_bytes(wire.data() + 4, 16); // RFC 5997 §3: a random Request Authenticator
      radius::sign_request(wire, endpoints[server].secret);
      std::copy(wire.begin() + 4, wire.begin() + 20, link.watchdog_authenticator.begin());
      link.owner[*id] = watchdog_owner;
      ++link.used;
      link.watchdog_id = id;
      link.watchdog_deadline = now + options.timeout;
      link.last_traffic = now;
      if (!link.stream->write(wire)) {
        close_link(server, "Status-Server watchdog write failed");
      }
    }
  }

  void on_time() {
    check_watchdogs();
    Millis now = clock.now();
    std::vector<std::uint64_t> due;
    for (const auto& [id, f] : flights) {
      if (f.deadline <= now) {
        due.push_back(id);
      }
    }
    for (std::uint64_t id : due) {
      auto it = flights.find(id);
      if (it == flights.end()) {
        continue;
      }
      Flight& f = it->second;
      events.push_back(event(TransportEvent::Kind::timeout, f));
      // RFC 6613 §2.6.1 (and the bis draft): no retransmission over the same TCP connection;
      // a TLS request is sent again only when its connection is gone and a new one may carry it.
      const bool resend_allowed = !endpoints[f.server].tls || !links[f.server].stream ||
                                  links[f.server].generation != f.generation || !f.answerable;
      if (f.attempt <= options.retransmit && resend_allowed) {
        transmit(id, f);
        continue;
      }
      const auto& servers = f.record->spec.servers;
      if (!f.record->spec.broadcast && f.position + 1 < servers.size()) {
        // Failover: the next server of the group gets the record, with a fresh Identifier.
        TransportEvent e = event(TransportEvent::Kind::failover, f);
        e.reason = "no answer from server " + endpoints[f.server].slot + " after " +
                   std::to_string(f.attempt) + " transmissions";
        events.push_back(std::move(e));
        release(f);
        f.wire.clear();
        f.attempt = 0;
        ++f.position;
        f.server = servers[f.position];
        transmit(id, f);
        continue;
      }
      TransportEvent e = event(TransportEvent::Kind::gave_up, f);
      e.reason = "no server answered; the record is dropped";
      events.push_back(std::move(e));
      release(f);
      flights.erase(it);
    }
  }

  std::optional<Millis> next_deadline() const {
    std::optional<Millis> next;
    for (const auto& [id, f] : flights) {
      if (!next || f.deadline < *next) {
        next = f.deadline;
      }
    }
    return next;
  }

  std::size_t answerable() const {
    std::size_t n = 0;
    for (const auto& [id, f] : flights) {
      n += f.answerable ? 1 : 0;
    }
    return n;
  }

  void poll(Millis real_wait, bool until_quiet) {
    auto end = std::chrono::steady_clock::now() + real_wait;
    // Bounded: every turn either handles a datagram or ends at the deadline.
    while (true) {
      check_watchdogs();
      if (until_quiet && answerable() == 0) {
        return;
      }
      auto now = std::chrono::steady_clock::now();
      if (now >= end) {
        return;
      }
      io.restart();
      std::size_t handled = io.run_one_for(end - now);
      if (!until_quiet && handled > 0) {
        return;
      }
    }
  }
};

RadiusTransport::RadiusTransport(std::vector<ServerEndpoint> endpoints, TransportOptions options,
                                 const Clock& clock)
    : endpoints_(std::move(endpoints)), impl_(std::make_unique<Impl>(endpoints_, options, clock)) {}

RadiusTransport::~RadiusTransport() = default;

std::optional<std::string> RadiusTransport::open() {
  return impl_->open();
}
void RadiusTransport::submit(OutgoingRecord record) {
  impl_->submit(std::move(record));
}
void RadiusTransport::set_slot_state(std::size_t server, SlotState state) {
  if (server < impl_->states.size()) {
    impl_->states[server] = state;
  }
}
void RadiusTransport::on_time() {
  impl_->on_time();
}
std::optional<Millis> RadiusTransport::next_deadline() const {
  return impl_->next_deadline();
}
void RadiusTransport::poll(Millis real_wait, bool until_quiet) {
  impl_->poll(real_wait, until_quiet);
}
std::size_t RadiusTransport::answerable() const {
  return impl_->answerable();
}
std::size_t RadiusTransport::in_flight() const {
  return impl_->flights.size();
}
std::vector<TransportEvent> RadiusTransport::take_events() {
  std::vector<TransportEvent> out;
  out.swap(impl_->events);
  return out;
}

} // namespace acctlab::gateway
