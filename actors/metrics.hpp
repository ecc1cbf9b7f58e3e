#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace chat {

/// A Prometheus histogram with fixed buckets (seconds).
class latency_histogram {
public:
  static constexpr std::array<double, 12> bounds = {
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};

  void observe(double seconds);

  /// Appends the histogram's lines under `name`.
  void render(const std::string& name, std::string& out) const;

private:
  std::array<std::atomic<std::uint64_t>, bounds.size() + 1> counts_{};
  std::atomic<std::uint64_t> sum_micros_{0};
};

/// chatd's counters, gauges and histograms; thread-safe. Rendered as
/// Prometheus text by GET /metrics, names prefixed `chatd_`.
class service_metrics {
public:
  /// One answered request; `route` is "METHOD /pattern".
  void count_request(const std::string& route, int status);

  std::atomic<std::uint64_t> tokens_generated{0};
  std::atomic<std::int64_t> active_streams{0};
  latency_histogram time_to_first_token;
  latency_histogram inter_token_latency;

  /// Everything above as Prometheus text.
  std::string render() const;

private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, std::uint64_t> requests_;
};

} // namespace chat
