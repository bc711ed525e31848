// Session-scope checks: the ordered records of one session (RFC 2866 §5.1), and what sessions of
// one NAS do to each other (rekeys, Accounting-On/Off).

#include "conformance/detail/checks.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <tuple>

namespace acctlab::conformance::detail {
namespace {

constexpr std::uint32_t start = 1;
constexpr std::uint32_t stop = 2;
constexpr std::uint32_t interim = 3;
constexpr std::uint32_t accounting_on = 7;
constexpr std::uint32_t accounting_off = 8;

std::string seconds_text(double seconds) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f s", seconds);
  return text;
}

/** Where a session's Start and first Stop are, and the records up to that Stop. */
struct Shape {
  std::size_t first_start = none;
  std::size_t first_stop = none;    // trace index
  std::vector<std::size_t> through; // records up to and including the first Stop
  std::vector<std::size_t> after;   // records after the first Stop
};

Shape shape_of(const Analysis& analysis, const SessionView& session) {
  Shape shape;
  for (const auto index : session.records) {
    if (shape.first_stop != none) {
      shape.after.push_back(index);
      continue;
    }
    shape.through.push_back(index);
    const auto status = analysis.status(index);
    if (status == start && shape.first_start == none) {
      shape.first_start = index;
    } else if (status == stop) {
      shape.first_stop = index;
    }
  }
  return shape;
}

/** "(frame 12)" for a captured packet, "(packet 12)" otherwise (the whole trace's index). */
std::string where(const Analysis& analysis, const PacketView& view) {
  if (view.trace->frame) {
    return "(frame " + std::to_string(*view.trace->frame) + ")";
  }
  return "(packet " + std::to_string(analysis.trace_index(view.index)) + ")";
}

/** A moment relative to the first of the watched span it falls in: "12.0 s after the trace
 * began (at 1700000012.000)", or "... after x.pcap began" when the trace joins captures. */
std::string moment(const Analysis& analysis, double at, double seen) {
  const auto& trace = analysis.trace();
  const double begin = trace.window_begin(seen);
  const auto& file = trace.window_file(seen);
  char text[96];
  std::snprintf(text, sizeof text, "%.1f s %s ", std::fabs(at - begin),
                at < begin ? "before" : "after");
  char when[40];
  std::snprintf(when, sizeof when, " began (at %.3f)", at);
  return text + (file.empty() ? std::string("the trace") : file) + when;
}

/** "received T s after the trace began, minus Acct-Delay-Time D s, minus Acct-Session-Time S s". */
std::string began_arithmetic(const Analysis& analysis, const PacketView& view) {
  const auto& trace = analysis.trace();
  const auto& file = trace.window_file(view.trace->time);
  char received[32];
  std::snprintf(received, sizeof received, "%.3f",
                view.trace->time - trace.window_begin(view.trace->time));
  return std::string("received ") + received + " s after " +
         (file.empty() ? std::string("the trace") : file) + " began, minus Acct-Delay-Time " +
         std::to_string(view.record->delay_time.value_or(0)) + " s, minus Acct-Session-Time " +
         std::to_string(*view.record->session_time) + " s";
}

std::string session_text(const std::string& nas, const std::string& session_id) {
  return "session \"" + session_id + "\" of NAS " + nas;
}

std::string session_text(const SessionView& session) {
  return session_text(session.nas, session.session_id);
}

std::string rekey_message(const std::string& peer, const std::string& framed,
                          const std::string& nas, const std::string& session_id,
                          const std::string& holder_session_id) {
  return "peer " + peer + " with framed address " + framed + " opened " +
         session_text(nas, session_id) + " while session \"" + holder_session_id +
         "\" was still open (a rekey must not start a new session)";
}

std::string reset_open_message(const SessionView& session, const std::string& reset_label) {
  return session_text(session) + " was open when the NAS sent " + reset_label +
         "; it ends there without a Stop (usage since its last record is lost)";
}

std::string after_reset_message(const SessionView& session, const std::string& record_label,
                                const std::string& reset_label) {
  return session_text(session) + ": " + record_label + " after the NAS's " + reset_label +
         " ended every session it had open";
}

// Usage counters of one record, 64-bit (RFC 2869 §5.1, §5.2: octets + 2^32 x gigawords).
struct Counter {
  const char* name;
  std::optional<std::uint64_t> radius::AccountingRecord::*octets64;
  std::optional<std::uint32_t> radius::AccountingRecord::*packets32;
  const char* gigawords_name;
};
constexpr Counter counters[] = {
    {"Acct-Input-Octets", &radius::AccountingRecord::input_octets, nullptr, "Acct-Input-Gigawords"},
    {"Acct-Output-Octets", &radius::AccountingRecord::output_octets, nullptr,
     "Acct-Output-Gigawords"},
    {"Acct-Input-Packets", nullptr, &radius::AccountingRecord::input_packets, nullptr},
    {"Acct-Output-Packets", nullptr, &radius::AccountingRecord::output_packets, nullptr},
};

std::optional<std::uint64_t> counter_value(const radius::AccountingRecord& record,
                                           const Counter& counter) {
  if (counter.octets64) {
    return record.*counter.octets64;
  }
  const auto value = record.*counter.packets32;
  return value ? std::optional<std::uint64_t>(*value) : std::nullopt;
}

bool has_attribute(const Analysis& analysis, std::size_t index, const char* name) {
  const auto* def = analysis.dictionary().find(name);
  return def && analysis.packets()[index].packet->count(def->key()) > 0;
}

enum class Backwards : std::uint8_t { no, counter, gigawords };

/**
 * Whether a counter went backwards from one record to the next, and if so whether the cause is
 * gigawords: the 32-bit octets wrapped (they were past 2^31) without the gigawords attribute
 * counting the wrap, or gigawords reported earlier were dropped.
 */
Backwards compare(const Analysis& analysis, std::size_t before, std::size_t after,
                  const Counter& counter) {
  const auto& a = *analysis.packets()[before].record;
  const auto& b = *analysis.packets()[after].record;
  const auto x = counter_value(a, counter);
  const auto y = counter_value(b, counter);
  if (!x || !y || *y >= *x) {
    return Backwards::no;
  }
  if (counter.gigawords_name) {
    const std::uint64_t low_a = *x & 0xffffffffu;
    const std::uint64_t high_a = *x >> 32;
    const std::uint64_t high_b = *y >> 32;
    const bool dropped = high_a > 0 && !has_attribute(analysis, after, counter.gigawords_name);
    const bool wrapped = low_a >= (1ull << 31) && high_b == high_a;
    if (dropped || wrapped) {
      return Backwards::gigawords;
    }
  }
  return Backwards::counter;
}

void check_backwards(const Rule& rule, const Analysis& analysis, FindingSink& sink,
                     Backwards wanted) {
  for (const auto& session : analysis.sessions()) {
    const auto shape = shape_of(analysis, session);
    for (const auto& counter : counters) {
      std::size_t previous = none;
      for (const auto index : shape.through) {
        if (!counter_value(*analysis.packets()[index].record, counter)) {
          continue;
        }
        if (previous != none) {
          const auto verdict = compare(analysis, previous, index, counter);
          if (verdict == wanted) {
            const auto before = *counter_value(*analysis.packets()[previous].record, counter);
            const auto after = *counter_value(*analysis.packets()[index].record, counter);
            std::string message = session_text(session) + ": " + counter.name + " fell from " +
                                  std::to_string(before) + " to " + std::to_string(after) + " (" +
                                  status_label(analysis, previous) + " then " +
                                  status_label(analysis, index) + ")";
            if (wanted == Backwards::gigawords) {
              message += "; the octet count wrapped past 2^32 but " +
                         std::string(counter.gigawords_name) + " did not carry it";
            }
            sink.report(rule, std::move(message), analysis.evidence({previous, index}));
          }
        }
        previous = index;
      }
    }
  }
}

/** The update interval to expect: profile, then trace, then Acct-Interim-Interval. */
std::optional<double> interim_interval(const Analysis& analysis, const SessionView& session) {
  if (analysis.profile().options.interim_interval) {
    return analysis.profile().options.interim_interval;
  }
  if (analysis.trace().interim_interval) {
    return analysis.trace().interim_interval;
  }
  for (const auto index : session.records) {
    if (const auto& value = analysis.packets()[index].record->interim_interval; value && *value) {
      return static_cast<double>(*value);
    }
  }
  return std::nullopt;
}

/** The framed address and IKE peer a Start names, as the rekey rule keys sessions. */
std::optional<std::pair<std::string, std::string>> peer_of(const radius::AccountingRecord& r) {
  const std::string* peer = r.avpair("isakmp-initiator-ip");
  if (!peer) {
    peer = r.avpair("isakmp-initator-ip"); // IOS's spelling (the seed's examples)
  }
  if (!peer || !r.framed_ip) {
    return std::nullopt;
  }
  return std::pair{*peer, radius::to_string(*r.framed_ip)};
}

/** For each Accounting-On/Off: the sessions of that NAS open at that moment. */
struct Reset {
  std::size_t packet;
  const SessionView* session;
  std::vector<std::size_t> later; // the session's records after the reset
};
std::vector<Reset> resets(const Analysis& analysis) {
  std::vector<Reset> out;
  for (const auto& view : analysis.packets()) {
    if (!view.request || analysis.exchanges()[view.exchange].transmissions.front() != view.index) {
      continue;
    }
    const auto status = view.record->status_type;
    if (status != accounting_on && status != accounting_off) {
      continue;
    }
    for (const auto& session : analysis.sessions()) {
      if (session.nas != view.nas_key || session.records.front() > view.index) {
        continue;
      }
      const auto shape = shape_of(analysis, session);
      if (shape.first_stop != none && shape.first_stop < view.index) {
        continue; // closed before the reset
      }
      Reset reset{view.index, &session, {}};
      for (const auto index : session.records) {
        if (index > view.index) {
          reset.later.push_back(index);
        }
      }
      out.push_back(std::move(reset));
    }
  }
  return out;
}

} // namespace

