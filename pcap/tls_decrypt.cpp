#include "pcap/tls_decrypt.hpp"

#include "radius/value.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <memory>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <sstream>

namespace acctlab::capture {
namespace {

/** RFC 8446 §7.1: HKDF-Expand-Label(secret, label, "", length). */
bool expand_label(const EVP_MD* md, std::span<const std::uint8_t> secret, const std::string& label,
                  std::uint8_t* out, std::size_t length) {
  const std::string full = "tls13 " + label;
  std::vector<std::uint8_t> info = {static_cast<std::uint8_t>(length >> 8),
                                    static_cast<std::uint8_t>(length),
                                    static_cast<std::uint8_t>(full.size())};
  info.insert(info.end(), full.begin(), full.end());
  info.push_back(0); // empty context
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(
      EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, nullptr), EVP_PKEY_CTX_free);
  std::size_t produced = length;
  return ctx && EVP_PKEY_derive_init(ctx.get()) > 0 &&
         EVP_PKEY_CTX_hkdf_mode(ctx.get(), EVP_PKEY_HKDEF_MODE_EXPAND_ONLY) > 0 &&
         EVP_PKEY_CTX_set_hkdf_md(ctx.get(), md) > 0 &&
         EVP_PKEY_CTX_set1_hkdf_key(ctx.get(), secret.data(), static_cast<int>(secret.size())) >
             0 &&
         EVP_PKEY_CTX_add1_hkdf_info(ctx.get(), info.data(), static_cast<int>(info.size())) > 0 &&
         EVP_PKEY_derive(ctx.get(), out, &produced) > 0 && produced == length;
}

enum class SuiteKind : std::uint8_t { gcm, chacha20_poly1305, cbc };

/** A TLS 1.2 cipher suite decrypted here: record format, PRF hash, key and IV sizes, MAC. */
struct Tls12Suite {
  std::uint16_t id;
  SuiteKind kind;
  const char* prf; // RFC 5246 §5: SHA-256 unless the suite names another hash
  std::size_t key_length;
  std::size_t iv_length; // key block IV: GCM's salt (RFC 5288 §3), ChaCha20's nonce (RFC 7905 §2)
  const char* mac;       // CBC suites' HMAC hash
  std::size_t mac_length;
};

// The ECDHE, DHE and RSA key exchanges share record protection: what the suite's
// name says after WITH_ decides it.
constexpr Tls12Suite tls12_suites[] = {
    {0xC02B, SuiteKind::gcm, "SHA256", 16, 4, nullptr, 0},
    {0xC02F, SuiteKind::gcm, "SHA256", 16, 4, nullptr, 0},
    {0x009E, SuiteKind::gcm, "SHA256", 16, 4, nullptr, 0},
    {0x009C, SuiteKind::gcm, "SHA256", 16, 4, nullptr, 0},
    {0xC02C, SuiteKind::gcm, "SHA384", 32, 4, nullptr, 0},
    {0xC030, SuiteKind::gcm, "SHA384", 32, 4, nullptr, 0},
    {0x009F, SuiteKind::gcm, "SHA384", 32, 4, nullptr, 0},
    {0x009D, SuiteKind::gcm, "SHA384", 32, 4, nullptr, 0},
    {0xCCA8, SuiteKind::chacha20_poly1305, "SHA256", 32, 12, nullptr, 0},
    {0xCCA9, SuiteKind::chacha20_poly1305, "SHA256", 32, 12, nullptr, 0},
    {0xCCAA, SuiteKind::chacha20_poly1305, "SHA256", 32, 12, nullptr, 0},
    {0xC009, SuiteKind::cbc, "SHA256", 16, 0, "SHA1", 20},
    {0xC013, SuiteKind::cbc, "SHA256", 16, 0, "SHA1", 20},
    {0x002F, SuiteKind::cbc, "SHA256", 16, 0, "SHA1", 20},
    {0xC00A, SuiteKind::cbc, "SHA256", 32, 0, "SHA1", 20},
    {0xC014, SuiteKind::cbc, "SHA256", 32, 0, "SHA1", 20},
    {0x0035, SuiteKind::cbc, "SHA256", 32, 0, "SHA1", 20},
    {0xC023, SuiteKind::cbc, "SHA256", 16, 0, "SHA256", 32},
    {0xC027, SuiteKind::cbc, "SHA256", 16, 0, "SHA256", 32},
    {0x003C, SuiteKind::cbc, "SHA256", 16, 0, "SHA256", 32},
    {0xC024, SuiteKind::cbc, "SHA384", 32, 0, "SHA384", 48},
    {0xC028, SuiteKind::cbc, "SHA384", 32, 0, "SHA384", 48},
    {0x003D, SuiteKind::cbc, "SHA256", 32, 0, "SHA256", 32},
};

const Tls12Suite* find_tls12_suite(std::uint16_t id) {
  for (const auto& suite : tls12_suites) {
    if (suite.id == id) {
      return &suite;
    }
  }
  return nullptr;
}

/** RFC 5246 §5: PRF(secret, label, seed) through OpenSSL's TLS1-PRF. */
bool tls12_prf(const char* digest, std::span<const std::uint8_t> secret, const std::string& label,
               std::span<const std::uint8_t> seed, std::uint8_t* out, std::size_t length) {
  std::unique_ptr<EVP_KDF, decltype(&EVP_KDF_free)> kdf(EVP_KDF_fetch(nullptr, "TLS1-PRF", nullptr),
                                                        EVP_KDF_free);
  if (!kdf) {
    return false;
  }
  std::unique_ptr<EVP_KDF_CTX, decltype(&EVP_KDF_CTX_free)> ctx(EVP_KDF_CTX_new(kdf.get()),
                                                                EVP_KDF_CTX_free);
  std::vector<std::uint8_t> full_seed(label.begin(), label.end());
  full_seed.insert(full_seed.end(), seed.begin(), seed.end());
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char*>(digest), 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET,
                                        const_cast<std::uint8_t*>(secret.data()), secret.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, full_seed.data(), full_seed.size()),
      OSSL_PARAM_construct_end()};
  return ctx && EVP_KDF_derive(ctx.get(), out, length, params) == 1;
}

} // namespace

