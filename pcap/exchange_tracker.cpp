#include "pcap/exchange_tracker.hpp"

#include "radius/authenticator.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace acctlab::capture {

using radius::Code;

namespace {

constexpr std::string_view event_names[event_kind_count] = {
    "retransmission",
    "duplicate_request",
    "duplicate_response",
    "answer_without_request",
    "no_response",
    "identifier_reused",
    "response_code_mismatch",
    "request_authenticator_invalid",
    "response_authenticator_invalid",
    "decode_error",
    "late_answer",
};

enum class Role : std::uint8_t { request, response, other };

Role role_of(std::uint8_t code) {
  switch (static_cast<Code>(code)) {
    case Code::access_request:
    case Code::accounting_request:
    case Code::status_server:
    case Code::disconnect_request:
    case Code::coa_request:
      return Role::request;
    case Code::access_accept:
    case Code::access_reject:
    case Code::access_challenge:
    case Code::accounting_response:
    case Code::disconnect_ack:
    case Code::disconnect_nak:
    case Code::coa_ack:
    case Code::coa_nak:
      return Role::response;
    default:
      return Role::other;
  }
}

// RFC 2865 §4, RFC 2866 §4, RFC 5997 §3 (Status-Server is answered by Access-Accept on the
// authentication port and Accounting-Response on the accounting port), RFC 5176 §3.
bool answers(std::uint8_t request, std::uint8_t response) {
  switch (static_cast<Code>(request)) {
    case Code::access_request:
      return response == 2 || response == 3 || response == 11;
    case Code::accounting_request:
      return response == 5;
    case Code::status_server:
      return response == 2 || response == 3 || response == 5;
    case Code::disconnect_request:
      return response == 41 || response == 42;
    case Code::coa_request:
      return response == 44 || response == 45;
    default:
      return false;
  }
}

// RFC 2866 §3, RFC 5176 §2.3: these requests carry an MD5 Request Authenticator.
bool signed_request(std::uint8_t code) {
  return code == 4 || code == 40 || code == 43;
}

// The packet's own octets: the datagram up to the RADIUS Length field (RFC 2865 §3).
std::span<const std::uint8_t> packet_wire(const UdpDatagram& d) {
  if (d.payload.size() < 4) {
    return d.payload;
  }
  const std::size_t length = (std::size_t{d.payload[2]} << 8) | d.payload[3];
  return d.payload.first(std::min(length, d.payload.size()));
}

enum class AuthState : std::uint8_t { unknown, valid, invalid };

std::string_view auth_text(AuthState s) {
  switch (s) {
    case AuthState::valid:
      return "valid";
    case AuthState::invalid:
      return "invalid";
    default:
      return "";
  }
}

} // namespace

std::string_view to_string(EventKind kind) noexcept {
  const auto i = static_cast<std::size_t>(kind);
  return i < event_kind_count ? event_names[i] : "unknown";
}

struct ExchangeTracker::Exchange {
  Key key;
  Nas* nas = nullptr;
  TrafficCounters* server = nullptr;
  radius::Authenticator request_authenticator{};
  std::int64_t first_ns = 0;
  std::int64_t last_ns = 0;
  std::int64_t response_ns = 0;
  std::uint64_t frame = 0;
  std::uint64_t response_frame = 0;
  std::uint32_t file_index = 0;
  std::uint32_t response_file_index = 0;
  std::uint32_t generation = 0;
  std::uint32_t status_type = 0;
  std::uint16_t transmissions = 0;
  std::uint8_t code = 0;
  std::uint8_t response_code = 0;
  bool in_use = false;
  bool answered = false;
  bool timed_out = false; // no answer within the timeout (counted then; an answer may come later)
  bool has_status_type = false;
  AuthState request_auth = AuthState::unknown;
  AuthState response_auth = AuthState::unknown;
};

ExchangeTracker::ExchangeTracker(TrackerOptions options, const radius::Dictionary& dict)
    : options_(std::move(options)),
      keep_answered_ns_(std::max(options_.duplicate_window_ns, options_.timeout_ns)) {
  // Bound by name when the dictionary loads; RFC 2866 §5.1's number is the fallback for a
  // dictionary that lacks it.
  const auto* def = dict.find("Acct-Status-Type");
  status_type_key_ = def ? def->key() : radius::AttrKey{0, 40};
  table_.assign(1024, Cell{});
}

