#include "pcap/exchange_tracker.hpp"
#include "tests/pcap/capture_test_support.hpp"
#include "tests/pcap/radius_test_packets.hpp"

#include <catch2/catch.hpp>
#include <map>
#include <random>
#include <tuple>

using namespace acctlab::capture;
using namespace acctlab::capture::test;
using acctlab::radius::Code;
using acctlab::radius::Octets;

namespace {

constexpr std::int64_t ms = 1'000'000;
constexpr std::int64_t s = 1'000'000'000;

// Feeds datagrams to a tracker as if read from one file, numbering frames from 1.
struct Feed {
  ExchangeTracker tracker;
  std::uint64_t frame = 0;
  Endpoint nas = endpoint("198.51.100.10", 40000);
  Endpoint server = endpoint("192.0.2.1", 1813);

  explicit Feed(TrackerOptions options = {}) : tracker(std::move(options)) {}

  std::uint64_t send(std::int64_t t, const Octets& wire, bool to_server) {
    UdpDatagram d;
    d.frame = ++frame;
    d.timestamp_ns = t;
    d.source = to_server ? nas : server;
    d.destination = to_server ? server : nas;
    d.payload = wire;
    auto packet = acctlab::radius::decode_packet(wire, dict());
    if (packet) {
      tracker.on_packet(d, *packet);
    } else {
      tracker.on_decode_error(d, packet.error());
    }
    return d.frame;
  }
  std::uint64_t request(std::int64_t t, const Octets& wire) { return send(t, wire, true); }
  std::uint64_t answer(std::int64_t t, const Octets& wire) { return send(t, wire, false); }

  std::vector<Event> events(EventKind kind) const {
    std::vector<Event> out;
    for (const auto& e : tracker.events()) {
      if (e.kind == kind) {
        out.push_back(e);
      }
    }
    return out;
  }
};

} // namespace

TEST_CASE("Requests pair with responses and latency is measured", "[pcap][pairing]") {
  Feed f;
  const auto a = accounting_request(1, 1, "A");
  const auto b = accounting_request(2, 3, "B");
  f.request(0, a);
  f.request(1 * ms, b);
  f.answer(2 * ms, response_to(a));
  f.answer(11 * ms, response_to(b));
  f.tracker.finish();
  const auto& t = f.tracker.totals();
  CHECK(t.requests == 2);
  CHECK(t.responses == 2);
  CHECK(t.exchanges == 2);
  CHECK(t.linked == 2);
  CHECK(t.unanswered + t.unanswered_at_end == 0);
  CHECK(t.by_code[4] == 2);
  CHECK(t.by_code[5] == 2);
  CHECK(t.by_status_type[1] == 1);
  CHECK(t.by_status_type[3] == 1);
  CHECK(t.latency.count() == 2);
  CHECK(t.latency.min_ns() == 2 * ms);
  CHECK(t.latency.max_ns() == 10 * ms);
  CHECK(t.latency.mean_ns() == Approx(6.0 * ms));
  // Per NAS and per server views see the same exchanges.
  REQUIRE(f.tracker.per_nas().size() == 1);
  CHECK(f.tracker.per_nas().at(f.nas.address).linked == 2);
  REQUIRE(f.tracker.per_server().size() == 1);
  CHECK(f.tracker.per_server().at(f.server).linked == 2);
  CHECK(f.tracker.events().empty());
}

