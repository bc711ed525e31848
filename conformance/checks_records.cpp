// Checks of what records say rather than how they are framed: what an Accounting-Response may
// carry (RFC 2866 §4.2), clocks (RFC 2869 §5.3), counters that cannot be (octets without
// packets, more than a link can carry), attributes a session carries in some records but not in
// another, and the interim interval a NAS shows (SES-INTERIM-CADENCE's inference).

#include "conformance/detail/checks.hpp"
#include "radius/value.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <functional>
#include <set>

namespace acctlab::conformance::detail {
namespace {

constexpr std::uint32_t start = 1;
constexpr std::uint32_t stop = 2;
constexpr std::uint32_t interim = 3;

// RFC 2866 §5.13, Accounting-Response column: Proxy-State 0+, Vendor-Specific 0+, everything else
// 0; RFC 3579 §3.2 allows Message-Authenticator in any RADIUS packet.
constexpr std::uint8_t vendor_specific = 26;
constexpr std::uint8_t proxy_state = 33;
constexpr std::uint8_t message_authenticator = 80;

std::string number(double value, int decimals = 1) {
  char text[48];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

/** "2026-12-07 06:26:48 UTC (unix 1796624808)". */
std::string clock_text(double unix_seconds) {
  const auto t = static_cast<std::time_t>(std::floor(unix_seconds));
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[40];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return std::string(text) + " (unix " + std::to_string(static_cast<std::int64_t>(t)) + ")";
}

/** "12.3 Gbit/s" */
std::string rate_text(double bits_per_second) {
  if (bits_per_second >= 1e9) {
    return number(bits_per_second / 1e9) + " Gbit/s";
  }
  if (bits_per_second >= 1e6) {
    return number(bits_per_second / 1e6) + " Mbit/s";
  }
  return number(bits_per_second / 1e3) + " kbit/s";
}

bool first_transmission(const Analysis& analysis, const PacketView& view) {
  return view.request && analysis.exchanges()[view.exchange].transmissions.front() == view.index;
}

std::string session_text(const SessionView& session) {
  return "session \"" + session.session_id + "\" of NAS " + session.nas;
}

/** A session's records up to and including its first Stop (later ones are SES-AFTER-STOP's). */
std::vector<std::size_t> through_stop(const Analysis& analysis, const SessionView& session) {
  std::vector<std::size_t> out;
  for (const auto index : session.records) {
    out.push_back(index);
    if (analysis.status(index) == stop) {
      break;
    }
  }
  return out;
}

/** "Interim-Update (record 3 of the session)". */
std::string record_text(const Analysis& analysis, const std::vector<std::size_t>& records,
                        std::size_t index) {
  const auto at = std::find(records.begin(), records.end(), index) - records.begin();
  return status_label(analysis, index) + " (record " + std::to_string(at + 1) + " of the session)";
}

// One usage direction: 64-bit octets and 32-bit packets (RFC 2866 §5.3, §5.4, §5.8, §5.9).
struct Usage {
  const char* octets_name;
  const char* packets_name;
  std::optional<std::uint64_t> radius::AccountingRecord::*octets;
  std::optional<std::uint32_t> radius::AccountingRecord::*packets;
};
constexpr Usage usages[] = {
    {"Acct-Input-Octets", "Acct-Input-Packets", &radius::AccountingRecord::input_octets,
     &radius::AccountingRecord::input_packets},
    {"Acct-Output-Octets", "Acct-Output-Packets", &radius::AccountingRecord::output_octets,
     &radius::AccountingRecord::output_packets},
};

/** What a profile row names, found in one record: the value text of the first occurrence. */
std::optional<std::string> value_of(const Analysis& analysis, const PresenceRow& row,
                                    std::size_t index) {
  const auto& view = analysis.packets()[index];
  if (row.avpair) {
    for (const auto& pair : view.record->cisco_avpairs) {
      if (std::find(row.names.begin(), row.names.end(), pair.name) != row.names.end()) {
        return pair.value;
      }
    }
    return std::nullopt;
  }
  for (const auto& key : row.keys) {
    for (const auto& attribute : view.packet->attributes()) {
      if (attribute.key() == key) {
        const auto* def = analysis.dictionary().find(key);
        return radius::format_value(def, view.packet->value(attribute)).text;
      }
    }
  }
  return std::nullopt;
}

} // namespace

void check_response_attributes(const Rule& rule, const Analysis& analysis, FindingSink& sink) {
  for (const auto& view : analysis.packets()) {
    if (!view.response || view.packet->code() != radius::Code::accounting_response) {
      continue;
    }
    std::vector<std::string> others;
    for (const auto& attribute : view.packet->attributes()) {
      if (attribute.is_vendor() || attribute.type == vendor_specific ||
          attribute.type == proxy_state || attribute.type == message_authenticator) {
        continue;
      }
      const auto* def = analysis.dictionary().find(radius::AttrKey{0, attribute.type});
      others.push_back((def ? def->name : "attribute") + " (" + std::to_string(attribute.type) +
                       ")");
    }
    if (others.empty()) {
      continue;
    }
    std::string list;
    for (const auto& one : others) {
      list += (list.empty() ? "" : ", ") + one;
    }
    sink.report(rule,
                "Accounting-Response id " + std::to_string(view.packet->identifier()) + " to " +
                    view.client + " carries " + list +
                    "; RFC 2866 §5.13 allows only Proxy-State and Vendor-Specific (and RFC 3579 "
                    "Message-Authenticator) in an Accounting-Response",
                analysis.evidence(view.index));
  }
}

namespace {

/** The values of a packet's Proxy-State attributes, in order. */
std::vector<std::vector<std::uint8_t>> proxy_states(const radius::Packet& packet) {
  std::vector<std::vector<std::uint8_t>> out;
  for (const auto& attribute : packet.attributes()) {
    if (!attribute.is_vendor() && attribute.type == proxy_state) {
      const auto value = packet.value(attribute);
      out.emplace_back(value.begin(), value.end());
    }
  }
  return out;
}

std::string proxy_state_text(const std::vector<std::vector<std::uint8_t>>& values) {
  if (values.empty()) {
    return "none";
  }
  static constexpr char hex[] = "0123456789abcdef";
  std::string text;
  for (const auto& value : values) {
    text += text.empty() ? "0x" : ", 0x";
    for (const auto octet : value) {
      text += hex[octet >> 4];
      text += hex[octet & 0xf];
    }
  }
  return text;
}

} // namespace

void check_proxy_state(const Rule& rule, const Analysis& analysis, FindingSink& sink) {
  for (const auto& view : analysis.packets()) {
    if (!view.response || !view.packet || view.answers == none ||
        view.packet->code() != radius::Code::accounting_response) {
      continue;
    }
    const auto& request = analysis.packets()[view.answers];
    if (!request.packet) {
      continue;
    }
    const auto sent = proxy_states(*request.packet);
    const auto returned = proxy_states(*view.packet);
    if (sent == returned) {
      continue;
    }
    sink.report(rule,
                "Accounting-Response id " + std::to_string(view.packet->identifier()) + " to " +
                    view.client + " carries Proxy-State " + proxy_state_text(returned) +
                    "; its request carried " + proxy_state_text(sent) +
                    ": a server copies every Proxy-State of the request into its answer, "
                    "unmodified and in order (RFC 2865 §5.33), so the proxy that added one can "
                    "find its request again",
                analysis.evidence(view.index));
  }
}

void check_event_timestamp_count(const Rule& rule, const Analysis& analysis, FindingSink& sink) {
  const auto* def = analysis.dictionary().find("Event-Timestamp");
  if (!def) {
    return;
  }
  for (const auto& view : analysis.packets()) {
    if (!first_transmission(analysis, view)) {
      continue;
    }
    const auto count = view.packet->count(def->key());
    if (count > 1) {
      std::string values;
      for (const auto& attribute : view.packet->attributes()) {
        if (attribute.key() == def->key()) {
          values += (values.empty() ? "" : ", ") +
                    radius::format_value(def, view.packet->value(attribute)).text;
        }
      }
      sink.report(rule,
                  status_label(analysis, view.index) + " carries Event-Timestamp " +
                      std::to_string(count) + " times (" + values +
                      "); RFC 2869 §5.19 allows 0-1: the event has one time",
                  analysis.evidence(view.index));
    }
  }
}

void check_event_timestamp_clock(const Rule& rule, const Analysis& analysis, FindingSink& sink) {
  const double tolerance = analysis.profile().options.clock_tolerance;
  for (const auto& view : analysis.packets()) {
    if (!first_transmission(analysis, view) || !view.record->event_timestamp) {
      continue;
    }
    // Relative trace times (a trace file starting at 0) say nothing about the NAS's clock.
    if (view.trace->time < absolute_time_floor) {
      continue;
    }
    const double stamped = *view.record->event_timestamp;
    const double delay = view.record->delay_time.value_or(0);
    const double expected = view.event_time; // receive time - Acct-Delay-Time
    const double off = stamped - expected;
    if (std::fabs(off) <= tolerance) {
      continue;
    }
    sink.report(rule,
                status_label(analysis, view.index) + " says Event-Timestamp " +
                    clock_text(stamped) + ", " + number(std::fabs(off), 0) + " s " +
                    (off > 0 ? "ahead of" : "behind") + " its receive time " +
                    clock_text(view.trace->time) + " less Acct-Delay-Time " + number(delay, 0) +
                    " s (tolerance " + number(tolerance, 0) +
                    " s, profile option clock-tolerance): the NAS's clock is off",
                analysis.evidence(view.index));
  }
}

void check_counter_pairs(const Rule& rule, const Analysis& analysis, FindingSink& sink) {
  for (const auto& view : analysis.packets()) {
    if (!first_transmission(analysis, view)) {
      continue;
    }
    const auto& record = *view.record;
    for (const auto& d : usages) {
      const auto& octets = record.*d.octets;
      const auto& packets = record.*d.packets;
      if (!octets || !packets) {
        continue; // absent counters are the presence rows' business
      }
      if ((*octets > 0) == (*packets > 0)) {
        continue;
      }
      sink.report(rule,
                  status_label(analysis, view.index) + " says " + d.octets_name + " " +
                      std::to_string(*octets) + " with " + d.packets_name + " " +
                      std::to_string(*packets) +
                      (*octets > 0 ? ": octets cannot travel without packets"
                                   : ": packets cannot travel without octets"),
                  analysis.evidence(view.index));
    }
  }
}

void check_counter_rate(const Rule& rule, const Analysis& analysis, FindingSink& sink) {
  const double limit = analysis.profile().options.max_link_rate;
  for (const auto& session : analysis.sessions()) {
    const auto records = through_stop(analysis, session);
    std::size_t first_start = none;
    for (const auto index : records) {
      if (analysis.status(index) == start) {
        first_start = index;
        break;
      }
    }
    for (const auto& d : usages) {
      // From the Start (nothing counted yet), else from the moment the first record's
      // Acct-Session-Time says the session began, to each record that counts more.
      std::size_t previous = first_start;
      for (const auto index : records) {
        const auto& view = analysis.packets()[index];
        const auto& octets = (*view.record).*d.octets;
        if (!octets || index == first_start) {
          continue;
        }
        const std::size_t from = previous;
        std::uint64_t before = 0;
        double elapsed = 0;
        std::string since;
        if (previous != none) {
          const auto& earlier = analysis.packets()[previous];
          before = ((*earlier.record).*d.octets).value_or(0);
          elapsed = view.event_time - earlier.event_time;
          // The NAS's own clock, when both say: the longer of the two spans is the kinder.
          if (view.record->session_time && earlier.record->session_time) {
            elapsed = std::max(elapsed, static_cast<double>(*view.record->session_time) -
                                            *earlier.record->session_time);
          } else if (view.record->session_time && previous == first_start) {
            elapsed = std::max(elapsed, static_cast<double>(*view.record->session_time));
          }
          since = record_text(analysis, records, previous);
        } else if (view.record->session_time) {
          elapsed = *view.record->session_time;
          since = "the session's beginning (Acct-Session-Time " +
                  std::to_string(*view.record->session_time) + " s)";
        } else {
          previous = index;
          continue;
        }
        previous = index;
        if (*octets <= before) {
          continue; // no growth (a decrease is SES-COUNTER-DECREASE's)
        }
        // Acct-Session-Time counts whole seconds: a second is the finest span it can show.
        elapsed = std::max(elapsed, 1.0);
        const double grown = static_cast<double>(*octets - before);
        const double rate = grown * 8 / elapsed;
        if (rate > limit) {
          sink.report(rule,
                      session_text(session) + ": " + d.octets_name + " grew by " +
                          std::to_string(*octets - before) + " octets in " + number(elapsed) +
                          " s from " + since + " to " + record_text(analysis, records, index) +
                          ", " + rate_text(rate) + ", more than the profile's max-link-rate " +
                          rate_text(limit) + " could carry",
                      from == none ? analysis.evidence(index)
                                   : analysis.evidence(std::vector<std::size_t>{from, index}));
        }
      }
    }
  }
}

void check_attribute_consistency(const Rule& rule, const Analysis& analysis, FindingSink& sink) {
  const auto& rows = analysis.profile().rows;
  for (const auto& session : analysis.sessions()) {
    const auto records = through_stop(analysis, session);
    if (records.size() < 2) {
      continue;
    }
    for (const auto index : records) {
      const auto status = analysis.status(index);
      if (status != start && status != stop && status != interim) {
        continue;
      }
      // The rows that apply to this record and let it carry the attribute without requiring it
      // (a required one missing is the presence row's finding); one check per attribute.
      std::set<std::string> required;
      for (const auto& row : rows) {
        if ((!row.status || row.status == status) && row.count.min > 0) {
          required.insert(row.names.front());
        }
      }
      // Gigawords appear once a counter has wrapped (the document's Update carries none, its
      // Stop both); their coming and going is SES-GIGAWORDS's.
      std::set<std::string> seen{"Acct-Input-Gigawords", "Acct-Output-Gigawords"};
      for (const auto& row : rows) {
        if ((row.status && row.status != status) || row.count.max == 0 ||
            required.contains(row.names.front()) || !seen.insert(row.names.front()).second) {
          continue;
        }
        if (value_of(analysis, row, index)) {
          continue;
        }
        // The session's other records of this type, and its updates.
        std::vector<std::size_t> holders;
        std::string values;
        for (const auto other : records) {
          const auto other_status = analysis.status(other);
          if (other == index || (other_status != status && other_status != interim)) {
            continue;
          }
          if (const auto value = value_of(analysis, row, other)) {
            holders.push_back(other);
            if (holders.size() <= 3) {
              values += (values.empty() ? "" : ", ") + record_text(analysis, records, other) +
                        " = " + *value;
            }
          }
        }
        if (holders.empty()) {
          continue;
        }
        if (holders.size() > 3) {
          values += " and " + std::to_string(holders.size() - 3) + " more";
        }
        const std::string what =
            row.avpair ? "Cisco AV pair " + row.names.front() : row.names.front();
        // The record that lacks it last: a stored finding links to the evidence's last packet.
        auto evidence_packets = holders;
        evidence_packets.push_back(index);
        sink.report(rule,
                    session_text(session) + ": " + record_text(analysis, records, index) +
                        " lacks " + what + ", which the session's " + values +
                        " carried (the profile lists it for " + status_label(analysis, index) + ")",
                    analysis.evidence(evidence_packets));
      }
    }
  }
}

void IntervalTally::add(const PacketView& view, const radius::Dictionary& dict) {
  if (!view.request) {
    return;
  }
  const auto status = view.record->status_type;
  if (status != interim && status != stop) {
    return;
  }
  const std::pair<std::string, std::string> session{view.nas_key, view.record->session_id};
  if (status == stop) {
    last_.erase(session);
    return;
  }
  // A retransmission of the latest update, or a copy of it on another path (broadcast,
  // failover, a proxy's forward), is the same update: no gap.
  const auto key_hash = std::hash<std::string>{}(record_copy_key(view, dict));
  auto [it, inserted] = last_.try_emplace(session, Last{view.event_time, key_hash});
  if (inserted) {
    return;
  }
  if (it->second.key_hash == key_hash) {
    return;
  }
  const double gap = view.event_time - it->second.event_time;
  it->second = Last{view.event_time, key_hash};
  // Intervals are whole seconds (RFC 2869 §5.16); a gap that rounds to none is no interval.
  if (const auto seconds = std::llround(gap); seconds >= 1) {
    ++gaps_[view.nas_key][seconds];
  }
}

std::map<std::string, IntervalEstimate, std::less<>> IntervalTally::estimates() const {
  std::map<std::string, IntervalEstimate, std::less<>> out;
  for (const auto& [nas, histogram] : gaps_) {
    std::size_t total = 0;
    for (const auto& [seconds, n] : histogram) {
      total += n;
    }
    if (total < min_gaps) {
      continue;
    }
    // The lower middle: the ((total + 1) / 2)-th smallest gap.
    const std::size_t wanted = (total + 1) / 2;
    std::size_t so_far = 0;
    for (const auto& [seconds, n] : histogram) {
      so_far += n;
      if (so_far >= wanted) {
        out[nas] = IntervalEstimate{static_cast<double>(seconds), total};
        break;
      }
    }
  }
  return out;
}

} // namespace acctlab::conformance::detail