ExchangeTracker::~ExchangeTracker() = default;

std::uint32_t ExchangeTracker::hash(const Key& key) noexcept {
  std::size_t h = hash_value(key.client_address);
  h = hash_value(key.server_address, h);
  h ^= (std::size_t{key.client_port} << 24) ^ (std::size_t{key.server_port} << 8) ^ key.identifier;
  h *= 0x9E3779B97F4A7C15ull;
  return static_cast<std::uint32_t>(h >> 32);
}

// The cell holding key, or the empty cell where it would go.
ExchangeTracker::Cell* ExchangeTracker::find_cell(const Key& key, std::uint32_t h) {
  const std::size_t mask = table_.size() - 1;
  for (std::size_t i = h & mask;; i = (i + 1) & mask) {
    Cell& cell = table_[i];
    if (cell.index == 0 || (cell.hash == h && exchanges_[cell.index - 1].key == key)) {
      return &cell;
    }
  }
}

void ExchangeTracker::grow() {
  std::vector<Cell> old(table_.size() * 2);
  old.swap(table_);
  const std::size_t mask = table_.size() - 1;
  for (const Cell& cell : old) {
    if (cell.index != 0) {
      std::size_t i = cell.hash & mask;
      while (table_[i].index != 0) {
        i = (i + 1) & mask;
      }
      table_[i] = cell;
    }
  }
}

// A new exchange, due to expire one timeout from now (retransmissions push that back lazily).
std::uint32_t ExchangeTracker::insert(const Key& key, std::uint32_t h, std::int64_t now_ns) {
  if ((live_ + 1) * 2 > table_.size()) {
    grow();
  }
  std::uint32_t index;
  if (!free_.empty()) {
    index = free_.back();
    free_.pop_back();
  } else {
    index = static_cast<std::uint32_t>(exchanges_.size());
    exchanges_.emplace_back();
  }
  Exchange& ex = exchanges_[index];
  const std::uint32_t generation = ex.generation;
  ex = Exchange{};
  ex.generation = generation;
  ex.key = key;
  ex.in_use = true;
  *find_cell(key, h) = Cell{index + 1, h};
  ++live_;
  peak_live_ = std::max(peak_live_, live_);
  expiries_.push_back({index, generation, now_ns + options_.timeout_ns});
  return index;
}

// Linear-probing deletion by backward shift, so no tombstones accumulate.
void ExchangeTracker::remove(std::uint32_t index) {
  Exchange& ex = exchanges_[index];
  const std::size_t mask = table_.size() - 1;
  std::size_t hole = static_cast<std::size_t>(find_cell(ex.key, hash(ex.key)) - table_.data());
  table_[hole] = Cell{};
  for (std::size_t i = (hole + 1) & mask; table_[i].index != 0; i = (i + 1) & mask) {
    const std::size_t home = table_[i].hash & mask;
    // Move the entry into the hole unless its home lies cyclically in (hole, i].
    const bool stays = hole <= i ? (home > hole && home <= i) : (home > hole || home <= i);
    if (!stays) {
      table_[hole] = table_[i];
      table_[i] = Cell{};
      hole = i;
    }
  }
  ex.in_use = false;
  ++ex.generation;
  free_.push_back(index);
  --live_;
}

