#include "server/clients_file.hpp"

#include "radius/accounting_record.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cctype>
#include <charconv>
#include <fstream>
#include <set>
#include <sstream>

namespace acctlab::server {
namespace {

struct Token {
  enum class Kind { word, open, close, equals, end } kind = Kind::end;
  std::string text;
  int line = 0;
};

class Lexer {
public:
  explicit Lexer(std::string_view text) : text_(text) {}

  /** The next token; a quoted string is a word without its quotes. */
  Expected<Token, std::string> next() {
    skip_space_and_comments();
    Token token;
    token.line = line_;
    if (pos_ >= text_.size()) {
      return token;
    }
    const char c = text_[pos_];
    if (c == '{' || c == '}' || c == '=') {
      ++pos_;
      token.kind =
          c == '{' ? Token::Kind::open : (c == '}' ? Token::Kind::close : Token::Kind::equals);
      token.text = std::string(1, c);
      return token;
    }
    token.kind = Token::Kind::word;
    if (c == '"' || c == '\'') {
      ++pos_;
      while (pos_ < text_.size() && text_[pos_] != c) {
        if (text_[pos_] == '\n') {
          return Unexpected{std::string("unterminated quoted string")};
        }
        if (text_[pos_] == '\\' && pos_ + 1 < text_.size()) {
          ++pos_;
        }
        token.text += text_[pos_++];
      }
      if (pos_ >= text_.size()) {
        return Unexpected{std::string("unterminated quoted string")};
      }
      ++pos_;
      return token;
    }
    while (pos_ < text_.size()) {
      const char d = text_[pos_];
      if (d == ' ' || d == '\t' || d == '\r' || d == '\n' || d == '{' || d == '}' || d == '=' ||
          d == '#') {
        break;
      }
      token.text += d;
      ++pos_;
    }
    return token;
  }

  int line() const { return line_; }

private:
  void skip_space_and_comments() {
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c == '\n') {
        ++line_;
        ++pos_;
      } else if (c == ' ' || c == '\t' || c == '\r') {
        ++pos_;
      } else if (c == '#') {
        while (pos_ < text_.size() && text_[pos_] != '\n') {
          ++pos_;
        }
      } else {
        break;
      }
    }
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  int line_ = 1;
};

std::optional<bool> parse_bool(std::string_view text) {
  if (text == "yes" || text == "true" || text == "1" || text == "on") {
    return true;
  }
  if (text == "no" || text == "false" || text == "0" || text == "off") {
    return false;
  }
  return std::nullopt;
}

/** "192.0.2.0/24", "2001:db8::/32" or a bare address (a host prefix). */
std::optional<std::pair<IpAddress, unsigned>> parse_prefix(std::string_view text,
                                                           std::optional<bool> want_v6) {
  const auto slash = text.find('/');
  const auto address = IpAddress::parse(text.substr(0, slash));
  if (!address || (want_v6 && *want_v6 != address->v6)) {
    return std::nullopt;
  }
  unsigned length = static_cast<unsigned>(address->bit_length());
  if (slash != std::string_view::npos) {
    const auto digits = text.substr(slash + 1);
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), length);
    if (ec != std::errc{} || end != digits.data() + digits.size() || digits.empty() ||
        length > address->bit_length()) {
      return std::nullopt;
    }
  }
  return std::pair{*address, length};
}

} // namespace

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  if (text.empty() || text.size() > 63) {
    return std::nullopt;
  }
  const std::string copy(text);
  IpAddress address;
  if (inet_pton(AF_INET, copy.c_str(), address.bytes.data()) == 1) {
    return address;
  }
  if (inet_pton(AF_INET6, copy.c_str(), address.bytes.data()) == 1) {
    address.v6 = true;
    constexpr std::array<std::uint8_t, 12> mapped{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::equal(mapped.begin(), mapped.end(), address.bytes.begin())) {
      return IpAddress::v4(
          {address.bytes[12], address.bytes[13], address.bytes[14], address.bytes[15]});
    }
    return address;
  }
  return std::nullopt;
}

IpAddress IpAddress::v4(std::array<std::uint8_t, 4> octets) {
  IpAddress address;
  std::copy(octets.begin(), octets.end(), address.bytes.begin());
  return address;
}

