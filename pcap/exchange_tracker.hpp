#pragma once
// Pairs RADIUS requests with their responses, as radsniff does: by client address and port,
// server address and port, and Identifier (RFC 2865 §3); the Response Authenticator confirms a
// pair when the client's secret is known. Counts, per NAS and per server, packets by code and
// Acct-Status-Type, latency, retransmissions, duplicates, unanswered requests, answers without a
// request and Identifiers reused too soon. Memory is bounded by the exchanges open within the
// timeout, not by the capture's length; the hot path does not allocate once the tables are warm.

#include "pcap/capture_reader.hpp"
#include "pcap/clients_file.hpp"
#include "pcap/latency_histogram.hpp"
#include "radius/decode_error.hpp"
#include "radius/dictionary.hpp"
#include "radius/packet.hpp"

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

namespace acctlab::capture {

struct EndpointHash {
  std::size_t operator()(const Endpoint& e) const noexcept {
    return hash_value(e.address) ^ (std::size_t{e.port} * 0x9E3779B97F4A7C15ull);
  }
};

/** Events listed with their frames (the first max_events_kept of them). */
enum class EventKind : std::uint8_t {
  retransmission,         // the same request again before any answer
  duplicate_request,      // the same request again after it was answered
  duplicate_response,     // a second answer to an answered request
  answer_without_request, // no request matches (never seen, or gone past the duplicate window)
  no_response,            // no answer within the timeout
  identifier_reused,      // a different request on an Identifier whose request is outstanding
  response_code_mismatch, // e.g. an Accounting-Response to an Access-Request
  request_authenticator_invalid,
  response_authenticator_invalid,
  decode_error,
  late_answer, // the answer to a request that had timed out, within the duplicate window
};
inline constexpr std::size_t event_kind_count = 11;
std::string_view to_string(EventKind kind) noexcept;

struct Event {
  EventKind kind;
  std::uint32_t file_index = 0;
  std::uint64_t frame = 0;
  std::uint32_t related_file_index = 0; // the request an event refers back to, if any
  std::uint64_t related_frame = 0;
  std::uint8_t code = 0;
  std::uint8_t identifier = 0;
  radius::DecodeError decode_error = radius::DecodeError::empty_datagram; // decode_error only
  std::uint32_t decode_offset = 0;
  Endpoint client; // the NAS side (source of a request, destination of an answer)
  Endpoint server;
};

inline constexpr std::size_t retransmission_buckets = 5; // 1, 2, 3, 4, 5+
inline constexpr std::size_t status_type_slots = 16;     // Acct-Status-Type 0..15; others apart

struct TrafficCounters {
  std::array<std::uint64_t, 256> by_code{};
  std::array<std::uint64_t, status_type_slots> by_status_type{}; // Accounting-Requests
  std::uint64_t status_type_absent = 0;
  std::uint64_t status_type_other = 0;
  std::uint64_t requests = 0;
  std::uint64_t responses = 0;
  std::uint64_t other_codes = 0;       // neither a request nor a response code
  std::uint64_t exchanges = 0;         // distinct requests (retransmissions not counted)
  std::uint64_t linked = 0;            // exchanges answered within the timeout
  std::uint64_t unanswered = 0;        // no answer within the timeout
  std::uint64_t late_answers = 0;      // of those, answered later (within the duplicate window)
  std::uint64_t unanswered_at_end = 0; // capture ended less than the timeout after the request
  std::uint64_t retransmissions = 0;
  std::array<std::uint64_t, retransmission_buckets> retransmission_histogram{}; // per exchange
  std::uint64_t duplicate_requests = 0;
  std::uint64_t duplicate_responses = 0;
  std::uint64_t answers_without_request = 0;
  std::uint64_t identifier_reused = 0;
  std::uint64_t response_code_mismatch = 0;
  std::uint64_t request_authenticator_valid = 0;
  std::uint64_t request_authenticator_invalid = 0;
  std::uint64_t response_authenticator_valid = 0;
  std::uint64_t response_authenticator_invalid = 0;
  LatencyHistogram latency;
};

struct TrackerOptions {
  std::int64_t timeout_ns = 5'000'000'000; // radsniff's --timeout default
  /** How long an answered request is remembered after its latest transmission, so that the same
   * request again is a duplicate (RFC 5080 §2.2.2), not a new exchange: the window the server
   * and `pcap import` use. Never shorter than timeout_ns. */
  std::int64_t duplicate_window_ns = 30'000'000'000;
  const ClientSecrets* secrets = nullptr; // verify authenticators when a NAS's secret is known
  std::size_t max_events_kept = 10000;
  /** Receives one CSV line per exchange when it closes (header from csv_header()). */
  std::function<void(std::string_view line)> csv;
};

class ExchangeTracker {
public:
  explicit ExchangeTracker(TrackerOptions options,
                           const radius::Dictionary& dict = radius::Dictionary::builtin());
  ~ExchangeTracker();
  ExchangeTracker(const ExchangeTracker&) = delete;
  ExchangeTracker& operator=(const ExchangeTracker&) = delete;