// An exchange stays one timeout after its latest transmission: unanswered by then it is lost
// (counted, no_response), but kept until the duplicate window (RFC 5080 §2.2.2, at least the
// timeout) after its latest transmission has passed, as an answered one is: a late answer is
// then linked to its request, as the judge links it, and duplicates of either packet are
// recognised as such. Each exchange gets one entry, at creation, in the time-ordered FIFO
// expiries_. When that comes due for an exchange sent once, it moves to the FIFO answered_ or
// timed_out_, whose deadlines (creation plus the window) are in the same order; one retransmitted
// since moves to the heap extended_ with its later deadline (rare, so the heap stays small). All
// are drained in deadline order, so an exchange expires at the first packet at or after its
// deadline, whatever the order of the others.
void ExchangeTracker::expire(std::int64_t now_ns) {
  for (;;) {
    // The earliest due entry of the three, if any is due.
    std::deque<Expiry>* fifo = nullptr;
    std::int64_t earliest = now_ns;
    for (auto* queue : {&expiries_, &answered_, &timed_out_}) {
      if (!queue->empty() && queue->front().deadline_ns <= earliest) {
        earliest = queue->front().deadline_ns;
        fifo = queue;
      }
    }
    const bool heap = !extended_.empty() && extended_.front().deadline_ns <= earliest &&
                      (fifo == nullptr || extended_.front().deadline_ns < earliest);
    if (fifo == nullptr && !heap) {
      return;
    }
    Expiry e;
    if (!heap) {
      e = fifo->front();
      fifo->pop_front();
    } else {
      std::pop_heap(extended_.begin(), extended_.end(), std::greater<>{});
      e = extended_.back();
      extended_.pop_back();
    }
    Exchange& ex = exchanges_[e.slot];
    if (!ex.in_use || ex.generation != e.generation) {
      continue; // closed earlier (its Identifier was reused)
    }
    const bool kept = ex.answered || ex.timed_out;
    const std::int64_t due = ex.last_ns + (kept ? keep_answered_ns_ : options_.timeout_ns);
    if (due <= now_ns && !kept && keep_answered_ns_ > options_.timeout_ns) {
      time_out(e.slot);
      const std::int64_t kept_until = ex.last_ns + keep_answered_ns_;
      if (kept_until <= now_ns) {
        close(e.slot, false);
      } else if (timed_out_.empty() || timed_out_.back().deadline_ns <= kept_until) {
        timed_out_.push_back({e.slot, e.generation, kept_until}); // the common case: in order
      } else {
        // An entry that came due late (its exchange was retransmitted after it was queued) can
        // be out of order: the heap keeps it.
        extended_.push_back({e.slot, e.generation, kept_until});
        std::push_heap(extended_.begin(), extended_.end(), std::greater<>{});
      }
    } else if (due <= now_ns) {
      close(e.slot, false);
    } else if (fifo == &expiries_ && ex.answered &&
               ex.last_ns + options_.timeout_ns == e.deadline_ns) {
      answered_.push_back({e.slot, e.generation, due}); // sent once: due in creation order
    } else {
      extended_.push_back({e.slot, e.generation, due});
      std::push_heap(extended_.begin(), extended_.end(), std::greater<>{});
    }
  }
}

ExchangeTracker::Nas& ExchangeTracker::nas_for(const IpAddress& address) {
  if (last_nas_ != nullptr && last_nas_address_ == address) {
    return *last_nas_;
  }
  auto [it, inserted] = nas_.try_emplace(address);
  if (inserted && options_.secrets != nullptr) {
    it->second.client = options_.secrets->find(address);
  }
  last_nas_ = &it->second;
  last_nas_address_ = address;
  return it->second;
}

TrafficCounters& ExchangeTracker::server_for(const Endpoint& endpoint) {
  if (last_server_ != nullptr && last_server_endpoint_ == endpoint) {
    return *last_server_;
  }
  last_server_ = &per_server_[endpoint];
  last_server_endpoint_ = endpoint;
  return *last_server_;
}

void ExchangeTracker::event(EventKind kind, const UdpDatagram& datagram, std::uint8_t code,
                            std::uint8_t identifier, const Endpoint& client, const Endpoint& server,
                            const Exchange* related) {
  ++event_counts_[static_cast<std::size_t>(kind)];
  if (events_.size() >= options_.max_events_kept) {
    return;
  }
  Event e{kind};
  e.file_index = datagram.file_index;
  e.frame = datagram.frame;
  e.code = code;
  e.identifier = identifier;
  e.client = client;
  e.server = server;
  if (related != nullptr) {
    e.related_file_index = related->file_index;
    e.related_frame = related->frame;
  }
  events_.push_back(e);
}

void ExchangeTracker::on_packet(const UdpDatagram& datagram, const radius::Packet& packet) {
  expire(datagram.timestamp_ns);
  switch (role_of(static_cast<std::uint8_t>(packet.code()))) {
    case Role::request:
      on_request(datagram, packet);
      break;
    case Role::response:
      on_response(datagram, packet);
      break;
    case Role::other: {
      const auto code = static_cast<std::uint8_t>(packet.code());
      ++totals_.by_code[code];
      ++totals_.other_codes;
      auto& nas = nas_for(datagram.source.address).counters;
      ++nas.by_code[code];
      ++nas.other_codes;
      break;
    }
  }
}

