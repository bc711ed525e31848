#include "client/ios_config.hpp"

#include "client/carried_values.hpp"
#include "radius/line_reader.hpp"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <set>
#include <sstream>

namespace acctlab::gateway {
namespace {

using Tokens = std::vector<std::string_view>;

Tokens split(std::string_view line) {
  Tokens tokens;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) {
      ++i;
    }
    std::size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') {
      ++i;
    }
    if (i > start) {
      tokens.push_back(line.substr(start, i - start));
    }
  }
  return tokens;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return text;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool ends_with_domain(std::string_view name, std::string_view domain) {
  if (domain.size() > name.size()) {
    return false;
  }
  return iequals(name.substr(name.size() - domain.size()), domain);
}

template <class T> std::optional<T> parse_number(std::string_view text) {
  T value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

/** The rest of the line from token index i on, as written (keys may contain spaces). */
std::string rest_of_line(std::string_view line, const Tokens& tokens, std::size_t i) {
  if (i >= tokens.size()) {
    return {};
  }
  std::size_t start = static_cast<std::size_t>(tokens[i].data() - line.data());
  return std::string(trim(line.substr(start)));
}

bool is_one_of(std::string_view word, std::initializer_list<std::string_view> words) {
  return std::find(words.begin(), words.end(), word) != words.end();
}

// Modes IOS enters after a command; the gateway models some of them and only tolerates others.
enum class Mode : std::uint8_t {
  global,
  isakmp_profile,
  crypto_map,
  interface,
  refused_interface, // an `interface` line refused as a whole: its sub-commands are skipped
  server_group,
  isakmp_policy,
  transform_set,
  client_group,
  line,
  access_list,
  other,
};

// Sub-commands IOS accepts in the modes we do not model, or which the model does not use:
// lines starting with these words stay in the mode and become "not used" warnings.
bool known_unused_subcommand(Mode mode, std::string_view word) {
  switch (mode) {
    case Mode::isakmp_profile:
      return is_one_of(word,
                       {"keyring", "keepalive", "ca", "self-identity", "initiate", "local-address",
                        "qos-group", "virtual-template", "description", "no"});
    case Mode::crypto_map:
      return is_one_of(word, {"match", "reverse-route", "set", "description", "qos", "no"});
    case Mode::interface:
      return is_one_of(
          word, {"no",          "ip",         "duplex",         "speed",       "load-interval",
                 "description", "shutdown",   "encapsulation",  "bandwidth",   "keepalive",
                 "cdp",         "mtu",        "media-type",     "standby",     "ipv6",
                 "tunnel",      "fair-queue", "service-policy", "negotiation", "clock"});
    case Mode::server_group:
      return is_one_of(word, {"deadtime", "ip", "server-private", "no"});
    case Mode::isakmp_policy:
      return is_one_of(word, {"authentication", "group", "hash", "lifetime", "encryption", "no"});
    case Mode::transform_set:
      return is_one_of(word, {"mode", "no"});
    case Mode::client_group:
      return is_one_of(word, {"key", "pool", "dns", "wins", "domain", "acl", "save-password",
                              "include-local-lan", "banner", "split-dns", "no"});
    case Mode::line:
      return is_one_of(word, {"exec-timeout", "exec", "password", "login", "transport", "privilege",
                              "logging", "stopbits", "speed", "no", "session-timeout",
                              "access-class", "history", "width", "length"});
    case Mode::access_list:
      return is_one_of(word, {"permit", "deny", "remark", "no"});
    case Mode::other:
      return is_one_of(word, {"shutdown", "no", "zone", "description"});
    case Mode::refused_interface:
      return known_unused_subcommand(Mode::interface, word);
    case Mode::global:
      return false;
  }
  return false;
}

// Global commands IOS has and the gateway does not use (the documents' configurations use them).
bool known_unused_global(const Tokens& t) {
  std::string_view w = t[0];
  if (w == "crypto") {
    return t.size() > 1 && is_one_of(t[1], {"isakmp", "ipsec", "ca", "pki", "key", "engine",
                                            "logging", "call", "map", "dynamic-map"});
  }
  return is_one_of(
      w,
      {"version",       "service",       "no",         "ip",          "voice",       "call",
       "mgcp",          "dial-peer",     "gatekeeper", "line",        "access-list", "ntp",
       "exception",     "username",      "enable",     "boot",        "logging",     "snmp-server",
       "control-plane", "router",        "clock",      "banner",      "alias",       "scheduler",
       "tacacs-server", "vpdn",          "multilink",  "memory-size", "archive",     "license",
       "redundancy",    "spanning-tree", "vtp",        "class-map",   "policy-map",  "aaa",
       "radius-server", "exit",          "ipv6",       "cdp",         "file",        "hw-module",
       "card",          "controller"});
}

// Which unmodelled mode a known global command opens (so its sub-commands are recognised).
Mode mode_opened_by(const Tokens& t) {
  auto at = [&](std::size_t i) { return i < t.size() ? t[i] : std::string_view{}; };
  if (at(0) == "crypto" && at(1) == "isakmp" && at(2) == "policy") {
    return Mode::isakmp_policy;
  }
  if (at(0) == "crypto" && at(1) == "ipsec" && at(2) == "transform-set") {
    return Mode::transform_set;
  }
  if (at(0) == "crypto" && at(1) == "isakmp" && at(2) == "client" && at(3) == "configuration") {
    return Mode::client_group;
  }
  if (at(0) == "line") {
    return Mode::line;
  }
  if (at(0) == "ip" && at(1) == "access-list") {
    return Mode::access_list;
  }
  if (is_one_of(at(0), {"gatekeeper", "mgcp", "dial-peer", "router", "control-plane", "class-map",
                        "policy-map"}) ||
      (at(0) == "ip" && at(1) == "vrf") || (at(0) == "key" && at(1) == "chain")) {
    return Mode::other;
  }
  return Mode::global;
}

std::string_view mode_name(Mode mode) {
  switch (mode) {
    case Mode::isakmp_profile:
      return "crypto isakmp profile";
    case Mode::crypto_map:
      return "crypto map";
    case Mode::interface:
    case Mode::refused_interface:
      return "interface";
    case Mode::server_group:
      return "aaa group server radius";
    case Mode::client_group:
      return "crypto isakmp client configuration group";
    default:
      return "global";
  }
}

class Reader {
public:
  ConfigReadResult run(std::string_view text) {
    radius::LineReader lines(text);
    bool ended = false;
    while (const auto raw = lines.next()) {
      line_number_ = lines.number();
      line_ = trim(*raw);
      if (line_.empty() || line_.front() == '!') {
        continue;
      }
      if (ended) {
        warn("after 'end': ignored");
        continue;
      }
      tokens_ = split(line_);
      if (tokens_[0] == "end") {
        ended = true;
        continue;
      }
      dispatch();
    }
    check();
    std::stable_sort(result_.diagnostics.begin(), result_.diagnostics.end(),
                     [](const Diagnostic& a, const Diagnostic& b) { return a.line < b.line; });
    return std::move(result_);
  }

private:
  IosConfig& cfg() { return result_.config; }

  void add(Diagnostic::Severity severity, std::string message, int line, std::string text) {
    result_.diagnostics.push_back({severity, line, std::move(message), std::move(text)});
  }
  void warn(std::string message) {
    add(Diagnostic::Severity::warning, std::move(message), line_number_, std::string(line_));
  }
  void error(std::string message) {
    add(Diagnostic::Severity::error, std::move(message), line_number_, std::string(line_));
  }

  std::string_view tok(std::size_t i) const {
    return i < tokens_.size() ? tokens_[i] : std::string_view{};
  }

  // A name the gateway sends inside an attribute (carried_values.hpp) must fit it: refused here,
  // with its line, instead of costing every record that would carry it at send time.
  bool fits(Carried carried, std::string_view what, std::string_view value) {
    if (auto problem = check_carried(carried, what, value)) {
      error(std::move(*problem));
      return false;
    }
    return true;
  }

  void dispatch() {
    if (tokens_[0] == "exit") {
      mode_ = Mode::global;
      return;
    }
    // IOS tries a line in the current mode first, then in its parent (global) mode.
    if (mode_ != Mode::global && modelled_subcommand()) {
      return;
    }
    if (modelled_global()) {
      return;
    }
    if (mode_ != Mode::global && known_unused_subcommand(mode_, tokens_[0])) {
      warn("not used by the gateway model");
      return;
    }
    if (known_unused_global(tokens_)) {
      mode_ = mode_opened_by(tokens_);
      warn("not used by the gateway model");
      return;
    }
    std::string hint;
    for (Mode m : {Mode::isakmp_profile, Mode::crypto_map, Mode::client_group}) {
      if (known_unused_subcommand(m, tokens_[0]) ||
          (m == Mode::isakmp_profile &&
           is_one_of(tokens_[0], {"vrf", "match", "client", "isakmp", "accounting"}))) {
        hint = " (a '" + std::string(mode_name(m)) +
               "' sub-command outside its mode: was the line that opens the mode mistyped?)";
        break;
      }
    }
    warn("unrecognised command, ignored" + hint);
  }

  // --- sub-commands of the modelled modes -------------------------------------------------

  bool modelled_subcommand() {
    switch (mode_) {
      case Mode::isakmp_profile:
        return profile_subcommand();
      case Mode::crypto_map:
        return crypto_map_subcommand();
      case Mode::interface:
        return interface_subcommand();
      case Mode::refused_interface:
        // The interface line has its error; the sub-commands the model reads would only add
        // noise (a `crypto map NAME` read globally is a malformed crypto map entry).
        return (tok(0) == "ip" && tok(1) == "address") ||
               (tok(0) == "crypto" && tok(1) == "map" && tokens_.size() == 3);
      case Mode::server_group:
        return server_group_subcommand();
      default:
        return false;
    }
  }

  bool profile_subcommand() {
    IsakmpProfile& p = cfg().profiles[index_];
    std::string_view w = tok(0);
    if (w == "vrf") {
      if (tokens_.size() != 2) {
        error("vrf needs one name: vrf IVRF");
      } else if (fits(Carried::vrf_id, "vrf name", tok(1))) {
        p.vrf = std::string(tok(1));
      }
      return true;
    }
    if (w == "match" && tok(1) == "identity") {
      match_identity(p);
      return true;
    }
    if (w == "client" && tok(1) == "authentication" && tok(2) == "list") {
      if (tokens_.size() != 4) {
        error("expected: client authentication list LIST");
      } else {
        p.client_authentication_list = std::string(tok(3));
      }
      return true;
    }
    if (w == "isakmp" && tok(1) == "authorization" && tok(2) == "list") {
      if (tokens_.size() != 4) {
        error("expected: isakmp authorization list LIST");
      } else {
        p.isakmp_authorization_list = std::string(tok(3));
      }
      return true;
    }
    if (w == "client" && tok(1) == "configuration" && tok(2) == "address") {
      if (tokens_.size() != 4 || !is_one_of(tok(3), {"initiate", "respond"})) {
        error("expected: client configuration address {initiate|respond}");
      } else {
        p.client_configuration_address = std::string(tok(3));
      }
      return true;
    }
    if (w == "accounting") {
      if (tokens_.size() != 2) {
        error("expected: accounting LIST");
      } else {
        p.accounting_list = std::string(tok(1));
      }
      return true;
    }
    return false;
  }

  void match_identity(IsakmpProfile& p) {
    // match identity { group G | address A [MASK] [FVRF] | host H | host domain D | user U |
    //                  user domain D }  (the document, "match identity")
    MatchIdentity m;
    m.line = line_number_;
    std::string_view kind = tok(2);
    bool ok = false;
    if (kind == "group" && tokens_.size() == 4) {
      m.kind = MatchIdentity::Kind::group;
      m.value = std::string(tok(3));
      ok = true;
    } else if (kind == "address" && tokens_.size() >= 4 && tokens_.size() <= 6) {
      auto address = parse_ipv4(tok(3));
      std::optional<Ipv4Address> mask = Ipv4Address{255, 255, 255, 255};
      if (tokens_.size() >= 5) {
        mask = parse_ipv4(tok(4));
      }
      if (address && mask) {
        m.kind = MatchIdentity::Kind::address;
        m.address = *address;
        m.mask = *mask;
        m.value = std::string(tok(3));
        ok = true;
      }
    } else if ((kind == "host" || kind == "user") && tokens_.size() == 4) {
      m.kind = kind == "host" ? MatchIdentity::Kind::host : MatchIdentity::Kind::user;
      m.value = std::string(tok(3));
      ok = true;
    } else if ((kind == "host" || kind == "user") && tok(3) == "domain" && tokens_.size() == 5) {
      m.kind = kind == "host" ? MatchIdentity::Kind::host_domain : MatchIdentity::Kind::user_domain;
      m.value = std::string(tok(4));
      ok = true;
    }
    if (!ok) {
      error("expected: match identity {group G | address A [MASK] [FVRF] | host H | host domain "
            "D | user U | user domain D}");
      return;
    }
    // A peer this line matches sends its identity as isakmp-group-id (a group) or
    // isakmp-phase1-id (the others; a domain is the tail of every identity it matches), so a
    // value too long for that AV pair could only match peers whose Start cannot be sent.
    const bool domain =
        m.kind == MatchIdentity::Kind::host_domain || m.kind == MatchIdentity::Kind::user_domain;
    const std::string what = "match identity " + std::string(kind) + (domain ? " domain" : " name");
    if (m.kind != MatchIdentity::Kind::address &&
        !fits(m.kind == MatchIdentity::Kind::group ? Carried::group_id : Carried::phase1_id, what,
              m.value)) {
      refused_matches_.insert(index_);
      return;
    }
    p.identities.push_back(std::move(m));
  }

  bool crypto_map_subcommand() {
    CryptoMapEntry& e = cfg().crypto_maps[index_];
    if (tok(0) != "set") {
      return false;
    }
    std::string_view what = tok(1);
    if (what == "peer") {
      auto address = tokens_.size() == 3 ? parse_ipv4(tok(2)) : std::nullopt;
      if (!address) {
        error("expected: set peer A.B.C.D");
      } else {
        e.peers.push_back(*address);
      }
      return true;
    }
    if (what == "transform-set") {
      if (tokens_.size() < 3) {
        error("expected: set transform-set NAME [NAME ...]");
      } else {
        e.transform_sets.assign(tokens_.begin() + 2, tokens_.end());
      }
      return true;
    }
    if (what == "isakmp-profile") {
      if (tokens_.size() != 3) {
        error("expected: set isakmp-profile NAME");
      } else {
        e.isakmp_profile = std::string(tok(2));
      }
      return true;
    }
    if (what == "security-association" && tok(2) == "lifetime") {
      auto value = tokens_.size() == 5 ? parse_number<std::uint64_t>(tok(4)) : std::nullopt;
      if (!value || *value == 0 || !is_one_of(tok(3), {"seconds", "kilobytes"})) {
        error("expected: set security-association lifetime {seconds N | kilobytes N}");
      } else if (tok(3) == "seconds") {
        e.lifetime.seconds = *value;
      } else {
        e.lifetime.kilobytes = *value;
      }
      return true;
    }
    return false;
  }

  bool interface_subcommand() {
    Interface& i = cfg().interfaces[index_];
    if (tok(0) == "ip" && tok(1) == "address") {
      auto address = parse_ipv4(tok(2));
      auto mask = parse_ipv4(tok(3));
      if (tokens_.size() == 4 && address && mask) {
        i.address = address;
        i.mask = mask;
        return true;
      }
      return false; // dhcp, negotiated, secondary: not modelled
    }
    if (tok(0) == "crypto" && tok(1) == "map") {
      if (tokens_.size() != 3) {
        error("expected: crypto map NAME");
      } else {
        i.crypto_map = std::string(tok(2));
      }
      return true;
    }
    return false;
  }

  bool server_group_subcommand() {
    if (tok(0) != "server") {
      return false;
    }
    ServerGroup::Member member;
    member.line = line_number_;
    auto address = parse_ipv4(tok(1));
    bool ok = address.has_value();
    for (std::size_t i = 2; ok && i < tokens_.size(); i += 2) {
      auto port = parse_number<std::uint16_t>(tok(i + 1));
      if (!port || !is_one_of(tok(i), {"auth-port", "acct-port"})) {
        ok = false;
      } else if (tok(i) == "acct-port") {
        member.acct_port = *port;
      }
    }
    if (!ok) {
      error("expected: server A.B.C.D [auth-port N] [acct-port N]");
      return true;
    }
    member.address = *address;
    cfg().server_groups[index_].servers.push_back(member);
    return true;
  }

  // --- global commands --------------------------------------------------------------------

  bool modelled_global() {
    std::string_view w = tok(0);
    if (w == "hostname") {
      if (tokens_.size() != 2) {
        error("expected: hostname NAME");
      } else {
        cfg().hostname = std::string(tok(1));
      }
      return enter(Mode::global);
    }
    if (w == "aaa") {
      return aaa();
    }
    if (w == "crypto") {
      return crypto();
    }
    if (w == "radius-server") {
      return radius_server();
    }
    if (w == "ip" && tok(1) == "local" && tok(2) == "pool") {
      LocalPool pool;
      pool.line = line_number_;
      auto first = parse_ipv4(tok(4));
      auto last = tokens_.size() == 6 ? parse_ipv4(tok(5)) : first;
      if ((tokens_.size() != 5 && tokens_.size() != 6) || !first || !last) {
        error("expected: ip local pool NAME FIRST [LAST]");
        return enter(Mode::global);
      }
      pool.name = std::string(tok(3));
      pool.first = *first;
      pool.last = *last;
      cfg().pools.push_back(std::move(pool));
      return enter(Mode::global);
    }
    if (w == "interface") {
      if (tokens_.size() < 2) {
        error("expected: interface NAME");
        return enter(Mode::global);
      }
      // "interface FastEthernet 1/0" names the same interface as "FastEthernet1/0".
      std::string name;
      for (std::size_t i = 1; i < tokens_.size(); ++i) {
        name += tok(i);
      }
      // The interface a peer arrives on is its cisco-nas-port (Cisco VSA 2) in every record.
      if (!fits(Carried::nas_port, "interface name", name)) {
        return enter(Mode::refused_interface);
      }
      auto& list = cfg().interfaces;
      auto it = std::find_if(list.begin(), list.end(), [&](auto& i) { return i.name == name; });
      if (it == list.end()) {
        list.push_back({.name = name, .line = line_number_});
        it = list.end() - 1;
      }
      index_ = static_cast<std::size_t>(it - list.begin());
      return enter(Mode::interface);
    }
    return false;
  }

  bool enter(Mode mode) {
    mode_ = mode;
    return true;
  }

  bool aaa() {
    if (tok(1) == "new-model" && tokens_.size() == 2) {
      cfg().aaa_new_model = true;
      return enter(Mode::global);
    }
    if (tok(1) == "accounting" && tok(2) == "network") {
      accounting_network();
      return enter(Mode::global);
    }
    if (tok(1) == "accounting" && tok(2) == "update") {
      // aaa accounting update [newinfo] periodic N   (N in minutes, 1-2147483647)
      std::size_t i = tok(3) == "newinfo" ? 4 : 3;
      if (tok(i) != "periodic") {
        if (tokens_.size() == 4 && tok(3) == "newinfo") {
          warn("'newinfo' updates are not modelled");
          return enter(Mode::global);
        }
        error("expected: aaa accounting update [newinfo] periodic MINUTES");
        return enter(Mode::global);
      }
      auto minutes = parse_number<std::uint32_t>(tok(i + 1));
      if (!minutes || *minutes == 0 || *minutes > 2147483647u || tokens_.size() != i + 2) {
        error("expected: aaa accounting update periodic MINUTES (1-2147483647)");
      } else {
        cfg().update_periodic_minutes = *minutes;
      }
      return enter(Mode::global);
    }
    if (tok(1) == "session-id") {
      if (tokens_.size() != 3 || !is_one_of(tok(2), {"common", "unique"})) {
        error("expected: aaa session-id {common|unique}");
      } else {
        cfg().session_id_mode = std::string(tok(2));
      }
      return enter(Mode::global);
    }
    if (tok(1) == "group" && tok(2) == "server" && tok(3) == "radius") {
      if (tokens_.size() != 5) {
        error("expected: aaa group server radius NAME");
        return enter(Mode::global);
      }
      auto& groups = cfg().server_groups;
      auto it =
          std::find_if(groups.begin(), groups.end(), [&](auto& g) { return g.name == tok(4); });
      if (it == groups.end()) {
        groups.push_back({.name = std::string(tok(4)), .line = line_number_});
        it = groups.end() - 1;
      }
      index_ = static_cast<std::size_t>(it - groups.begin());
      return enter(Mode::server_group);
    }
    return false;
  }

  void accounting_network() {
    // aaa accounting network LIST {start-stop|stop-only} [broadcast] group G [group G2 ...]
    AccountingList list;
    list.line = line_number_;
    bool ok = tokens_.size() >= 6;
    if (ok) {
      list.name = std::string(tok(3));
      if (tok(4) == "start-stop") {
        list.mode = AccountingList::Mode::start_stop;
      } else if (tok(4) == "stop-only") {
        list.mode = AccountingList::Mode::stop_only;
      } else {
        ok = false;
      }
    }
    std::size_t i = 5;
    if (ok && tok(i) == "broadcast") {
      list.broadcast = true;
      ++i;
    }
    while (ok && i < tokens_.size()) {
      if (tok(i) != "group" || i + 1 >= tokens_.size()) {
        ok = false;
        break;
      }
      list.groups.emplace_back(tok(i + 1));
      i += 2;
    }
    if (!ok || list.groups.empty()) {
      error("expected: aaa accounting network LIST {start-stop|stop-only} [broadcast] group "
            "{radius|GROUP}");
      return;
    }
    auto& lists = cfg().accounting_lists;
    auto it =
        std::find_if(lists.begin(), lists.end(), [&](auto& l) { return l.name == list.name; });
    if (it != lists.end()) {
      *it = std::move(list); // IOS replaces a method list that is entered again
    } else {
      lists.push_back(std::move(list));
    }
  }

  bool crypto() {
    if (tok(1) == "isakmp" && tok(2) == "profile") {
      // crypto isakmp profile NAME [accounting LIST]
      bool ok = tokens_.size() == 4 || (tokens_.size() == 6 && tok(4) == "accounting");
      if (!ok) {
        error("expected: crypto isakmp profile NAME [accounting LIST]");
        return enter(Mode::global);
      }
      auto& profiles = cfg().profiles;
      auto it =
          std::find_if(profiles.begin(), profiles.end(), [&](auto& p) { return p.name == tok(3); });
      if (it == profiles.end()) {
        profiles.push_back({.name = std::string(tok(3)), .line = line_number_});
        it = profiles.end() - 1;
      }
      if (tokens_.size() == 6) {
        it->accounting_list = std::string(tok(5));
      }
      index_ = static_cast<std::size_t>(it - profiles.begin());
      return enter(Mode::isakmp_profile);
    }
    if (tok(1) == "map" || tok(1) == "dynamic-map") {
      return crypto_map();
    }
    return false;
  }

  bool crypto_map() {
    bool dynamic_template = tok(1) == "dynamic-map";
    std::string_view name = tok(2);
    if (name.empty()) {
      error("expected: crypto map NAME ...");
      return enter(Mode::global);
    }
    if (!dynamic_template) {
      // crypto map NAME client accounting list LIST (the document's example) or
      // crypto map NAME client-accounting-list LIST (the command reference's syntax).
      std::optional<std::string_view> list;
      if (tok(3) == "client" && tok(4) == "accounting" && tok(5) == "list" && tokens_.size() == 7) {
        list = tok(6);
      } else if (tok(3) == "client-accounting-list" && tokens_.size() == 5) {
        list = tok(4);
      } else if (tok(3) == "client" || tok(3) == "client-accounting-list") {
        error("expected: crypto map NAME client accounting list LIST");
        return enter(Mode::global);
      }
      if (list) {
        auto& lists = cfg().map_accounting_lists;
        auto it =
            std::find_if(lists.begin(), lists.end(), [&](auto& p) { return p.first == name; });
        if (it != lists.end()) {
          it->second = std::string(*list);
        } else {
          lists.emplace_back(std::string(name), std::string(*list));
        }
        return enter(Mode::global);
      }
      if (is_one_of(tok(3), {"local-address", "redundancy", "isakmp-profile", "isakmp"})) {
        warn("not used by the gateway model");
        return enter(Mode::global);
      }
    }
    auto sequence = parse_number<int>(tok(3));
    if (!sequence || *sequence < 1 || *sequence > 65535) {
      error(std::string("expected: crypto ") + (dynamic_template ? "dynamic-map" : "map") +
            " NAME SEQ (1-65535)");
      return enter(Mode::global);
    }
    auto& maps = cfg().crypto_maps;
    auto it = std::find_if(maps.begin(), maps.end(), [&](auto& e) {
      return e.map_name == name && e.sequence == *sequence &&
             e.dynamic_template == dynamic_template;
    });
    if (it == maps.end()) {
      maps.push_back({.map_name = std::string(name),
                      .sequence = *sequence,
                      .dynamic_template = dynamic_template,
                      .line = line_number_});
      it = maps.end() - 1;
    }
    for (std::size_t i = 4; i < tokens_.size(); ++i) {
      std::string_view w = tok(i);
      if (dynamic_template) {
        if (w != "ipsec-isakmp") {
          error("unexpected '" + std::string(w) + "' in crypto dynamic-map");
        }
      } else if (w == "ipsec-isakmp") {
        it->ipsec_isakmp = true;
      } else if (w == "dynamic" && i + 1 < tokens_.size()) {
        it->dynamic_map = std::string(tok(++i));
      } else if (w == "discover") {
        warn("'discover' (tunnel endpoint discovery) is not modelled");
      } else if (w == "profile" && i + 1 < tokens_.size()) {
        ++i;
        warn("crypto map profiles (L2TP security) are not modelled");
      } else if (w == "ipsec-manual") {
        warn("manually keyed crypto maps are not modelled: peers have no IKE SA to account");
      } else {
        error("unexpected '" + std::string(w) + "' in crypto map");
      }
    }
    index_ = static_cast<std::size_t>(it - maps.begin());
    return enter(Mode::crypto_map);
  }

  bool radius_server() {
    std::string_view w = tok(1);
    if (w == "host") {
      // radius-server host IP [auth-port N] [acct-port N] [timeout N] [retransmit N] [key K]
      RadiusHost host;
      host.line = line_number_;
      auto address = parse_ipv4(tok(2));
      if (!address) {
        error("expected: radius-server host A.B.C.D [auth-port N] [acct-port N] [key KEY]");
        return enter(Mode::global);
      }
      host.address = *address;
      for (std::size_t i = 3; i < tokens_.size(); i += 2) {
        if (tok(i) == "key" && i + 1 < tokens_.size()) {
          host.key = rest_of_line(line_, tokens_, i + 1);
          break;
        }
        auto number = parse_number<std::uint32_t>(tok(i + 1));
        if (!number) {
          error("expected a number after '" + std::string(tok(i)) + "'");
          return enter(Mode::global);
        }
        if (tok(i) == "auth-port" && *number <= 65535) {
          host.auth_port = static_cast<std::uint16_t>(*number);
        } else if (tok(i) == "acct-port" && *number <= 65535) {
          host.acct_port = static_cast<std::uint16_t>(*number);
        } else if (tok(i) == "timeout" || tok(i) == "retransmit") {
          warn("per-host " + std::string(tok(i)) + " is not modelled; the global value is used");
        } else {
          error("unexpected '" + std::string(tok(i)) + "' in radius-server host");
          return enter(Mode::global);
        }
      }
      auto& hosts = cfg().radius_hosts;
      auto it = std::find_if(hosts.begin(), hosts.end(), [&](auto& h) {
        return h.address == host.address && h.acct_port == host.acct_port;
      });
      if (it != hosts.end()) {
        *it = host;
      } else {
        hosts.push_back(host);
      }
      return enter(Mode::global);
    }
    if (w == "key") {
      if (tokens_.size() < 3) {
        error("expected: radius-server key KEY");
      } else {
        cfg().radius_key = rest_of_line(line_, tokens_, 2);
      }
      return enter(Mode::global);
    }
    if (w == "retransmit" || w == "timeout") {
      auto value = tokens_.size() == 3 ? parse_number<std::uint32_t>(tok(2)) : std::nullopt;
      // IOS ranges: retransmit 0-100, timeout 1-1000 seconds.
      bool in_range = value && (w == "retransmit" ? *value <= 100 : *value >= 1 && *value <= 1000);
      if (!in_range) {
        error("expected: radius-server " + std::string(w) +
              (w == "retransmit" ? " N (0-100)" : " SECONDS (1-1000)"));
      } else if (w == "retransmit") {
        cfg().radius_retransmit = *value;
      } else {
        cfg().radius_timeout_seconds = *value;
      }
      return enter(Mode::global);
    }
    if (w == "attribute" && tok(2) == "55") {
      // Cisco's "RADIUS Attribute 55 Event-Timestamp": the NAS stamps its accounting requests
      // with the time of the event (RFC 2869 §5.3). Not in the feature document's listings.
      if (tokens_.size() == 4 && tok(3) == "include-in-acct-req") {
        cfg().event_timestamp = true;
        return enter(Mode::global);
      }
      if (tokens_.size() == 4 && tok(3) == "access-req-include") {
        warn("not used by the gateway model (it sends no authentication requests)");
        return enter(Mode::global);
      }
      error("expected: radius-server attribute 55 {include-in-acct-req|access-req-include}");
      return enter(Mode::global);
    }
    if (w == "vsa" && tok(2) == "send") {
      if (tokens_.size() == 3 || (tokens_.size() == 4 && tok(3) == "accounting")) {
        cfg().vsa_send_accounting = true;
        return enter(Mode::global);
      }
      if (tokens_.size() == 4 && tok(3) == "authentication") {
        warn("not used by the gateway model (it sends no authentication requests)");
        return enter(Mode::global);
      }
      error("expected: radius-server vsa send [accounting|authentication]");
      return enter(Mode::global);
    }
    return false;
  }

  // --- checks that need the whole configuration -------------------------------------------

  void check() {
    IosConfig& c = cfg();
    auto line_text = [](int line) { return "line " + std::to_string(line); };
    for (std::size_t i = 0; i < c.profiles.size(); ++i) {
      const IsakmpProfile& p = c.profiles[i];
      // The document: "there must be at least one match identity command defined in the
      // ISAKMP profile for it to be complete."
      if (p.identities.empty()) {
        add(Diagnostic::Severity::error,
            "ISAKMP profile '" + p.name + "' has no " +
                (refused_matches_.contains(i) ? "usable 'match identity' (each was refused)"
                                              : "'match identity'") +
                ": it is incomplete",
            p.line, "crypto isakmp profile " + p.name);
      }
      if (p.accounting_list && !c.accounting_list(*p.accounting_list)) {
        add(Diagnostic::Severity::warning,
            "accounting list '" + *p.accounting_list + "' of profile '" + p.name +
                "' is not defined by 'aaa accounting network': its peers are not accounted",
            p.line, "crypto isakmp profile " + p.name);
      }
      // The document: "If the peer identity is matched in two ISAKMP profiles, the
      // configuration is invalid."
      for (const MatchIdentity& m : p.identities) {
        for (std::size_t j = 0; j < i; ++j) {
          for (const MatchIdentity& other : c.profiles[j].identities) {
            if (same_identity(m, other)) {
              add(Diagnostic::Severity::error,
                  "profiles '" + c.profiles[j].name + "' (" + line_text(other.line) + ") and '" +
                      p.name + "' both match identity " + m.describe(),
                  m.line, "match identity " + m.describe());
            }
          }
        }
      }
    }
    for (const auto& [map, list] : c.map_accounting_lists) {
      if (!c.accounting_list(list)) {
        add(Diagnostic::Severity::warning,
            "client accounting list '" + list + "' of crypto map '" + map + "' is not defined", 0,
            "crypto map " + map + " client accounting list " + list);
      }
    }
    for (const CryptoMapEntry& e : c.crypto_maps) {
      if (e.isakmp_profile && !c.profile(*e.isakmp_profile)) {
        add(Diagnostic::Severity::warning,
            "crypto map entry names ISAKMP profile '" + *e.isakmp_profile +
                "', which is not defined",
            e.line, "set isakmp-profile " + *e.isakmp_profile);
      }
      if (e.dynamic_map) {
        bool found = std::any_of(c.crypto_maps.begin(), c.crypto_maps.end(), [&](auto& d) {
          return d.dynamic_template && d.map_name == *e.dynamic_map;
        });
        if (!found) {
          add(Diagnostic::Severity::warning,
              "crypto map refers to dynamic map '" + *e.dynamic_map + "', which is not defined",
              e.line, "crypto map " + e.map_name);
        }
      }
    }
    for (const Interface& i : c.interfaces) {
      if (i.crypto_map) {
        bool found = std::any_of(c.crypto_maps.begin(), c.crypto_maps.end(), [&](auto& e) {
          return !e.dynamic_template && e.map_name == *i.crypto_map;
        });
        if (!found) {
          add(Diagnostic::Severity::warning,
              "interface " + i.name + " applies crypto map '" + *i.crypto_map +
                  "', which has no entries",
              i.line, "crypto map " + *i.crypto_map);
        }
      }
    }
    for (const AccountingList& l : c.accounting_lists) {
      for (const std::string& g : l.groups) {
        if (g != "radius" && !c.server_group(g)) {
          add(Diagnostic::Severity::warning,
              "accounting list '" + l.name + "' uses server group '" + g + "', not defined", l.line,
              "aaa accounting network " + l.name);
        }
      }
      if (accounting_servers(c, l).empty()) {
        add(Diagnostic::Severity::warning,
            "accounting list '" + l.name + "' has no RADIUS server to send to", l.line,
            "aaa accounting network " + l.name);
      }
    }
    if (!c.aaa_new_model && !c.accounting_lists.empty()) {
      add(Diagnostic::Severity::warning,
          "'aaa new-model' is missing: IOS would reject the aaa "
          "commands; the gateway accepts them",
          0, "");
    }
    bool any_accounting = std::any_of(c.profiles.begin(), c.profiles.end(), [&](auto& p) {
      return p.accounting_list && c.accounting_list(*p.accounting_list);
    });
    for (const auto& entry : c.map_accounting_lists) {
      any_accounting = any_accounting || c.accounting_list(entry.second) != nullptr;
    }
    if (!any_accounting) {
      add(Diagnostic::Severity::warning,
          "no ISAKMP profile 'accounting' and no crypto map 'client accounting list' name a "
          "defined accounting list: no session will be accounted",
          0, "");
    }
  }

  static bool same_identity(const MatchIdentity& a, const MatchIdentity& b) {
    if (a.kind != b.kind) {
      return false;
    }
    if (a.kind == MatchIdentity::Kind::address) {
      return a.mask == b.mask && [&] {
        for (std::size_t i = 0; i < 4; ++i) {
          if ((a.address[i] & a.mask[i]) != (b.address[i] & b.mask[i])) {
            return false;
          }
        }
        return true;
      }();
    }
    if (a.kind == MatchIdentity::Kind::group) {
      return a.value == b.value;
    }
    return iequals(a.value, b.value);
  }

  ConfigReadResult result_;
  Mode mode_ = Mode::global;
  std::size_t index_ = 0;
  std::set<std::size_t> refused_matches_; // profiles with a `match identity` refused by fits()
  int line_number_ = 0;
  std::string_view line_;
  Tokens tokens_;
};

} // namespace