TEST_CASE("Retransmissions are counted per exchange in the 1..5+ histogram", "[pcap][pairing]") {
  Feed f;
  const auto twice = accounting_request(3, 1, "T");
  const auto many = accounting_request(4, 2, "M");
  f.request(0, twice);
  f.request(0, many);
  // Time-ordered: twice is retransmitted at 1 s and 2 s, many every second up to 6 s.
  f.request(1 * s, twice);
  f.request(1 * s, many);
  f.request(2 * s, twice);
  f.answer(2 * s + 5 * ms, response_to(twice));
  for (int i = 2; i <= 6; ++i) { // six retransmissions in all, each within the 5 s timeout
    f.request(i * s, many);
  }
  f.answer(6 * s + 3 * ms, response_to(many));
  f.tracker.finish();
  const auto& t = f.tracker.totals();
  CHECK(t.exchanges == 2);
  CHECK(t.linked == 2);
  CHECK(t.retransmissions == 8);
  CHECK(t.retransmission_histogram[1] == 1); // twice: 2 retransmissions
  CHECK(t.retransmission_histogram[4] == 1); // many: 6 -> 5+
  CHECK(t.latency.min_ns() == 3 * ms);       // from the latest transmission
  CHECK(t.latency.max_ns() == 5 * ms);
  const auto events = f.events(EventKind::retransmission);
  REQUIRE(events.size() == 8);
  CHECK(events[0].frame == 3);
  CHECK(events[0].related_frame == 1);
  CHECK(events[1].related_frame == 2);
}

TEST_CASE("Duplicates after the answer, answers without request, code mismatch",
          "[pcap][pairing]") {
  Feed f;
  const auto req = accounting_request(5, 1, "D");
  const auto resp = response_to(req);
  f.request(0, req);
  f.answer(1 * ms, resp);
  const auto dup_request = f.request(2 * ms, req);
  const auto dup_response = f.answer(3 * ms, resp);
  const auto stray = f.answer(4 * ms, response_to(accounting_request(77, 1, "X")));
  const auto access = access_request(6);
  f.request(5 * ms, access);
  const auto mismatch = f.answer(6 * ms, response_to(access, Code::accounting_response));
  f.answer(7 * ms, response_to(access, Code::access_accept));
  f.tracker.finish();
  const auto& t = f.tracker.totals();
  CHECK(t.duplicate_requests == 1);
  CHECK(t.duplicate_responses == 1);
  CHECK(t.answers_without_request == 1);
  CHECK(t.response_code_mismatch == 1);
  CHECK(t.linked == 2);
  CHECK(t.retransmissions == 0);
  CHECK(f.events(EventKind::duplicate_request).at(0).frame == dup_request);
  CHECK(f.events(EventKind::duplicate_response).at(0).frame == dup_response);
  CHECK(f.events(EventKind::answer_without_request).at(0).frame == stray);
  CHECK(f.events(EventKind::response_code_mismatch).at(0).frame == mismatch);
}

TEST_CASE("A request again after the timeout but within the duplicate window is a duplicate",
          "[pcap][pairing]") {
  // RFC 5080 §2.2.2: the server remembers an answered request for its window (30 s), and so do
  // pcap import and the server; the tracker must agree, whatever the unanswered timeout.
  TrackerOptions options;
  options.timeout_ns = 5 * s;
  options.duplicate_window_ns = 30 * s;
  Feed f(options);
  const auto req = accounting_request(11, 1, "W");
  f.request(0, req);
  f.answer(10 * ms, response_to(req));
  const auto within = f.request(20 * s, req); // after the timeout, inside the window
  f.answer(20 * s + 10 * ms, response_to(req));
  const auto unrelated = accounting_request(12, 1, "U");
  f.request(60 * s, unrelated); // expires the first exchange: 30 s after its latest sending
  f.answer(60 * s + 10 * ms, response_to(unrelated));
  const auto beyond = f.request(91 * s, req); // more than the window after it: a new exchange
  f.tracker.finish();
  const auto& t = f.tracker.totals();
  CHECK(t.duplicate_requests == 1);
  CHECK(t.duplicate_responses == 1);
  CHECK(t.exchanges == 3);
  REQUIRE(f.events(EventKind::duplicate_request).size() == 1);
  CHECK(f.events(EventKind::duplicate_request)[0].frame == within);
  CHECK(beyond > within);
}

