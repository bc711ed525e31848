#include "client/scenario_runner.hpp"

#include "client/accounting_packet.hpp"
#include "client/debug_radius.hpp"
#include "client/event_log.hpp"
#include "client/gateway_model.hpp"
#include "client/radius_transport.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <memory>
#include <set>

namespace acctlab::gateway {

std::vector<std::pair<std::string, std::uint64_t>> RunResult::counts() const {
  return {{"starts", starts},
          {"interims", interims},
          {"stops", stops},
          {"unaccounted", unaccounted},
          {"transmissions", transmissions},
          {"retransmissions", retransmissions},
          {"lost", lost},
          {"answers", answers},
          {"bad_answers", bad_answers},
          {"failovers", failovers},
          {"gave_up", gave_up},
          {"elapsed_ms", static_cast<std::uint64_t>(elapsed.count())}};
}

namespace {

std::string slot_name(std::size_t i) {
  std::string name;
  do {
    name.insert(name.begin(), static_cast<char>('A' + i % 26));
    i /= 26;
  } while (i-- > 0);
  return name;
}

std::string configured_name(const AccountingServer& s) {
  return format_ipv4(s.address) + ":" + std::to_string(s.acct_port);
}

class Runner {
public:
  Runner(const IosConfig& config, const Scenario& scenario, const RunOptions& options,
         std::ostream& debug, std::ostream* events)
      : config_(config), scenario_(scenario), options_(options), debug_(debug), events_(events) {}

  RunResult run() {
    if (!setup()) {
      return result_;
    }
    for (const ScenarioStep& step : scenario_.steps) {
      if (!execute(step)) {
        break;
      }
    }
    drain();
    result_.elapsed = clock_->now();
    if (events_) {
      *events_ << summary_json(clock_->now(), result_.counts()) << '\n';
    }
    return result_;
  }

private:
  bool fail(std::string message) {
    result_.ok = false;
    result_.error = std::move(message);
    return false;
  }

  bool setup() {
    if (options_.real_clock) {
      clock_ = std::make_unique<RealClock>();
    } else {
      clock_ = std::make_unique<VirtualClock>();
    }
    // The configuration's accounting servers, in order of first use by an accounting list,
    // are the slots; slot i is the i-th --server. The configured addresses are never used.
    std::vector<AccountingServer> configured;
    for (const AccountingList& list : config_.accounting_lists) {
      std::vector<std::size_t> indices;
      for (const AccountingServer& s : accounting_servers(config_, list)) {
        auto it = std::find_if(configured.begin(), configured.end(), [&](auto& c) {
          return c.address == s.address && c.acct_port == s.acct_port;
        });
        if (it == configured.end()) {
          configured.push_back(s);
          it = configured.end() - 1;
        }
        indices.push_back(static_cast<std::size_t>(it - configured.begin()));
      }
      list_servers_[list.name] = std::move(indices);
    }
    std::size_t slots = std::max({configured.size(), scenario_.slots.size(), std::size_t{1}});
    if (options_.servers.size() < slots) {
      return fail("the configuration and scenario use " + std::to_string(slots) +
                  " server slot(s); give as many --server HOST:PORT options (got " +
                  std::to_string(options_.servers.size()) + ")");
    }
    std::vector<ServerEndpoint> endpoints;
    for (std::size_t i = 0; i < options_.servers.size(); ++i) {
      auto parsed = parse_host_port(options_.servers[i]);
      if (!parsed) {
        return fail("--server '" + options_.servers[i] + "': expected HOST:PORT or [V6]:PORT");
      }
      ServerEndpoint e;
      e.slot = i < scenario_.slots.size() ? scenario_.slots[i] : slot_name(i);
      e.host = parsed->first;
      e.port = parsed->second;
      if (i < configured.size()) {
        e.configured = configured_name(configured[i]);
      }
      if (options_.tls) {
        e.tls = true;
        e.tls_config = *options_.tls;
      }
      if (options_.secret) {
        e.secret = *options_.secret;
      } else if (options_.tls) {
        e.secret = "radsec"; // RFC 6614 §2.3
      } else if (i < configured.size() && configured[i].key) {
        e.secret = *configured[i].key;
      } else if (config_.radius_key) {
        e.secret = *config_.radius_key;
      } else {
        return fail("no shared secret for server " + e.to_string() +
                    ": give --secret or configure 'radius-server key'");
      }
      endpoints.push_back(std::move(e));
    }
    // NAS-IP-Address: --nas-ip, else the address of the interface carrying the crypto map
    // (where IOS sources its RADIUS traffic in the document's setups).
    if (options_.nas_ip) {
      packet_options_.nas_ip = *options_.nas_ip;
    } else if (const Interface* i = config_.crypto_interface(); i && i->address) {
      packet_options_.nas_ip = *i->address;
    } else {
      packet_options_.nas_ip = {127, 0, 0, 1};
    }
    packet_options_.send_vsa = config_.vsa_send_accounting;
    if (config_.event_timestamp) {
      packet_options_.event_clock_at_zero = nas_clock_at_zero();
    }
    TransportOptions transport_options;
    transport_options.retransmit = config_.radius_retransmit;
    transport_options.timeout = options_.timeout
                                    ? *options_.timeout
                                    : Millis{std::int64_t{config_.radius_timeout_seconds} * 1000};
    transport_ =
        std::make_unique<RadiusTransport>(std::move(endpoints), transport_options, *clock_);
    if (auto error = transport_->open()) {
      return fail(*error);
    }
    ModelOptions model_options;
    model_options.interim_interval = options_.interval;
    model_ = std::make_unique<GatewayModel>(config_, model_options, *clock_);
    for (const PeerSpec& peer : scenario_.peers) {
      if (auto error = model_->add_peer(peer)) {
        return fail("peer '" + peer.name + "': " + error->message);
      }
    }
    return true;
  }

