#include "web/auth.hpp"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <sstream>
#include <stdexcept>

namespace acctlab::web {
namespace {

constexpr std::uint64_t scrypt_n = 1u << 15;
constexpr std::uint32_t scrypt_r = 8;
constexpr std::uint32_t scrypt_p = 1;
constexpr std::size_t hash_bytes = 32;

std::string to_hex(const unsigned char* data, std::size_t size) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out += digits[data[i] >> 4];
    out += digits[data[i] & 15];
  }
  return out;
}

std::optional<std::string> from_hex(std::string_view hex) {
  if (hex.size() % 2 != 0) {
    return std::nullopt;
  }
  std::string out;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(hex.data() + i, hex.data() + i + 2, value, 16);
    if (ec != std::errc() || end != hex.data() + i + 2) {
      return std::nullopt;
    }
    out += static_cast<char>(value);
  }
  return out;
}

/** scrypt through OpenSSL 3's EVP_KDF; empty on failure. */
std::string scrypt(std::string_view password, std::string_view salt, std::uint64_t n,
                   std::uint32_t r, std::uint32_t p, std::size_t length) {
  EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "SCRYPT", nullptr);
  if (!kdf) {
    return {};
  }
  EVP_KDF_CTX* ctx = EVP_KDF_CTX_new(kdf);
  EVP_KDF_free(kdf);
  if (!ctx) {
    return {};
  }
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, const_cast<char*>(password.data()),
                                        password.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<char*>(salt.data()),
                                        salt.size()),
      OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n),
      OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r),
      OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p),
      OSSL_PARAM_construct_end()};
  std::string out(length, '\0');
  const int ok =
      EVP_KDF_derive(ctx, reinterpret_cast<unsigned char*>(out.data()), out.size(), params);
  EVP_KDF_CTX_free(ctx);
  return ok == 1 ? out : std::string();
}

std::vector<std::string> split(std::string_view text, char by) {
  std::vector<std::string> parts;
  std::size_t pos = 0;
  while (true) {
    const auto next = text.find(by, pos);
    parts.emplace_back(text.substr(pos, next == std::string_view::npos ? next : next - pos));
    if (next == std::string_view::npos) {
      return parts;
    }
    pos = next + 1;
  }
}

std::string hmac(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &length);
  return to_hex(out, length);
}

bool equal_constant_time(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

} // namespace

bool valid_account_name(std::string_view name) {
  return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '@' || c == '-';
  });
}

bool valid_group_name(std::string_view name) {
  return valid_account_name(name);
}

std::string hash_password(std::string_view password) {
  unsigned char salt[16];
  if (RAND_bytes(salt, sizeof salt) != 1) {
    throw std::runtime_error("no random bytes for a salt");
  }
  const std::string salt_bytes(reinterpret_cast<const char*>(salt), sizeof salt);
  const auto derived = scrypt(password, salt_bytes, scrypt_n, scrypt_r, scrypt_p, hash_bytes);
  if (derived.empty()) {
    throw std::runtime_error("scrypt failed (OpenSSL EVP_KDF)");
  }
  return "scrypt$" + std::to_string(scrypt_n) + "$" + std::to_string(scrypt_r) + "$" +
         std::to_string(scrypt_p) + "$" + to_hex(salt, sizeof salt) + "$" +
         to_hex(reinterpret_cast<const unsigned char*>(derived.data()), derived.size());
}

bool verify_password(std::string_view password, std::string_view stored) {
  const auto parts = split(stored, '$');
  if (parts.size() != 6 || parts[0] != "scrypt") {
    return false;
  }
  std::uint64_t n = 0;
  std::uint32_t r = 0;
  std::uint32_t p = 0;
  const auto number = [](const std::string& text, auto& to) {
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), to);
    return ec == std::errc() && end == text.data() + text.size();
  };
  // Bounds keep a hand-edited file from asking for gigabytes or hours.
  if (!number(parts[1], n) || !number(parts[2], r) || !number(parts[3], p) || n < 2 ||
      n > (1u << 20) || (n & (n - 1)) != 0 || r == 0 || r > 32 || p == 0 || p > 16) {
    return false;
  }
  const auto salt = from_hex(parts[4]);
  const auto expected = from_hex(parts[5]);
  if (!salt || !expected || expected->empty() || expected->size() > 64) {
    return false;
  }
  const auto derived = scrypt(password, *salt, n, r, p, expected->size());
  return !derived.empty() && equal_constant_time(derived, *expected);
}

Expected<std::vector<Account>, std::string> parse_accounts(std::string_view text,
                                                           std::string_view file) {
  std::vector<Account> accounts;
  int number = 0;
  for (const auto& raw : split(text, '\n')) {
    ++number;
    std::string_view line = raw;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) {
      line.remove_suffix(1);
    }
    if (line.empty() || line.front() == '#') {
      continue;
    }
    const auto where = std::string(file) + ":" + std::to_string(number) + ": ";
    const auto fields = split(line, ':');
    if (fields.size() != 4) {
      return Unexpected{where + "expected NAME:ROLE:GROUPS:HASH"};
    }
    Account account{fields[0], fields[1], {}, fields[3]};
    if (!valid_account_name(account.name)) {
      return Unexpected{where + "bad account name '" + account.name + "'"};
    }
    if (account.role != "admin" && account.role != "operator") {
      return Unexpected{where + "unknown role '" + account.role + "' (known: admin, operator)"};
    }
    if (!fields[2].empty()) {
      account.groups = split(fields[2], ',');
    }
    for (const auto& group : account.groups) {
      if (!valid_group_name(group)) {
        return Unexpected{where + "bad NAS group '" + group + "'"};
      }
    }
    if (account.admin() && !account.groups.empty()) {
      // An admin sees everything: groups on an admin line are a mistake worth naming.
      return Unexpected{where + "admin '" + account.name +
                        "' has NAS groups: an admin sees every NAS (use role operator)"};
    }
    if (split(account.hash, '$').size() != 6 || !account.hash.starts_with("scrypt$")) {
      return Unexpected{where + "the password hash is not scrypt$N$r$p$salt$hash"};
    }
    for (const auto& other : accounts) {
      if (other.name == account.name) {
        return Unexpected{where + "account '" + account.name + "' appears twice"};
      }
    }
    accounts.push_back(std::move(account));
  }
  return accounts;
}