void check_order(const Rule& rule, const Analysis& analysis, FindingSink& sink) {
  for (const auto& session : analysis.sessions()) {
    const auto shape = shape_of(analysis, session);
    std::size_t first_interim = none;
    for (const auto index : shape.through) {
      const auto status = analysis.status(index);
      if (status == interim && first_interim == none) {
        first_interim = index;
      }
      if (status == start && index == shape.first_start && first_interim != none) {
        sink.report(rule, session_text(session) + ": Start arrived after an Interim-Update",
                    analysis.evidence({first_interim, index}));
      }
    }
  }
}

void check_duplicate_start(const Rule& rule, const Analysis& analysis, FindingSink& sink) {
  for (const auto& session : analysis.sessions()) {
    const auto shape = shape_of(analysis, session);
    for (const auto index : shape.through) {
      if (analysis.status(index) == start && index != shape.first_start) {
        sink.report(rule, session_text(session) + ": a second Start for an open session",
                    analysis.evidence({shape.first_start, index}));
      }
    }
  }
}

void check_no_start(const Rule& rule, const Analysis& analysis, FindingSink& sink) {
  const auto& profile = analysis.profile();
  const bool stop_only = profile.options.stop_only_allowed;
  const bool documents_starts =
      std::any_of(profile.rows.begin(), profile.rows.end(),
                  [](const PresenceRow& row) { return row.status == start; });
  for (const auto& session : analysis.sessions()) {
    const auto shape = shape_of(analysis, session);
    if (shape.first_start != none) {
      continue;
    }
    // The seed: "only the stop packet will be sent without the start if configured to do so".
    if (stop_only && shape.through.size() == 1 && shape.first_stop != none) {
      continue;
    }
    const auto first = shape.through.front();
    const auto& view = analysis.packets()[first];
    const auto label = status_label(analysis, first) + " " + where(analysis, view);
    // Several captures: the one this record is in was watched from its own first frame.
    const double begin = analysis.trace().window_begin(view.trace->time);
    // A capture taken mid-stream: the record's own Acct-Session-Time says when the session
    // began (RFC 2866 §5.7, event time per §5.2). A Start before the trace is not missing.
    if (const auto& elapsed = view.record->session_time) {
      const double began = view.event_time - *elapsed;
      const double slack = profile.options.session_time_tolerance + 0.01 * *elapsed;
      const auto arithmetic =
          began_arithmetic(analysis, view) + " = " + moment(analysis, began, view.trace->time);
      if (began < begin + slack) {
        sink.report(rule, Severity::info,
                    session_text(session) + ": first seen in " + label + "; " + arithmetic +
                        ": it began before the trace did, so its Start is not in the trace",
                    analysis.evidence(first));
        continue;
      }
      if (documents_starts) {
        sink.report(rule,
                    session_text(session) + ": no Start, yet its first record, " + label + ", " +
                        "dates its beginning inside the trace: " + arithmetic + " (profile " +
                        profile.name + " documents Start records" +
                        (stop_only ? "; it allows lone Stops, not updates without a Start)" : ")"),
                    analysis.evidence(first));
      } else {
        sink.report(rule, Severity::info,
                    session_text(session) + ": no Start; " + arithmetic + " (profile " +
                        profile.name + " documents no Start records)",
                    analysis.evidence(first));
      }
      continue;
    }
    sink.report(rule, Severity::warning,
                session_text(session) + ": no Start before " + label + " (" +
                    moment(analysis, view.event_time, view.trace->time) +
                    "), and no Acct-Session-Time to tell whether it began before the trace",
                analysis.evidence(first));
  }
}

