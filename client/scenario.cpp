#include "client/scenario.hpp"

#include "client/carried_values.hpp"
#include "radius/line_reader.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <fstream>
#include <map>
#include <sstream>
#include <unordered_set>

namespace acctlab::gateway {
namespace {

std::vector<std::string_view> split(std::string_view line) {
  std::vector<std::string_view> tokens;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) {
      ++i;
    }
    std::size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r') {
      ++i;
    }
    if (i > start) {
      tokens.push_back(line.substr(start, i - start));
    }
  }
  return tokens;
}

template <class T> std::optional<T> number(std::string_view text) {
  T value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

std::string replace_index(std::string_view pattern, std::uint32_t index) {
  std::string out;
  std::size_t pos = 0;
  while (true) {
    std::size_t at = pattern.find("{n}", pos);
    out.append(
        pattern.substr(pos, at == std::string_view::npos ? std::string_view::npos : at - pos));
    if (at == std::string_view::npos) {
      return out;
    }
    out += std::to_string(index);
    pos = at + 3;
  }
}

Ipv4Address add_to(Ipv4Address a, std::uint32_t n) {
  std::uint32_t v = std::uint32_t{a[0]} << 24 | std::uint32_t{a[1]} << 16 |
                    std::uint32_t{a[2]} << 8 | std::uint32_t{a[3]};
  v += n;
  return {static_cast<std::uint8_t>(v >> 24), static_cast<std::uint8_t>(v >> 16),
          static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)};
}

class Parser {
public:
  explicit Parser(const ScenarioLimits& limits) : limits_(limits) {}

  Expected<Scenario, ScenarioError> run(std::string_view text) {
    radius::LineReader lines(text);
    bool leading_comments = true;
    while (const auto next = lines.next()) {
      const std::string_view raw = *next;
      line_ = lines.number();
      text_ = raw;
      std::size_t hash = raw.find('#');
      if (leading_comments && hash != std::string_view::npos &&
          split(raw.substr(0, hash)).empty()) {
        std::string_view comment = raw.substr(hash + 1);
        while (!comment.empty() && comment.front() == ' ') {
          comment.remove_prefix(1);
        }
        if (comment.rfind("config:", 0) == 0) {
          std::string_view file = comment.substr(7);
          while (!file.empty() &&
                 (file.front() == ' ' || file.back() == ' ' || file.back() == '\r')) {
            file = file.front() == ' ' ? file.substr(1) : file.substr(0, file.size() - 1);
          }
          scenario_.config_hint = std::string(file);
        }
        scenario_.comments.emplace_back(comment);
        continue;
      }
      tokens_ = split(raw.substr(0, hash));
      if (tokens_.empty()) {
        continue;
      }
      leading_comments = false;
      if (!statement()) {
        return Unexpected{error_};
      }
    }
    if (scenario_.slots.empty()) {
      scenario_.slots.push_back("A");
    }
    return std::move(scenario_);
  }

private:
  bool fail(std::string message) {
    error_ = {line_, std::move(message), std::string(text_)};
    return false;
  }
  std::string_view tok(std::size_t i) const {
    return i < tokens_.size() ? tokens_[i] : std::string_view{};
  }