  /** Where the NAS's own clock stands at the run's time 0 (see RunOptions). */
  double nas_clock_at_zero() const {
    if (options_.nas_clock_at_zero) {
      return *options_.nas_clock_at_zero;
    }
    const double now =
        std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    if (options_.real_clock) {
      return now;
    }
    // On the virtual clock a scenario of hours runs in milliseconds: its NAS lives through
    // the scenario's time and arrives at about now, so its records read as the recent past.
    Millis advanced{0};
    for (const ScenarioStep& step : scenario_.steps) {
      if (step.op == ScenarioStep::Op::advance) {
        advanced += step.duration;
      }
    }
    return std::floor(now - static_cast<double>(advanced.count()) / 1000.0);
  }

  bool execute(const ScenarioStep& step) {
    using Op = ScenarioStep::Op;
    switch (step.op) {
      case Op::advance:
        advance_to(clock_->now() + step.duration);
        return true;
      case Op::nas_ip:
        // The router's NAS IP changed (re-addressed, or `ip radius source-interface` moved):
        // records decided from here on carry the new one.
        packet_options_.nas_ip = step.address;
        return true;
      case Op::server_down:
      case Op::server_up:
      case Op::server_drop_answers: {
        int slot = scenario_.slot_index(step.slot);
        SlotState state = step.op == Op::server_down ? SlotState::down
                          : step.op == Op::server_up ? SlotState::up
                                                     : SlotState::drop_answers;
        transport_->set_slot_state(static_cast<std::size_t>(slot), state);
        return true;
      }
      default:
        break;
    }
    for (const std::string& peer : step.peers) {
      std::optional<ModelError> error;
      switch (step.op) {
        case Op::connect:
          error = model_->connect(peer, step.interim);
          break;
        case Op::sa_up:
          error = model_->sa_up(peer, step.pair, step.lifetime);
          break;
        case Op::traffic:
          error = model_->traffic(peer, step.pair, step.input, step.output);
          break;
        case Op::rekey_ipsec:
          error = model_->rekey_ipsec(peer, step.pair);
          break;
        case Op::rekey_ike:
          error = model_->rekey_ike(peer);
          break;
        case Op::sa_down:
          error = model_->sa_down(peer, step.pair);
          break;
        case Op::ike_delete:
          error = model_->ike_delete(peer);
          break;
        case Op::dead:
          error = model_->dead_peer(peer);
          break;
        default:
          break;
      }
      if (error) {
        std::string message = "scenario line " + std::to_string(step.line) + ": " + error->message;
        if (events_) {
          *events_ << error_json(clock_->now(), step.line, error->message) << '\n';
        }
        dispatch();
        return fail(message);
      }
    }
    dispatch();
    if (clock_->is_virtual()) {
      settle();
    } else {
      transport_->poll(Millis{0}, false);
      flush_transport();
    }
    return true;
  }