std::optional<Ipv4Address> parse_ipv4(std::string_view text) {
  Ipv4Address address{};
  std::size_t part = 0;
  std::size_t i = 0;
  while (part < 4) {
    std::size_t start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      ++i;
    }
    if (i == start || i - start > 3) {
      return std::nullopt;
    }
    auto value = parse_number<unsigned>(text.substr(start, i - start));
    if (!value || *value > 255) {
      return std::nullopt;
    }
    address[part++] = static_cast<std::uint8_t>(*value);
    if (part < 4) {
      if (i >= text.size() || text[i] != '.') {
        return std::nullopt;
      }
      ++i;
    }
  }
  if (i != text.size()) {
    return std::nullopt;
  }
  return address;
}

std::string format_ipv4(const Ipv4Address& a) {
  return std::to_string(a[0]) + '.' + std::to_string(a[1]) + '.' + std::to_string(a[2]) + '.' +
         std::to_string(a[3]);
}

std::string Diagnostic::to_string() const {
  std::string out = (line > 0 ? "line " + std::to_string(line) : std::string("configuration")) +
                    ": " + (severity == Severity::error ? "error: " : "warning: ") + message;
  if (!text.empty()) {
    out += ": " + text;
  }
  return out;
}

std::string_view to_string(IkeIdentity::Type type) {
  switch (type) {
    case IkeIdentity::Type::key_id:
      return "group";
    case IkeIdentity::Type::ipv4_address:
      return "address";
    case IkeIdentity::Type::fqdn:
      return "fqdn";
    case IkeIdentity::Type::user_fqdn:
      return "user-fqdn";
  }
  return "?";
}

