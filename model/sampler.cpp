#include "model/sampler.hpp"

#include <limits>
#include <stdexcept>
#include <string>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

namespace chat::model {

sampler::sampler(const sampling_params& params)
    : params_(params),
      generator_(at::make_generator<at::CPUGeneratorImpl>(params.seed)) {
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

at::Tensor sampler::distribution(const at::Tensor& logits) const {
  auto x = logits.to(torch::kCPU, torch::kFloat).view({-1});  // (V)
  const auto V = x.size(0);
  if (params_.temperature == 0.0 || params_.top_k == 1)
    return torch::zeros({V}).index_fill_(0, x.argmax(), 1.0f);  // (V)
  x = x / params_.temperature;  // (V)
  const float neg_inf = -std::numeric_limits<float>::infinity();
  if (params_.top_k > 0 && params_.top_k < V) {
    auto kth = std::get<0>(x.topk(params_.top_k)).select(0, params_.top_k - 1);
    x = x.masked_fill(x < kth, neg_inf);  // (V)
  }
  if (params_.top_p < 1.0) {
    auto [sorted, order] = x.sort(/*dim=*/0, /*descending=*/true);  // (V)
    auto cum = sorted.softmax(0).cumsum(0);                           // (V)
    // Drop a token when the mass before it already reaches top_p; the most
    // likely token always stays.
    auto drop_sorted = (cum - sorted.softmax(0)) >= params_.top_p;  // (V)
    auto drop = torch::zeros_like(drop_sorted).scatter_(0, order, drop_sorted);
    x = x.masked_fill(drop, neg_inf);  // (V)
  }
  return x.softmax(0);  // (V)
}

int64_t sampler::sample(const at::Tensor& logits) {
  auto probs = distribution(logits);  // (V)
  if (params_.temperature == 0.0 || params_.top_k == 1)
    return probs.argmax().item<int64_t>();
  return torch::multinomial(probs, 1, false, generator_).item<int64_t>();
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