std::string IpAddress::to_string() const {
  if (!v6) {
    return radius::to_string(radius::Ipv4{bytes[0], bytes[1], bytes[2], bytes[3]});
  }
  char buffer[INET6_ADDRSTRLEN] = {};
  inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), buffer, sizeof buffer);
  return buffer;
}

bool Client::contains(const IpAddress& source) const {
  if (source.v6 != address.v6) {
    return false;
  }
  unsigned bits = prefix_length;
  for (std::size_t i = 0; bits > 0; ++i) {
    const unsigned take = std::min(bits, 8u);
    const auto mask = static_cast<std::uint8_t>(0xff << (8 - take));
    if ((source.bytes[i] & mask) != (address.bytes[i] & mask)) {
      return false;
    }
    bits -= take;
  }
  return true;
}

std::string ConfigError::to_string() const {
  return file + ":" + std::to_string(line) + ": " + message;
}

const Client* ClientList::match(const IpAddress& source, Transport door) const {
  const Client* best = nullptr;
  for (const auto& client : clients_) {
    if (client.allows(door) && client.contains(source) &&
        (!best || client.prefix_length > best->prefix_length)) {
      best = &client;
    }
  }
  return best;
}

ClientList ClientList::local_default() {
  std::vector<Client> clients(4);
  clients[0].name = clients[0].shortname = "localhost";
  clients[0].address = *IpAddress::parse("127.0.0.1");
  clients[0].prefix_length = 32;
  clients[1].name = clients[1].shortname = "localhost6";
  clients[1].address = *IpAddress::parse("::1");
  clients[1].prefix_length = 128;
  for (std::size_t i = 0; i < 2; ++i) {
    clients[i].secret = "testing123";
    clients[i + 2] = clients[i];
    clients[i + 2].transport = Transport::tls;
    clients[i + 2].secret = radsec_secret;
  }
  for (auto& client : clients) {
    client.file = "(built-in)";
  }
  return ClientList(std::move(clients));
}

