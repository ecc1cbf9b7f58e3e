#pragma once

#include <chrono>
#include <cstdint>
#include <deque>

namespace chat::worker {

/// Tokens per second over a sliding window of recent steps.
class throughput_meter {
public:
  using clock = std::chrono::steady_clock;

  explicit throughput_meter(clock::duration window = std::chrono::seconds(5))
    : window_(window) {
  }

  /// Records a step that began at `begin` and produced `tokens`.
  void record(clock::time_point begin, std::int64_t tokens);

  /// Tokens of the steps that began within the window before `now`, divided
  /// by the time from the first of them to `now`; 0 without such steps.
  double tokens_per_sec(clock::time_point now);

private:
  struct step {
    clock::time_point begin;
    std::int64_t tokens;
  };

  void forget_before(clock::time_point cutoff);

  clock::duration window_;
  std::deque<step> steps_;
  std::int64_t tokens_in_window_ = 0;
};

} // namespace chat::worker
