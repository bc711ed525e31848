// Exchange-scope checks: a request with its retransmissions and its answer.

#include "conformance/detail/checks.hpp"
#include "radius/authenticator.hpp"

#include <cstdio>
#include <map>
#include <tuple>

namespace acctlab::conformance::detail {
namespace {

std::string milliseconds(double seconds) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f ms", seconds * 1000.0);
  return text;
}

std::string describe_request(const PacketView& view) {
  std::string text = status_label(view) + " id " + std::to_string(view.packet->identifier());
  if (view.record && !view.record->session_id.empty()) {
    text += " (Acct-Session-Id \"" + view.record->session_id + "\")";
  }
  return text;
}

std::string describe_request(const Analysis& analysis, std::size_t index) {
  return describe_request(analysis.packets()[index]);
}

std::optional<std::uint32_t> delay_of(const PacketView& view) {
  return view.record ? view.record->delay_time : std::nullopt;
}

} // namespace

std::string changed_same_id_message(const PacketView& earlier, const PacketView& view,
                                    bool same_exchange) {
  std::string change;
  if (same_exchange) {
    const auto before = delay_of(earlier);
    const auto after = delay_of(view);
    change = "Acct-Delay-Time changed from " +
             (before ? std::to_string(*before) : std::string("absent")) + " to " +
             (after ? std::to_string(*after) : std::string("absent"));
  } else {
    change = "its attributes changed";
  }
  return describe_request(view) + " retransmitted with the same " +
         "Identifier while the first was unanswered, but " + change;
}

namespace {

// The ICMP Port Unreachable errors a capture holds about an exchange's transmissions (the same
// sender, closed port and Identifier, within 2 s of one): "; 2 of 2 transmissions drew ICMP port
// unreachable from the server's host (frames 4, 6): nothing listened on 127.0.0.1:1813", or "".
std::string refusal_text(const Analysis& analysis, const Exchange& exchange) {
  const auto& refusals = analysis.trace().refusals;
  if (refusals.empty()) {
    return {};
  }
  std::string frames;
  std::string port;
  std::size_t refused = 0;
  for (const auto index : exchange.transmissions) {
    const auto& view = analysis.packets()[index];
    const int identifier = view.packet ? view.packet->identifier() : -1;
    for (const auto& r : refusals) {
      if (r.sender == view.trace->source && r.receiver == view.trace->destination &&
          (r.identifier < 0 || r.identifier == identifier) && r.time >= view.trace->time &&
          r.time <= view.trace->time + 2) {
        ++refused;
        frames += (frames.empty() ? "" : ", ") + std::to_string(r.frame);
        port = r.receiver;
        break;
      }
    }
  }
  if (refused == 0) {
    return {};
  }
  return "; " + std::to_string(refused) + " of " + std::to_string(exchange.transmissions.size()) +
         " transmission(s) drew ICMP port unreachable from the server's host (frame" +
         (refused > 1 ? "s " : " ") + frames + "): nothing listened on " + port;
}

} // namespace

void check_unanswered(const Rule& rule, const Analysis& analysis, FindingSink& sink) {
  if (!analysis.trace().responses_recorded) {
    return; // the source kept requests only: there is nothing to judge
  }
  for (const auto& exchange : analysis.exchanges()) {
    if (exchange.answered_by != none) {
      continue;
    }
    const auto first = exchange.transmissions.front();
    const auto text = describe_request(analysis, first) + " sent " +
                      std::to_string(exchange.transmissions.size()) + " time(s)";
    const auto refused = refusal_text(analysis, exchange);
    // The trace's last moment may come before an answer could: not the server's failure.
    const double waited = analysis.trace().last_moment() -
                          analysis.packets()[exchange.transmissions.back()].trace->time;
    const double patience = analysis.profile().options.max_latency;
    if (waited < patience) {
      sink.report(rule, Severity::info, Party::path,
                  text + "; the trace ends " + milliseconds(waited) +
                      " after the last transmission, before an answer was due (max-latency " +
                      milliseconds(patience) + ")" + refused,
                  analysis.evidence(exchange.transmissions));
      continue;
    }
    sink.report(rule,
                text + " and never answered (the trace goes on " + milliseconds(waited) +
                    " after the last transmission)" + refused,
                analysis.evidence(exchange.transmissions));
  }
}

void check_no_retransmission(const Rule& rule, const Analysis& analysis, FindingSink& sink) {
  if (!analysis.trace().responses_recorded) {
    return; // a source without answers cannot tell an answered request from a lost one
  }
  const double wait = analysis.profile().options.retransmit_wait;
  for (const auto& exchange : analysis.exchanges()) {
    if (exchange.answered_by != none || exchange.transmissions.size() > 1) {
      continue;
    }
    const auto first = exchange.transmissions.front();
    const double after = analysis.trace().last_moment() - analysis.packets()[first].trace->time;
    if (after <= wait) {
      continue; // the NAS may still have been waiting when the trace ended
    }
    sink.report(rule,
                describe_request(analysis, first) + " was never answered and never sent again, " +
                    "though the trace goes on " + milliseconds(after) +
                    " after it (retransmit-wait " + milliseconds(wait) + ")",
                analysis.evidence(first));
  }
}

