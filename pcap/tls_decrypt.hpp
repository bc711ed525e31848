#pragma once
// Reading TLS 1.3 records with the secrets of a key log (the NSS SSLKEYLOGFILE format that
// OpenSSL's keylog callback, curl and browsers write): RFC 8446 §7.1 key schedule (HKDF-Expand-
// Label) and §5.2 record protection (AEAD, per-record nonce), through OpenSSL's EVP.

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace acctlab::capture {

using ClientRandom = std::array<std::uint8_t, 32>;

class TlsKeyLog {
public:
  /** Reads "LABEL <client random hex> <secret hex>" lines; nullopt with error on failure. */
  static std::optional<TlsKeyLog> load(const std::string& path, std::string& error);
  /** The secret logged under label for the session with this ClientHello random. */
  const std::vector<std::uint8_t>* find(const ClientRandom& random, const std::string& label) const;
  std::size_t sessions() const { return secrets_.size(); }

private:
  std::map<ClientRandom, std::map<std::string, std::vector<std::uint8_t>>> secrets_;
};

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

} // namespace acctlab::capture