std::optional<TlsKeyLog> TlsKeyLog::load(const std::string& path, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot read the TLS key log " + path;
    return std::nullopt;
  }
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto log = parse(text, path);
  if (log.sessions() == 0) {
    error = "no usable line in the TLS key log " + path +
            (log.problems_.empty() ? std::string(" (it is empty)") : "; " + log.problems_.front());
    return std::nullopt;
  }
  return log;
}

void TlsKeyLog::skip(const std::string& name, int number, const std::string& why,
                     std::string_view line) {
  ++lines_not_read_;
  if (problems_.size() < 10) {
    std::string shown(line.substr(0, 60));
    std::replace_if(
        shown.begin(), shown.end(), [](char c) { return c < 0x20 || c > 0x7e; }, '?');
    problems_.push_back(name + ":" + std::to_string(number) + ": " + why + ": " + shown);
  }
}

TlsKeyLog TlsKeyLog::parse(std::string_view text, const std::string& name) {
  // The labels the NSS key log format defines that acctlab reads, with their secret's sizes:
  // TLS 1.2's master secret (48) and TLS 1.3's traffic secrets (32 for SHA-256 suites, 48 for
  // SHA-384). Other labels (EXPORTER_SECRET, RSA, early data) are valid but not used here.
  static const std::map<std::string, bool, std::less<>> used = {
      {"CLIENT_RANDOM", true},
      {"CLIENT_HANDSHAKE_TRAFFIC_SECRET", false},
      {"SERVER_HANDSHAKE_TRAFFIC_SECRET", false},
      {"CLIENT_TRAFFIC_SECRET_0", false},
      {"SERVER_TRAFFIC_SECRET_0", false}};
  static const std::vector<std::string> known = {"EXPORTER_SECRET", "EARLY_EXPORTER_SECRET",
                                                 "CLIENT_EARLY_TRAFFIC_SECRET", "RSA"};
  TlsKeyLog log;
  int number = 0;
  while (!text.empty()) {
    ++number;
    const auto end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    if (line.empty() || line[0] == '#') {
      continue;
    }
    std::istringstream fields{std::string(line)};
    std::string label;
    std::string random_hex;
    std::string secret_hex;
    std::string extra;
    fields >> label >> random_hex >> secret_hex >> extra;
    const auto use = used.find(label);
    if (use == used.end()) {
      if (std::find(known.begin(), known.end(), label) != known.end()) {
        ++log.lines_not_needed_;
      } else {
        log.skip(name, number, "not a key log line", line);
      }
      continue;
    }
    const auto random = radius::from_hex(random_hex);
    const auto secret = radius::from_hex(secret_hex);
    if (!extra.empty() || !random || random->size() != 32 || !secret) {
      log.skip(name, number, "not a key log line (LABEL, 64 hex digits, the secret in hex)", line);
      continue;
    }
    const bool size_ok =
        use->second ? secret->size() == 48 : (secret->size() == 32 || secret->size() == 48);
    if (!size_ok) {
      log.skip(name, number,
               "a secret of " + std::to_string(secret->size()) + " octets for " + label, line);
      continue;
    }
    ClientRandom key{};
    std::copy(random->begin(), random->end(), key.begin());
    log.secrets_[key][label] = *secret;
  }
  return log;
}

