#include "client/gateway_model.hpp"

#include <algorithm>
#include <cstdio>

namespace acctlab::gateway {
namespace {

// IOS's global IPsec SA lifetimes when neither the crypto map entry nor the scenario sets one
// (the document's debug shows a 600 s / 4608000 KB proposal; 3600 s is the IOS default).
constexpr std::uint64_t default_lifetime_seconds = 3600;
constexpr std::uint64_t default_lifetime_kilobytes = 4608000;

std::string hex8(std::uint32_t value) {
  char text[9];
  std::snprintf(text, sizeof text, "%08X", value);
  return text;
}

} // namespace

std::string format_uptime(Millis when) {
  auto ms = when.count();
  char text[32];
  std::snprintf(text, sizeof text, "%02lld:%02lld:%02lld.%03lld",
                static_cast<long long>(ms / 3600000), static_cast<long long>(ms / 60000 % 60),
                static_cast<long long>(ms / 1000 % 60), static_cast<long long>(ms % 1000));
  return text;
}

std::string_view to_string(AccountingEvent::Kind kind) {
  switch (kind) {
    case AccountingEvent::Kind::start:
      return "start";
    case AccountingEvent::Kind::interim:
      return "interim";
    case AccountingEvent::Kind::stop:
      return "stop";
  }
  return "?";
}

GatewayModel::GatewayModel(const IosConfig& config, ModelOptions options, const Clock& clock)
    : config_(config), options_(options), clock_(clock) {
  if (!options_.interim_interval && config.update_periodic_minutes) {
    options_.interim_interval = Millis{std::int64_t{*config.update_periodic_minutes} * 60000};
  }
  if (options_.interim_interval && options_.interim_interval->count() <= 0) {
    options_.interim_interval.reset();
  }
}

Expected<GatewayModel::Peer*, ModelError> GatewayModel::find(const std::string& name) {
  auto it = peers_.find(name);
  if (it == peers_.end()) {
    return Unexpected{ModelError{"unknown peer '" + name + "'"}};
  }
  return &it->second;
}

Expected<GatewayModel::PairRef, ModelError> GatewayModel::find_pair(const std::string& name,
                                                                    const std::string& pair) {
  auto peer = find(name);
  if (!peer) {
    return Unexpected{peer.error()};
  }
  auto it = (*peer)->pairs.find(pair);
  if (it == (*peer)->pairs.end()) {
    return Unexpected{ModelError{"peer '" + name + "' has no SA pair '" + pair + "'"}};
  }
  return PairRef{*peer, it};
}

std::optional<ModelError> GatewayModel::add_peer(PeerSpec spec) {
  if (peers_.count(spec.name)) {
    return ModelError{"peer '" + spec.name + "' is already declared"};
  }
  if (spec.pool && !config_.pool(*spec.pool)) {
    return ModelError{"no 'ip local pool " + *spec.pool + "' in the configuration"};
  }
  Peer peer;
  if (spec.interface) {
    const Interface* i = config_.interface(*spec.interface);
    peer.interface = *spec.interface;
    if (i && i->crypto_map) {
      peer.crypto_map = *i->crypto_map;
    }
  } else if (const Interface* i = config_.crypto_interface()) {
    peer.interface = i->name;
    peer.crypto_map = *i->crypto_map;
  }
  peer.spec = std::move(spec);
  std::string name = peer.spec.name;
  peers_.emplace(std::move(name), std::move(peer));
  return std::nullopt;
}

std::optional<Ipv4Address> GatewayModel::allocate(const std::string& pool_name) {
  const LocalPool* pool = config_.pool(pool_name);
  if (!pool) {
    return std::nullopt;
  }
  auto to_u32 = [](const Ipv4Address& a) {
    return std::uint32_t{a[0]} << 24 | std::uint32_t{a[1]} << 16 | std::uint32_t{a[2]} << 8 |
           std::uint32_t{a[3]};
  };
  std::uint32_t first = to_u32(pool->first);
  std::uint32_t last = to_u32(pool->last);
  std::uint32_t& offset = pool_next_[pool_name];
  if (last < first || offset > last - first) {
    return std::nullopt;
  }
  std::uint32_t value = first + offset++;
  return Ipv4Address{static_cast<std::uint8_t>(value >> 24), static_cast<std::uint8_t>(value >> 16),
                     static_cast<std::uint8_t>(value >> 8), static_cast<std::uint8_t>(value)};
}

std::optional<ModelError> GatewayModel::connect(const std::string& name,
                                                std::optional<Millis> interim) {
  auto found = find(name);
  if (!found) {
    return found.error();
  }
  Peer* peer = *found;
  if (peer->ike_up) {
    return ModelError{"peer '" + name + "' already has an IKE SA"};
  }
  // The document, "match identity": peers map to the profile whose identities match theirs; two
  // matching profiles make the configuration invalid, so such a peer is refused.
  ProfileMatch match = match_profile(config_, peer->spec.identity);
  if (!match.error.empty()) {
    return ModelError{match.error};
  }
  peer->profile = match.profile;
  if (!peer->framed_ip) {
    if (peer->spec.address) {
      peer->framed_ip = peer->spec.address;
    } else if (peer->spec.pool) {
      peer->framed_ip = allocate(*peer->spec.pool);
      if (!peer->framed_ip) {
        return ModelError{"ip local pool '" + *peer->spec.pool + "' is exhausted"};
      }
    }
  }
  // XAUTH runs its own AAA request (an authentication context) before any accounting, which is
  // why the document's first accounting record is RADIUS(00000002) with session id 00000001.
  if (peer->spec.xauth_user) {
    ++aaa_ids_;
  }
  peer->ike_up = true;
  peer->ike_sa = ++ike_sa_ids_;
  peer->authorized_interim = interim;
  return std::nullopt;
}

std::uint32_t GatewayModel::next_spi() {
  // A deterministic, well spread sequence (SPIs 0-255 are reserved, RFC 4303 §2.1).
  spi_ = spi_ * 1664525u + 1013904223u;
  return spi_ < 256 ? spi_ + 256 : spi_;
}

SaLifetime GatewayModel::effective_lifetime(const Peer& peer, SaLifetime requested) const {
  SaLifetime lifetime = requested;
  for (const CryptoMapEntry& e : config_.crypto_maps) {
    if (e.dynamic_template || e.map_name != peer.crypto_map) {
      continue;
    }
    const CryptoMapEntry* source = &e;
    if (e.dynamic_map) {
      for (const CryptoMapEntry& d : config_.crypto_maps) {
        if (d.dynamic_template && d.map_name == *e.dynamic_map) {
          source = &d;
          break;
        }
      }
    }
    if (!lifetime.seconds) {
      lifetime.seconds = source->lifetime.seconds;
    }
    if (!lifetime.kilobytes) {
      lifetime.kilobytes = source->lifetime.kilobytes;
    }
    break;
  }
  if (!lifetime.seconds) {
    lifetime.seconds = default_lifetime_seconds;
  }
  if (!lifetime.kilobytes) {
    lifetime.kilobytes = default_lifetime_kilobytes;
  }
  return lifetime;
}

std::optional<ModelError> GatewayModel::sa_up(const std::string& name, const std::string& pair,
                                              SaLifetime lifetime) {
  auto found = find(name);
  if (!found) {
    return found.error();
  }
  Peer* peer = *found;
  // The document: the accounting start comes "after IKE phases are complete".
  if (!peer->ike_up) {
    return ModelError{"peer '" + name + "' has no IKE SA: connect it first"};
  }
  if (peer->pairs.count(pair)) {
    return ModelError{"peer '" + name + "' already has SA pair '" + pair + "'"};
  }
  SaPair sa;
  sa.inbound.spi = next_spi();
  sa.outbound.spi = next_spi();
  sa.created = clock_.now();
  sa.lifetime = effective_lifetime(*peer, lifetime);
  peer->pairs.emplace(pair, sa);
  if (!peer->session) {
    start_session(*peer);
  }
  return std::nullopt;
}

void GatewayModel::start_session(Peer& peer) {
  Session session;
  session.id = hex8(++session_ids_);
  session.aaa_id = ++aaa_ids_;
  session.start = clock_.now();
  session.list = resolve_accounting_list(config_, peer.profile, peer.crypto_map);
  peer.session = session;
  const AccountingList* list = session.list;
  if (!list) {
    return; // the document: no accounting list, no accounting
  }
  if (list->mode == AccountingList::Mode::start_stop) {
    // The document: "after IKE phases are complete, an accounting start record is generated".
    events_.push_back(make_event(peer, AccountingEvent::Kind::start));
    // An interval from the peer's authorization (Acct-Interim-Interval) wins over the
    // configured `aaa accounting update periodic`.
    peer.session->interval =
        peer.authorized_interim ? peer.authorized_interim : options_.interim_interval;
    if (peer.session->interval) {
      peer.session->next_interim = session.start + *peer.session->interval;
    }
  }
}

AccountingEvent GatewayModel::make_event(const Peer& peer, AccountingEvent::Kind kind) const {
  const Session& s = *peer.session;
  AccountingEvent e;
  e.kind = kind;
  e.time = clock_.now();
  e.peer = peer.spec.name;
  e.aaa_id = s.aaa_id;
  e.session_id = s.id;
  e.list = s.list;
  e.user_name = peer.spec.xauth_user;
  e.framed_ip = peer.framed_ip;
  e.initiator = peer.spec.initiator;
  e.identity = peer.spec.identity;
  if (peer.profile) {
    e.vrf = peer.profile->vrf;
  }
  e.interface = peer.interface;
  e.session_time = static_cast<std::uint32_t>((e.time - s.start).count() / 1000);
  e.input = s.retired_input;
  e.output = s.retired_output;
  for (const auto& [pair_name, pair] : peer.pairs) {
    e.input += pair.inbound.traffic;
    e.output += pair.outbound.traffic;
  }
  return e;
}

std::optional<ModelError> GatewayModel::traffic(const std::string& name, const std::string& pair,
                                                Counters input, Counters output) {
  auto found = find_pair(name, pair);
  if (!found) {
    return found.error();
  }
  auto [peer, it] = *found;
  it->second.inbound.traffic += input;
  it->second.outbound.traffic += output;
  // An SA whose volume lifetime is used up is replaced (a rekey), which makes no record.
  std::uint64_t limit = *it->second.lifetime.kilobytes * 1024;
  if (it->second.inbound.traffic.octets >= limit || it->second.outbound.traffic.octets >= limit) {
    rekey_pair(*peer, it->second);
  }
  return std::nullopt;
}

void GatewayModel::retire(Peer& peer, const SaPair& pair, std::string_view why) {
  if (!peer.session) {
    return;
  }
  Session& s = *peer.session;
  // `debug crypto isakmp aaa` in the document: the deleted SA's traffic is folded into the
  // session's accounting ("Previous in acc" plus "Traffic on sa").
  debug("ISAKMP AAA: Accounting received kei with flags 0x1042 (" + std::string(why) + ")");
  debug("ISAKMP AAA: Updating Stats");
  debug("     Previous in acc (PKTS) IN: " + std::to_string(s.retired_input.packets) +
        " OUT: " + std::to_string(s.retired_output.packets));
  debug("     Traffic on sa (PKTS) IN: " + std::to_string(pair.inbound.traffic.packets) +
        " OUT: " + std::to_string(pair.outbound.traffic.packets));
  s.retired_input += pair.inbound.traffic;
  s.retired_output += pair.outbound.traffic;
}

void GatewayModel::rekey_pair(Peer& peer, SaPair& pair) {
  // The document: "New accounting records are not generated during a rekeying."
  retire(peer, pair, "rekey");
  pair.inbound = IpsecSa{next_spi(), {}};
  pair.outbound = IpsecSa{next_spi(), {}};
  pair.created = clock_.now();
}

std::optional<ModelError> GatewayModel::rekey_ipsec(const std::string& name,
                                                    const std::string& pair) {
  auto found = find_pair(name, pair);
  if (!found) {
    return found.error();
  }
  auto [peer, it] = *found;
  rekey_pair(*peer, it->second);
  return std::nullopt;
}

std::optional<ModelError> GatewayModel::rekey_ike(const std::string& name) {
  auto found = find(name);
  if (!found) {
    return found.error();
  }
  Peer* peer = *found;
  if (!peer->ike_up) {
    return ModelError{"peer '" + name + "' has no IKE SA to rekey"};
  }
  // A new IKE SA replaces the old; the IPsec SAs and the session carry on without a record.
  peer->ike_sa = ++ike_sa_ids_;
  return std::nullopt;
}

std::optional<ModelError> GatewayModel::sa_down(const std::string& name, const std::string& pair) {
  auto found = find_pair(name, pair);
  if (!found) {
    return found.error();
  }
  auto [peer, it] = *found;
  retire(*peer, it->second, "delete");
  peer->pairs.erase(it);
  // The document: "An accounting stop packet is generated when there are no more flows (IPSec
  // SA pairs) with the remote peer."
  if (peer->pairs.empty()) {
    stop_session(*peer, StopReason::sa_deleted);
  }
  return std::nullopt;
}

void GatewayModel::stop_session(Peer& peer, StopReason reason) {
  if (!peer.session) {
    return;
  }
  if (peer.session->list) {
    AccountingEvent e = make_event(peer, AccountingEvent::Kind::stop);
    e.reason = reason;
    events_.push_back(std::move(e));
  }
  peer.session.reset();
}

std::optional<ModelError> GatewayModel::ike_delete(const std::string& name) {
  return take_down_ike(name, "delete", StopReason::ike_deleted);
}

std::optional<ModelError> GatewayModel::dead_peer(const std::string& name) {
  return take_down_ike(name, "dead peer", StopReason::dead_peer);
}

// The IKE SA goes, and every IPsec SA with it: the session stops with the given reason.
std::optional<ModelError> GatewayModel::take_down_ike(const std::string& name, std::string_view why,
                                                      StopReason reason) {
  auto found = find(name);
  if (!found) {
    return found.error();
  }
  Peer* peer = *found;
  if (!peer->ike_up) {
    return ModelError{"peer '" + name + "' has no IKE SA"};
  }
  for (const auto& [pair_name, pair] : peer->pairs) {
    retire(*peer, pair, why);
  }
  peer->pairs.clear();
  stop_session(*peer, reason);
  peer->ike_up = false;
  peer->authorized_interim.reset();
  return std::nullopt;
}

void GatewayModel::on_time() {
  Millis now = clock_.now();
  for (auto& [name, peer] : peers_) {
    for (auto& [pair_name, pair] : peer.pairs) {
      if (pair.created + Millis{std::int64_t(*pair.lifetime.seconds) * 1000} <= now) {
        rekey_pair(peer, pair);
      }
    }
    if (peer.session && peer.session->next_interim && *peer.session->next_interim <= now) {
      // The document: "accounting updates are sent while a session is 'up'"; packet and octet
      // counts are shown in the updates.
      debug("ISAKMP AAA: Updating Stats");
      events_.push_back(make_event(peer, AccountingEvent::Kind::interim));
      while (*peer.session->next_interim <= now) {
        *peer.session->next_interim += *peer.session->interval;
      }
    }
  }
}

std::optional<Millis> GatewayModel::next_deadline() const {
  std::optional<Millis> next;
  auto consider = [&](Millis t) {
    if (!next || t < *next) {
      next = t;
    }
  };
  for (const auto& [name, peer] : peers_) {
    for (const auto& [pair_name, pair] : peer.pairs) {
      consider(pair.created + Millis{std::int64_t(*pair.lifetime.seconds) * 1000});
    }
    if (peer.session && peer.session->next_interim) {
      consider(*peer.session->next_interim);
    }
  }
  return next;
}

std::vector<AccountingEvent> GatewayModel::take_events() {
  std::vector<AccountingEvent> out;
  out.swap(events_);
  return out;
}

std::vector<std::string> GatewayModel::take_debug_lines() {
  std::vector<std::string> out;
  out.swap(debug_lines_);
  return out;
}

std::size_t GatewayModel::open_sessions() const {
  return static_cast<std::size_t>(std::count_if(
      peers_.begin(), peers_.end(), [](const auto& entry) { return entry.second.session; }));
}

std::vector<std::string> GatewayModel::peer_names() const {
  std::vector<std::string> names;
  for (const auto& [name, peer] : peers_) {
    names.push_back(name);
  }
  return names;
}

std::optional<std::pair<Counters, Counters>>
GatewayModel::session_totals(const std::string& name) const {
  auto it = peers_.find(name);
  if (it == peers_.end() || !it->second.session) {
    return std::nullopt;
  }
  AccountingEvent e = make_event(it->second, AccountingEvent::Kind::interim);
  return std::pair{e.input, e.output};
}

} // namespace acctlab::gateway