void ExchangeTracker::on_decode_error(const UdpDatagram& datagram,
                                      const radius::DecodeFailure& failure) {
  expire(datagram.timestamp_ns);
  ++decode_errors_[static_cast<std::size_t>(failure.error) % decode_errors_.size()];
  ++event_counts_[static_cast<std::size_t>(EventKind::decode_error)];
  if (events_.size() < options_.max_events_kept) {
    Event e{EventKind::decode_error};
    e.file_index = datagram.file_index;
    e.frame = datagram.frame;
    e.decode_error = failure.error;
    e.decode_offset = static_cast<std::uint32_t>(failure.offset);
    e.client = datagram.source;
    e.server = datagram.destination;
    if (!datagram.payload.empty()) {
      e.code = datagram.payload[0];
    }
    if (datagram.payload.size() > 1) {
      e.identifier = datagram.payload[1];
    }
    events_.push_back(e);
  }
}

void ExchangeTracker::on_request(const UdpDatagram& d, const radius::Packet& packet) {
  const auto code = static_cast<std::uint8_t>(packet.code());
  Nas& nas = nas_for(d.source.address);
  TrafficCounters& server = server_for(d.destination);
  for (TrafficCounters* c : {&totals_, &nas.counters, &server}) {
    ++c->by_code[code];
    ++c->requests;
  }

  // Acct-Status-Type of Accounting-Requests (RFC 2866 §5.1).
  std::uint32_t status_type = 0;
  bool has_status_type = false;
  if (code == static_cast<std::uint8_t>(Code::accounting_request)) {
    const radius::Attribute* attr = packet.find(status_type_key_);
    if (attr != nullptr && attr->length == 4) {
      const auto v = packet.value(*attr);
      status_type = (std::uint32_t{v[0]} << 24) | (std::uint32_t{v[1]} << 16) |
                    (std::uint32_t{v[2]} << 8) | v[3];
      has_status_type = true;
    }
    for (TrafficCounters* c : {&totals_, &nas.counters, &server}) {
      if (!has_status_type) {
        ++c->status_type_absent;
      } else if (status_type < status_type_slots) {
        ++c->by_status_type[status_type];
      } else {
        ++c->status_type_other;
      }
    }
  }

  const Key key{d.source.address, d.destination.address, d.source.port, d.destination.port,
                packet.identifier()};
  const std::uint32_t h = hash(key);
  const Cell* cell = find_cell(key, h);
  if (cell->index != 0) {
    const std::uint32_t index = cell->index - 1;
    Exchange& ex = exchanges_[index];
    if (ex.timed_out && !ex.answered) {
      // Lost by the timeout: the same request again, or another on its Identifier, starts a new
      // exchange (kept only so that a late answer finds its request).
      close(index, false);
    } else if (ex.code == code && ex.request_authenticator == packet.authenticator()) {
      ++ex.transmissions;
      ex.last_ns = d.timestamp_ns;
      const EventKind kind = ex.answered ? EventKind::duplicate_request : EventKind::retransmission;
      for (TrafficCounters* c : {&totals_, &ex.nas->counters, ex.server}) {
        ++(ex.answered ? c->duplicate_requests : c->retransmissions);
      }
      event(kind, d, code, packet.identifier(), d.source, d.destination, &ex);
      return;
    } else {
      // A different request on the same Identifier. RFC 5080 §2.2.1: the Identifier may be
      // reused only once the previous request is answered or abandoned.
      if (!ex.answered) {
        for (TrafficCounters* c : {&totals_, &ex.nas->counters, ex.server}) {
          ++c->identifier_reused;
        }
        event(EventKind::identifier_reused, d, code, packet.identifier(), d.source, d.destination,
              &ex);
      }
      close(index, false);
    }
  }

  const std::uint32_t index = insert(key, h, d.timestamp_ns);
  Exchange& ex = exchanges_[index];
  ex.nas = &nas;
  ex.server = &server;
  ex.request_authenticator = packet.authenticator();
  ex.first_ns = ex.last_ns = d.timestamp_ns;
  ex.frame = d.frame;
  ex.file_index = d.file_index;
  ex.transmissions = 1;
  ex.code = code;
  ex.status_type = status_type;
  ex.has_status_type = has_status_type;
  for (TrafficCounters* c : {&totals_, &nas.counters, &server}) {
    ++c->exchanges;
  }

  if (nas.client != nullptr) {
    const auto wire = packet_wire(d);
    bool valid = true;
    bool checked = false;
    if (signed_request(code)) {
      valid = radius::verify_request_authenticator(wire, nas.client->secret);
      checked = true;
    } else {
      // Access-Request and Status-Server: only a Message-Authenticator can be checked.
      const auto check = radius::check_message_authenticator(wire, nas.client->secret, nullptr);
      checked = check != radius::MessageAuthenticatorCheck::absent;
      valid = check == radius::MessageAuthenticatorCheck::valid;
    }
    if (checked) {
      ex.request_auth = valid ? AuthState::valid : AuthState::invalid;
      for (TrafficCounters* c : {&totals_, &nas.counters, &server}) {
        ++(valid ? c->request_authenticator_valid : c->request_authenticator_invalid);
      }
      if (!valid) {
        event(EventKind::request_authenticator_invalid, d, code, packet.identifier(), d.source,
              d.destination, &ex);
      }
    }
  }
}