void check_after_stop(const Rule& rule, const Analysis& analysis, FindingSink& sink) {
  for (const auto& session : analysis.sessions()) {
    const auto shape = shape_of(analysis, session);
    for (const auto index : shape.after) {
      sink.report(rule,
                  session_text(session) + ": " + status_label(analysis, index) +
                      " after the session's Stop",
                  analysis.evidence({shape.first_stop, index}));
    }
  }
}

void check_no_stop(const Rule& rule, const Analysis& analysis, FindingSink& sink) {
  const double end = analysis.trace().last_moment();
  for (const auto& session : analysis.sessions()) {
    const auto shape = shape_of(analysis, session);
    if (shape.first_stop == none) {
      const auto last = session.records.back();
      const double quiet = end - analysis.packets()[last].trace->time;
      sink.report(rule,
                  session_text(session) + ": still open when the trace ends (" +
                      std::to_string(session.records.size()) + " record(s), no Stop; the last, " +
                      status_label(analysis, last) + " " +
                      where(analysis, analysis.packets()[last]) + ", came " + seconds_text(quiet) +
                      " before the trace's last moment)",
                  analysis.evidence(last));
    }
  }
}

void check_counter_decrease(const Rule& rule, const Analysis& analysis, FindingSink& sink) {
  check_backwards(rule, analysis, sink, Backwards::counter);
}