  bool statement() {
    std::string_view w = tok(0);
    if (w == "slot") {
      if (tokens_.size() != 2) {
        return fail("expected: slot NAME");
      }
      if (scenario_.slot_index(tok(1)) >= 0) {
        return fail("slot '" + std::string(tok(1)) + "' is already declared");
      }
      scenario_.slots.emplace_back(tok(1));
      return true;
    }
    if (w == "peer" || w == "peers") {
      return peer(w == "peers");
    }
    if (w == "advance") {
      auto duration = tokens_.size() == 2 ? parse_duration(tok(1)) : std::nullopt;
      if (!duration) {
        return fail("expected: advance DURATION (e.g. 90s, 5m, 1h, 250ms)");
      }
      ScenarioStep step{.op = ScenarioStep::Op::advance, .line = line_};
      step.duration = *duration;
      scenario_.steps.push_back(std::move(step));
      return true;
    }
    if (w == "server") {
      return server();
    }
    if (w == "nas-ip") {
      auto address = tokens_.size() == 2 ? parse_ipv4(tok(1)) : std::nullopt;
      if (!address) {
        return fail("expected: nas-ip A.B.C.D");
      }
      ScenarioStep step{.op = ScenarioStep::Op::nas_ip, .line = line_};
      step.address = *address;
      scenario_.steps.push_back(std::move(step));
      return true;
    }
    static const std::map<std::string_view, ScenarioStep::Op> peer_ops = {
        {"connect", ScenarioStep::Op::connect}, {"sa-up", ScenarioStep::Op::sa_up},
        {"traffic", ScenarioStep::Op::traffic}, {"rekey", ScenarioStep::Op::rekey_ipsec},
        {"sa-down", ScenarioStep::Op::sa_down}, {"ike-delete", ScenarioStep::Op::ike_delete},
        {"dead", ScenarioStep::Op::dead},
    };
    auto op = peer_ops.find(w);
    if (op == peer_ops.end()) {
      return fail("unknown statement '" + std::string(w) + "'");
    }
    ScenarioStep step{.op = op->second, .line = line_};
    if (tokens_.size() < 2) {
      return fail("expected: " + std::string(w) + " PEERS ...");
    }
    if (!expand(tok(1), step.peers)) {
      return false;
    }
    std::size_t i = 2;
    switch (step.op) {
      case ScenarioStep::Op::connect:
        // connect PEERS [interim DURATION]: the authorization gave the session its own interim
        // interval (RFC 2869 §5.16 Acct-Interim-Interval in the Access-Accept).
        if (tokens_.size() == 4 && tok(2) == "interim") {
          step.interim = parse_duration(tok(3));
          if (!step.interim || step.interim->count() < 1000) {
            return fail("expected: connect PEERS [interim DURATION of at least 1s]");
          }
        } else if (tokens_.size() != 2) {
          return fail("expected: connect PEERS [interim DURATION]");
        }
        break;
      case ScenarioStep::Op::ike_delete:
      case ScenarioStep::Op::dead:
        if (tokens_.size() != 2) {
          return fail("expected: " + std::string(w) + " PEERS");
        }
        break;
      case ScenarioStep::Op::sa_down:
        if (tokens_.size() > 3) {
          return fail("expected: sa-down PEERS [PAIR]");
        }
        if (tokens_.size() == 3) {
          step.pair = std::string(tok(2));
        }
        break;
      case ScenarioStep::Op::rekey_ipsec:
        if (tok(2) == "ike" && tokens_.size() == 3) {
          step.op = ScenarioStep::Op::rekey_ike;
        } else if (tok(2) == "ipsec" && tokens_.size() <= 4) {
          if (tokens_.size() == 4) {
            step.pair = std::string(tok(3));
          }
        } else {
          return fail("expected: rekey PEERS ipsec [PAIR] | rekey PEERS ike");
        }
        break;
      case ScenarioStep::Op::sa_up:
        if (i < tokens_.size() && tok(i) != "lifetime") {
          step.pair = std::string(tok(i++));
        }
        if (i < tokens_.size()) {
          if (tok(i) != "lifetime" || i + 1 >= tokens_.size()) {
            return fail("expected: sa-up PEERS [PAIR] [lifetime Ns|NKB ...]");
          }
          for (++i; i < tokens_.size(); ++i) {
            if (!lifetime(tok(i), step.lifetime)) {
              return fail("a lifetime is seconds ('120s') or kilobytes ('4608000kb')");
            }
          }
        }
        break;
      case ScenarioStep::Op::traffic: {
        if (tok(i) != "in" && tok(i) != "out") {
          step.pair = std::string(tok(i++));
        }
        bool seen = false;
        while (i < tokens_.size()) {
          std::string_view direction = tok(i);
          auto packets = parse_count(tok(i + 1));
          auto octets = parse_count(tok(i + 2));
          if ((direction != "in" && direction != "out") || !packets || !octets) {
            return fail("expected: traffic PEERS [PAIR] in PACKETS OCTETS out PACKETS OCTETS");
          }
          (direction == "in" ? step.input : step.output) = Counters{*packets, *octets};
          i += 3;
          seen = true;
        }
        if (!seen) {
          return fail("expected: traffic PEERS [PAIR] in PACKETS OCTETS out PACKETS OCTETS");
        }
        break;
      }
      default:
        break;
    }
    scenario_.steps.push_back(std::move(step));
    return true;
  }