bool MatchIdentity::matches(const IkeIdentity& identity) const {
  using T = IkeIdentity::Type;
  switch (kind) {
    case Kind::group:
      return identity.type == T::key_id && identity.value == value;
    case Kind::address: {
      if (identity.type != T::ipv4_address) {
        return false;
      }
      auto peer = parse_ipv4(identity.value);
      if (!peer) {
        return false;
      }
      for (std::size_t i = 0; i < 4; ++i) {
        if (((*peer)[i] & mask[i]) != (address[i] & mask[i])) {
          return false;
        }
      }
      return true;
    }
    case Kind::host:
      return identity.type == T::fqdn && iequals(identity.value, value);
    case Kind::host_domain:
      return identity.type == T::fqdn && ends_with_domain(identity.value, value);
    case Kind::user:
      return identity.type == T::user_fqdn && iequals(identity.value, value);
    case Kind::user_domain:
      return identity.type == T::user_fqdn && ends_with_domain(identity.value, value);
  }
  return false;
}

std::string MatchIdentity::describe() const {
  switch (kind) {
    case Kind::group:
      return "group " + value;
    case Kind::address:
      return "address " + format_ipv4(address) + " " + format_ipv4(mask);
    case Kind::host:
      return "host " + value;
    case Kind::host_domain:
      return "host domain " + value;
    case Kind::user:
      return "user " + value;
    case Kind::user_domain:
      return "user domain " + value;
  }
  return "?";
}