  /** Sends what the model decided on and prints the model's debug lines. */
  void dispatch() {
    for (std::string& line : model_->take_debug_lines()) {
      if (options_.debug_isakmp_aaa) {
        print(std::move(line));
      }
    }
    for (AccountingEvent& e : model_->take_events()) {
      std::vector<std::string> slots;
      const std::vector<std::size_t>* servers = nullptr;
      if (e.list) {
        auto it = list_servers_.find(e.list->name);
        if (it != list_servers_.end() && !it->second.empty()) {
          servers = &it->second;
          for (std::size_t i : it->second) {
            slots.push_back(transport_->endpoints()[i].slot);
          }
        }
      }
      if (events_) {
        *events_ << record_json(e, servers != nullptr, slots) << '\n';
      }
      if (!servers) {
        ++result_.unaccounted;
        continue;
      }
      switch (e.kind) {
        case AccountingEvent::Kind::start:
          ++result_.starts;
          break;
        case AccountingEvent::Kind::interim:
          ++result_.interims;
          break;
        case AccountingEvent::Kind::stop:
          ++result_.stops;
          break;
      }
      OutgoingRecord record;
      record.handle = next_handle_++;
      record.aaa_id = e.aaa_id;
      record.label = std::string(e.kind == AccountingEvent::Kind::start  ? "Start "
                                 : e.kind == AccountingEvent::Kind::stop ? "Stop "
                                                                         : "Interim ") +
                     e.session_id;
      record.servers = *servers;
      record.broadcast = e.list->broadcast;
      record.created = e.time;
      kinds_[record.handle] = e.kind;
      auto shared = std::make_shared<AccountingEvent>(std::move(e));
      PacketOptions packet_options = packet_options_;
      record.build = [shared, packet_options](std::uint32_t delay) {
        return build_accounting_request(*shared, packet_options, delay);
      };
      transport_->submit(std::move(record));
    }
    flush_transport();
  }

  void print(std::string line) {
    debug_ << '*' << format_uptime(clock_->now()) << ": " << line << '\n';
  }

  void flush_transport() {
    for (TransportEvent& e : transport_->take_events()) {
      const auto& endpoints = transport_->endpoints();
      const ServerEndpoint* server = e.server < endpoints.size() ? &endpoints[e.server] : nullptr;
      if (events_) {
        *events_ << transport_json(e, server) << '\n';
      }
      using K = TransportEvent::Kind;
      switch (e.kind) {
        case K::sent:
        case K::lost:
          ++result_.transmissions;
          if (e.attempt > 1) {
            ++result_.retransmissions;
          }
          if (e.kind == K::lost) {
            ++result_.lost;
          }
          if (options_.debug_isakmp_aaa && e.attempt == 1 && !sent_once_.count(e.handle)) {
            print("ISAKMP AAA: Sent Accounting Message");
          }
          sent_once_.insert(e.handle);
          if (options_.debug_radius && server) {
            if (kinds_[e.handle] != AccountingEvent::Kind::start) {
              // As in the document's Stop and Interim listings.
              print("RADIUS(" + format_aaa_id(e.aaa_id) + "): Using existing nas_port " +
                    std::to_string(packet_options_.nas_port));
              print("RADIUS(" + format_aaa_id(e.aaa_id) +
                    "): Config NAS IP: " + format_ipv4(packet_options_.nas_ip));
            }
            for (auto& line : debug_request_lines(e.aaa_id, e.wire, server->to_string())) {
              print(std::move(line));
            }
            if (e.kind == K::lost) {
              print("RADIUS(" + format_aaa_id(e.aaa_id) + "): (" + e.reason + ")");
            }
          }
          break;
        case K::answer:
          ++result_.answers;
          if (options_.debug_radius && server) {
            for (auto& line : debug_response_lines(e.wire, e.local_port, server->to_string())) {
              print(std::move(line));
            }
          }
          if (options_.debug_isakmp_aaa && answered_.insert(e.handle).second) {
            print("ISAKMP AAA: Accounting message successful");
            print("ISAKMP AAA: Rx Accounting Message");
            auto kind = kinds_[e.handle];
            if (kind == AccountingEvent::Kind::start) {
              print("ISAKMP AAA: Adding Client Attributes to Accounting Record");
              print("ISAKMP AAA: Accounting Started");
            } else if (kind == AccountingEvent::Kind::stop) {
              print("ISAKMP AAA: Accounting Stopped");
            }
          }
          break;
        case K::bad_answer:
        case K::dropped_answer:
          if (e.kind == K::bad_answer) {
            ++result_.bad_answers;
          }
          if (options_.debug_radius) {
            print("RADIUS: Received from " + (server ? server->to_string() : std::string("?")) +
                  ": ignored, " + e.reason);
          }
          break;
        case K::timeout:
          if (options_.debug_radius) {
            print("RADIUS(" + format_aaa_id(e.aaa_id) + "): Request timed out");
          }
          break;
        case K::failover:
          ++result_.failovers;
          if (options_.debug_radius) {
            print("RADIUS(" + format_aaa_id(e.aaa_id) + "): Failover: " + e.reason);
          }
          break;
        case K::gave_up:
          ++result_.gave_up;
          if (options_.debug_radius) {
            // A record never transmitted (attempt 0) was refused by the encoder, not unanswered.
            print("RADIUS(" + format_aaa_id(e.aaa_id) +
                  (e.attempt == 0 ? "): " : "): No response from server: ") + e.reason);
          }
          if (options_.debug_isakmp_aaa) {
            print("ISAKMP AAA: Accounting message failed");
          }
          break;
      }
    }
  }

