#include "tools/chatctl/bench_stats.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace chat::cli {

namespace {

/// Error messages kept as examples in a summary.
constexpr std::size_t max_error_examples = 3;

nlohmann::json to_ms(const latency_summary& l) {
  return {{"p50", l.p50 * 1000}, {"p99", l.p99 * 1000},
          {"mean", l.mean * 1000}};
}

} // namespace

double percentile(std::vector<double> values, double p) {
  if (values.empty())
    return 0;
  std::sort(values.begin(), values.end());
  const double last = static_cast<double>(values.size() - 1);
  const double rank = std::clamp(p, 0.0, 100.0) / 100.0 * last;
  const auto below = static_cast<std::size_t>(std::floor(rank));
  const auto above = std::min(below + 1, values.size() - 1);
  const double fraction = rank - static_cast<double>(below);
  return values[below] + (values[above] - values[below]) * fraction;
}

latency_summary summarize_latency(const std::vector<double>& values) {
  latency_summary l;
  if (values.empty())
    return l;
  l.p50 = percentile(values, 50);
  l.p99 = percentile(values, 99);
  l.mean = std::accumulate(values.begin(), values.end(), 0.0)
           / static_cast<double>(values.size());
  return l;
}

bench_summary summarize(const std::vector<request_sample>& samples,
                        double wall_s) {
  bench_summary s;
  s.requests = static_cast<std::int64_t>(samples.size());
  s.wall_s = wall_s;
  std::vector<double> ttft, gaps, latency;
  for (const auto& r : samples) {
    if (!r.ok) {
      ++s.errors;
      if (s.error_examples.size() < max_error_examples
          && std::find(s.error_examples.begin(), s.error_examples.end(),
                       r.error)
               == s.error_examples.end())
        s.error_examples.push_back(r.error);
      continue;
    }
    s.prompt_tokens += r.prompt_tokens;
    s.completion_tokens += r.completion_tokens;
    ttft.push_back(r.ttft_s);
    latency.push_back(r.latency_s);
    gaps.insert(gaps.end(), r.token_gaps_s.begin(), r.token_gaps_s.end());
  }
  if (wall_s > 0) {
    s.output_tokens_per_s = static_cast<double>(s.completion_tokens) / wall_s;
    s.requests_per_s = static_cast<double>(s.requests - s.errors) / wall_s;
  }
  s.ttft_s = summarize_latency(ttft);
  s.inter_token_s = summarize_latency(gaps);
  s.latency_s = summarize_latency(latency);
  return s;
}

nlohmann::json to_json(const bench_summary& s) {
  return {{"requests", s.requests},
          {"errors", s.errors},
          {"error_examples", s.error_examples},
          {"wall_s", s.wall_s},
          {"prompt_tokens", s.prompt_tokens},
          {"completion_tokens", s.completion_tokens},
          {"output_tokens_per_s", s.output_tokens_per_s},
          {"requests_per_s", s.requests_per_s},
          {"ttft_ms", to_ms(s.ttft_s)},
          {"inter_token_ms", to_ms(s.inter_token_s)},
          {"latency_ms", to_ms(s.latency_s)}};
}

} // namespace chat::cli