const AccountingList* IosConfig::accounting_list(std::string_view name) const {
  for (const auto& l : accounting_lists) {
    if (l.name == name) {
      return &l;
    }
  }
  return nullptr;
}

const IsakmpProfile* IosConfig::profile(std::string_view name) const {
  for (const auto& p : profiles) {
    if (p.name == name) {
      return &p;
    }
  }
  return nullptr;
}

const ServerGroup* IosConfig::server_group(std::string_view name) const {
  for (const auto& g : server_groups) {
    if (g.name == name) {
      return &g;
    }
  }
  return nullptr;
}

const Interface* IosConfig::interface(std::string_view name) const {
  for (const auto& i : interfaces) {
    if (i.name == name) {
      return &i;
    }
  }
  return nullptr;
}

const LocalPool* IosConfig::pool(std::string_view name) const {
  for (const auto& p : pools) {
    if (p.name == name) {
      return &p;
    }
  }
  return nullptr;
}

const std::string* IosConfig::map_accounting_list(std::string_view map_name) const {
  for (const auto& [map, list] : map_accounting_lists) {
    if (map == map_name) {
      return &list;
    }
  }
  return nullptr;
}

const Interface* IosConfig::crypto_interface() const {
  for (const auto& i : interfaces) {
    if (i.crypto_map) {
      return &i;
    }
  }
  return nullptr;
}