void ExchangeTracker::on_response(const UdpDatagram& d, const radius::Packet& packet) {
  const auto code = static_cast<std::uint8_t>(packet.code());
  const Key key{d.destination.address, d.source.address, d.destination.port, d.source.port,
                packet.identifier()};
  const Cell* cell = find_cell(key, hash(key));
  if (cell->index == 0) {
    Nas& nas = nas_for(d.destination.address);
    TrafficCounters& server = server_for(d.source);
    for (TrafficCounters* c : {&totals_, &nas.counters, &server}) {
      ++c->by_code[code];
      ++c->responses;
      ++c->answers_without_request;
    }
    event(EventKind::answer_without_request, d, code, packet.identifier(), d.destination, d.source);
    return;
  }
  Exchange& ex = exchanges_[cell->index - 1];
  for (TrafficCounters* c : {&totals_, &ex.nas->counters, ex.server}) {
    ++c->by_code[code];
    ++c->responses;
  }
  if (!answers(ex.code, code)) {
    for (TrafficCounters* c : {&totals_, &ex.nas->counters, ex.server}) {
      ++c->response_code_mismatch;
    }
    event(EventKind::response_code_mismatch, d, code, packet.identifier(), d.destination, d.source,
          &ex);
    return;
  }
  if (ex.answered) {
    for (TrafficCounters* c : {&totals_, &ex.nas->counters, ex.server}) {
      ++c->duplicate_responses;
    }
    event(EventKind::duplicate_response, d, code, packet.identifier(), d.destination, d.source,
          &ex);
    return;
  }
  ex.answered = true;
  ex.response_ns = d.timestamp_ns;
  ex.response_frame = d.frame;
  ex.response_file_index = d.file_index;
  ex.response_code = code;
  // Latency from the latest transmission: with retransmissions the answer cannot be attributed
  // to one of them, and the latest gives the lower bound (Karn's problem). A late answer's too:
  // how long the server took is what its user needs to see.
  const std::int64_t latency = d.timestamp_ns - ex.last_ns;
  for (TrafficCounters* c : {&totals_, &ex.nas->counters, ex.server}) {
    ++(ex.timed_out ? c->late_answers : c->linked);
    c->latency.add(latency);
  }
  if (ex.timed_out) {
    event(EventKind::late_answer, d, code, packet.identifier(), d.destination, d.source, &ex);
  }
  if (ex.nas->client != nullptr) {
    const bool valid = radius::verify_response_authenticator(
        packet_wire(d), ex.request_authenticator, ex.nas->client->secret);
    ex.response_auth = valid ? AuthState::valid : AuthState::invalid;
    for (TrafficCounters* c : {&totals_, &ex.nas->counters, ex.server}) {
      ++(valid ? c->response_authenticator_valid : c->response_authenticator_invalid);
    }
    if (!valid) {
      event(EventKind::response_authenticator_invalid, d, code, packet.identifier(), d.destination,
            d.source, &ex);
    }
  }
}

