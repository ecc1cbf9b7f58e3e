#pragma once
// The decoder-only GPT: token + learned position embeddings, Pre-LN blocks
// (causal multi-head self-attention, GELU MLP 4x), final LayerNorm, LM head
// tied to the token embedding.
//
// Shapes: B batch, T new tokens, C d_model, nh heads, hs head size,
// V vocab, S cache slots, L context, Lk attended keys.

#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include "model/gpt_config.hpp"
#include "model/kv_cache.hpp"

namespace chat::model {

/// Where the new tokens of a cached forward go and what they may attend to;
/// built once per forward and shared by all layers.
struct cache_positions {
  at::Tensor slots;      ///< (B) int64 slot per row
  at::Tensor positions;  ///< (B, T) int64 absolute position of each token
  at::Tensor keep;       ///< (B, 1, T, Lk) bool, true where attention may go
  int64_t first_slot = -1;  ///< rows are slots first_slot.. in order, or -1
  int64_t keys = 0;         ///< Lk: cache positions read per row
  std::vector<int64_t> row_slots;  ///< (B) the slots, on the host
  std::vector<int64_t> row_keys;   ///< (B) positions each row attends to
};

/// Causal multi-head self-attention with one fused qkv projection.
struct causal_self_attentionImpl : torch::nn::Module {
  explicit causal_self_attentionImpl(const gpt_config& config);

  /// Full causal attention over x, (B, T, C) -> (B, T, C).
  at::Tensor forward(const at::Tensor& x);

  /// x holds the rows of several groups, each a (B, T) block of new tokens
  /// in row-major order, (R, C) with R the sum of B x T. Projects all rows
  /// at once, writes this layer's keys/values into the cache, then attends
  /// each group over its rows' cached prefixes; (R, C) -> (R, C).
  at::Tensor forward_cached(const at::Tensor& x, at::Tensor& cache_k,
                            at::Tensor& cache_v,
                            const std::vector<cache_positions>& groups);

  torch::nn::Linear qkv{nullptr};   ///< C -> 3C: q, k, v in one matmul
  torch::nn::Linear proj{nullptr};  ///< C -> C
  torch::nn::Dropout resid_dropout{nullptr};
  int64_t n_head;
  double dropout;

 private:
  at::Tensor merge_heads(const at::Tensor& y);  // (B, nh, T, hs) -> (B, T, C)
  /// One group's attention from its projected rows, before the output
  /// projection: (B, T, 3C) -> (B, T, C).
  at::Tensor attend_cached(const at::Tensor& qkv_rows, at::Tensor& cache_k,
                           at::Tensor& cache_v, const cache_positions& at);
};
TORCH_MODULE(causal_self_attention);

/// Position-wise feed-forward: C -> 4C -> GELU -> C.
struct mlpImpl : torch::nn::Module {
  explicit mlpImpl(const gpt_config& config);
  at::Tensor forward(const at::Tensor& x);  // (B, T, C) -> (B, T, C)

  torch::nn::Linear fc{nullptr};
  torch::nn::Linear proj{nullptr};
  torch::nn::Dropout dropout{nullptr};
};
TORCH_MODULE(mlp);

/// Pre-LN transformer block: x + attn(ln_1(x)), then x + mlp(ln_2(x)).
struct blockImpl : torch::nn::Module {
  explicit blockImpl(const gpt_config& config);
  at::Tensor forward(const at::Tensor& x);  // (B, T, C) -> (B, T, C)
  /// The groups' rows as causal_self_attention::forward_cached takes them;
  /// (R, C) -> (R, C).
  at::Tensor forward_cached(const at::Tensor& x, at::Tensor& cache_k,
                            at::Tensor& cache_v,
                            const std::vector<cache_positions>& groups);

  torch::nn::LayerNorm ln_1{nullptr};
  causal_self_attention attn{nullptr};
  torch::nn::LayerNorm ln_2{nullptr};
  mlp ffn{nullptr};
};
TORCH_MODULE(block);

/// Which positions a forward computes logits for.
enum class logits_for { all, last };

/// New tokens idx (B, T) for the cached sequences in `slots` (row b goes
/// to slots[b]): one group of a cached forward, with the positions it wants
/// logits for.
struct cached_rows {
  at::Tensor idx;
  std::vector<int64_t> slots;
  logits_for logits = logits_for::all;
};

/// The GPT language model. Holds no per-sequence state: the KV cache is
/// passed in.
struct gptImpl : torch::nn::Module {
  explicit gptImpl(const gpt_config& config);

  /// Logits for every (or only the last) position of idx,
  /// (B, T) -> (B, T|1, V). With `recompute_blocks` the blocks keep no
  /// activations and recompute them in backward (activation checkpointing).
  at::Tensor forward(const at::Tensor& idx, logits_for which = logits_for::all,
                     bool recompute_blocks = false);

  /// The final LayerNorm's output for every position, (B, T) -> (B, T, C):
  /// what the LM head (wte's weight, tied) multiplies. Training takes this
  /// to fuse the head with its loss (training/lm_head_loss.hpp).
  at::Tensor features(const at::Tensor& idx, bool recompute_blocks = false);

  /// Appends idx's tokens to the cached sequences in `slots` (row b goes to
  /// slots[b], starting at that slot's current length) and returns their
  /// logits, (B, T) -> (B, T|1, V). Prefill is B = 1; a decode step is T = 1
  /// for B slots of any lengths. Advances the slots' lengths by T.
  at::Tensor forward_cached(const at::Tensor& idx, kv_cache& cache,
                            const std::vector<int64_t>& slots,
                            logits_for which = logits_for::all);

  /// Several cached forwards in one pass, for a decode step that also takes
  /// prefill chunks: every matmul multiplies all groups' rows at once, so
  /// the weights are read once; attention stays per group. Returns each
  /// group's logits, (B, T|1, V) as its `logits` asks, as forward_cached
  /// would give for it alone. A slot may appear only once across all
  /// groups.
  std::vector<at::Tensor> forward_cached(const std::vector<cached_rows>& groups,
                                         kv_cache& cache);

  const gpt_config& config() const { return config_; }

  /// Stores the matmul weights (the blocks' linear layers, and wte, which is
  /// also the LM head) as `dtype`; the rest keeps its type. For serving:
  /// linear_product's CPU kernels read bf16 weights under fp32 compute.
  void store_matmul_weights_as(c10::ScalarType dtype);

  torch::nn::Embedding wte{nullptr};  ///< token embedding, also the LM head
  torch::nn::Embedding wpe{nullptr};  ///< learned position embedding
  torch::nn::Dropout drop{nullptr};
  torch::nn::ModuleList h{nullptr};   ///< the blocks
  torch::nn::LayerNorm ln_f{nullptr};

 private:
  at::Tensor head(const at::Tensor& x);  // (B, T, C) -> (B, T, V)
  at::Tensor blocks_out(const at::Tensor& idx,
                        bool recompute_blocks);  // (B, T) -> (B, T, C)
  cache_positions plan_cached(const kv_cache& cache,
                              const std::vector<int64_t>& slots, int64_t T,
                              c10::Device device) const;

  gpt_config config_;
};
TORCH_MODULE(gpt);

}  // namespace chat::model
