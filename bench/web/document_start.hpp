#pragma once
// The feature document's Start record as encoded by acctlab (tests/vectors/accounting.vec): the
// packet both web benchmarks fill their databases with.

#include "radius/packet.hpp"
#include "radius/value.hpp"

namespace acctlab::bench {

inline radius::Octets document_start() {
  constexpr const char* hex =
      "040400dc507bcb0f39a406ce4e993c8481967e6e2c0a30303030303030311a1f0000000901196973616b6d702d"
      "67726f75702d69643d63636c69656e7408060a0d0d011a1400000009010e7672662d69643d636973636f1a2300"
      "000009011d6973616b6d702d696e697461746f722d69703d31312e312e322e321a2400000009011e636f6e6e65"
      "63742d70726f67726573733d4e6f2050726f6772657373010d6a6f654063636c69656e742806000000011a1900"
      "00000902134661737445746865726e6574302f302e3105060000000004060a010193290600000000";
  return radius::from_hex(hex).value_or(radius::Octets{});
}

} // namespace acctlab::bench