TEST_CASE("Unanswered requests are lost after the timeout, pending at the end otherwise",
          "[pcap][pairing]") {
  TrackerOptions options;
  options.timeout_ns = 5 * s;
  Feed f(options);
  const auto lost = f.request(0, accounting_request(7, 1, "L"));
  f.request(4 * s, accounting_request(8, 1, "N"));
  CHECK(f.tracker.open_exchanges() == 2);
  f.request(5 * s + 1, accounting_request(9, 1, "P")); // passes the first one's deadline
  // Lost, and kept for the duplicate window in case its answer comes late.
  CHECK(f.tracker.open_exchanges() == 3);
  CHECK(f.events(EventKind::no_response).size() == 1);
  f.tracker.finish();
  const auto& t = f.tracker.totals();
  CHECK(t.unanswered == 1);
  CHECK(t.unanswered_at_end == 2);
  const auto events = f.events(EventKind::no_response);
  REQUIRE(events.size() == 1);
  CHECK(events[0].frame == lost);
  CHECK(f.tracker.open_exchanges() == 0);
}

TEST_CASE("An answer after the timeout is linked to its request as a late answer",
          "[pcap][pairing]") {
  // The server was down for 8 s (tests/captures/hostapd-8021x-outage.pcap): its answer comes
  // after the 5-s timeout. The request is lost by the timeout (no_response, as radsniff counts
  // it), but the answer is its request's, late, not an answer without request; beyond the
  // duplicate window it is one.
  TrackerOptions options;
  options.timeout_ns = 5 * s;
  options.duplicate_window_ns = 30 * s;
  Feed f(options);
  const auto req = accounting_request(4, 2, "late");
  const auto request_frame = f.request(0, req);
  const auto late_frame = f.answer(8 * s, response_to(req));
  const auto again = f.answer(9 * s, response_to(req)); // a second answer: a duplicate
  const auto gone = accounting_request(5, 2, "gone");
  f.request(10 * s, gone);
  const auto stray = f.answer(41 * s, response_to(gone)); // past the window: no request
  f.tracker.finish();
  const auto& t = f.tracker.totals();
  CHECK(t.exchanges == 2);
  CHECK(t.linked == 0);
  CHECK(t.unanswered == 2);
  CHECK(t.late_answers == 1);
  CHECK(t.duplicate_responses == 1);
  CHECK(t.answers_without_request == 1);
  CHECK(t.latency.count() == 1);
  CHECK(t.latency.max_ns() == 8 * s);
  const auto late = f.events(EventKind::late_answer);
  REQUIRE(late.size() == 1);
  CHECK(late[0].frame == late_frame);
  CHECK(late[0].related_frame == request_frame);
  CHECK(f.events(EventKind::duplicate_response).at(0).frame == again);
  CHECK(f.events(EventKind::answer_without_request).at(0).frame == stray);
  CHECK(f.events(EventKind::no_response).size() == 2);
  CHECK(f.tracker.open_exchanges() == 0);
}

TEST_CASE("An Identifier reused while its request is outstanding is flagged", "[pcap][pairing]") {
  Feed f;
  const auto first = accounting_request(9, 1, "first");
  const auto second = accounting_request(9, 2, "second");
  const auto first_frame = f.request(0, first);
  const auto second_frame = f.request(1 * s, second);
  f.answer(1 * s + 2 * ms, response_to(second));
  // Reusing it after the answer is normal.
  f.request(2 * s, accounting_request(9, 3, "third"));
  f.tracker.finish();
  const auto& t = f.tracker.totals();
  CHECK(t.identifier_reused == 1);
  CHECK(t.unanswered == 1); // the first request never got its answer
  CHECK(t.linked == 1);
  CHECK(t.latency.min_ns() == 2 * ms);
  const auto events = f.events(EventKind::identifier_reused);
  REQUIRE(events.size() == 1);
  CHECK(events[0].frame == second_frame);
  CHECK(events[0].related_frame == first_frame);
}

