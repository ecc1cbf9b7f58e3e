#include "model/sampler.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>

#include <torch/torch.h>

namespace chat::model {

namespace {

struct weighted_token {
  float weight;
  int32_t id;
};

/// Logits (V) as contiguous host floats.
at::Tensor host_floats(const at::Tensor& logits) {
  return logits.to(torch::kCPU, torch::kFloat).contiguous().view({-1});
}

/// Keeps the smallest set of heaviest tokens whose mass reaches `share` of
/// `total` (a token stays while the heavier ones hold less than that, so
/// the most likely one always does); returns the set's mass. A quickselect
/// on mass, linear in the vocabulary on average, where sorting the whole
/// vocabulary would be O(V log V): flat distributions keep most of it.
double keep_top_mass(std::vector<weighted_token>& tokens, double total,
                     double share) {
  double need = share * total;  // mass the kept tokens must still reach
  double kept_mass = 0;
  auto kept = tokens.begin(), undecided = tokens.end();
  while (kept != undecided && need > 0) {
    const auto middle = kept + (undecided - kept) / 2;
    const float pivot =
        std::max(std::min(kept->weight, middle->weight),
                 std::min(std::max(kept->weight, middle->weight),
                          (undecided - 1)->weight));  // median of 3
    const auto heavy_end = std::partition(
        kept, undecided, [&](const auto& t) { return t.weight > pivot; });
    const auto equal_end = std::partition(
        heavy_end, undecided, [&](const auto& t) { return t.weight == pivot; });
    double heavy = 0;
    for (auto t = kept; t != heavy_end; ++t) heavy += t->weight;
    if (heavy >= need) {  // the set ends among the heavier ones
      undecided = heavy_end;
      continue;
    }
    need -= heavy;
    kept_mass += heavy;
    for (kept = heavy_end; kept != equal_end && need > 0; ++kept) {
      need -= kept->weight;
      kept_mass += kept->weight;
    }
  }
  tokens.erase(kept, tokens.end());
  return kept_mass;
}

}  // namespace

struct sampler::kept_tokens {
  std::vector<weighted_token> tokens;
  double total = 0;  ///< their weights' sum
};

sampler::sampler(const sampling_params& params)
    : params_(params), generator_(params.seed) {
  if (!(params.temperature >= 0.0))
    throw std::runtime_error("sampler: temperature " +
                             std::to_string(params.temperature) +
                             " is negative; use 0 for greedy");
  if (params.top_k < 0)
    throw std::runtime_error("sampler: top_k " + std::to_string(params.top_k) +
                             " is negative; use 0 to keep all tokens");
  if (!(params.top_p > 0.0 && params.top_p <= 1.0))
    throw std::runtime_error("sampler: top_p " + std::to_string(params.top_p) +
                             " is outside (0, 1]; use 1 to keep all tokens");
}

sampler::kept_tokens sampler::kept(const at::Tensor& logits) const {
  const auto x = host_floats(logits);  // (V)
  const float* l = x.data_ptr<float>();
  const auto V = x.numel();
  if (V >= std::numeric_limits<int32_t>::max())
    throw std::runtime_error("sampler: too many logits");
  // NaN logits are never drawn: every comparison with them is false. The
  // vectorised max sees them; then the largest other is looked for.
  const float inf = std::numeric_limits<float>::infinity();
  float top = x.max().item<float>();
  if (std::isnan(top)) {
    top = -inf;
    for (int64_t i = 0; i < V; ++i) top = std::max(top, l[i]);
  }
  if (top == -inf)
    throw std::runtime_error("sampler: no token has a finite logit");
  // top_k keeps every token at least as likely as the k-th, ties included.
  float floor = -inf;
  if (params_.top_k > 0 && params_.top_k < V) {
    std::vector<float> values;
    for (int64_t i = 0; i < V; ++i)
      if (!std::isnan(l[i])) values.push_back(l[i]);
    if (params_.top_k < static_cast<int64_t>(values.size())) {
      const auto kth = values.begin() + (params_.top_k - 1);
      std::nth_element(values.begin(), kth, values.end(), std::greater<>());
      floor = *kth;
    }
  }
  const auto weights =
      ((x - top) * (1.0 / params_.temperature)).exp_();  // (V), vectorised
  const float* w = weights.data_ptr<float>();
  std::vector<weighted_token> tokens;
  tokens.reserve(static_cast<size_t>(
      params_.top_k > 0 ? std::min<int64_t>(params_.top_k, V) : V));
  double total = 0;
  for (int64_t i = 0; i < V; ++i) {
    // An infinite top makes its own weight NaN: 1.
    const float weight = l[i] == top ? 1.0f : w[i];
    if (l[i] >= floor && weight > 0.0f) {
      tokens.push_back({weight, static_cast<int32_t>(i)});
      total += weight;
    }
  }
  if (params_.top_p < 1.0)
    total = keep_top_mass(tokens, total, params_.top_p);
  return {std::move(tokens), total};
}

at::Tensor sampler::distribution(const at::Tensor& logits) const {
  const auto V = logits.numel();
  if (params_.temperature == 0.0 || params_.top_k == 1)
    return torch::zeros({V}).index_fill_(0, host_floats(logits).argmax(),
                                         1.0f);  // (V)
  const auto k = kept(logits);
  auto p = torch::zeros({V});  // (V)
  auto* out = p.data_ptr<float>();
  for (const auto& t : k.tokens)
    out[t.id] = static_cast<float>(t.weight / k.total);
  return p;
}

int64_t sampler::sample(const at::Tensor& logits) {
  if (params_.temperature == 0.0 || params_.top_k == 1)
    return host_floats(logits).argmax().item<int64_t>();
  const auto k = kept(logits);
  // 53 random bits: a double uniform in [0, 1).
  const double u = static_cast<double>(generator_() >> 11) * 0x1.0p-53;
  const double point = u * k.total;
  double below = 0;
  for (const auto& t : k.tokens) {
    below += t.weight;
    if (point < below) return t.id;
  }
  return k.tokens.back().id;  // rounding left point at the very top
}

std::vector<int64_t> sample_batch(const at::Tensor& logits,
                                  const std::vector<sampler*>& samplers) {
  if (logits.dim() != 2 ||
      logits.size(0) != static_cast<int64_t>(samplers.size()))
    throw std::runtime_error("sample_batch: logits must be (B, V) with one "
                             "sampler per row; got " +
                             std::to_string(samplers.size()) + " samplers");
  auto host = logits.to(torch::kCPU, torch::kFloat);  // (B, V)
  std::vector<int64_t> tokens;
  tokens.reserve(samplers.size());
  for (size_t b = 0; b < samplers.size(); ++b)
    tokens.push_back(samplers[b]->sample(host[static_cast<int64_t>(b)]));
  return tokens;
}

}  // namespace chat::model
