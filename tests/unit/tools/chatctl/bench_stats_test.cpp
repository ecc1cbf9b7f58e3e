#include "tools/chatctl/bench_stats.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace chat::cli;

namespace {

request_sample ok_sample(double ttft, std::vector<double> gaps,
                         std::int64_t tokens) {
  request_sample r;
  r.ok = true;
  r.ttft_s = ttft;
  r.token_gaps_s = std::move(gaps);
  r.completion_tokens = tokens;
  r.prompt_tokens = 10;
  r.latency_s = ttft + 1;
  return r;
}

request_sample failed_sample(const std::string& why) {
  request_sample r;
  r.error = why;
  return r;
}

} // namespace

TEST_CASE("percentile interpolates between closest ranks", "[unit]") {
  CHECK(percentile({}, 50) == 0);
  CHECK(percentile({7}, 99) == 7);
  CHECK(percentile({4, 1, 3, 2}, 50) == Approx(2.5));
  CHECK(percentile({4, 1, 3, 2}, 0) == 1);
  CHECK(percentile({4, 1, 3, 2}, 100) == 4);
  std::vector<double> hundred;
  for (int i = 1; i <= 100; ++i)
    hundred.push_back(i);
  CHECK(percentile(hundred, 50) == Approx(50.5));
  CHECK(percentile(hundred, 99) == Approx(99.01));
}

TEST_CASE("percentile clamps p to 0..100", "[unit]") {
  CHECK(percentile({1, 2, 3}, -5) == 1);
  CHECK(percentile({1, 2, 3}, 500) == 3);
}

TEST_CASE("summarize_latency gives p50, p99 and the mean", "[unit]") {
  auto l = summarize_latency({1, 2, 3, 10});
  CHECK(l.p50 == Approx(2.5));
  CHECK(l.p99 == Approx(9.79));
  CHECK(l.mean == Approx(4));
  auto empty = summarize_latency({});
  CHECK(empty.p50 == 0);
  CHECK(empty.mean == 0);
}

TEST_CASE("summarize counts tokens of successful requests over the wall "
          "time",
          "[unit]") {
  std::vector<request_sample> samples{ok_sample(0.1, {0.01, 0.03}, 3),
                                      ok_sample(0.3, {0.02}, 5),
                                      failed_sample("HTTP 429: busy")};
  auto s = summarize(samples, 2.0);
  CHECK(s.requests == 3);
  CHECK(s.errors == 1);
  CHECK(s.completion_tokens == 8);
  CHECK(s.prompt_tokens == 20);
  CHECK(s.output_tokens_per_s == Approx(4));
  CHECK(s.requests_per_s == Approx(1));
  CHECK(s.ttft_s.p50 == Approx(0.2));
  CHECK(s.inter_token_s.p50 == Approx(0.02));
  CHECK(s.inter_token_s.mean == Approx(0.02));
  CHECK(s.latency_s.p50 == Approx(1.2));
  REQUIRE(s.error_examples.size() == 1);
  CHECK(s.error_examples[0] == "HTTP 429: busy");
}

TEST_CASE("summarize keeps a few distinct error messages", "[unit]") {
  std::vector<request_sample> samples;
  for (int i = 0; i < 10; ++i)
    samples.push_back(failed_sample("e" + std::to_string(i % 5)));
  samples.push_back(failed_sample("e0"));
  auto s = summarize(samples, 1.0);
  CHECK(s.errors == 11);
  CHECK(s.error_examples == std::vector<std::string>{"e0", "e1", "e2"});
  CHECK(s.output_tokens_per_s == 0);
  CHECK(s.ttft_s.p99 == 0);
}

TEST_CASE("summarize survives a zero wall time", "[unit]") {
  auto s = summarize({ok_sample(0.1, {}, 1)}, 0);
  CHECK(s.output_tokens_per_s == 0);
  CHECK(s.requests_per_s == 0);
}

TEST_CASE("to_json reports latencies in milliseconds", "[unit]") {
  auto j = to_json(summarize({ok_sample(0.25, {0.004}, 2)}, 1.0));
  CHECK(j["requests"] == 1);
  CHECK(j["errors"] == 0);
  CHECK(j["completion_tokens"] == 2);
  CHECK(j["output_tokens_per_s"].get<double>() == Approx(2));
  CHECK(j["ttft_ms"]["p50"].get<double>() == Approx(250));
  CHECK(j["inter_token_ms"]["p99"].get<double>() == Approx(4));
  CHECK(j["error_examples"].empty());
}