TEST_CASE("Authenticators are verified per NAS when its secret is known", "[pcap][pairing]") {
  std::string error;
  auto secrets = ClientSecrets::parse("client lab {\n ipaddr = 198.51.100.0/24\n"
                                      " secret = testing123\n}\n",
                                      "clients.conf", error);
  REQUIRE(secrets);
  TrackerOptions options;
  options.secrets = &*secrets;
  Feed f(options);
  const auto good = accounting_request(1, 1, "G");
  const auto forged = accounting_request(2, 1, "F", "not-the-secret");
  f.request(0, good);
  f.answer(1 * ms, response_to(good));
  f.request(2 * ms, forged);
  f.answer(3 * ms, response_to(forged, Code::accounting_response, "not-the-secret"));
  // Another NAS outside the clients file: nothing verified.
  f.nas = endpoint("203.0.113.5", 1000);
  const auto unknown = accounting_request(3, 1, "U", "whatever");
  f.request(4 * ms, unknown);
  f.answer(5 * ms, response_to(unknown, Code::accounting_response, "whatever"));
  f.tracker.finish();
  const auto& t = f.tracker.totals();
  CHECK(t.linked == 3);
  CHECK(t.request_authenticator_valid == 1);
  CHECK(t.request_authenticator_invalid == 1);
  CHECK(t.response_authenticator_valid == 1);
  CHECK(t.response_authenticator_invalid == 1);
  CHECK(f.events(EventKind::request_authenticator_invalid).at(0).frame == 3);
  CHECK(f.events(EventKind::response_authenticator_invalid).at(0).frame == 4);
}

TEST_CASE("Decode errors are counted by the decoder's names", "[pcap][pairing]") {
  Feed f;
  f.request(0, Octets{4, 1, 0}); // truncated_header
  auto long_length = accounting_request(1, 1, "x");
  long_length[3] = static_cast<std::uint8_t>(long_length[3] + 10); // Length beyond the datagram
  f.request(1, long_length);
  f.tracker.finish();
  const auto& errors = f.tracker.decode_errors();
  using acctlab::radius::DecodeError;
  CHECK(errors[static_cast<std::size_t>(DecodeError::truncated_header)] == 1);
  CHECK(errors[static_cast<std::size_t>(DecodeError::length_exceeds_datagram)] == 1);
  const auto events = f.events(EventKind::decode_error);
  REQUIRE(events.size() == 2);
  CHECK(events[1].frame == 2);
  CHECK(events[1].decode_error == DecodeError::length_exceeds_datagram);
  CHECK(f.tracker.totals().requests == 0);
}

TEST_CASE("Memory is bounded by open exchanges, not by the number seen", "[pcap][pairing]") {
  TrackerOptions options;
  options.duplicate_window_ns = 5 * s; // the timeout
  Feed f(options);
  std::size_t peak = 0;
  for (std::uint32_t i = 0; i < 20000; ++i) {
    const auto t = static_cast<std::int64_t>(i) * ms;
    f.nas.port = static_cast<std::uint16_t>(40000 + i / 256); // no Identifier comes back
    const auto req = accounting_request(static_cast<std::uint8_t>(i), 1, std::to_string(i));
    f.request(t, req);
    f.answer(t + ms / 2, response_to(req));
    peak = std::max(peak, f.tracker.open_exchanges());
  }
  // Answered exchanges stay for the duplicate window (5 s = 5000 requests here).
  CHECK(peak <= 5002);
  CHECK(peak >= 4990);
  CHECK(f.tracker.totals().linked == 20000);
  f.tracker.finish();
  CHECK(f.tracker.open_exchanges() == 0);
}