bool ConfigReadResult::usable() const {
  return count(Diagnostic::Severity::error) == 0;
}

std::size_t ConfigReadResult::count(Diagnostic::Severity severity) const {
  return static_cast<std::size_t>(std::count_if(diagnostics.begin(), diagnostics.end(),
                                                [&](auto& d) { return d.severity == severity; }));
}

ConfigReadResult read_ios_config(std::string_view text) {
  return Reader{}.run(text);
}

ConfigReadResult read_ios_config_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ConfigReadResult result;
    result.diagnostics.push_back(
        {Diagnostic::Severity::error, 0, "cannot read configuration file", path});
    return result;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return read_ios_config(text.str());
}

ProfileMatch match_profile(const IosConfig& config, const IkeIdentity& identity) {
  ProfileMatch match;
  for (const IsakmpProfile& p : config.profiles) {
    bool hit = std::any_of(p.identities.begin(), p.identities.end(),
                           [&](const MatchIdentity& m) { return m.matches(identity); });
    if (!hit) {
      continue;
    }
    if (match.profile) {
      match.error = "identity " + std::string(to_string(identity.type)) + " " + identity.value +
                    " matches profiles '" + match.profile->name + "' and '" + p.name +
                    "': the configuration is invalid (the document, 'match identity')";
      match.profile = nullptr;
      return match;
    }
    match.profile = &p;
  }
  return match;
}

