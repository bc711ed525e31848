#include "pcap/clients_file.hpp"

#include <charconv>
#include <fstream>
#include <sstream>

namespace acctlab::capture {

namespace {

struct Token {
  std::string text;
  int line;
  bool quoted;
};

// Words, quoted strings, '{', '}' and '='; '#' starts a comment to the end of the line.
bool tokenize(std::string_view text, std::vector<Token>& tokens, int& bad_line) {
  int line = 1;
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '\n') {
      ++line;
      ++i;
    } else if (c == ' ' || c == '\t' || c == '\r' || c == ',') {
      ++i;
    } else if (c == '#') {
      while (i < text.size() && text[i] != '\n') {
        ++i;
      }
    } else if (c == '{' || c == '}' || c == '=') {
      tokens.push_back({std::string(1, c), line, false});
      ++i;
    } else if (c == '"' || c == '\'') {
      std::string value;
      ++i;
      while (i < text.size() && text[i] != c) {
        if (text[i] == '\\' && i + 1 < text.size()) {
          ++i;
        }
        if (text[i] == '\n') {
          bad_line = line;
          return false;
        }
        value += text[i++];
      }
      if (i >= text.size()) {
        bad_line = line;
        return false;
      }
      ++i;
      tokens.push_back({std::move(value), line, true});
    } else {
      const std::size_t start = i;
      while (i < text.size() &&
             std::string_view(" \t\r\n{}=#,").find(text[i]) == std::string_view::npos) {
        ++i;
      }
      tokens.push_back({std::string(text.substr(start, i - start)), line, false});
    }
  }
  return true;
}

// "192.0.2.1", "2001:db8::/32", "10.0.0.0/8": the address and its prefix length.
bool parse_network(std::string_view text, IpAddress& network, std::uint8_t& prefix) {
  const auto slash = text.find('/');
  const auto address = IpAddress::parse(text.substr(0, slash));
  if (!address) {
    return false;
  }
  network = *address;
  const unsigned max = address->is_v4() ? 32 : 128;
  unsigned length = max;
  if (slash != std::string_view::npos) {
    const auto digits = text.substr(slash + 1);
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), length);
    if (ec != std::errc() || end != digits.data() + digits.size() || length > max) {
      return false;
    }
  }
  prefix = static_cast<std::uint8_t>(length);
  return true;
}

bool in_network(const IpAddress& address, const ClientEntry& entry) {
  if (address.family != entry.network.family) {
    return false;
  }
  const unsigned bits = entry.prefix_length;
  const unsigned whole = bits / 8;
  for (unsigned i = 0; i < whole; ++i) {
    if (address.octets[i] != entry.network.octets[i]) {
      return false;
    }
  }
  if (bits % 8 != 0) {
    const auto mask = static_cast<std::uint8_t>(0xFF << (8 - bits % 8));
    return (address.octets[whole] & mask) == (entry.network.octets[whole] & mask);
  }
  return true;
}

} // namespace

std::optional<ClientSecrets> ClientSecrets::parse(std::string_view text, std::string_view file,
                                                  std::string& error) {
  auto fail = [&](int line, std::string_view why) {
    error = std::string(file) + ":" + std::to_string(line) + ": " + std::string(why);
    return std::nullopt;
  };
  std::vector<Token> tokens;
  int bad_line = 0;
  if (!tokenize(text, tokens, bad_line)) {
    return fail(bad_line, "unterminated quoted string");
  }
  ClientSecrets secrets;
  std::size_t i = 0;
  while (i < tokens.size()) {
    const Token& head = tokens[i];
    // Top-level: "client NAME { ... }"; any other section ("name { ... }") is skipped whole.
    const bool is_client = head.text == "client" && !head.quoted;
    std::size_t open = i + 1;
    while (open < tokens.size() && tokens[open].text != "{" && tokens[open].text != "=") {
      ++open;
    }
    if (open >= tokens.size()) {
      return fail(head.line, "expected '{' after '" + head.text + "'");
    }
    if (tokens[open].text == "=") { // a top-level "name = value": ignored
      i = open + 2;
      continue;
    }
    ClientEntry entry;
    entry.line = head.line;
    if (is_client && open == i + 2) {
      entry.name = tokens[i + 1].text;
    } else if (is_client) {
      return fail(head.line, "expected 'client NAME {'");
    }
    std::size_t j = open + 1;
    int depth = 1;
    std::string ipaddr;
    std::string netmask;
    while (j < tokens.size() && depth > 0) {
      if (tokens[j].text == "{" && !tokens[j].quoted) {
        ++depth;
        ++j;
      } else if (tokens[j].text == "}" && !tokens[j].quoted) {
        --depth;
        ++j;
      } else if (depth == 1 && j + 2 < tokens.size() && tokens[j + 1].text == "=" &&
                 !tokens[j + 1].quoted) {
        const std::string& key = tokens[j].text;
        const std::string& value = tokens[j + 2].text;
        if (key == "ipaddr" || key == "ipv4addr" || key == "ipv6addr") {
          ipaddr = value;
        } else if (key == "secret") {
          entry.secret = value;
        } else if (key == "netmask") {
          netmask = value;
        }
        j += 3;
      } else {
        ++j;
      }
    }
    if (depth != 0) {
      return fail(head.line, "section '" + head.text + "' is not closed");
    }
    i = j;
    if (!is_client) {
      continue;
    }
    // FreeRADIUS: without ipaddr the client's name is its address.
    const std::string& where = ipaddr.empty() ? entry.name : ipaddr;
    if (!parse_network(where, entry.network, entry.prefix_length)) {
      return fail(entry.line, "client '" + entry.name + "': bad address '" + where + "'");
    }
    if (!netmask.empty()) {
      unsigned length = 0;
      const auto [end, ec] =
          std::from_chars(netmask.data(), netmask.data() + netmask.size(), length);
      if (ec != std::errc() || end != netmask.data() + netmask.size() ||
          length > (entry.network.is_v4() ? 32u : 128u)) {
        return fail(entry.line, "client '" + entry.name + "': bad netmask '" + netmask + "'");
      }
      entry.prefix_length = static_cast<std::uint8_t>(length);
    }
    if (entry.secret.empty()) {
      return fail(entry.line, "client '" + entry.name + "' has no secret");
    }
    secrets.add(std::move(entry));
  }
  return secrets;
}

std::optional<ClientSecrets> ClientSecrets::load(const std::string& path, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = path + ": cannot open";
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parse(text.str(), path, error);
}

const ClientEntry* ClientSecrets::find(const IpAddress& address) const {
  const ClientEntry* best = nullptr;
  for (const auto& entry : entries_) {
    if (in_network(address, entry) && (!best || entry.prefix_length > best->prefix_length)) {
      best = &entry;
    }
  }
  return best;
}

} // namespace acctlab::capture