const std::vector<std::uint8_t>* TlsKeyLog::find(const ClientRandom& random,
                                                 const std::string& label) const {
  const auto session = secrets_.find(random);
  if (session == secrets_.end()) {
    return nullptr;
  }
  const auto secret = session->second.find(label);
  return secret == session->second.end() ? nullptr : &secret->second;
}

bool Tls13Reader::set_secret(std::uint16_t cipher_suite, std::span<const std::uint8_t> secret) {
  const EVP_MD* md = nullptr;
  std::size_t key_length = 0;
  switch (cipher_suite) {
    case 0x1301:
      md = EVP_sha256();
      key_length = 16;
      break;
    case 0x1302:
      md = EVP_sha384();
      key_length = 32;
      break;
    case 0x1303:
      md = EVP_sha256();
      key_length = 32;
      break;
    default:
      key_length_ = 0;
      return false;
  }
  if (!expand_label(md, secret, "key", key_.data(), key_length) ||
      !expand_label(md, secret, "iv", iv_.data(), iv_.size())) {
    key_length_ = 0;
    return false;
  }
  cipher_suite_ = cipher_suite;
  key_length_ = key_length;
  sequence_ = 0;
  return true;
}

std::optional<std::vector<std::uint8_t>> Tls13Reader::open(std::span<const std::uint8_t> header,
                                                           std::span<const std::uint8_t> fragment,
                                                           std::uint8_t& inner_type) {
  constexpr std::size_t tag_length = 16;
  if (!ready() || fragment.size() < tag_length + 1) {
    return std::nullopt;
  }
  // RFC 8446 §5.3: the nonce is the IV XORed with the 64-bit record sequence number.
  std::array<std::uint8_t, 12> nonce = iv_;
  for (int i = 0; i < 8; ++i) {
    nonce[11 - static_cast<std::size_t>(i)] ^= static_cast<std::uint8_t>(sequence_ >> (8 * i));
  }
  ++sequence_;
  const EVP_CIPHER* cipher = cipher_suite_ == 0x1301   ? EVP_aes_128_gcm()
                             : cipher_suite_ == 0x1302 ? EVP_aes_256_gcm()
                                                       : EVP_chacha20_poly1305();
  std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(EVP_CIPHER_CTX_new(),
                                                                      EVP_CIPHER_CTX_free);
  const std::size_t text_length = fragment.size() - tag_length;
  std::vector<std::uint8_t> plain(text_length + 16);
  int produced = 0;
  int final_length = 0;
  std::vector<std::uint8_t> tag(fragment.end() - tag_length, fragment.end());
  const bool ok =
      ctx && EVP_DecryptInit_ex(ctx.get(), cipher, nullptr, nullptr, nullptr) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_IVLEN, 12, nullptr) == 1 &&
      EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, key_.data(), nonce.data()) == 1 &&
      EVP_DecryptUpdate(ctx.get(), nullptr, &produced, header.data(),
                        static_cast<int>(header.size())) == 1 && // the record header is the AAD
      EVP_DecryptUpdate(ctx.get(), plain.data(), &produced, fragment.data(),
                        static_cast<int>(text_length)) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_TAG, static_cast<int>(tag_length),
                          tag.data()) == 1 &&
      EVP_DecryptFinal_ex(ctx.get(), plain.data() + produced, &final_length) == 1;
  if (!ok) {
    return std::nullopt;
  }
  plain.resize(static_cast<std::size_t>(produced + final_length));
  // RFC 8446 §5.4: the inner content type is the last non-zero octet; zeros after it are padding.
  while (!plain.empty() && plain.back() == 0) {
    plain.pop_back();
  }
  if (plain.empty()) {
    return std::nullopt;
  }
  inner_type = plain.back();
  plain.pop_back();
  return plain;
}