void check_response_authenticator(const Rule& rule, const Analysis& analysis, FindingSink& sink) {
  for (const auto& view : analysis.packets()) {
    if (!view.response || view.answers == none) {
      continue;
    }
    const auto* secret = analysis.trace().secret_for(view.client);
    if (!secret) {
      continue;
    }
    const auto& request = analysis.packets()[view.answers];
    if (!radius::verify_response_authenticator(view.trace->raw, request.packet->authenticator(),
                                               *secret)) {
      sink.report(rule,
                  "answer to " + describe_request(analysis, view.answers) +
                      ": Response Authenticator is not MD5(response + request authenticator + "
                      "secret)",
                  analysis.evidence({view.answers, view.index}));
    }
  }
}

void check_response_code(const Rule& rule, const Analysis& analysis, FindingSink& sink) {
  for (const auto& view : analysis.packets()) {
    if (!view.response || view.answers == none) {
      continue;
    }
    if (view.packet->code() != radius::Code::accounting_response) {
      sink.report(rule,
                  describe_request(analysis, view.answers) + " answered with " +
                      radius::code_name(view.packet->code()),
                  analysis.evidence({view.answers, view.index}));
    }
  }
}

void check_unmatched_response(const Rule& rule, const Analysis& analysis, FindingSink& sink) {
  for (const auto& view : analysis.packets()) {
    if (view.response && view.answers == none) {
      const auto text = radius::code_name(view.packet->code()) + " id " +
                        std::to_string(view.packet->identifier()) + " from " + view.trace->source +
                        " answers no request in the trace";
      // Its request may have come just before the trace's first moment.
      const double since = view.trace->time - analysis.trace().first_moment();
      const double patience = analysis.profile().options.max_latency;
      if (since < patience) {
        sink.report(rule, Severity::info,
                    text + "; it came " + milliseconds(since) +
                        " after the trace began, within max-latency (" + milliseconds(patience) +
                        ") of a request sent before it",
                    analysis.evidence(view.index));
        continue;
      }
      sink.report(rule, text, analysis.evidence(view.index));
    }
  }
}

// Latency runs from the latest transmission before the answer (Karn: the answer cannot be
// attributed to one copy, the latest gives the lower bound); over the limit, the server is slow.
// Within it, an answer that came only after the NAS had to send again still kept the NAS waiting
// longer than the limit since the first copy: either that copy was lost on the way or the server
// held it, which no capture point can tell apart. A lost datagram recovered by retransmission is
// RADIUS working as designed, so that finding is the path's and says so as information.
void check_latency(const Rule& rule, const Analysis& analysis, FindingSink& sink) {
  const double limit = analysis.profile().options.max_latency;
  const auto time_of = [&](std::size_t packet) { return analysis.packets()[packet].trace->time; };
  for (const auto& exchange : analysis.exchanges()) {
    if (exchange.answered_by == none) {
      continue;
    }
    const std::size_t first = exchange.transmissions.front();
    std::size_t latest = first;
    std::size_t sent = 0;
    for (const auto transmission : exchange.transmissions) {
      if (transmission < exchange.answered_by) {
        latest = transmission;
        ++sent;
      }
    }
    const double answered_at = time_of(exchange.answered_by);
    const double from_latest = answered_at - time_of(latest);
    const double from_first = answered_at - time_of(first);
    if (from_latest > limit) {
      sink.report(rule,
                  describe_request(analysis, latest) + " answered after " +
                      milliseconds(from_latest) + " (limit " + milliseconds(limit) + ")",
                  analysis.evidence({latest, exchange.answered_by}));
    } else if (from_first > limit) {
      auto packets = exchange.transmissions;
      std::erase_if(packets, [&](std::size_t p) { return p > exchange.answered_by; });
      packets.push_back(exchange.answered_by);
      // Earlier copies the server's host refused (ICMP port unreachable) say where they went:
      // nothing listened, the server was down (a relay retrying into an outage).
      const auto refused = refusal_text(analysis, exchange);
      sink.report(rule, Severity::info, refused.empty() ? Party::path : Party::server,
                  describe_request(analysis, first) + " answered " + milliseconds(from_first) +
                      " after its first transmission, " + milliseconds(from_latest) +
                      " after the latest of " + std::to_string(sent) + " (limit " +
                      milliseconds(limit) + "): " +
                      (refused.empty() ? "the earlier copies were lost on the way to the server, "
                                         "or the server held them"
                                       : "the server was not listening when the earlier copies "
                                         "came" +
                                             refused),
                  analysis.evidence(packets));
    }
  }
}