  /** Virtual clock: lets answers that can still come arrive before time jumps. */
  void settle() {
    transport_->poll(options_.answer_wait, true);
    flush_transport();
  }

  void advance_to(Millis target) {
    if (clock_->is_virtual()) {
      while (true) {
        settle();
        std::optional<Millis> next = model_->next_deadline();
        if (auto t = transport_->next_deadline(); t && (!next || *t < *next)) {
          next = t;
        }
        if (!next || *next > target) {
          break;
        }
        clock_->advance_to(*next);
        model_->on_time();
        dispatch();
        transport_->on_time();
        flush_transport();
      }
      clock_->advance_to(target);
      return;
    }
    while (true) {
      model_->on_time();
      dispatch();
      transport_->on_time();
      flush_transport();
      Millis now = clock_->now();
      if (now >= target) {
        return;
      }
      Millis next = target;
      if (auto t = model_->next_deadline(); t && *t < next) {
        next = *t;
      }
      if (auto t = transport_->next_deadline(); t && *t < next) {
        next = *t;
      }
      transport_->poll(std::max(Millis{0}, next - now), false);
      flush_transport();
    }
  }

  /** After the last step: the model is frozen, the transport finishes what it has. */
  void drain() {
    if (!transport_) {
      return;
    }
    while (transport_->in_flight() > 0) {
      if (clock_->is_virtual()) {
        settle();
        if (transport_->in_flight() == 0) {
          break;
        }
        if (auto t = transport_->next_deadline()) {
          clock_->advance_to(*t);
        }
      } else {
        Millis now = clock_->now();
        Millis next = transport_->next_deadline().value_or(now);
        transport_->poll(std::max(Millis{0}, next - now), false);
      }
      transport_->on_time();
      flush_transport();
    }
  }

  const IosConfig& config_;
  const Scenario& scenario_;
  const RunOptions& options_;
  std::ostream& debug_;
  std::ostream* events_;
  RunResult result_;
  std::unique_ptr<Clock> clock_;
  std::unique_ptr<RadiusTransport> transport_;
  std::unique_ptr<GatewayModel> model_;
  PacketOptions packet_options_;
  std::map<std::string, std::vector<std::size_t>> list_servers_;
  std::map<std::uint64_t, AccountingEvent::Kind> kinds_;
  std::set<std::uint64_t> sent_once_;
  std::set<std::uint64_t> answered_;
  std::uint64_t next_handle_ = 1;
};

} // namespace

RunResult run_scenario(const IosConfig& config, const Scenario& scenario, const RunOptions& options,
                       std::ostream& debug, std::ostream* events) {
  return Runner(config, scenario, options, debug, events).run();
}

} // namespace acctlab::gateway