Expected<ClientList, ConfigError> parse_clients(std::string_view text, std::string_view file) {
  Lexer lexer(text);
  std::vector<Client> clients;
  std::set<std::string> names;
  auto error = [&](int line, std::string message) {
    return Unexpected{ConfigError{std::string(file), line, std::move(message)}};
  };
  for (;;) {
    auto token = lexer.next();
    if (!token) {
      return error(lexer.line(), token.error());
    }
    if (token->kind == Token::Kind::end) {
      break;
    }
    if (token->kind != Token::Kind::word || token->text != "client") {
      return error(token->line, "expected 'client NAME {', found '" + token->text + "'");
    }
    Client client;
    client.file = file;
    client.line = token->line;
    auto name = lexer.next();
    if (!name || name->kind != Token::Kind::word || name->text.empty()) {
      return error(token->line, "client needs a name");
    }
    client.name = name->text;
    if (!names.insert(client.name).second) {
      return error(name->line, "duplicate client '" + client.name + "'");
    }
    auto open = lexer.next();
    if (!open || open->kind != Token::Kind::open) {
      return error(name->line, "expected '{' after client " + client.name);
    }
    std::optional<std::pair<IpAddress, unsigned>> prefix;
    std::optional<unsigned> netmask;
    for (;;) {
      auto key = lexer.next();
      if (!key) {
        return error(lexer.line(), key.error());
      }
      if (key->kind == Token::Kind::close) {
        break;
      }
      if (key->kind == Token::Kind::end) {
        return error(client.line, "client " + client.name + " has no closing '}'");
      }
      if (key->kind != Token::Kind::word) {
        return error(key->line, "expected a setting name, found '" + key->text + "'");
      }
      auto next = lexer.next();
      if (!next) {
        return error(lexer.line(), next.error());
      }
      if (next->kind == Token::Kind::open) {
        // A nested section (FreeRADIUS's "limit { ... }"): not used here, skipped whole.
        int depth = 1;
        while (depth > 0) {
          auto inner = lexer.next();
          if (!inner || inner->kind == Token::Kind::end) {
            return error(key->line, "section '" + key->text + "' has no closing '}'");
          }
          depth += inner->kind == Token::Kind::open ? 1 : 0;
          depth -= inner->kind == Token::Kind::close ? 1 : 0;
        }
        continue;
      }
      if (next->kind != Token::Kind::equals) {
        return error(key->line, "expected '=' after '" + key->text + "'");
      }
      auto value = lexer.next();
      if (!value) {
        return error(lexer.line(), value.error());
      }
      if (value->kind != Token::Kind::word) {
        return error(key->line, "'" + key->text + "' needs a value");
      }
      const std::string& k = key->text;
      const std::string& v = value->text;
      if (k == "ipaddr" || k == "ipv4addr" || k == "ipv6addr") {
        std::optional<bool> want_v6;
        if (k != "ipaddr") {
          want_v6 = k == "ipv6addr";
        }
        prefix = parse_prefix(v, want_v6);
        if (!prefix) {
          return error(key->line, "bad " + k + " '" + v + "'");
        }
      } else if (k == "netmask") {
        unsigned bits = 0;
        const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), bits);
        if (ec != std::errc{} || end != v.data() + v.size() || bits > 128) {
          return error(key->line, "bad netmask '" + v + "'");
        }
        netmask = bits;
      } else if (k == "secret") {
        if (v.empty()) {
          return error(key->line, "empty secret");
        }
        client.secret = v;
      } else if (k == "shortname") {
        client.shortname = v;
      } else if (k == "require_message_authenticator") {
        const auto flag = parse_bool(v);
        if (!flag) {
          return error(key->line,
                       "require_message_authenticator must be yes or no, not '" + v + "'");
        }
        client.require_message_authenticator = *flag;
      } else if (k == "profile") {
        client.profile = v;
      } else if (k == "proto") {
        if (v == "udp") {
          client.transport = Transport::udp;
        } else if (v == "tls") {
          client.transport = Transport::tls;
        } else if (v == "*") {
          client.transport = Transport::any;
        } else {
          return error(key->line, "proto must be udp, tls or *, not '" + v +
                                      "' (RADIUS over plain TCP is not served)");
        }
      } else if (k == "certificate_name") {
        client.certificate_name = v;
      } else if (k == "group") {
        // The names `acctlab users add --nas-group` takes: 1-64 of [A-Za-z0-9._@-].
        const bool valid =
            !v.empty() && v.size() <= 64 && std::all_of(v.begin(), v.end(), [](char c) {
              return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' ||
                     c == '@' || c == '-';
            });
        if (!valid) {
          return error(key->line, "bad group '" + v + "' (1-64 of A-Z a-z 0-9 . _ @ -)");
        }
        if (std::find(client.groups.begin(), client.groups.end(), v) == client.groups.end()) {
          client.groups.push_back(v);
        }
      }
      // Other FreeRADIUS settings (nas_type, virtual_server, ...) are accepted and unused.
    }
    if (!prefix) {
      // FreeRADIUS allows the address as the client's name: "client 192.0.2.1 { ... }".
      prefix = parse_prefix(client.name, std::nullopt);
      if (!prefix) {
        return error(client.line, "client " + client.name + " has no ipaddr");
      }
    }
    client.address = prefix->first;
    client.prefix_length = prefix->second;
    if (netmask) {
      if (*netmask > client.address.bit_length()) {
        return error(client.line, "netmask too long for client " + client.name);
      }
      client.prefix_length = *netmask;
    }
    if (client.secret.empty() && client.transport == Transport::tls) {
      // RFC 6614 §2.3: over TLS the shared secret is "radsec" unless configured otherwise.
      client.secret = radsec_secret;
    }
    if (client.secret.empty()) {
      return error(client.line, "client " + client.name + " has no secret");
    }
    if (!client.certificate_name.empty() && client.transport == Transport::udp) {
      return error(client.line,
                   "client " + client.name + " sets certificate_name but not proto = tls or *");
    }
    if (client.shortname.empty()) {
      client.shortname = client.name;
    }
    clients.push_back(std::move(client));
  }
  return ClientList(std::move(clients));
}

Expected<ClientList, ConfigError> load_clients_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Unexpected{ConfigError{path, 0, "cannot read the clients file"}};
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parse_clients(text.str(), path);
}

} // namespace acctlab::server