void check_gigawords(const Rule& rule, const Analysis& analysis, FindingSink& sink) {
  check_backwards(rule, analysis, sink, Backwards::gigawords);
}

void check_session_time_decrease(const Rule& rule, const Analysis& analysis, FindingSink& sink) {
  for (const auto& session : analysis.sessions()) {
    const auto shape = shape_of(analysis, session);
    std::size_t previous = none;
    for (const auto index : shape.through) {
      const auto& time = analysis.packets()[index].record->session_time;
      if (!time) {
        continue;
      }
      if (previous != none) {
        const auto before = *analysis.packets()[previous].record->session_time;
        if (*time < before) {
          sink.report(rule,
                      session_text(session) + ": Acct-Session-Time fell from " +
                          std::to_string(before) + " to " + std::to_string(*time),
                      analysis.evidence({previous, index}));
        }
      }
      previous = index;
    }
  }
}

void check_session_time_drift(const Rule& rule, const Analysis& analysis, FindingSink& sink) {
  const double tolerance = analysis.profile().options.session_time_tolerance;
  for (const auto& session : analysis.sessions()) {
    const auto shape = shape_of(analysis, session);
    if (shape.first_start == none) {
      continue; // nothing to measure from
    }
    const double started = analysis.packets()[shape.first_start].event_time;
    std::optional<std::uint32_t> highest;
    for (const auto index : shape.through) {
      const auto& view = analysis.packets()[index];
      const auto& time = view.record->session_time;
      if (!time || index < shape.first_start) {
        continue;
      }
      if (highest && *time < *highest) {
        continue; // a decrease, reported by its own rule
      }
      highest = time;
      const double elapsed = view.event_time - started;
      const double allowed = tolerance + 0.01 * std::fabs(elapsed);
      if (std::fabs(*time - elapsed) > allowed) {
        sink.report(rule,
                    session_text(session) + ": " + status_label(analysis, index) +
                        " says Acct-Session-Time " + std::to_string(*time) + " s but " +
                        seconds_text(elapsed) + " passed since the Start (tolerance " +
                        seconds_text(allowed) + ")",
                    analysis.evidence({shape.first_start, index}));
      }
    }
  }
}