std::string cipher_suite_name(std::uint16_t cipher_suite) {
  static const std::map<std::uint16_t, const char*> names = {
      {0x1301, "TLS_AES_128_GCM_SHA256"},
      {0x1302, "TLS_AES_256_GCM_SHA384"},
      {0x1303, "TLS_CHACHA20_POLY1305_SHA256"},
      {0x1304, "TLS_AES_128_CCM_SHA256"},
      {0x1305, "TLS_AES_128_CCM_8_SHA256"},
      {0xC02B, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"},
      {0xC02F, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"},
      {0x009E, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256"},
      {0x009C, "TLS_RSA_WITH_AES_128_GCM_SHA256"},
      {0xC02C, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"},
      {0xC030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"},
      {0x009F, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384"},
      {0x009D, "TLS_RSA_WITH_AES_256_GCM_SHA384"},
      {0xCCA8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"},
      {0xCCA9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"},
      {0xCCAA, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256"},
      {0xC009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"},
      {0xC013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"},
      {0x002F, "TLS_RSA_WITH_AES_128_CBC_SHA"},
      {0xC00A, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA"},
      {0xC014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA"},
      {0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA"},
      {0xC023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256"},
      {0xC027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256"},
      {0x003C, "TLS_RSA_WITH_AES_128_CBC_SHA256"},
      {0xC024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384"},
      {0xC028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384"},
      {0x003D, "TLS_RSA_WITH_AES_256_CBC_SHA256"},
      {0xC0AC, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM"},
      {0xC0AD, "TLS_ECDHE_ECDSA_WITH_AES_256_CCM"},
  };
  const auto found = names.find(cipher_suite);
  if (found != names.end()) {
    return found->second;
  }
  char hex[8];
  std::snprintf(hex, sizeof hex, "0x%04X", static_cast<unsigned>(cipher_suite));
  return hex;
}

bool Tls12Reader::supported(std::uint16_t cipher_suite) {
  return find_tls12_suite(cipher_suite) != nullptr;
}

bool Tls12Reader::set_keys(std::uint16_t cipher_suite, std::span<const std::uint8_t> master_secret,
                           const ClientRandom& client_random, const ClientRandom& server_random,
                           bool client_writes, bool encrypt_then_mac) {
  key_length_ = 0;
  const Tls12Suite* suite = find_tls12_suite(cipher_suite);
  if (!suite) {
    return false;
  }
  // RFC 5246 §6.3: key_block = PRF(master_secret, "key expansion", server_random +
  // client_random), cut into client and server MAC keys, write keys and IVs, in that order.
  std::vector<std::uint8_t> seed(server_random.begin(), server_random.end());
  seed.insert(seed.end(), client_random.begin(), client_random.end());
  const std::size_t total = 2 * (suite->mac_length + suite->key_length + suite->iv_length);
  std::vector<std::uint8_t> block(total);
  if (!tls12_prf(suite->prf, master_secret, "key expansion", seed, block.data(), total)) {
    return false;
  }
  const std::size_t side = client_writes ? 0 : 1;
  const std::uint8_t* mac = block.data() + side * suite->mac_length;
  const std::uint8_t* key = block.data() + 2 * suite->mac_length + side * suite->key_length;
  const std::uint8_t* iv =
      block.data() + 2 * (suite->mac_length + suite->key_length) + side * suite->iv_length;
  std::copy(mac, mac + suite->mac_length, mac_key_.begin());
  std::copy(key, key + suite->key_length, key_.begin());
  std::copy(iv, iv + suite->iv_length, iv_.begin());
  OPENSSL_cleanse(block.data(), block.size());
  cipher_suite_ = cipher_suite;
  key_length_ = suite->key_length;
  mac_length_ = suite->mac_length;
  encrypt_then_mac_ = encrypt_then_mac;
  sequence_ = 0;
  return true;
}

std::array<std::uint8_t, 13> Tls12Reader::pseudo_header(std::span<const std::uint8_t> header,
                                                        std::size_t length) const {
  std::array<std::uint8_t, 13> out{};
  for (int i = 0; i < 8; ++i) {
    out[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(sequence_ >> (56 - 8 * i));
  }
  out[8] = header[0];
  out[9] = header[1];
  out[10] = header[2];
  out[11] = static_cast<std::uint8_t>(length >> 8);
  out[12] = static_cast<std::uint8_t>(length);
  return out;
}

std::optional<std::vector<std::uint8_t>> Tls12Reader::open(std::span<const std::uint8_t> header,
                                                           std::span<const std::uint8_t> fragment) {
  if (!ready() || header.size() != 5) {
    return std::nullopt;
  }
  auto plain = find_tls12_suite(cipher_suite_)->kind == SuiteKind::cbc
                   ? open_cbc(header, fragment)
                   : open_aead(header, fragment);
  ++sequence_; // RFC 5246 §6.1: each record, read or not, takes the next sequence number
  return plain;
}

std::optional<std::vector<std::uint8_t>>
Tls12Reader::open_aead(std::span<const std::uint8_t> header,
                       std::span<const std::uint8_t> fragment) {
  constexpr std::size_t tag_length = 16;
  const bool gcm = find_tls12_suite(cipher_suite_)->kind == SuiteKind::gcm;
  // RFC 5288 §3: GCM's nonce is the 4-octet salt and an 8-octet explicit part sent before the
  // ciphertext. RFC 7905 §2: ChaCha20-Poly1305's is the IV XORed with the sequence number.
  const std::size_t explicit_length = gcm ? 8 : 0;
  if (fragment.size() < explicit_length + tag_length) {
    return std::nullopt;
  }
  std::array<std::uint8_t, 12> nonce = iv_;
  if (gcm) {
    std::copy(fragment.begin(), fragment.begin() + 8, nonce.begin() + 4);
  } else {
    for (int i = 0; i < 8; ++i) {
      nonce[11 - static_cast<std::size_t>(i)] ^= static_cast<std::uint8_t>(sequence_ >> (8 * i));
    }
  }
  const auto text =
      fragment.subspan(explicit_length, fragment.size() - explicit_length - tag_length);
  const auto aad = pseudo_header(header, text.size());
  const EVP_CIPHER* cipher = !gcm                ? EVP_chacha20_poly1305()
                             : key_length_ == 16 ? EVP_aes_128_gcm()
                                                 : EVP_aes_256_gcm();
  std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(EVP_CIPHER_CTX_new(),
                                                                      EVP_CIPHER_CTX_free);
  std::vector<std::uint8_t> plain(text.size() + 16);
  std::array<std::uint8_t, tag_length> tag{};
  std::copy(fragment.end() - tag_length, fragment.end(), tag.begin());
  int produced = 0;
  int final_length = 0;
  const bool ok = ctx && EVP_DecryptInit_ex(ctx.get(), cipher, nullptr, nullptr, nullptr) == 1 &&
                  EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_IVLEN, 12, nullptr) == 1 &&
                  EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, key_.data(), nonce.data()) == 1 &&
                  EVP_DecryptUpdate(ctx.get(), nullptr, &produced, aad.data(),
                                    static_cast<int>(aad.size())) == 1 &&
                  EVP_DecryptUpdate(ctx.get(), plain.data(), &produced, text.data(),
                                    static_cast<int>(text.size())) == 1 &&
                  EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_TAG,
                                      static_cast<int>(tag_length), tag.data()) == 1 &&
                  EVP_DecryptFinal_ex(ctx.get(), plain.data() + produced, &final_length) == 1;
  if (!ok) {
    return std::nullopt;
  }
  plain.resize(static_cast<std::size_t>(produced + final_length));
  return plain;
}

std::optional<std::vector<std::uint8_t>>
Tls12Reader::open_cbc(std::span<const std::uint8_t> header,
                      std::span<const std::uint8_t> fragment) {
  // RFC 5246 §6.2.3.2: an explicit IV (one block), then the ciphertext of content, MAC and
  // padding. With encrypt-then-MAC (RFC 7366 §3) the MAC follows the ciphertext instead and
  // covers the IV and the ciphertext.
  constexpr std::size_t block = 16;
  const std::size_t trailer = encrypt_then_mac_ ? mac_length_ : 0;
  if (fragment.size() < block + trailer + block ||
      (fragment.size() - block - trailer) % block != 0) {
    return std::nullopt;
  }
  const char* digest = find_tls12_suite(cipher_suite_)->mac;
  auto mac_of = [&](std::span<const std::uint8_t> pseudo, std::span<const std::uint8_t> body,
                    std::uint8_t* out) {
    std::vector<std::uint8_t> input(pseudo.begin(), pseudo.end());
    input.insert(input.end(), body.begin(), body.end());
    std::size_t produced = 0;
    return EVP_Q_mac(nullptr, "HMAC", nullptr, digest, nullptr, mac_key_.data(), mac_length_,
                     input.data(), input.size(), out, 64, &produced) != nullptr &&
           produced == mac_length_;
  };
  std::array<std::uint8_t, 64> expected{};
  if (encrypt_then_mac_) {
    const auto covered = fragment.first(fragment.size() - trailer);
    if (!mac_of(pseudo_header(header, covered.size()), covered, expected.data()) ||
        CRYPTO_memcmp(expected.data(), fragment.data() + covered.size(), mac_length_) != 0) {
      return std::nullopt;
    }
  }
  const auto iv = fragment.first(block);
  const auto text = fragment.subspan(block, fragment.size() - block - trailer);
  std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(EVP_CIPHER_CTX_new(),
                                                                      EVP_CIPHER_CTX_free);
  std::vector<std::uint8_t> plain(text.size() + block);
  int produced = 0;
  int final_length = 0;
  const bool ok =
      ctx &&
      EVP_DecryptInit_ex(ctx.get(), key_length_ == 16 ? EVP_aes_128_cbc() : EVP_aes_256_cbc(),
                         nullptr, key_.data(), iv.data()) == 1 &&
      EVP_CIPHER_CTX_set_padding(ctx.get(), 0) == 1 &&
      EVP_DecryptUpdate(ctx.get(), plain.data(), &produced, text.data(),
                        static_cast<int>(text.size())) == 1 &&
      EVP_DecryptFinal_ex(ctx.get(), plain.data() + produced, &final_length) == 1;
  if (!ok) {
    return std::nullopt;
  }
  plain.resize(static_cast<std::size_t>(produced + final_length));
  // The TLS padding: padding_length + 1 octets, each holding padding_length.
  const std::size_t padding = std::size_t{plain.back()} + 1;
  if (padding > plain.size() || plain.size() - padding < (encrypt_then_mac_ ? 0 : mac_length_)) {
    return std::nullopt;
  }
  plain.resize(plain.size() - padding);
  if (!encrypt_then_mac_) {
    // A capture's reader checks the MAC after the padding; timing is no concern offline.
    const std::size_t content = plain.size() - mac_length_;
    if (!mac_of(pseudo_header(header, content), std::span(plain).first(content), expected.data()) ||
        CRYPTO_memcmp(expected.data(), plain.data() + content, mac_length_) != 0) {
      return std::nullopt;
    }
    plain.resize(content);
  }
  return plain;
}

} // namespace acctlab::capture