  /** One decoded datagram; wire is its payload (octets beyond the Length field are ignored). */
  void on_packet(const UdpDatagram& datagram, const radius::Packet& packet);
  /** A datagram on a RADIUS port that does not decode. */
  void on_decode_error(const UdpDatagram& datagram, const radius::DecodeFailure& failure);
  /** Closes what is still open at the end of the capture. */
  void finish();

  static std::string_view csv_header();

  const TrafficCounters& totals() const { return totals_; }
  /** Per NAS (the client address). */
  const std::unordered_map<IpAddress, TrafficCounters>& per_nas() const;
  /** Per server (address and port). */
  const std::unordered_map<Endpoint, TrafficCounters, EndpointHash>& per_server() const {
    return per_server_;
  }
  const std::vector<Event>& events() const { return events_; }
  const std::array<std::uint64_t, event_kind_count>& event_counts() const { return event_counts_; }
  /** Decode failures by DecodeError value. */
  const std::array<std::uint64_t, 32>& decode_errors() const { return decode_errors_; }
  std::size_t open_exchanges() const { return live_; }
  std::size_t peak_open_exchanges() const { return peak_live_; }

private:
  struct Key {
    IpAddress client_address;
    IpAddress server_address;
    std::uint16_t client_port = 0;
    std::uint16_t server_port = 0;
    std::uint8_t identifier = 0;
    bool operator==(const Key&) const = default;
  };
  struct Nas {
    TrafficCounters counters;
    const server::Client* client = nullptr; // its secret, if --secrets names it
  };
  struct Exchange;
  struct Expiry {
    std::uint32_t slot;
    std::uint32_t generation;
    std::int64_t deadline_ns;
    bool operator>(const Expiry& other) const { return deadline_ns > other.deadline_ns; }
  };

  // An open-addressing cell: slab index + 1 (0 when empty) and the key's 32-bit hash, so probes
  // compare hashes before touching an exchange.
  struct Cell {
    std::uint32_t index = 0;
    std::uint32_t hash = 0;
  };

  static std::uint32_t hash(const Key& key) noexcept;
  Cell* find_cell(const Key& key, std::uint32_t h);
  std::uint32_t insert(const Key& key, std::uint32_t h, std::int64_t now_ns);
  void remove(std::uint32_t index);
  void grow();
  void close(std::uint32_t index, bool at_end);
  /** Unanswered at its timeout: counted lost (no_response) and kept the rest of the duplicate
   * window, so that a late answer is linked to it, not taken for an answer without request. */
  void time_out(std::uint32_t index);
  void expire(std::int64_t now_ns);
  void event(EventKind kind, const UdpDatagram& datagram, std::uint8_t code,
             std::uint8_t identifier, const Endpoint& client, const Endpoint& server,
             const Exchange* related = nullptr);
  Nas& nas_for(const IpAddress& address);
  TrafficCounters& server_for(const Endpoint& endpoint);
  void on_request(const UdpDatagram& datagram, const radius::Packet& packet);
  void on_response(const UdpDatagram& datagram, const radius::Packet& packet);
  void write_csv(const Exchange& ex, bool at_end);

  TrackerOptions options_;
  std::int64_t keep_answered_ns_ = 0; // max(duplicate window, timeout)
  radius::AttrKey status_type_key_{};
  TrafficCounters totals_;
  std::unordered_map<IpAddress, Nas> nas_;
  mutable std::unordered_map<IpAddress, TrafficCounters> nas_view_;
  std::unordered_map<Endpoint, TrafficCounters, EndpointHash> per_server_;
  std::vector<Exchange> exchanges_; // slab; free slots chained through free_
  std::vector<std::uint32_t> free_;
  std::vector<Cell> table_;
  std::size_t live_ = 0;
  std::size_t peak_live_ = 0;
  std::deque<Expiry> expiries_;  // one per exchange, at creation: in time order
  std::deque<Expiry> answered_;  // answered, never retransmitted: kept the window, in time order
  std::deque<Expiry> timed_out_; // unanswered at the timeout: kept the window, in time order
  std::vector<Expiry> extended_; // min-heap of deadlines pushed back by retransmissions
  std::vector<Event> events_;
  std::array<std::uint64_t, event_kind_count> event_counts_{};
  std::array<std::uint64_t, 32> decode_errors_{};
  std::string csv_line_;
  Nas* last_nas_ = nullptr;
  IpAddress last_nas_address_;
  TrafficCounters* last_server_ = nullptr;
  Endpoint last_server_endpoint_;
};

} // namespace acctlab::capture
