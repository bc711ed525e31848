#pragma once
// Who may look at the viewer: accounts in a file the administrator edits with `acctlab users`,
// passwords stored as scrypt hashes (OpenSSL EVP_KDF), sessions in a signed cookie, failed logins
// throttled per address. No Beast here: the site and its tests use it without the network.
//
// The accounts file, one account a line, `#` comments:
//   NAME:ROLE:GROUPS:scrypt$N$r$p$SALT_HEX$HASH_HEX
// ROLE is admin (sees everything) or operator (sees only the NASes of its GROUPS, a
// comma-separated list of the names clients-file entries give as `group = NAME`;
// web/nas_scope.hpp). An operator without groups may sign in and sees no data.

#include "radius/result.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace acctlab::web {

struct Account {
  std::string name;
  std::string role; // "admin" or "operator"
  bool admin() const { return role == "admin"; }
  std::vector<std::string> groups;
  std::string hash; // "scrypt$N$r$p$salt$hash"
};

/** An account name: 1-64 of [A-Za-z0-9._@-]. */
bool valid_account_name(std::string_view name);
/** A NAS group name: the same characters (server/clients_file.hpp takes the same). */
bool valid_group_name(std::string_view name);

/** scrypt (RFC 7914) of password with a fresh 16-byte salt: N=2^15, r=8, p=1, 32 bytes out. */
std::string hash_password(std::string_view password);
/** True when password matches the stored hash; the comparison takes constant time. */
bool verify_password(std::string_view password, std::string_view stored);

/** Parses an accounts file's text; errors name the file and line. */
Expected<std::vector<Account>, std::string> parse_accounts(std::string_view text,
                                                           std::string_view file);
Expected<std::vector<Account>, std::string> load_accounts(const std::string& path);
/** The file's text with account replaced (same name) or appended; the file's comments stay. */
std::string upsert_account(std::string_view text, const Account& account);

/**
 * The viewer's gate: accounts, the key that signs session cookies (random per process, so a
 * restart logs everyone out), and a throttle on failed logins. Thread-safe.
 */
class Authenticator {
public:
  static constexpr std::string_view cookie_name = "acctlab_session";
  /** A session lasts this long after login. */
  static constexpr std::chrono::seconds session_lifetime{12 * 3600};
  /** After this many failures from one address within the window, logins from it are refused
   * until the window has passed since the last failure. */
  static constexpr int max_failures = 5;
  static constexpr std::chrono::seconds failure_window{60};

  explicit Authenticator(std::vector<Account> accounts);

  /** Checks a login; on success the cookie value to set. nullopt when refused (wrong name or
   * password, or throttled: throttled says which). */
  std::optional<std::string> login(std::string_view name, std::string_view password,
                                   std::string_view peer, bool* throttled = nullptr);
  /** The account of an `Authorization: Basic` header whose password is right (for programs such
   * as a Prometheus scraper, which send credentials rather than keep a cookie); throttled as
   * logins are. */
  const Account* basic(std::string_view authorization_header, std::string_view peer);
  /** The account a Cookie header's session belongs to, when it is valid and not expired. */
  const Account* session(std::string_view cookie_header) const;

  /** For tests: a cookie value for name expiring at the given time (seconds since the epoch). */
  std::string sign(std::string_view name, std::int64_t expires) const;

private:
  std::vector<Account> accounts_;
  std::string key_; // 32 random bytes
  std::mutex mutex_;
  std::map<std::string, std::pair<int, std::chrono::steady_clock::time_point>> failures_;
};

} // namespace acctlab::web
