#include "actors/worker/throughput_meter.hpp"

namespace chat::worker {

void throughput_meter::record(clock::time_point begin, std::int64_t tokens) {
  if (tokens <= 0)
    return;
  steps_.push_back({begin, tokens});
  tokens_in_window_ += tokens;
  forget_before(begin - window_);
}

double throughput_meter::tokens_per_sec(clock::time_point now) {
  forget_before(now - window_);
  if (steps_.empty())
    return 0.0;
  const std::chrono::duration<double> span = now - steps_.front().begin;
  if (span.count() <= 0.0)
    return 0.0;
  return static_cast<double>(tokens_in_window_) / span.count();
}

void throughput_meter::forget_before(clock::time_point cutoff) {
  while (!steps_.empty() && steps_.front().begin < cutoff) {
    tokens_in_window_ -= steps_.front().tokens;
    steps_.pop_front();
  }
}

} // namespace chat::worker
