#pragma once

#include <cstdint>
#include <random>
#include <string>

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include "model/shard/token_shard.hpp"

namespace chat::training {

/// Inputs and next-token targets of one micro-batch.
struct token_batch {
  at::Tensor inputs;   ///< (B, T) int64
  at::Tensor targets;  ///< (B, T) int64: inputs shifted by one
  at::Tensor mask;     ///< (B, T) float, 1 where the target counts, or
                       ///< undefined when every target counts
};

/// Random windows of T + 1 tokens from a shard (nanoGPT's get_batch), drawn
/// with its own seeded RNG so that a run's data order is reproducible and
/// can be saved and restored for exact resume.
class window_sampler {
 public:
  /// T = min(context, tokens - 1). With `use_mask` the shard must carry a
  /// loss mask, which then masks the targets. Throws on a shard too short
  /// for one window or lacking a required mask; `name` labels errors.
  window_sampler(const shard::token_shard& shard, int64_t context,
                 int64_t batch_size, bool use_mask, uint64_t seed,
                 const std::string& name);

  /// The next batch, on `device`.
  token_batch next(c10::Device device);

  /// Restarts the RNG from `seed` (validation reuses the same batches).
  void reseed(uint64_t seed) { rng_.seed(seed); }
  /// The RNG state as text, for checkpoints.
  std::string rng_state() const;
  /// Restores a state from rng_state(); throws on malformed text.
  void restore_rng_state(const std::string& state);

  int64_t window() const { return window_; }

 private:
  at::Tensor tokens_;  // (N) int64
  at::Tensor mask_;    // (N) float, or undefined
  int64_t window_;
  int64_t batch_size_;
  std::mt19937_64 rng_;
};

/// One batch of `chat` rows (with their mask) followed by `text` rows whose every
/// target counts. The windows must have the same length.
token_batch mix_batches(const token_batch& chat, const token_batch& text);

}  // namespace chat::training