namespace {

// Whether the client was done with `earlier`'s Identifier before packet `before`: its request was
// answered through another transmission, or sent again under another Identifier (RFC 5080
// §2.2.1: changed content, such as a raised Acct-Delay-Time, takes a new Identifier, and the old
// one is given up). A store-and-forward relay (FreeRADIUS reading a detail file) retries a record
// with a new Identifier each time, and later uses a given-up Identifier for another record.
bool moved_on(const Analysis& analysis, const PacketView& earlier, std::size_t before) {
  if (earlier.exchange == none) {
    return false;
  }
  const auto& exchange = analysis.exchanges()[earlier.exchange];
  if (exchange.answered_by != none && exchange.answered_by < before) {
    return true;
  }
  for (const auto index : exchange.transmissions) {
    if (index > earlier.index && index < before &&
        analysis.packets()[index].packet->identifier() != earlier.packet->identifier()) {
      return true;
    }
  }
  return false;
}

} // namespace

void check_changed_same_id(const Rule& rule, const Analysis& analysis, FindingSink& sink) {
  // The previous request from the same client to the same server with the same Identifier.
  std::map<std::tuple<std::string, std::string, std::uint8_t>, std::size_t> last;
  for (const auto& view : analysis.packets()) {
    if (!view.request) {
      continue;
    }
    const std::tuple key{view.trace->source, view.trace->destination, view.packet->identifier()};
    auto it = last.find(key);
    if (it != last.end()) {
      const auto& earlier = analysis.packets()[it->second];
      // Reusing an Identifier is fine once the earlier request was answered. A source that
      // kept no answers (a server database) stored only requests it answered as soon as they
      // were committed, so a different request under the same Identifier came after that
      // answer: a NAS sending more than 256 requests per duplicate window from one port reuses
      // every Identifier inside it, and judging by the window alone called all of them changed
      // retransmissions. What the rule is about remains visible there: the same request (its
      // exchange) sent again inside the RFC 5080 §2.2.2 duplicate window with other octets,
      // such as an updated Acct-Delay-Time.
      const bool outstanding =
          analysis.trace().responses_recorded
              ? (earlier.answer == none || earlier.answer > view.index) &&
                    !moved_on(analysis, earlier, view.index)
              : earlier.exchange == view.exchange &&
                    view.trace->time - earlier.trace->time <= duplicate_window_seconds;
      if (outstanding && earlier.trace->raw != view.trace->raw) {
        sink.report(rule, changed_same_id_message(earlier, view, earlier.exchange == view.exchange),
                    analysis.evidence({earlier.index, view.index}));
      }
    }
    last[key] = view.index;
  }
}

void check_resend_new_id(const Rule& rule, const Analysis& analysis, FindingSink& sink) {
  for (const auto& exchange : analysis.exchanges()) {
    for (std::size_t i = 1; i < exchange.transmissions.size(); ++i) {
      const auto& before = analysis.packets()[exchange.transmissions[i - 1]];
      const auto& after = analysis.packets()[exchange.transmissions[i]];
      if (before.packet->identifier() != after.packet->identifier() &&
          delay_of(before) == delay_of(after)) {
        sink.report(rule,
                    describe_request(analysis, after.index) +
                        " is an unchanged retransmission of id " +
                        std::to_string(before.packet->identifier()) +
                        " under a new Identifier: the server cannot see it is a duplicate",
                    analysis.evidence({before.index, after.index}));
      }
    }
  }
  // The same unchanged copy from another source port of the client's address to the same server
  // is another exchange (exchanges are keyed by endpoints), but just as invisible to the server:
  // it detects a duplicate by "the same client source IP address and source UDP port and
  // Identifier" (RFC 2865 §3). radiusplugin (openvpn-auth-radius) resends this way, from a new
  // socket. Only a copy sent while the earlier one was outstanding is a retransmission: a NAS may
  // send a record of the same content again once it was answered (an Accounting-On after a
  // reload). A source without answers stores only answered requests: the duplicate window then.
  std::map<std::string, std::size_t> latest; // client address, server, content -> request
  for (const auto& view : analysis.packets()) {
    if (!view.request) {
      continue;
    }
    const auto& source = view.trace->source;
    // exchange_key is "source, server, content"; the client's address replaces its endpoint.
    auto key = host_part(source) + exchange_key(view, analysis.dictionary()).substr(source.size());
    auto [it, inserted] = latest.try_emplace(std::move(key), view.index);
    if (inserted) {
      continue;
    }
    const auto& before = analysis.packets()[it->second];
    it->second = view.index;
    if (before.trace->source == source || delay_of(before) != delay_of(view)) {
      continue; // the same endpoint (one exchange, judged above), or a changed record
    }
    const bool outstanding =
        analysis.trace().responses_recorded
            ? before.answer == none || before.answer > view.index
            : view.trace->time - before.trace->time <= duplicate_window_seconds;
    if (outstanding) {
      sink.report(rule,
                  describe_request(analysis, view.index) + " from " + source +
                      " is an unchanged retransmission of id " +
                      std::to_string(before.packet->identifier()) + " from " +
                      before.trace->source +
                      " under a new source port: the server cannot see it is a duplicate",
                  analysis.evidence({before.index, view.index}));
    }
  }
}

} // namespace acctlab::conformance::detail
