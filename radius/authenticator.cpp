#include "radius/authenticator.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

namespace acctlab::radius {
namespace {

constexpr std::size_t authenticator_offset = 4;
constexpr std::size_t message_authenticator_size = 16;

std::span<const std::uint8_t> as_bytes(std::string_view text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

// One digest context per thread, fetched once: EVP_MD_fetch per call costs more than the MD5.
struct Md5Context {
  EVP_MD* md = EVP_MD_fetch(nullptr, "MD5", nullptr);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~Md5Context() {
    EVP_MD_CTX_free(ctx);
    EVP_MD_free(md);
  }
};

Md5Context& md5_context() {
  thread_local Md5Context context;
  return context;
}

std::size_t packet_length(std::span<const std::uint8_t> wire) {
  if (wire.size() < header_size) {
    return 0;
  }
  const std::size_t length = (std::size_t{wire[2]} << 8) | wire[3];
  return std::min(length, wire.size());
}

bool requires_computed_request_authenticator(std::uint8_t code) {
  switch (static_cast<Code>(code)) {
    case Code::accounting_request:
    case Code::disconnect_request:
    case Code::coa_request:
      return true;
    default:
      return false;
  }
}

// Finds the value offset of the first Message-Authenticator; 0 when absent, SIZE_MAX when the
// attribute is there but not 16 octets long.
std::size_t find_message_authenticator(std::span<const std::uint8_t> packet) {
  std::size_t pos = header_size;
  while (pos + 2 <= packet.size()) {
    const std::size_t length = packet[pos + 1];
    if (length < 2 || pos + length > packet.size()) {
      return 0;
    }
    if (packet[pos] == message_authenticator_type) {
      return length == 2 + message_authenticator_size ? pos + 2 : SIZE_MAX;
    }
    pos += length;
  }
  return 0;
}

// RFC 3579 §3.2: HMAC-MD5 over the whole packet with the Message-Authenticator value zeroed and
// the authenticator field as given.
std::array<std::uint8_t, 16> hmac_md5(std::span<const std::uint8_t> packet, std::size_t ma_offset,
                                      const Authenticator& field, std::string_view secret) {
  std::array<std::uint8_t, max_packet_size + 64> copy{};
  const std::size_t size = std::min(packet.size(), copy.size());
  std::copy_n(packet.begin(), size, copy.begin());
  std::copy(field.begin(), field.end(), copy.begin() + authenticator_offset);
  std::fill_n(copy.begin() + static_cast<std::ptrdiff_t>(ma_offset), message_authenticator_size, 0);
  std::array<std::uint8_t, 16> out{};
  unsigned int out_size = 0;
  HMAC(EVP_md5(), secret.data(), static_cast<int>(secret.size()), copy.data(), size, out.data(),
       &out_size);
  return out;
}

Authenticator field_of(std::span<const std::uint8_t> wire) {
  Authenticator a{};
  std::copy_n(wire.begin() + authenticator_offset, a.size(), a.begin());
  return a;
}

// MD5(Code+Identifier+Length + authenticator + attributes + secret), the shape shared by the
// Accounting-Request (RFC 2866 §3, zero authenticator) and every response (RFC 2865 §3).
Authenticator packet_digest(std::span<const std::uint8_t> packet, const Authenticator& field,
                            std::string_view secret) {
  return md5(
      {packet.first(authenticator_offset), field, packet.subspan(header_size), as_bytes(secret)});
}

} // namespace

std::string_view to_string(MessageAuthenticatorCheck check) noexcept {
  switch (check) {
    case MessageAuthenticatorCheck::absent:
      return "absent";
    case MessageAuthenticatorCheck::valid:
      return "valid";
    case MessageAuthenticatorCheck::invalid:
      return "invalid";
    case MessageAuthenticatorCheck::malformed:
      return "malformed";
  }
  return "unknown";
}

Authenticator md5(std::initializer_list<std::span<const std::uint8_t>> parts) {
  auto& context = md5_context();
  EVP_DigestInit_ex2(context.ctx, context.md, nullptr);
  for (const auto& part : parts) {
    EVP_DigestUpdate(context.ctx, part.data(), part.size());
  }
  Authenticator out{};
  unsigned int size = 0;
  EVP_DigestFinal_ex(context.ctx, out.data(), &size);
  return out;
}

Authenticator random_authenticator() {
  Authenticator out{};
  RAND_bytes(out.data(), static_cast<int>(out.size()));
  return out;
}

void sign_request(std::span<std::uint8_t> wire, std::string_view secret) {
  const auto packet = wire.first(packet_length(wire));
  if (packet.empty()) {
    return;
  }
  const bool computed = requires_computed_request_authenticator(packet[0]);
  const Authenticator zero{};
  if (const auto ma = find_message_authenticator(packet); ma != 0 && ma != SIZE_MAX) {
    // For requests whose authenticator is computed, the HMAC is taken over a zero authenticator
    // field (as RFC 5176 §3.1 spells out for CoA); otherwise over the random one.
    const auto mac = hmac_md5(packet, ma, computed ? zero : field_of(packet), secret);
    std::copy(mac.begin(), mac.end(), packet.begin() + static_cast<std::ptrdiff_t>(ma));
  }
  if (computed) {
    const auto digest = packet_digest(packet, zero, secret);
    std::copy(digest.begin(), digest.end(), packet.begin() + authenticator_offset);
  }
}

void sign_response(std::span<std::uint8_t> wire, const Authenticator& request_authenticator,
                   std::string_view secret) {
  const auto packet = wire.first(packet_length(wire));
  if (packet.empty()) {
    return;
  }
  if (const auto ma = find_message_authenticator(packet); ma != 0 && ma != SIZE_MAX) {
    const auto mac = hmac_md5(packet, ma, request_authenticator, secret);
    std::copy(mac.begin(), mac.end(), packet.begin() + static_cast<std::ptrdiff_t>(ma));
  }
  const auto digest = packet_digest(packet, request_authenticator, secret);
  std::copy(digest.begin(), digest.end(), packet.begin() + authenticator_offset);
}

bool verify_request_authenticator(std::span<const std::uint8_t> wire, std::string_view secret) {
  const auto packet = wire.first(packet_length(wire));
  if (packet.empty()) {
    return false;
  }
  const auto digest = packet_digest(packet, Authenticator{}, secret);
  return std::equal(digest.begin(), digest.end(), packet.begin() + authenticator_offset);
}

bool verify_response_authenticator(std::span<const std::uint8_t> wire,
                                   const Authenticator& request_authenticator,
                                   std::string_view secret) {
  const auto packet = wire.first(packet_length(wire));
  if (packet.empty()) {
    return false;
  }
  const auto digest = packet_digest(packet, request_authenticator, secret);
  return std::equal(digest.begin(), digest.end(), packet.begin() + authenticator_offset);
}

MessageAuthenticatorCheck check_message_authenticator(std::span<const std::uint8_t> wire,
                                                      std::string_view secret,
                                                      const Authenticator* request_authenticator) {
  const auto packet = wire.first(packet_length(wire));
  if (packet.empty()) {
    return MessageAuthenticatorCheck::absent;
  }
  const auto ma = find_message_authenticator(packet);
  if (ma == 0) {
    return MessageAuthenticatorCheck::absent;
  }
  if (ma == SIZE_MAX) {
    return MessageAuthenticatorCheck::malformed;
  }
  Authenticator field{};
  if (request_authenticator) {
    field = *request_authenticator;
  } else if (!requires_computed_request_authenticator(packet[0])) {
    field = field_of(packet);
  }
  const auto mac = hmac_md5(packet, ma, field, secret);
  return std::equal(mac.begin(), mac.end(), packet.begin() + static_cast<std::ptrdiff_t>(ma))
             ? MessageAuthenticatorCheck::valid
             : MessageAuthenticatorCheck::invalid;
}

} // namespace acctlab::radius
