#pragma once
// Reading TLS records with the secrets of a key log (the NSS SSLKEYLOGFILE format that OpenSSL's
// keylog callback, curl and browsers write), through OpenSSL's EVP:
// - TLS 1.3: RFC 8446 §7.1 key schedule (HKDF-Expand-Label) and §5.2 record protection (AEAD,
//   per-record nonce);
// - TLS 1.2: the master secret of a CLIENT_RANDOM line, RFC 5246 §6.3 key block (TLS1-PRF) and
//   the record formats of AES-GCM (RFC 5288), ChaCha20-Poly1305 (RFC 7905) and AES-CBC with
//   HMAC (RFC 5246 §6.2.3.2, or encrypt-then-MAC, RFC 7366).

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace acctlab::capture {

using ClientRandom = std::array<std::uint8_t, 32>;

class TlsKeyLog {
public:
  /** Reads "LABEL <client random hex> <secret hex>" lines; nullopt with error when the file
   * cannot be read or holds no usable line. Lines it cannot use are counted and named. */
  static std::optional<TlsKeyLog> load(const std::string& path, std::string& error);
  /** The same over text already read; name is what messages call it (the file's path). */
  static TlsKeyLog parse(std::string_view text, const std::string& name);
  /** The secret logged under label for the session with this ClientHello random. */
  const std::vector<std::uint8_t>* find(const ClientRandom& random, const std::string& label) const;
  std::size_t sessions() const { return secrets_.size(); }
  /** Lines skipped: malformed, a secret of the wrong size, an unknown label. */
  std::uint64_t lines_not_read() const { return lines_not_read_; }
  /** Lines of labels the format defines that decryption does not need (EXPORTER_SECRET, which
   * OpenSSL logs for every TLS 1.3 connection, early data, RSA): valid, so not problems. */
  std::uint64_t lines_not_needed() const { return lines_not_needed_; }
  /** The first few of them, "FILE:LINE: why: text". */
  const std::vector<std::string>& problems() const { return problems_; }

private:
  void skip(const std::string& name, int number, const std::string& why, std::string_view line);

  std::map<ClientRandom, std::map<std::string, std::vector<std::uint8_t>>> secrets_;
  std::uint64_t lines_not_read_ = 0;
  std::uint64_t lines_not_needed_ = 0;
  std::vector<std::string> problems_;
};

/** A cipher suite's IANA name ("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"), or its number in hex
 * ("0xC0AD") for one not listed here. */
std::string cipher_suite_name(std::uint16_t cipher_suite);

/** One direction's record protection under one traffic secret. */
class Tls13Reader {
public:
  /** cipher_suite: TLS_AES_128_GCM_SHA256 (0x1301), TLS_AES_256_GCM_SHA384 (0x1302) or
   * TLS_CHACHA20_POLY1305_SHA256 (0x1303); false for others. Resets the sequence number. */
  bool set_secret(std::uint16_t cipher_suite, std::span<const std::uint8_t> secret);
  bool ready() const { return key_length_ != 0; }
  /** Decrypts one record (header and fragment); the inner content type and the plaintext, or
   * nullopt when it does not authenticate. */
  std::optional<std::vector<std::uint8_t>> open(std::span<const std::uint8_t> header,
                                                std::span<const std::uint8_t> fragment,
                                                std::uint8_t& inner_type);

private:
  std::uint16_t cipher_suite_ = 0;
  std::size_t key_length_ = 0;
  std::array<std::uint8_t, 32> key_{};
  std::array<std::uint8_t, 12> iv_{};
  std::uint64_t sequence_ = 0;
};

/** One direction's record protection under TLS 1.2. */
class Tls12Reader {
public:
  /** RFC 5246 §6.3: this direction's keys from the key block of master_secret and the hellos'
   * randoms. False for a suite not decrypted here (cipher_suite_name() names it). */
  bool set_keys(std::uint16_t cipher_suite, std::span<const std::uint8_t> master_secret,
                const ClientRandom& client_random, const ClientRandom& server_random,
                bool client_writes, bool encrypt_then_mac);
  bool ready() const { return key_length_ != 0; }
  /** Decrypts and authenticates one record (header and fragment); the plaintext, or nullopt. */
  std::optional<std::vector<std::uint8_t>> open(std::span<const std::uint8_t> header,
                                                std::span<const std::uint8_t> fragment);
  /** Whether the suite is one set_keys() accepts. */
  static bool supported(std::uint16_t cipher_suite);

private:
  std::optional<std::vector<std::uint8_t>> open_aead(std::span<const std::uint8_t> header,
                                                     std::span<const std::uint8_t> fragment);
  std::optional<std::vector<std::uint8_t>> open_cbc(std::span<const std::uint8_t> header,
                                                    std::span<const std::uint8_t> fragment);
  /** RFC 5246 §6.2.3: seq_num, type, version and the given length, the AEAD's and MAC's header. */
  std::array<std::uint8_t, 13> pseudo_header(std::span<const std::uint8_t> header,
                                             std::size_t length) const;

  std::uint16_t cipher_suite_ = 0;
  std::size_t key_length_ = 0;
  std::array<std::uint8_t, 32> key_{};
  std::array<std::uint8_t, 12> iv_{}; // GCM: 4 octets of salt; ChaCha20-Poly1305: 12
  std::array<std::uint8_t, 48> mac_key_{};
  std::size_t mac_length_ = 0;
  bool encrypt_then_mac_ = false;
  std::uint64_t sequence_ = 0;
};

} // namespace acctlab::capture
