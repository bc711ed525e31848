#pragma once
// Authenticators: RFC 2865 §3 (Response), RFC 2866 §3 (Accounting-Request), RFC 2869 §5.14 and
// RFC 3579 §3.2 (Message-Authenticator, HMAC-MD5), RFC 5997 (Status-Server). All functions work
// on encoded packets; MD5 and HMAC-MD5 come from OpenSSL.

#include "radius/packet.hpp"

#include <cstdint>
#include <span>
#include <string_view>

namespace acctlab::radius {

inline constexpr std::uint8_t message_authenticator_type = 80; // RFC 2869 §5.14

enum class MessageAuthenticatorCheck : std::uint8_t { absent, valid, invalid, malformed };
std::string_view to_string(MessageAuthenticatorCheck check) noexcept;

/**
 * Signs an encoded request in place. Accounting-Request, Disconnect and CoA requests get the
 * MD5 Request Authenticator (RFC 2866 §3); Access-Request and Status-Server keep their random
 * authenticator. A Message-Authenticator attribute, when present, is filled in first.
 */
void sign_request(std::span<std::uint8_t> wire, std::string_view secret);

/** Signs an encoded response in place, against the request's authenticator (RFC 2865 §3). */
void sign_response(std::span<std::uint8_t> wire, const Authenticator& request_authenticator,
                   std::string_view secret);

/** RFC 2866 §3: the Request Authenticator of an Accounting-Request (or CoA/Disconnect). */
bool verify_request_authenticator(std::span<const std::uint8_t> wire, std::string_view secret);

/** RFC 2865 §3: the Response Authenticator of a response to the given request. */
bool verify_response_authenticator(std::span<const std::uint8_t> wire,
                                   const Authenticator& request_authenticator,
                                   std::string_view secret);

/**
 * RFC 3579 §3.2: checks a Message-Authenticator if the packet has one. For a response,
 * request_authenticator is the request's; for a request pass nullptr.
 */
MessageAuthenticatorCheck check_message_authenticator(std::span<const std::uint8_t> wire,
                                                      std::string_view secret,
                                                      const Authenticator* request_authenticator);

/** Computes MD5 of the concatenated parts (exposed for tests and benchmarks). */
Authenticator md5(std::initializer_list<std::span<const std::uint8_t>> parts);

/** 16 random octets from OpenSSL's RAND_bytes, for Access-Request and Status-Server. */
Authenticator random_authenticator();

} // namespace acctlab::radius
