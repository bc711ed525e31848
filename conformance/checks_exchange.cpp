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
    // The trace's last moment may come before an answer could: not the server's failure.
    const double waited = analysis.trace().last_moment() -
                          analysis.packets()[exchange.transmissions.back()].trace->time;
    const double patience = analysis.profile().options.max_latency;
    if (waited < patience) {
      sink.report(rule, Severity::info, Party::path,
                  text + "; the trace ends " + milliseconds(waited) +
                      " after the last transmission, before an answer was due (max-latency " +
                      milliseconds(patience) + ")",
                  analysis.evidence(exchange.transmissions));
      continue;
    }
    sink.report(rule,
                text + " and never answered (the trace goes on " + milliseconds(waited) +
                    " after the last transmission)",
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

void check_latency(const Rule& rule, const Analysis& analysis, FindingSink& sink) {
  const double limit = analysis.profile().options.max_latency;
  for (const auto& view : analysis.packets()) {
    if (!view.request || view.answer == none) {
      continue;
    }
    const double latency = analysis.packets()[view.answer].trace->time - view.trace->time;
    if (latency > limit) {
      sink.report(rule,
                  describe_request(analysis, view.index) + " answered after " +
                      milliseconds(latency) + " (limit " + milliseconds(limit) + ")",
                  analysis.evidence({view.index, view.answer}));
    }
  }
}

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
              ? earlier.answer == none || earlier.answer > view.index
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
}

} // namespace acctlab::conformance::detail