TEST_CASE("Secrets come from clients.conf through the server's parser", "[pcap][secrets]") {
  std::string error;
  auto secrets = ClientSecrets::parse(R"(# comment
client nas1 {
    ipaddr = 192.0.2.10
    secret = "s3cret with spaces"
    limit {
        max_connections = 16
    }
}
client 2001:db8::/32 {
    secret = six
}
client wide {
    ipaddr = 192.0.2.0
    netmask = 24
    secret = wide
}
)",
                                      "clients.conf", error);
  INFO(error);
  REQUIRE(secrets);
  CHECK(secrets->clients().clients().size() == 3);
  CHECK(secrets->find(*IpAddress::parse("192.0.2.10"))->secret == "s3cret with spaces");
  CHECK(secrets->find(*IpAddress::parse("192.0.2.11"))->secret == "wide"); // longest prefix
  CHECK(secrets->find(*IpAddress::parse("2001:db8::5"))->secret == "six");
  CHECK(secrets->find(*IpAddress::parse("203.0.113.1")) == nullptr);
  CHECK(secrets->find(IpAddress{}) == nullptr);

  // Errors name the file and the line.
  CHECK_FALSE(ClientSecrets::parse("client x {\n ipaddr = 1.2.3.4\n}\n", "c.conf", error));
  CHECK(error.rfind("c.conf:1: ", 0) == 0);
  CHECK(error.find("secret") != std::string::npos);
  CHECK_FALSE(
      ClientSecrets::parse("\nclient y {\n ipaddr = nonsense\n secret = s\n}\n", "c.conf", error));
  CHECK(error.rfind("c.conf:3: ", 0) == 0);
  CHECK_FALSE(ClientSecrets::load("/nonexistent/clients.conf", error));
  CHECK(error.find("/nonexistent/clients.conf") == 0);
}

namespace {

// The pairing rules of docs/pcap.md written the plain way (a std::map, expiry by scanning), to
// check the tracker's hash table, slab and expiry queues against.
struct ReferenceTracker {
  struct Open {
    std::uint8_t code;
    acctlab::radius::Authenticator authenticator;
    bool answered;
    std::int64_t last_ns;
    int transmissions;
    bool timed_out = false;
  };
  using Key = std::tuple<Endpoint, Endpoint, std::uint8_t>;
  std::int64_t timeout_ns;
  std::int64_t window_ns; // answered exchanges: max(duplicate window, timeout)
  std::map<Key, Open> open;
  std::uint64_t linked = 0, unanswered = 0, at_end = 0, retransmissions = 0, duplicates = 0,
                duplicate_responses = 0, without_request = 0, reused = 0, mismatch = 0, late = 0;
  std::array<std::uint64_t, 5> histogram{};

  void close(const Open& o, bool end) {
    if (o.transmissions > 1) {
      ++histogram[std::min(o.transmissions - 1, 5) - 1];
    }
    if (!o.answered && !o.timed_out) {
      ++(end ? at_end : unanswered);
    }
  }
  // Unanswered after the timeout: lost, but kept for the window so that a late answer finds it.
  void expire(std::int64_t now) {
    for (auto it = open.begin(); it != open.end();) {
      Open& o = it->second;
      if (!o.answered && !o.timed_out && o.last_ns + timeout_ns <= now) {
        ++unanswered;
        o.timed_out = true;
      }
      if ((o.answered || o.timed_out) && o.last_ns + window_ns <= now) {
        close(o, false);
        it = open.erase(it);
      } else {
        ++it;
      }
    }
  }
  void request(std::int64_t now, const Key& key, const acctlab::radius::Packet& p) {
    expire(now);
    const auto code = static_cast<std::uint8_t>(p.code());
    auto it = open.find(key);
    if (it != open.end() && it->second.timed_out && !it->second.answered) {
      close(it->second, false); // lost by the timeout: a new exchange
      open.erase(it);
      it = open.end();
    }
    if (it != open.end()) {
      Open& o = it->second;
      if (o.code == code && o.authenticator == p.authenticator()) {
        ++o.transmissions;
        o.last_ns = now;
        ++(o.answered ? duplicates : retransmissions);
        return;
      }
      if (!o.answered) {
        ++reused;
      }
      close(o, false);
      open.erase(it);
    }
    open[key] = Open{code, p.authenticator(), false, now, 1};
  }
  void response(std::int64_t now, const Key& key, std::uint8_t code) {
    expire(now);
    auto it = open.find(key);
    if (it == open.end()) {
      ++without_request;
    } else if (code != 5) {
      ++mismatch;
    } else if (it->second.answered) {
      ++duplicate_responses;
    } else {
      it->second.answered = true;
      ++(it->second.timed_out ? late : linked);
    }
  }
  void finish() {
    for (const auto& [key, o] : open) {
      close(o, true);
    }
    open.clear();
  }
};

} // namespace