void check_interim_cadence(const Rule& rule, const Analysis& analysis, FindingSink& sink) {
  const double fraction = analysis.profile().options.interim_tolerance;
  // The interval each NAS shows, over the whole trace (run_judge computes it in its first pass
  // when this analysis is one part).
  std::map<std::string, IntervalEstimate, std::less<>> inferred;
  if (analysis.trace().nas_intervals) {
    inferred = *analysis.trace().nas_intervals;
  } else {
    IntervalTally tally;
    for (const auto& view : analysis.packets()) {
      tally.add(view, analysis.dictionary());
    }
    inferred = tally.estimates();
  }
  for (const auto& session : analysis.sessions()) {
    // The configured interval (profile, then the trace: --interim-interval or the gateway's
    // configuration), else the session's Acct-Interim-Interval, else what its NAS shows.
    std::optional<double> interval = interim_interval(analysis, session);
    std::string basis;
    if (analysis.profile().options.interim_interval) {
      basis = "configured in profile " + analysis.profile().name + " (interim-interval)";
    } else if (analysis.trace().interim_interval) {
      basis = "configured for the trace (--interim-interval)";
    } else if (interval) {
      basis = "from the session's Acct-Interim-Interval";
    } else if (auto it = inferred.find(session.nas); it != inferred.end()) {
      interval = it->second.seconds;
      basis = "inferred from the median of " + std::to_string(it->second.gaps) +
              " gaps between Interim-Updates of NAS " + session.nas;
    }
    if (!interval || *interval < 1) {
      continue; // none known, or none a NAS can have (RFC 2869 §5.16 counts whole seconds)
    }
    // NAS timers tick in whole seconds (RFC 2869 §5.16 counts the interval in seconds; strongSwan
    // fires on whole seconds of its clock): never less slack than one.
    const double slack = std::max(*interval * fraction, 1.0);
    const auto shape = shape_of(analysis, session);
    // The first Start, the updates and the Stop, in event-time order (a late Start carries its
    // delay in Acct-Delay-Time; repeated Starts have their own rule).
    std::vector<std::size_t> sequence;
    for (const auto index : shape.through) {
      const auto status = analysis.status(index);
      if (index == shape.first_start || status == interim || status == stop) {
        sequence.push_back(index);
      }
    }
    std::stable_sort(sequence.begin(), sequence.end(), [&](std::size_t a, std::size_t b) {
      return analysis.packets()[a].event_time < analysis.packets()[b].event_time;
    });
    if (sequence.empty()) {
      continue;
    }
    // The NAS's schedule: every interval from the session's first record seen. An update that
    // comes soon after a late one is early only if it is off that schedule too.
    const double anchor = analysis.packets()[sequence.front()].event_time;
    const auto due_text = "; updates are due every " + seconds_text(*interval) + " ± " +
                          seconds_text(slack) + " (interval " + basis + ")";
    // An Interim-Update the session's Stop follows within the slack is the session's closing
    // report (ocserv sends one as each session closes, its figures the Stop's), not a periodic
    // update: it says nothing of the interval, and is never early.
    const auto closes_session = [&](std::size_t position) {
      if (position + 1 >= sequence.size()) {
        return false;
      }
      const auto next = sequence[position + 1];
      return analysis.status(next) == stop &&
             analysis.packets()[next].event_time -
                     analysis.packets()[sequence[position]].event_time <=
                 slack;
    };
    std::size_t previous = none;
    for (std::size_t position = 0; position < sequence.size(); ++position) {
      const auto index = sequence[position];
      const auto status = analysis.status(index);
      if (previous == none || (status != interim && status != stop)) {
        previous = index;
        continue;
      }
      const auto& view = analysis.packets()[index];
      const auto& before = analysis.packets()[previous];
      const double gap = view.event_time - before.event_time;
      const double phase = std::fmod(view.event_time - anchor, *interval);
      const double off_schedule = std::min(phase, *interval - phase);
      const bool late = gap > *interval + slack;
      const bool early = status == interim && gap < *interval - slack && off_schedule > slack &&
                         !closes_session(position);
      if (!late && !early) {
        previous = index;
        continue;
      }
      std::string message = session_text(session) + ": " + status_label(analysis, index) + " " +
                            seconds_text(gap) + " after the previous " +
                            status_label(analysis, previous) + due_text;
      Party party = rule.party;
      if (early) {
        message += ": too early (" + seconds_text(off_schedule) + " off the schedule set by the " +
                   status_label(analysis, sequence.front()) + ")";
      } else {
        // Due times (plus slack) passed before this record; it stands for the first of them.
        const auto passed = static_cast<long>(std::ceil((gap - slack) / *interval - 1e-9)) - 1;
        const auto missed = passed - 1;
        if (missed >= 1) {
          message += ": " + std::to_string(missed) + " update(s) missing";
        } else {
          message += ": late by " + seconds_text(gap - *interval);
        }
        // A NAS that sends one request at a time waits for the answer to the previous one: when
        // it came only after this update was due, the delay is the server's.
        if (analysis.trace().responses_recorded && before.request) {
          const auto answered = analysis.exchanges()[before.exchange].answered_by;
          const double due = before.trace->time + *interval;
          const double answer_time =
              answered == none ? view.trace->time : analysis.packets()[answered].trace->time;
          if (answer_time > due - slack) {
            party = Party::server;
            message += "; the previous request was " +
                       (answered == none
                            ? std::string("never answered")
                            : "answered only " + seconds_text(answer_time - before.trace->time) +
                                  " after it was sent") +
                       ", past this update's due time (the NAS waits for an answer)";
          }
        }
      }
      sink.report(rule, rule.severity, party, std::move(message),
                  analysis.evidence({previous, index}));
      previous = index;
    }
  }
}