const AccountingList* resolve_accounting_list(const IosConfig& config, const IsakmpProfile* profile,
                                              std::string_view crypto_map_name) {
  if (profile && profile->accounting_list) {
    return config.accounting_list(*profile->accounting_list);
  }
  if (const std::string* list = config.map_accounting_list(crypto_map_name)) {
    return config.accounting_list(*list);
  }
  return nullptr;
}

std::vector<AccountingServer> accounting_servers(const IosConfig& config,
                                                 const AccountingList& list) {
  std::vector<AccountingServer> servers;
  auto add = [&](const Ipv4Address& address, std::optional<std::uint16_t> port) {
    AccountingServer server{.address = address};
    const RadiusHost* host = nullptr;
    for (const RadiusHost& h : config.radius_hosts) {
      if (h.address == address && (!port || h.acct_port == *port)) {
        host = &h;
        break;
      }
    }
    server.acct_port = port ? *port : host ? host->acct_port : std::uint16_t{1646};
    server.key = host && host->key ? host->key : config.radius_key;
    for (const auto& s : servers) {
      if (s.address == server.address && s.acct_port == server.acct_port) {
        return;
      }
    }
    servers.push_back(server);
  };
  for (const std::string& group : list.groups) {
    if (group == "radius") {
      for (const RadiusHost& h : config.radius_hosts) {
        add(h.address, h.acct_port);
      }
    } else if (const ServerGroup* g = config.server_group(group)) {
      for (const auto& member : g->servers) {
        add(member.address, member.acct_port);
      }
    }
  }
  return servers;
}