TEST_CASE("The tracker agrees with a plain reference model on random traffic", "[pcap][pairing]") {
  constexpr std::int64_t timeout = 3 * s;
  constexpr std::int64_t window = 7 * s;
  TrackerOptions options;
  options.timeout_ns = timeout;
  options.duplicate_window_ns = window;
  options.max_events_kept = 0;
  ExchangeTracker tracker(options);
  ReferenceTracker reference{timeout, window};

  // A small key space (2 NAS x 2 ports x 4 Identifiers) and three contents per Identifier, so
  // that retransmissions, duplicates, reuse and strays all happen often.
  std::vector<std::vector<Octets>> requests(4);
  for (std::uint8_t id = 0; id < 4; ++id) {
    for (const char* session : {"a", "b", "c"}) {
      requests[id].push_back(accounting_request(id, 1, session));
    }
  }
  const Endpoint server = endpoint("192.0.2.1", 1813);
  const Endpoint nases[] = {endpoint("198.51.100.1", 1000), endpoint("198.51.100.1", 1001),
                            endpoint("198.51.100.2", 1000), endpoint("2001:db8::2", 1000)};
  std::mt19937 rng(12345);
  std::int64_t now = 0;
  for (int i = 0; i < 30000; ++i) {
    now += static_cast<std::int64_t>(rng() % 1500) * ms;
    const auto& nas = nases[rng() % 4];
    const auto id = static_cast<std::uint8_t>(rng() % 4);
    UdpDatagram d;
    d.frame = static_cast<std::uint64_t>(i + 1);
    d.timestamp_ns = now;
    const ReferenceTracker::Key key{nas, server, id};
    if (rng() % 2 == 0) {
      const Octets& wire = requests[id][rng() % 3];
      d.source = nas;
      d.destination = server;
      d.payload = wire;
      auto packet = acctlab::radius::decode_packet(wire, dict());
      REQUIRE(packet);
      tracker.on_packet(d, *packet);
      reference.request(now, key, *packet);
    } else {
      const auto code = rng() % 8 == 0 ? Code::access_accept : Code::accounting_response;
      const Octets wire = response_to(requests[id][0], code);
      d.source = server;
      d.destination = nas;
      d.payload = wire;
      auto packet = acctlab::radius::decode_packet(wire, dict());
      REQUIRE(packet);
      tracker.on_packet(d, *packet);
      reference.response(now, key, static_cast<std::uint8_t>(code));
    }
    REQUIRE(tracker.open_exchanges() == reference.open.size());
  }
  tracker.finish();
  reference.finish();
  const auto& t = tracker.totals();
  CHECK(t.linked == reference.linked);
  CHECK(t.unanswered == reference.unanswered);
  CHECK(t.unanswered_at_end == reference.at_end);
  CHECK(t.retransmissions == reference.retransmissions);
  CHECK(t.duplicate_requests == reference.duplicates);
  CHECK(t.duplicate_responses == reference.duplicate_responses);
  CHECK(t.answers_without_request == reference.without_request);
  CHECK(t.late_answers == reference.late);
  CHECK(t.identifier_reused == reference.reused);
  CHECK(t.response_code_mismatch == reference.mismatch);
  CHECK(t.retransmission_histogram == reference.histogram);
  // The random walk must have exercised every rule.
  CHECK(reference.linked > 0);
  CHECK(reference.unanswered > 0);
  CHECK(reference.late > 0);
  CHECK(reference.without_request > 0);
  CHECK(reference.retransmissions > 0);
  CHECK(reference.duplicates > 0);
  CHECK(reference.duplicate_responses > 0);
  CHECK(reference.without_request > 0);
  CHECK(reference.reused > 0);
  CHECK(reference.mismatch > 0);
  CHECK(tracker.events().empty()); // max_events_kept = 0: counted only
}