void check_rekey_new_session(const Rule& rule, const Analysis& analysis, FindingSink& sink) {
  // (NAS, peer, framed address) -> the session holding it and the index of its first Stop.
  struct Holder {
    const SessionView* session;
    std::size_t start_index;
    std::size_t stop_index;
  };
  std::map<std::tuple<std::string, std::string, std::string>, Holder> open;
  std::vector<std::pair<std::size_t, const SessionView*>> starts;
  std::map<const SessionView*, std::size_t> stops;
  for (const auto& session : analysis.sessions()) {
    const auto shape = shape_of(analysis, session);
    if (shape.first_start != none) {
      starts.emplace_back(shape.first_start, &session);
    }
    stops[&session] = shape.first_stop;
  }
  std::sort(starts.begin(), starts.end());
  for (const auto& [index, session] : starts) {
    const auto peer = peer_of(*analysis.packets()[index].record);
    if (!peer) {
      continue;
    }
    const std::tuple key{session->nas, peer->first, peer->second};
    auto it = open.find(key);
    if (it != open.end() && it->second.session != session &&
        (it->second.stop_index == none || it->second.stop_index > index)) {
      sink.report(rule,
                  rekey_message(peer->first, peer->second, session->nas, session->session_id,
                                it->second.session->session_id),
                  analysis.evidence({it->second.start_index, index}));
      continue;
    }
    open[key] = Holder{session, index, stops[session]};
  }
}

void check_acct_on_open(const Rule& rule, const Analysis& analysis, FindingSink& sink) {
  for (const auto& reset : resets(analysis)) {
    if (!reset.later.empty()) {
      continue; // the session went on: reported by the after-reset rule
    }
    sink.report(rule, reset_open_message(*reset.session, status_label(analysis, reset.packet)),
                analysis.evidence({reset.packet, reset.session->records.back()}));
  }
}