Expected<std::vector<Account>, std::string> load_accounts(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Unexpected{path + ": cannot read the accounts file"};
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parse_accounts(text.str(), path);
}

std::string upsert_account(std::string_view text, const Account& account) {
  std::string groups;
  for (const auto& g : account.groups) {
    groups += (groups.empty() ? "" : ",") + g;
  }
  const auto line = account.name + ":" + account.role + ":" + groups + ":" + account.hash;
  std::string out;
  bool replaced = false;
  auto lines = split(text, '\n');
  if (!lines.empty() && lines.back().empty()) {
    lines.pop_back();
  }
  for (const auto& existing : lines) {
    if (!replaced && existing.starts_with(account.name + ":")) {
      out += line + "\n";
      replaced = true;
    } else {
      out += existing + "\n";
    }
  }
  if (!replaced) {
    out += line + "\n";
  }
  return out;
}

Authenticator::Authenticator(std::vector<Account> accounts) : accounts_(std::move(accounts)) {
  unsigned char key[32];
  if (RAND_bytes(key, sizeof key) != 1) {
    throw std::runtime_error("no random bytes for the session key");
  }
  key_.assign(reinterpret_cast<const char*>(key), sizeof key);
}

std::string Authenticator::sign(std::string_view name, std::int64_t expires) const {
  const auto payload = std::string(name) + "|" + std::to_string(expires);
  return payload + "|" + hmac(key_, payload);
}

std::optional<std::string> Authenticator::login(std::string_view name, std::string_view password,
                                                std::string_view peer, bool* throttled) {
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(mutex_);
    const auto it = failures_.find(std::string(peer));
    if (it != failures_.end()) {
      if (now - it->second.second > failure_window) {
        failures_.erase(it);
      } else if (it->second.first >= max_failures) {
        if (throttled) {
          *throttled = true;
        }
        return std::nullopt;
      }
    }
  }
  const Account* found = nullptr;
  for (const auto& account : accounts_) {
    if (account.name == name) {
      found = &account;
    }
  }
  // An unknown name costs the same scrypt as a known one, so timing does not tell names apart.
  static const std::string decoy = hash_password("decoy");
  const bool ok = verify_password(password, found ? found->hash : decoy) && found;
  if (!ok) {
    std::lock_guard lock(mutex_);
    auto& entry = failures_[std::string(peer)];
    ++entry.first;
    entry.second = now;
    if (failures_.size() > 10000) {
      failures_.clear(); // bounded: a flood of addresses forgets, it does not grow
    }
    return std::nullopt;
  }
  const auto expires = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch() + session_lifetime)
                           .count();
  return sign(found->name, expires);
}

const Account* Authenticator::basic(std::string_view authorization_header, std::string_view peer) {
  constexpr std::string_view scheme = "Basic ";
  if (!authorization_header.starts_with(scheme) || authorization_header.size() > 1024) {
    return nullptr;
  }
  const auto encoded = authorization_header.substr(scheme.size());
  std::string decoded(encoded.size(), '\0');
  const int length = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(decoded.data()),
                                     reinterpret_cast<const unsigned char*>(encoded.data()),
                                     static_cast<int>(encoded.size()));
  if (length < 0) {
    return nullptr;
  }
  decoded.resize(static_cast<std::size_t>(length));
  // EVP_DecodeBlock counts the padding's zero bytes: drop them.
  const auto padding = encoded.size() - encoded.find_last_not_of('=') - 1;
  decoded.resize(decoded.size() - std::min(padding, decoded.size()));
  const auto colon = decoded.find(':');
  if (colon == std::string::npos) {
    return nullptr;
  }
  const auto name = decoded.substr(0, colon);
  if (!login(name, decoded.substr(colon + 1), peer)) {
    return nullptr;
  }
  for (const auto& account : accounts_) {
    if (account.name == name) {
      return &account;
    }
  }
  return nullptr;
}

const Account* Authenticator::session(std::string_view cookie_header) const {
  // Cookie: a=b; acctlab_session=NAME|EXPIRES|HMAC
  std::string value;
  for (const auto& part : split(cookie_header, ';')) {
    std::string_view item = part;
    while (!item.empty() && item.front() == ' ') {
      item.remove_prefix(1);
    }
    if (item.size() > cookie_name.size() && item.starts_with(cookie_name) &&
        item[cookie_name.size()] == '=') {
      value = item.substr(cookie_name.size() + 1);
    }
  }
  const auto fields = split(value, '|');
  if (fields.size() != 3) {
    return nullptr;
  }
  const auto payload = fields[0] + "|" + fields[1];
  if (!equal_constant_time(hmac(key_, payload), fields[2])) {
    return nullptr;
  }
  std::int64_t expires = 0;
  const auto [end, ec] =
      std::from_chars(fields[1].data(), fields[1].data() + fields[1].size(), expires);
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  if (ec != std::errc() || expires <= now) {
    return nullptr;
  }
  for (const auto& account : accounts_) {
    if (account.name == fields[0]) {
      return &account;
    }
  }
  return nullptr;
}

} // namespace acctlab::web
