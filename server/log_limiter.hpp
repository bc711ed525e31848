#pragma once
// One log line per cause per NAS, then at most one per interval with the count suppressed
// meanwhile: a NAS with the wrong secret retransmitting all day must not flood the log.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>

namespace acctlab::server {

class LogLimiter {
public:
  explicit LogLimiter(double interval_seconds = 60) : interval_(interval_seconds) {}

  /** nullopt: stay quiet. Otherwise log now; the value is how many were suppressed before. */
  std::optional<std::uint64_t> allow(const std::string& nas, const std::string& cause, double now) {
    if (states_.size() >= max_states && !states_.count({nas, cause})) {
      // Unknown sources are keyed by address; a spray from many addresses must not grow this
      // without bound. Forgetting everything only means the next drop of each kind is logged.
      states_.clear();
    }
    auto& state = states_[{nas, cause}];
    if (state.logged && now - state.last < interval_) {
      ++state.suppressed;
      return std::nullopt;
    }
    const auto suppressed = state.suppressed;
    state = State{true, now, 0};
    return suppressed;
  }

private:
  static constexpr std::size_t max_states = 4096;
  struct State {
    bool logged = false;
    double last = 0;
    std::uint64_t suppressed = 0;
  };
  double interval_;
  std::map<std::pair<std::string, std::string>, State> states_;
};

} // namespace acctlab::server
