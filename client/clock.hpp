#pragma once
// The gateway's time source, injected so a scenario runs the same on a virtual clock (as fast as
// possible, every run identical) as in real time.

#include <chrono>
#include <cstdint>
#include <string>

namespace acctlab::gateway {

/** Milliseconds since the run began. */
using Millis = std::chrono::milliseconds;

class Clock {
public:
  virtual ~Clock() = default;
  virtual Millis now() const = 0;
  /** True when time moves only when told to (advance_to); false when it is the wall clock. */
  virtual bool is_virtual() const = 0;
  /** Moves a virtual clock forward; a real clock ignores this (time moves by itself). */
  virtual void advance_to(Millis when) = 0;
};

class VirtualClock final : public Clock {
public:
  Millis now() const override { return now_; }
  bool is_virtual() const override { return true; }
  void advance_to(Millis when) override {
    if (when > now_) {
      now_ = when;
    }
  }

private:
  Millis now_{0};
};

class RealClock final : public Clock {
public:
  RealClock() : start_(std::chrono::steady_clock::now()) {}
  Millis now() const override {
    return std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - start_);
  }
  bool is_virtual() const override { return false; }
  void advance_to(Millis) override {}

private:
  std::chrono::steady_clock::time_point start_;
};

/** "00:01:49.000": how debug lines stamp time (IOS prints uptime when no calendar is set). */
std::string format_uptime(Millis when);

} // namespace acctlab::gateway
