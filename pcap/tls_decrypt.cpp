#include "pcap/tls_decrypt.hpp"

#include <fstream>
#include <memory>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <sstream>

namespace acctlab::capture {
namespace {

std::optional<std::vector<std::uint8_t>> from_hex(const std::string& text) {
  if (text.size() % 2 != 0) {
    return std::nullopt;
  }
  std::vector<std::uint8_t> out;
  for (std::size_t i = 0; i < text.size(); i += 2) {
    auto nibble = [](char c) -> int {
      if (c >= '0' && c <= '9') {
        return c - '0';
      }
      if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
      }
      if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
      }
      return -1;
    };
    const int high = nibble(text[i]);
    const int low = nibble(text[i + 1]);
    if (high < 0 || low < 0) {
      return std::nullopt;
    }
    out.push_back(static_cast<std::uint8_t>(high << 4 | low));
  }
  return out;
}

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

} // namespace

std::optional<TlsKeyLog> TlsKeyLog::load(const std::string& path, std::string& error) {
  std::ifstream in(path);
  if (!in) {
    error = "cannot read the TLS key log " + path;
    return std::nullopt;
  }
  TlsKeyLog log;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (line.empty() || line[0] == '#') {
      continue;
    }
    std::istringstream fields(line);
    std::string label;
    std::string random_hex;
    std::string secret_hex;
    fields >> label >> random_hex >> secret_hex;
    const auto random = from_hex(random_hex);
    const auto secret = from_hex(secret_hex);
    if (!random || random->size() != 32 || !secret || secret->empty()) {
      error = path + ":" + std::to_string(number) + ": not a key log line: " + line.substr(0, 60);
      return std::nullopt;
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

} // namespace acctlab::capture
