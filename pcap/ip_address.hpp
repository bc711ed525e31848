#pragma once
// IPv4 and IPv6 addresses and UDP endpoints as the capture reader reports them.

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace acctlab::capture {

/** An IPv4 or IPv6 address; an IPv4 address occupies the first four octets. */
struct IpAddress {
  enum class Family : std::uint8_t { none = 0, v4 = 4, v6 = 6 };

  Family family = Family::none;
  std::array<std::uint8_t, 16> octets{};

  static IpAddress v4(const std::uint8_t* four_octets);
  static IpAddress v6(const std::uint8_t* sixteen_octets);
  /** Parses dotted-quad or RFC 5952 text; nullopt when it is neither. */
  static std::optional<IpAddress> parse(std::string_view text);

  bool is_v4() const { return family == Family::v4; }
  bool is_v6() const { return family == Family::v6; }
  std::size_t size() const { return is_v4() ? 4 : is_v6() ? 16 : 0; }
  std::string to_string() const;

  bool operator==(const IpAddress&) const = default;
  auto operator<=>(const IpAddress&) const = default;
};

struct Endpoint {
  IpAddress address;
  std::uint16_t port = 0;

  /** "192.0.2.1:1813" or "[2001:db8::1]:1813". */
  std::string to_string() const;
  bool operator==(const Endpoint&) const = default;
  auto operator<=>(const Endpoint&) const = default;
};

/** FNV-1a over the significant octets; cheap and good enough for hash maps of endpoints. */
inline std::size_t hash_value(const IpAddress& a, std::size_t seed = 14695981039346656037ull) {
  std::size_t h = seed ^ static_cast<std::size_t>(a.family);
  h *= 1099511628211ull;
  const std::size_t n = a.size();
  for (std::size_t i = 0; i < n; ++i) {
    h ^= a.octets[i];
    h *= 1099511628211ull;
  }
  return h;
}

} // namespace acctlab::capture

template <> struct std::hash<acctlab::capture::IpAddress> {
  std::size_t operator()(const acctlab::capture::IpAddress& a) const noexcept {
    return acctlab::capture::hash_value(a);
  }
};
