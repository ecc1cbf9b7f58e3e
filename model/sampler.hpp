#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include <ATen/core/Tensor.h>

namespace chat::model {

/// How one sequence picks its next token.
struct sampling_params {
  double temperature = 1.0;  ///< 0 = greedy (argmax)
  int64_t top_k = 0;         ///< keep the k most likely tokens; 0 = all
  double top_p = 1.0;        ///< keep the smallest set with this much mass
  uint64_t seed = 1337;      ///< seeds this sequence's own generator
};

/// Draws the next tokens of one sequence with its own seeded generator, so
/// a sequence's tokens depend only on its logits and seed, not on what else
/// shares the batch or the device.
///
/// It works on the host's floats, not with tensor ops: top_p needs the
/// likeliest tokens that hold its share of the mass, and sorting the whole
/// vocabulary (32000 tokens) with LibTorch took about 6 ms a token. Here a
/// quickselect on mass finds them in time linear in the vocabulary, about
/// 0.2 ms even when the distribution is flat and most tokens stay.
class sampler {
 public:
  /// Throws on temperature < 0, top_k < 0 or top_p outside (0, 1].
  explicit sampler(const sampling_params& params);

  /// Next token id from logits of shape (V), any device and dtype.
  int64_t sample(const at::Tensor& logits);

  /// The probabilities sample() draws from, (V) float on CPU; all mass on
  /// the argmax at temperature 0.
  at::Tensor distribution(const at::Tensor& logits) const;

  const sampling_params& params() const { return params_; }

 private:
  struct kept_tokens;
  /// The tokens top_k and top_p keep, weighted in proportion to their
  /// probabilities (exp((logit - max) / temperature)), temperature > 0.
  kept_tokens kept(const at::Tensor& logits) const;

  sampling_params params_;
  std::mt19937_64 generator_;
};

/// One token per row of logits (B, V), row b drawn by samplers[b]; one
/// device-to-host copy for the whole batch.
std::vector<int64_t> sample_batch(const at::Tensor& logits,
                                  const std::vector<sampler*>& samplers);

}  // namespace chat::model