  static bool lifetime(std::string_view text, SaLifetime& out) {
    auto lower = [](std::string_view t) {
      std::string s(t);
      std::transform(s.begin(), s.end(), s.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      return s;
    };
    std::string t = lower(text);
    if (t.size() > 2 && t.ends_with("kb")) {
      auto kb = number<std::uint64_t>(std::string_view(t).substr(0, t.size() - 2));
      if (!kb || *kb == 0) {
        return false;
      }
      out.kilobytes = *kb;
      return true;
    }
    auto duration = parse_duration(t);
    if (!duration || duration->count() < 1000) {
      return false;
    }
    out.seconds = static_cast<std::uint64_t>(duration->count() / 1000);
    return true;
  }

  bool server() {
    if (tokens_.size() != 3) {
      return fail("expected: server SLOT {down|up|drop-answers}");
    }
    ScenarioStep step{.line = line_};
    if (tok(2) == "down") {
      step.op = ScenarioStep::Op::server_down;
    } else if (tok(2) == "up") {
      step.op = ScenarioStep::Op::server_up;
    } else if (tok(2) == "drop-answers") {
      step.op = ScenarioStep::Op::server_drop_answers;
    } else {
      return fail("expected: server SLOT {down|up|drop-answers}");
    }
    if (scenario_.slots.empty()) {
      scenario_.slots.push_back("A");
    }
    if (scenario_.slot_index(tok(1)) < 0) {
      return fail("unknown slot '" + std::string(tok(1)) + "': declare it with 'slot NAME'");
    }
    step.slot = std::string(tok(1));
    scenario_.steps.push_back(std::move(step));
    return true;
  }

  bool peer(bool many) {
    // peer NAME ...   |   peers PREFIX COUNT ...
    std::size_t i = many ? 3 : 2;
    if (tokens_.size() < i) {
      return fail(many ? "expected: peers PREFIX COUNT initiator A.B.C.D identity TYPE VALUE ..."
                       : "expected: peer NAME initiator A.B.C.D identity TYPE VALUE ...");
    }
    std::uint32_t count = 1;
    if (many) {
      auto n = number<std::uint32_t>(tok(2));
      if (!n || *n == 0 || *n > limits_.peers_per_line) {
        return fail("peers: COUNT must be 1-" + std::to_string(limits_.peers_per_line));
      }
      count = *n;
    }
    PeerSpec base;
    std::string identity_value;
    std::optional<std::string> xauth;
    bool have_initiator = false;
    bool have_identity = false;
    for (; i < tokens_.size(); i += 2) {
      std::string_view key = tok(i);
      std::string_view value = tok(i + 1);
      if (value.empty()) {
        return fail("'" + std::string(key) + "' needs a value");
      }
      if (key == "initiator") {
        auto a = parse_ipv4(value);
        if (!a) {
          return fail("initiator must be an IPv4 address");
        }
        base.initiator = *a;
        have_initiator = true;
      } else if (key == "identity") {
        static const std::map<std::string_view, IkeIdentity::Type> types = {
            {"group", IkeIdentity::Type::key_id},
            {"address", IkeIdentity::Type::ipv4_address},
            {"fqdn", IkeIdentity::Type::fqdn},
            {"user-fqdn", IkeIdentity::Type::user_fqdn}};
        auto type = types.find(value);
        if (type == types.end() || tok(i + 2).empty()) {
          return fail("expected: identity {group|address|fqdn|user-fqdn} VALUE");
        }
        base.identity.type = type->second;
        identity_value = std::string(tok(i + 2));
        have_identity = true;
        ++i;
      } else if (key == "xauth") {
        xauth = std::string(value);
      } else if (key == "address") {
        auto a = parse_ipv4(value);
        if (!a) {
          return fail("address must be an IPv4 address");
        }
        base.address = *a;
      } else if (key == "pool") {
        base.pool = std::string(value);
      } else if (key == "interface") {
        base.interface = std::string(value);
      } else {
        return fail("unknown peer attribute '" + std::string(key) + "'");
      }
    }
    if (!have_initiator || !have_identity) {
      return fail("a peer needs 'initiator A.B.C.D' and 'identity TYPE VALUE'");
    }
    // The limits on a whole scenario: a 4 KiB file of `peers` lines or `connect u[1-100000]`
    // lines asked for gigabytes before them.
    if (scenario_.peers.size() + count > limits_.peers) {
      return fail("a scenario declares at most " + std::to_string(limits_.peers) + " peers");
    }
    std::array<std::size_t, 3> checked_sizes{};
    for (std::uint32_t n = 1; n <= count; ++n) {
      PeerSpec spec = base;
      spec.name = many ? std::string(tok(1)) + std::to_string(n) : std::string(tok(1));
      // A set, not a scan of the peers so far: `peers u 100000` took minutes (found by
      // fuzz/fuzz_scenario.cpp).
      if (!declared_.insert(spec.name).second) {
        return fail("peer '" + spec.name + "' is already declared");
      }
      spec.initiator = add_to(base.initiator, n - 1);
      spec.identity.value = replace_index(identity_value, n);
      if (spec.identity.type == IkeIdentity::Type::ipv4_address) {
        auto a = parse_ipv4(spec.identity.value);
        if (!a) {
          return fail("an address identity must be an IPv4 address");
        }
        spec.identity.value = format_ipv4(add_to(*a, n - 1));
      }
      if (xauth) {
        spec.xauth_user = replace_index(*xauth, n);
      }
      if (base.address) {
        spec.address = add_to(*base.address, n - 1);
      }
      // The check depends on the names' sizes only, which "{n}" changes only when n gains a
      // digit: the sizes of the peer checked last spare a `peers` line 100,000 checks.
      const std::array<std::size_t, 3> sizes = {spec.identity.value.size(),
                                                spec.xauth_user ? spec.xauth_user->size() : 0,
                                                spec.interface ? spec.interface->size() : 0};
      if ((n == 1 || sizes != checked_sizes) && !fits(spec, many)) {
        return false;
      }
      checked_sizes = sizes;
      scenario_.peers.push_back(std::move(spec));
    }
    return true;
  }

  // The peer's names that go into its records must fit their attributes (carried_values.hpp):
  // refused on the line that declares them, not when the Start cannot be encoded. A `peers` line
  // is checked peer by peer, as "{n}" makes later names longer (the peer's name is added to the
  // message only then).
  bool fits(const PeerSpec& spec, bool many) {
    const bool group = spec.identity.type == IkeIdentity::Type::key_id;
    std::optional<std::string> problem = check_carried(
        group ? Carried::group_id : Carried::phase1_id,
        std::string(to_string(spec.identity.type)) + " identity", spec.identity.value);
    if (!problem && spec.xauth_user) {
      problem = check_carried(Carried::user_name, "xauth user name", *spec.xauth_user);
    }
    if (!problem && spec.interface) {
      problem = check_carried(Carried::nas_port, "interface name", *spec.interface);
    }
    if (!problem) {
      return true;
    }
    return fail(many ? "peer " + spec.name + ": " + *problem : std::move(*problem));
  }

  // "joe" or "u[3-10]": names declared earlier.
  bool expand(std::string_view text, std::vector<std::string>& out) {
    auto declared = [&](const std::string& name) { return declared_.contains(name); };
    std::size_t open = text.find('[');
    if (open == std::string_view::npos) {
      std::string name(text);
      if (!declared(name)) {
        return fail("unknown peer '" + name + "'");
      }
      out.push_back(std::move(name));
      return true;
    }
    std::size_t dash = text.find('-', open);
    if (dash == std::string_view::npos || text.back() != ']') {
      return fail("a peer range is PREFIX[FIRST-LAST]");
    }
    auto first = number<std::uint32_t>(text.substr(open + 1, dash - open - 1));
    auto last = number<std::uint32_t>(text.substr(dash + 1, text.size() - dash - 2));
    if (!first || !last || *first > *last) {
      return fail("a peer range is PREFIX[FIRST-LAST] with FIRST <= LAST");
    }
    if (std::uint64_t{*last} - *first + 1 > limits_.peer_references - peer_references_) {
      return fail("a scenario's steps name at most " + std::to_string(limits_.peer_references) +
                  " peers in all");
    }
    peer_references_ += *last - *first + 1;
    // 64 bits: a range ending at 4294967295 must not wrap around to 0.
    for (std::uint64_t n = *first; n <= *last; ++n) {
      std::string name = std::string(text.substr(0, open)) + std::to_string(n);
      if (!declared(name)) {
        return fail("unknown peer '" + name + "'");
      }
      out.push_back(std::move(name));
    }
    return true;
  }

  ScenarioLimits limits_;
  Scenario scenario_;
  std::unordered_set<std::string> declared_; // the peers' names
  std::size_t peer_references_ = 0;          // peer names the steps' ranges expanded to
  ScenarioError error_;
  int line_ = 0;
  std::string_view text_;
  std::vector<std::string_view> tokens_;
};

/** "500ms" -> (500, "ms"): the leading decimal number and the unit after it; nullopt when there
 * is no number or it does not fit. */
std::optional<std::pair<std::uint64_t, std::string_view>> number_and_unit(std::string_view text) {
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') {
    ++digits;
  }
  const auto value = number<std::uint64_t>(text.substr(0, digits));
  if (!value) {
    return std::nullopt;
  }
  return std::pair{*value, text.substr(digits)};
}

} // namespace

