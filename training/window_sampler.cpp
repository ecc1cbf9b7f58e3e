#include "training/window_sampler.hpp"

#include <sstream>
#include <stdexcept>

#include <torch/torch.h>

namespace chat::training {

window_sampler::window_sampler(const shard::token_shard& shard,
                               int64_t context, int64_t batch_size,
                               bool use_mask, uint64_t seed,
                               const std::string& name)
    : batch_size_(batch_size), rng_(seed) {
  const auto n = static_cast<int64_t>(shard.tokens.size());
  if (n < 2)
    throw std::runtime_error(name + ": holds " + std::to_string(n) +
                             " tokens, need at least 2 (one input and one "
                             "target); prepare more data");
  if (use_mask && shard.loss_mask.empty())
    throw std::runtime_error(name + ": has no loss mask; fine-tuning needs "
                             "chat data prepared with a mask (1 on "
                             "assistant tokens)");
  window_ = std::min(context, n - 1);
  tokens_ = torch::tensor(shard.tokens, torch::kInt).to(torch::kLong);  // (N)
  if (use_mask)
    mask_ = torch::tensor(std::vector<int64_t>(shard.loss_mask.begin(),
                                               shard.loss_mask.end()))
                .to(torch::kFloat);  // (N)
}

token_batch window_sampler::next(c10::Device device) {
  const auto N = tokens_.size(0), T = window_, B = batch_size_;
  std::uniform_int_distribution<int64_t> start_at(0, N - T - 1);
  std::vector<int64_t> starts(B);
  for (auto& s : starts) s = start_at(rng_);
  auto index = torch::tensor(starts).view({B, 1}) +
               torch::arange(T + 1, torch::kLong);  // (B, T+1)
  auto windows = tokens_.index({index});            // (B, T+1)
  token_batch batch;
  batch.inputs = windows.narrow(1, 0, T).to(device);   // (B, T)
  batch.targets = windows.narrow(1, 1, T).to(device);  // (B, T)
  if (mask_.defined())
    batch.mask = mask_.index({index}).narrow(1, 1, T).to(device);  // (B, T)
  return batch;
}

std::string window_sampler::rng_state() const {
  std::ostringstream out;
  out << rng_;
  return out.str();
}

void window_sampler::restore_rng_state(const std::string& state) {
  std::istringstream in(state);
  in >> rng_;
  if (!in)
    throw std::runtime_error("window_sampler: the saved data RNG state is "
                             "malformed; the checkpoint's train_state.json "
                             "is damaged");
}

token_batch mix_batches(const token_batch& chat, const token_batch& text) {
  auto text_mask = torch::ones(text.targets.sizes(),
                               text.targets.options().dtype(
                                   torch::kFloat));  // (Bt, T)
  token_batch mixed;
  mixed.inputs = torch::cat({chat.inputs, text.inputs});     // (B, T)
  mixed.targets = torch::cat({chat.targets, text.targets});  // (B, T)
  mixed.mask = torch::cat({chat.mask, text_mask});           // (B, T)
  return mixed;
}

}  // namespace chat::training
