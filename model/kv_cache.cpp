#include "model/kv_cache.hpp"

#include <stdexcept>
#include <string>

#include <ATen/ops/zeros.h>
#include <ATen/ops/zeros_like.h>

namespace chat::model {

kv_cache::kv_cache(const gpt_config& config, int64_t max_slots,
                   c10::Device device, c10::ScalarType dtype)
    : context_(config.context) {
  config.validate();
  if (max_slots < 1)
    throw std::runtime_error("kv_cache: max_slots = " +
                             std::to_string(max_slots) + ", expected >= 1");
  const auto options = at::TensorOptions().device(device).dtype(dtype);
  for (int64_t l = 0; l < config.n_layer; ++l) {
    keys_.push_back(at::zeros(
        {max_slots, config.n_head, config.context, config.head_dim()},
        options));  // (S, nh, L, hs)
    values_.push_back(at::zeros_like(keys_.back()));  // (S, nh, L, hs)
  }
  lengths_.assign(max_slots, 0);
  in_use_.assign(max_slots, false);
}

int64_t kv_cache::acquire() {
  for (int64_t s = 0; s < max_slots(); ++s) {
    if (!in_use_[s]) {
      in_use_[s] = true;
      lengths_[s] = 0;
      return s;
    }
  }
  throw std::runtime_error("kv_cache: all " + std::to_string(max_slots()) +
                           " slots are in use; release one first");
}

void kv_cache::release(int64_t slot) {
  check_acquired(slot);
  in_use_[slot] = false;
  lengths_[slot] = 0;
}

int64_t kv_cache::length(int64_t slot) const {
  check_acquired(slot);
  return lengths_[slot];
}

void kv_cache::advance(int64_t slot, int64_t count) {
  check_acquired(slot);
  if (count < 0 || lengths_[slot] + count > context_)
    throw std::runtime_error(
        "kv_cache: slot " + std::to_string(slot) + " at length " +
        std::to_string(lengths_[slot]) + " cannot grow by " +
        std::to_string(count) + " past context " + std::to_string(context_));
  lengths_[slot] += count;
}

void kv_cache::truncate(int64_t slot, int64_t length) {
  check_acquired(slot);
  if (length < 0 || length > lengths_[slot])
    throw std::runtime_error("kv_cache: cannot truncate slot " +
                             std::to_string(slot) + " of length " +
                             std::to_string(lengths_[slot]) + " to " +
                             std::to_string(length));
  lengths_[slot] = length;
}

int64_t kv_cache::free_slots() const {
  int64_t n = 0;
  for (bool used : in_use_) n += used ? 0 : 1;
  return n;
}

void kv_cache::check_acquired(int64_t slot) const {
  if (slot < 0 || slot >= max_slots() || !in_use_[slot])
    throw std::runtime_error("kv_cache: slot " + std::to_string(slot) +
                             " is not acquired (max_slots " +
                             std::to_string(max_slots()) + ")");
}

}  // namespace chat::model
