#pragma once
// The SA lifecycle model of an IOS IPsec gateway and the accounting it produces, as the feature
// document describes it: a session is an IKE SA and the IPsec SA pairs it creates; it starts when
// the first pair is created and stops when the last IPsec SA is deleted. Pure: no I/O, time comes
// from an injected Clock, and the records it decides on come out as AccountingEvents.

#include "client/clock.hpp"
#include "client/ios_config.hpp"
#include "radius/result.hpp"

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace acctlab::gateway {

/** A remote-access peer as a scenario declares it. */
struct PeerSpec {
  std::string name;                      // the scenario's label for it
  Ipv4Address initiator{};               // isakmp-initiator-ip: the peer's public address
  IkeIdentity identity;                  // its IKE phase 1 ID payload
  std::optional<std::string> xauth_user; // no XAUTH: no User-Name (the document, Table 1)
  std::optional<Ipv4Address> address;    // mode-config address (Framed-IP-Address)
  std::optional<std::string> pool;       // ...or allocated from this `ip local pool`
  std::optional<std::string> interface;  // where it arrives; default: the crypto map interface
};

/** Traffic on one SA: 64-bit, as the gateway counts it (the wire splits octets and gigawords). */
struct Counters {
  std::uint64_t packets = 0;
  std::uint64_t octets = 0;
  Counters& operator+=(const Counters& other) {
    packets += other.packets;
    octets += other.octets;
    return *this;
  }
};

/** Why a session ended, as carried in Acct-Terminate-Cause and disc-cause-ext. */
enum class StopReason : std::uint8_t { sa_deleted, ike_deleted, dead_peer };

/** What the accounting emitter needs to build one record. */
struct AccountingEvent {
  enum class Kind : std::uint8_t { start, interim, stop };
  Kind kind = Kind::start;
  Millis time{0};
  std::string peer;
  std::uint32_t aaa_id = 0; // the AAA request context: "RADIUS(00000002)"
  std::string session_id;   // Acct-Session-Id, "00000001"
  const AccountingList* list = nullptr;
  std::optional<std::string> user_name;
  std::optional<Ipv4Address> framed_ip;
  Ipv4Address initiator{};
  IkeIdentity identity;
  std::optional<std::string> vrf;
  std::string interface;
  std::uint32_t session_time = 0; // seconds
  Counters input;                 // from the peer: its inbound SAs, live and deleted
  Counters output;
  StopReason reason = StopReason::sa_deleted;
};
std::string_view to_string(AccountingEvent::Kind kind);

struct ModelOptions {
  /** Overrides `aaa accounting update periodic`; zero means no interims. */
  std::optional<Millis> interim_interval;
};

/** A model operation that could not happen (unknown peer, SA not up, ...): never thrown. */
struct ModelError {
  std::string message;
};

class GatewayModel {
public:
  GatewayModel(const IosConfig& config, ModelOptions options, const Clock& clock);

  /** Declares a peer; an unknown pool or a duplicate name is an error. */
  std::optional<ModelError> add_peer(PeerSpec spec);
  /** IKE phase 1 (and XAUTH, mode-config) complete: the IKE SA is up. interim: the interval
   * the authorization gave this peer's sessions (RFC 2869 §5.16 Acct-Interim-Interval), which
   * takes the place of `aaa accounting update periodic` until the IKE SA goes. */
  std::optional<ModelError> connect(const std::string& peer,
                                    std::optional<Millis> interim = std::nullopt);
  /** An IPsec SA pair (inbound and outbound SA) is created; the first one starts the session. */
  std::optional<ModelError> sa_up(const std::string& peer, const std::string& pair,
                                  SaLifetime lifetime = {});
  std::optional<ModelError> traffic(const std::string& peer, const std::string& pair,
                                    Counters input, Counters output);
  /** Replaces a pair's SAs with new ones; the old SAs' traffic stays in the session's totals. */
  std::optional<ModelError> rekey_ipsec(const std::string& peer, const std::string& pair);
  std::optional<ModelError> rekey_ike(const std::string& peer);
  /** Deletes a pair; deleting the last one stops the session. */
  std::optional<ModelError> sa_down(const std::string& peer, const std::string& pair);
  /** Deletes the IKE SA and with it every IPsec SA of the peer. */
  std::optional<ModelError> ike_delete(const std::string& peer);
  /** Dead peer detection gave up on the peer: everything is torn down. */
  std::optional<ModelError> dead_peer(const std::string& peer);

  /** Fires what is due at the clock's now: interim updates and SA lifetime expiries. */
  void on_time();
  /** The next time on_time has work, if any. */
  std::optional<Millis> next_deadline() const;

  std::vector<AccountingEvent> take_events();
  /** `debug crypto isakmp aaa` lines produced since the last call. */
  std::vector<std::string> take_debug_lines();

  std::size_t peer_count() const { return peers_.size(); }
  std::size_t open_sessions() const;
  std::vector<std::string> peer_names() const;
  bool has_peer(const std::string& name) const { return peers_.count(name) != 0; }
  /** The session totals of a peer's current session (live plus deleted SAs), for tests. */
  std::optional<std::pair<Counters, Counters>> session_totals(const std::string& peer) const;

private:
  struct IpsecSa {
    std::uint32_t spi = 0;
    Counters traffic;
  };
  struct SaPair {
    IpsecSa inbound;
    IpsecSa outbound;
    Millis created{0};
    SaLifetime lifetime;
  };
  using Pairs = std::map<std::string, SaPair>; // by pair name
  struct Session {
    std::string id;
    std::uint32_t aaa_id = 0;
    Millis start{0};
    const AccountingList* list = nullptr;
    Counters retired_input; // traffic of the session's deleted SAs
    Counters retired_output;
    std::optional<Millis> interval; // between interims; none: no interims
    std::optional<Millis> next_interim;
  };
  struct Peer {
    PeerSpec spec;
    const IsakmpProfile* profile = nullptr;
    std::string crypto_map;
    std::string interface;
    std::optional<Ipv4Address> framed_ip;
    bool ike_up = false;
    std::uint32_t ike_sa = 0;
    std::optional<Millis> authorized_interim; // from connect(), while the IKE SA is up
    Pairs pairs;
    std::optional<Session> session;
  };

  /** A peer and one of its SA pairs. */
  struct PairRef {
    Peer* peer = nullptr;
    Pairs::iterator pair;
  };

  /** The declared peer, or "unknown peer". */
  Expected<Peer*, ModelError> find(const std::string& name);
  /** The peer's SA pair, or why there is none (unknown peer, no such pair). */
  Expected<PairRef, ModelError> find_pair(const std::string& name, const std::string& pair);
  std::uint32_t next_spi();
  void start_session(Peer& peer);
  void stop_session(Peer& peer, StopReason reason);
  void retire(Peer& peer, const SaPair& pair, std::string_view why);
  std::optional<ModelError> take_down_ike(const std::string& name, std::string_view why,
                                          StopReason reason);
  void rekey_pair(Peer& peer, SaPair& pair);
  AccountingEvent make_event(const Peer& peer, AccountingEvent::Kind kind) const;
  SaLifetime effective_lifetime(const Peer& peer, SaLifetime requested) const;
  std::optional<Ipv4Address> allocate(const std::string& pool);
  void debug(std::string line) { debug_lines_.push_back(std::move(line)); }

  const IosConfig& config_;
  ModelOptions options_;
  const Clock& clock_;
  std::map<std::string, Peer> peers_;
  std::map<std::string, std::uint32_t> pool_next_; // next offset to hand out per pool
  std::uint32_t aaa_ids_ = 0;
  std::uint32_t session_ids_ = 0;
  std::uint32_t spi_ = 0x1b1d2c5a;
  std::uint32_t ike_sa_ids_ = 0;
  std::vector<AccountingEvent> events_;
  std::vector<std::string> debug_lines_;
};

} // namespace acctlab::gateway