std::string describe(const IosConfig& c) {
  std::ostringstream out;
  out << "hostname " << c.hostname << "\n";
  out << "aaa new-model: " << (c.aaa_new_model ? "yes" : "no") << "\n";
  out << "aaa session-id " << c.session_id_mode << "\n";
  if (c.update_periodic_minutes) {
    out << "interim updates: every " << *c.update_periodic_minutes << " minute(s)\n";
  } else {
    out << "interim updates: off\n";
  }
  for (const auto& l : c.accounting_lists) {
    out << "accounting list " << l.name << ": "
        << (l.mode == AccountingList::Mode::start_stop ? "start-stop" : "stop-only")
        << (l.broadcast ? " broadcast" : "") << " groups";
    for (const auto& g : l.groups) {
      out << " " << g;
    }
    out << " -> servers";
    auto servers = accounting_servers(c, l);
    for (const auto& s : servers) {
      out << " " << format_ipv4(s.address) << ":" << s.acct_port;
    }
    if (servers.empty()) {
      out << " (none)";
    }
    out << "\n";
  }
  for (const auto& g : c.server_groups) {
    out << "server group " << g.name << ":";
    for (const auto& s : g.servers) {
      out << " " << format_ipv4(s.address);
    }
    out << "\n";
  }
  for (const auto& h : c.radius_hosts) {
    out << "radius-server " << format_ipv4(h.address) << " auth-port " << h.auth_port
        << " acct-port " << h.acct_port << (h.key ? " key set" : "") << "\n";
  }
  out << "radius-server key: " << (c.radius_key ? "set" : "not set") << ", retransmit "
      << c.radius_retransmit << ", timeout " << c.radius_timeout_seconds
      << "s, vsa send accounting: " << (c.vsa_send_accounting ? "yes" : "no")
      << ", Event-Timestamp: " << (c.event_timestamp ? "yes" : "no") << "\n";
  for (const auto& p : c.profiles) {
    out << "isakmp profile " << p.name << ": vrf " << (p.vrf ? *p.vrf : "-");
    for (const auto& m : p.identities) {
      out << "; match identity " << m.describe();
    }
    out << "; xauth list " << (p.client_authentication_list ? *p.client_authentication_list : "-")
        << "; accounting " << (p.accounting_list ? *p.accounting_list : "-") << "\n";
  }
  for (const auto& e : c.crypto_maps) {
    out << (e.dynamic_template ? "crypto dynamic-map " : "crypto map ") << e.map_name << " "
        << e.sequence;
    if (e.dynamic_map) {
      out << " dynamic " << *e.dynamic_map;
    }
    if (e.isakmp_profile) {
      out << " profile " << *e.isakmp_profile;
    }
    for (const auto& p : e.peers) {
      out << " peer " << format_ipv4(p);
    }
    if (e.lifetime.seconds) {
      out << " lifetime " << *e.lifetime.seconds << "s";
    }
    if (e.lifetime.kilobytes) {
      out << " lifetime " << *e.lifetime.kilobytes << "KB";
    }
    out << "\n";
  }
  for (const auto& [map, list] : c.map_accounting_lists) {
    out << "crypto map " << map << " client accounting list " << list << "\n";
  }
  for (const auto& p : c.pools) {
    out << "ip local pool " << p.name << " " << format_ipv4(p.first) << " - " << format_ipv4(p.last)
        << "\n";
  }
  for (const auto& i : c.interfaces) {
    out << "interface " << i.name;
    if (i.address) {
      out << " " << format_ipv4(*i.address);
    }
    if (i.crypto_map) {
      out << " crypto map " << *i.crypto_map;
    }
    out << "\n";
  }
  // What a peer arriving on the crypto map interface is accounted with (the document's rule:
  // the profile's list, else the crypto map's client accounting list, else none).
  if (const Interface* i = c.crypto_interface()) {
    auto show = [&](const AccountingList* list) {
      return list ? list->name + (list->mode == AccountingList::Mode::stop_only ? " (stop-only)"
                                                                                : " (start-stop)")
                  : std::string("no accounting");
    };
    for (const auto& p : c.profiles) {
      out << "peers matching profile " << p.name << " on " << i->name << ": "
          << show(resolve_accounting_list(c, &p, *i->crypto_map)) << "\n";
    }
    out << "peers matching no profile on " << i->name << ": "
        << show(resolve_accounting_list(c, nullptr, *i->crypto_map)) << "\n";
  }
  return out.str();
}

} // namespace acctlab::gateway
