#pragma once
// What `chatctl bench` measures per request, and how a run is summed up.

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace chat::cli {

/// One streamed request as the load generator saw it.
struct request_sample {
  /// The request ended with `[DONE]` and no error.
  bool ok = false;
  /// Why it failed (empty when ok).
  std::string error;
  /// From sending to the first chunk with text.
  double ttft_s = 0;
  /// Pauses between consecutive chunks with text.
  std::vector<double> token_gaps_s;
  /// From the usage chunk; 0 when the server sent none.
  std::int64_t prompt_tokens = 0;
  /// From the usage chunk, else the number of text chunks.
  std::int64_t completion_tokens = 0;
  /// From sending to the end of the response.
  double latency_s = 0;
};

/// A distribution's median and 99th percentile (seconds).
struct latency_summary {
  double p50 = 0;
  double p99 = 0;
  double mean = 0;
};

/// The aggregate of one run.
struct bench_summary {
  std::int64_t requests = 0;
  std::int64_t errors = 0;
  /// The first few distinct error messages.
  std::vector<std::string> error_examples;
  double wall_s = 0;
  std::int64_t prompt_tokens = 0;
  std::int64_t completion_tokens = 0;
  /// Completion tokens of successful requests over the run's wall time.
  double output_tokens_per_s = 0;
  double requests_per_s = 0;
  latency_summary ttft_s;
  /// Every pause between two text chunks of a request, all requests pooled.
  latency_summary inter_token_s;
  latency_summary latency_s;
};

/// The p-th percentile (0..100) with linear interpolation between closest
/// ranks (numpy's default); 0 for an empty set.
double percentile(std::vector<double> values, double p);

/// p50, p99 and mean of `values`.
latency_summary summarize_latency(const std::vector<double>& values);

/// Sums up a run's samples; `wall_s` is the time from the first request
/// sent to the last response ended.
bench_summary summarize(const std::vector<request_sample>& samples,
                        double wall_s);

/// The summary as JSON: counts, tokens/s and latencies in milliseconds.
nlohmann::json to_json(const bench_summary& s);

} // namespace chat::cli