int Scenario::slot_index(std::string_view name) const {
  for (std::size_t i = 0; i < slots.size(); ++i) {
    if (slots[i] == name) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

std::string ScenarioError::to_string() const {
  return "line " + std::to_string(line) + ": " + message + (text.empty() ? "" : ": " + text);
}

std::string ScenarioError::to_string(std::string_view file) const {
  return std::string(file) + ":" + (line > 0 ? std::to_string(line) + ":" : std::string()) + " " +
         message + (text.empty() ? "" : ": " + text);
}

std::optional<Millis> parse_duration(std::string_view text) {
  const auto parsed = number_and_unit(text);
  if (!parsed) {
    return std::nullopt;
  }
  const auto [value, unit] = *parsed;
  std::uint64_t factor = 0;
  if (unit.empty() || unit == "s") {
    factor = 1000;
  } else if (unit == "ms") {
    factor = 1;
  } else if (unit == "m" || unit == "min") {
    factor = 60000;
  } else if (unit == "h") {
    factor = 3600000;
  } else {
    return std::nullopt;
  }
  // Bound: a century is more than any scenario needs and keeps the product far from overflow.
  if (value > 3155760000000ull / factor) {
    return std::nullopt;
  }
  return Millis{static_cast<std::int64_t>(value * factor)};
}

std::optional<std::uint64_t> parse_count(std::string_view text) {
  const auto parsed = number_and_unit(text);
  if (!parsed) {
    return std::nullopt;
  }
  const auto [value, unit] = *parsed;
  unsigned shift = 0;
  if (unit.empty()) {
    shift = 0;
  } else if (unit == "KiB") {
    shift = 10;
  } else if (unit == "MiB") {
    shift = 20;
  } else if (unit == "GiB") {
    shift = 30;
  } else if (unit == "TiB") {
    shift = 40;
  } else {
    return std::nullopt;
  }
  if (shift && value > (std::uint64_t{1} << (63 - shift))) {
    return std::nullopt;
  }
  return value << shift;
}

Expected<Scenario, ScenarioError> parse_scenario(std::string_view text,
                                                 const ScenarioLimits& limits) {
  return Parser{limits}.run(text);
}

Expected<Scenario, ScenarioError> parse_scenario_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Unexpected{ScenarioError{0, "cannot read scenario file", path}};
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parse_scenario(text.str());
}

std::string scenario_config_path(const std::string& scenario_path, const Scenario& scenario) {
  if (scenario.config_hint.empty()) {
    return {};
  }
  auto slash = scenario_path.rfind('/');
  return (slash == std::string::npos ? std::string() : scenario_path.substr(0, slash + 1)) +
         scenario.config_hint;
}

} // namespace acctlab::gateway