void ExchangeTracker::time_out(std::uint32_t index) {
  Exchange& ex = exchanges_[index];
  ex.timed_out = true;
  for (TrafficCounters* c : {&totals_, &ex.nas->counters, ex.server}) {
    ++c->unanswered;
  }
  ++event_counts_[static_cast<std::size_t>(EventKind::no_response)];
  if (events_.size() < options_.max_events_kept) {
    Event e{EventKind::no_response};
    e.file_index = ex.file_index;
    e.frame = ex.frame;
    e.code = ex.code;
    e.identifier = ex.key.identifier;
    e.client = {ex.key.client_address, ex.key.client_port};
    e.server = {ex.key.server_address, ex.key.server_port};
    events_.push_back(e);
  }
}

void ExchangeTracker::close(std::uint32_t index, bool at_end) {
  Exchange& ex = exchanges_[index];
  const unsigned retransmitted = ex.transmissions - 1u;
  for (TrafficCounters* c : {&totals_, &ex.nas->counters, ex.server}) {
    if (retransmitted > 0) {
      ++c->retransmission_histogram[std::min<std::size_t>(retransmitted, retransmission_buckets) -
                                    1];
    }
    if (!ex.answered && !ex.timed_out && at_end) {
      ++c->unanswered_at_end;
    }
  }
  if (!ex.answered && !ex.timed_out && !at_end) {
    time_out(index); // lost before its timeout was due: its Identifier went to another request
  }
  if (options_.csv) {
    write_csv(ex, at_end);
  }
  remove(index);
}

void ExchangeTracker::finish() {
  for (std::uint32_t i = 0; i < exchanges_.size(); ++i) {
    if (exchanges_[i].in_use) {
      close(i, true);
    }
  }
  expiries_.clear();
  answered_.clear();
  timed_out_.clear();
  extended_.clear();
}

std::string_view ExchangeTracker::csv_header() {
  return "file,request_frame,response_frame,request_time,client,server,code,identifier,"
         "status_type,transmissions,latency_ms,result,request_authenticator,"
         "response_authenticator\n";
}

void ExchangeTracker::write_csv(const Exchange& ex, bool at_end) {
  const Endpoint client{ex.key.client_address, ex.key.client_port};
  const Endpoint server{ex.key.server_address, ex.key.server_port};
  const char* result = ex.answered    ? (ex.timed_out ? "answered_late" : "answered")
                       : ex.timed_out ? "no_response"
                       : at_end       ? "pending_at_end"
                                      : "no_response";
  char time_text[32];
  std::snprintf(time_text, sizeof time_text, "%lld.%06lld",
                static_cast<long long>(ex.first_ns / 1'000'000'000),
                static_cast<long long>((ex.first_ns % 1'000'000'000) / 1000));
  char latency[32] = "";
  if (ex.answered) {
    std::snprintf(latency, sizeof latency, "%.3f",
                  static_cast<double>(ex.response_ns - ex.last_ns) / 1e6);
  }
  char status[16] = "";
  if (ex.has_status_type) {
    std::snprintf(status, sizeof status, "%u", ex.status_type);
  }
  csv_line_.clear();
  csv_line_ += std::to_string(ex.file_index) + "," + std::to_string(ex.frame) + ",";
  if (ex.answered) {
    csv_line_ += std::to_string(ex.response_frame);
  }
  csv_line_ += ",";
  csv_line_ += time_text;
  csv_line_ += "," + client.to_string() + "," + server.to_string() + ",";
  csv_line_ += radius::code_name(static_cast<Code>(ex.code));
  csv_line_ += "," + std::to_string(ex.key.identifier) + "," + status + "," +
               std::to_string(ex.transmissions) + "," + latency + "," + result + ",";
  csv_line_ += auth_text(ex.request_auth);
  csv_line_ += ",";
  csv_line_ += auth_text(ex.response_auth);
  csv_line_ += "\n";
  options_.csv(csv_line_);
}

const std::unordered_map<IpAddress, TrafficCounters>& ExchangeTracker::per_nas() const {
  nas_view_.clear();
  for (const auto& [address, nas] : nas_) {
    nas_view_.emplace(address, nas.counters);
  }
  return nas_view_;
}

} // namespace acctlab::capture