void check_after_acct_on(const Rule& rule, const Analysis& analysis, FindingSink& sink) {
  for (const auto& reset : resets(analysis)) {
    for (const auto index : reset.later) {
      sink.report(rule,
                  after_reset_message(*reset.session, status_label(analysis, index),
                                      status_label(analysis, reset.packet)),
                  analysis.evidence({reset.packet, index}));
    }
  }
}

Evidence join_evidence(Evidence a, const Evidence& b) {
  a.packets.insert(a.packets.end(), b.packets.begin(), b.packets.end());
  a.packet_ids.insert(a.packet_ids.end(), b.packet_ids.begin(), b.packet_ids.end());
  a.identifiers.insert(a.identifiers.end(), b.identifiers.begin(), b.identifiers.end());
  a.frames.insert(a.frames.end(), b.frames.begin(), b.frames.end());
  if (a.file.empty()) {
    a.file = b.file;
  }
  a.nas = b.nas;
  a.session_id = b.session_id;
  return a;
}

void check_resets_in_part(const Rule* open_rule, const Rule* after_rule, const Analysis& part,
                          const ResetsByNas& resets_by_nas, const PartReport& report) {
  // As resets() sees them: a reset ends each session of its NAS that had a record before it and
  // no Stop before it; the records after it continue a session the NAS said it had ended.
  for (const auto& session : part.sessions()) {
    const auto found = resets_by_nas.find(session.nas);
    if (found == resets_by_nas.end()) {
      continue;
    }
    const auto& resets = found->second;
    const std::size_t first = part.trace_index(session.records.front());
    const auto shape = shape_of(part, session);
    const std::size_t stop = shape.first_stop == none ? none : part.trace_index(shape.first_stop);
    auto reset =
        std::upper_bound(resets.begin(), resets.end(), first,
                         [](std::size_t index, const ResetSummary& r) { return index < r.index; });
    for (; reset != resets.end() && (stop == none || reset->index < stop); ++reset) {
      bool later = false;
      for (const auto index : session.records) {
        if (part.trace_index(index) <= reset->index) {
          continue;
        }
        later = true;
        if (after_rule) {
          report(*after_rule, after_reset_message(session, status_label(part, index), reset->label),
                 join_evidence(reset->evidence, part.evidence(index)), first);
        }
      }
      if (!later && open_rule) {
        report(*open_rule, reset_open_message(session, reset->label),
               join_evidence(reset->evidence, part.evidence(session.records.back())), first);
      }
    }
  }
}

void collect_starts(const Analysis& part, std::vector<StartSummary>& out) {
  for (const auto& session : part.sessions()) {
    const auto shape = shape_of(part, session);
    if (shape.first_start == none) {
      continue;
    }
    const auto peer = peer_of(*part.packets()[shape.first_start].record);
    if (!peer) {
      continue;
    }
    StartSummary start;
    start.start = part.trace_index(shape.first_start);
    start.stop = shape.first_stop == none ? none : part.trace_index(shape.first_stop);
    start.nas = session.nas;
    start.session_id = session.session_id;
    start.peer = peer->first;
    start.framed = peer->second;
    start.evidence = part.evidence(shape.first_start);
    out.push_back(std::move(start));
  }
}

std::optional<std::pair<std::string, Evidence>> RekeyCheck::add(const StartSummary& start) {
  // A holder stopped before this Start can block no later one (Starts come in trace order);
  // dropping such holders now and then keeps only the sessions open at this point.
  if (open_.size() >= sweep_at_) {
    std::erase_if(open_, [&](const auto& entry) {
      return entry.second.stop != none && entry.second.stop < start.start;
    });
    sweep_at_ = std::max<std::size_t>(4096, open_.size() * 2);
  }
  const std::tuple key{start.nas, start.peer, start.framed};
  auto it = open_.find(key);
  if (it != open_.end() &&
      (it->second.nas != start.nas || it->second.session_id != start.session_id) &&
      (it->second.stop == none || it->second.stop > start.start)) {
    return std::pair{
        rekey_message(start.peer, start.framed, start.nas, start.session_id, it->second.session_id),
        join_evidence(it->second.evidence, start.evidence)};
  }
  open_[key] = Holder{start.nas, start.session_id, start.start, start.stop, start.evidence};
  return std::nullopt;
}

} // namespace acctlab::conformance::detail
