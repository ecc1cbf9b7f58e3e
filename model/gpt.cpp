#include "model/gpt.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include <torch/torch.h>

#include "model/activation_checkpoint.hpp"
#include "model/attention.hpp"
#include "model/cpu_ops.hpp"

namespace chat::model {

using torch::indexing::Slice;

namespace {

/// A Linear layer's product through cpu_linear, which decode relies on.
at::Tensor project(const torch::nn::Linear& layer, const at::Tensor& x) {
  return linear_product(x, layer->weight, layer->bias);
}

/// The row blocks one after another; a lone block as it is (no copy).
at::Tensor join_rows(const std::vector<at::Tensor>& blocks) {
  return blocks.size() == 1 ? blocks.front() : torch::cat(blocks, 0);
}

}  // namespace

void gptImpl::store_matmul_weights_as(c10::ScalarType dtype) {
  torch::NoGradGuard no_grad;
  for (auto& p : named_parameters())
    if (p.value().dim() == 2 && p.key() != "wpe.weight")
      p.value().set_data(p.value().to(dtype));
}

// -- attention --

causal_self_attentionImpl::causal_self_attentionImpl(const gpt_config& c)
    : n_head(c.n_head), dropout(c.dropout) {
  qkv = register_module("qkv", torch::nn::Linear(c.d_model, 3 * c.d_model));
  proj = register_module("proj", torch::nn::Linear(c.d_model, c.d_model));
  resid_dropout =
      register_module("resid_dropout", torch::nn::Dropout(c.dropout));
}

at::Tensor causal_self_attentionImpl::merge_heads(const at::Tensor& y) {
  const auto B = y.size(0), T = y.size(2);
  return y.transpose(1, 2).contiguous().view({B, T, -1});  // (B, T, C)
}

at::Tensor causal_self_attentionImpl::forward(const at::Tensor& x) {
  const auto B = x.size(0), T = x.size(1), C = x.size(2);
  const auto hs = C / n_head;
  auto qkv_heads =
      project(qkv, x).view({B, T, 3, n_head, hs});  // (B, T, 3, nh, hs)
  auto q = qkv_heads.select(2, 0).transpose(1, 2);  // (B, nh, T, hs)
  auto k = qkv_heads.select(2, 1).transpose(1, 2);  // (B, nh, T, hs)
  auto v = qkv_heads.select(2, 2).transpose(1, 2);  // (B, nh, T, hs)
  const double p = is_training() ? dropout : 0.0;
  auto y = attention(q, k, v, {}, p);  // (B, nh, T, hs)
  return resid_dropout(project(proj, merge_heads(y)));  // (B, T, C)
}

at::Tensor causal_self_attentionImpl::forward_cached(
    const at::Tensor& x, at::Tensor& cache_k, at::Tensor& cache_v,
    const std::vector<cache_positions>& groups) {
  const auto C = x.size(1);
  auto qkv_all = project(qkv, x);  // (R, 3C)
  std::vector<at::Tensor> outputs;
  int64_t first = 0;
  for (const auto& at : groups) {
    const auto B = at.positions.size(0), T = at.positions.size(1);
    auto rows = qkv_all.narrow(0, first, B * T).view({B, T, 3 * C});
    outputs.push_back(
        attend_cached(rows, cache_k, cache_v, at).view({B * T, C}));
    first += B * T;
  }
  return project(proj, join_rows(outputs));  // (R, C)
}

at::Tensor causal_self_attentionImpl::attend_cached(
    const at::Tensor& qkv_rows, at::Tensor& cache_k, at::Tensor& cache_v,
    const cache_positions& at) {
  const auto B = qkv_rows.size(0), T = qkv_rows.size(1),
             C = qkv_rows.size(2) / 3;
  const auto hs = C / n_head;
  if (cached_attention_applies(qkv_rows, cache_k, cache_v))
    return cached_attention(qkv_rows, cache_k, cache_v, at.row_slots,
                            at.row_keys);  // (B, T, C)
  auto qkv_heads = qkv_rows.view({B, T, 3, n_head, hs});  // (B, T, 3, nh, hs)
  auto q = qkv_heads.select(2, 0).transpose(1, 2);  // (B, nh, T, hs)
  auto k_new = qkv_heads.select(2, 1);              // (B, T, nh, hs)
  auto v_new = qkv_heads.select(2, 2);              // (B, T, nh, hs)
  // Advanced indices on dims 0 and 2 broadcast to (B, T) and lead the
  // indexed shape, so the values are (B, T, nh, hs): k_new as is.
  const auto slot_rows = at.slots.view({B, 1});  // (B, 1)
  // The cache may hold a narrower type than the compute (bf16 on the CPU).
  cache_k.index_put_({slot_rows, Slice(), at.positions},
                     k_new.to(cache_k.scalar_type()));
  cache_v.index_put_({slot_rows, Slice(), at.positions},
                     v_new.to(cache_v.scalar_type()));
  // Consecutive slots are a view; others are gathered (a copy).
  auto rows = [&](const at::Tensor& cache) {
    auto prefix = cache.narrow(2, 0, at.keys);  // (S, nh, Lk, hs)
    return (at.first_slot >= 0 ? prefix.narrow(0, at.first_slot, B)
                               : prefix.index_select(0, at.slots))
        .to(q.scalar_type());
  };
  auto k = rows(cache_k);  // (B, nh, Lk, hs)
  auto v = rows(cache_v);  // (B, nh, Lk, hs)
  auto y = attention(q, k, v, at.keep, 0.0);  // (B, nh, T, hs)
  return merge_heads(y);  // (B, T, C)
}

// -- mlp --

mlpImpl::mlpImpl(const gpt_config& c) {
  fc = register_module("fc", torch::nn::Linear(c.d_model, 4 * c.d_model));
  proj = register_module("proj", torch::nn::Linear(4 * c.d_model, c.d_model));
  dropout = register_module("dropout", torch::nn::Dropout(c.dropout));
}

at::Tensor mlpImpl::forward(const at::Tensor& x) {
  return dropout(project(proj, torch::gelu(project(fc, x))));  // (B, T, C)
}

// -- block --

blockImpl::blockImpl(const gpt_config& c) {
  ln_1 = register_module(
      "ln_1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.d_model})));
  attn = register_module("attn", causal_self_attention(c));
  ln_2 = register_module(
      "ln_2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.d_model})));
  ffn = register_module("mlp", mlp(c));
}

at::Tensor blockImpl::forward(const at::Tensor& x) {
  auto h = x + attn(ln_1(x));  // (B, T, C)
  return h + ffn(ln_2(h));     // (B, T, C)
}

at::Tensor blockImpl::forward_cached(
    const at::Tensor& x, at::Tensor& cache_k, at::Tensor& cache_v,
    const std::vector<cache_positions>& groups) {
  auto h = x + attn->forward_cached(ln_1(x), cache_k, cache_v,
                                    groups);  // (R, C)
  return h + ffn(ln_2(h));  // (R, C)
}

// -- gpt --

gptImpl::gptImpl(const gpt_config& c) : config_(c) {
  config_.validate();
  wte = register_module("wte", torch::nn::Embedding(c.vocab_size, c.d_model));
  wpe = register_module("wpe", torch::nn::Embedding(c.context, c.d_model));
  drop = register_module("drop", torch::nn::Dropout(c.dropout));
  h = register_module("h", torch::nn::ModuleList());
  for (int64_t i = 0; i < c.n_layer; ++i) h->push_back(block(c));
  ln_f = register_module(
      "ln_f", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.d_model})));

  // nanoGPT's init: N(0, 0.02), zero biases, residual projections scaled
  // down by sqrt(2 * n_layer) so the residual stream keeps unit variance.
  torch::NoGradGuard no_grad;
  const double residual_std = 0.02 / std::sqrt(2.0 * c.n_layer);
  for (auto& p : named_parameters()) {
    const auto& name = p.key();
    auto& t = p.value();
    if (name.size() >= 5 && name.compare(name.size() - 5, 5, ".bias") == 0)
      t.zero_();
    else if (name.find("ln_") != std::string::npos)
      t.fill_(1.0);
    else if (name.find(".proj.weight") != std::string::npos)
      t.normal_(0.0, residual_std);
    else
      t.normal_(0.0, 0.02);
  }
}

at::Tensor gptImpl::head(const at::Tensor& x) {
  return linear_product(ln_f(x), wte->weight, {});  // (B, T, V), tied
}

at::Tensor gptImpl::blocks_out(const at::Tensor& idx, bool recompute_blocks) {
  const auto T = idx.size(1);
  if (T > config_.context)
    throw std::runtime_error("gpt::forward: " + std::to_string(T) +
                             " tokens exceed context " +
                             std::to_string(config_.context));
  auto pos = torch::arange(T, idx.options().dtype(torch::kLong));  // (T)
  auto x = drop(wte(idx) + wpe(pos));  // (B, T, C)
  for (const auto& m : *h) {
    auto& b = *m->as<block>();
    if (recompute_blocks && is_training() && torch::GradMode::is_enabled())
      x = recompute_in_backward(
          [&b](const at::Tensor& in) { return b.forward(in); }, x,
          b.parameters());  // (B, T, C)
    else
      x = b.forward(x);  // (B, T, C)
  }
  return x;  // (B, T, C)
}

at::Tensor gptImpl::forward(const at::Tensor& idx, logits_for which,
                           bool recompute_blocks) {
  auto x = blocks_out(idx, recompute_blocks);  // (B, T, C)
  if (which == logits_for::last)
    x = x.narrow(1, x.size(1) - 1, 1);  // (B, 1, C)
  return head(x);  // (B, T|1, V)
}

at::Tensor gptImpl::features(const at::Tensor& idx, bool recompute_blocks) {
  return ln_f(blocks_out(idx, recompute_blocks));  // (B, T, C)
}

cache_positions gptImpl::plan_cached(const kv_cache& cache,
                                     const std::vector<int64_t>& slots,
                                     int64_t T, c10::Device device) const {
  const auto B = static_cast<int64_t>(slots.size());
  std::vector<int64_t> starts(B);
  cache_positions at;
  bool consecutive = true;
  for (int64_t b = 0; b < B; ++b) {
    starts[b] = cache.length(slots[b]);
    if (starts[b] + T > config_.context)
      throw std::runtime_error(
          "gpt::forward_cached: slot " + std::to_string(slots[b]) +
          " holds " + std::to_string(starts[b]) + " tokens; " +
          std::to_string(T) + " more exceed context " +
          std::to_string(config_.context) + "; release or truncate it");
    at.keys = std::max(at.keys, starts[b] + T);
    consecutive = consecutive && slots[b] == slots[0] + b;
  }
  const auto i64 = torch::TensorOptions().dtype(torch::kLong);
  at.first_slot = consecutive ? slots[0] : -1;
  at.row_slots = slots;
  at.row_keys.resize(B);
  for (int64_t b = 0; b < B; ++b) at.row_keys[b] = starts[b] + T;
  at.slots = torch::tensor(slots, i64).to(device);  // (B)
  auto start = torch::tensor(starts, i64).to(device).view({B, 1});  // (B, 1)
  at.positions = start + torch::arange(T, i64.device(device));      // (B, T)
  auto key_pos = torch::arange(at.keys, i64.device(device));         // (Lk)
  at.keep = (key_pos.view({1, 1, 1, at.keys}) <=
             at.positions.view({B, 1, T, 1}));  // (B, 1, T, Lk)
  return at;
}

at::Tensor gptImpl::forward_cached(const at::Tensor& idx, kv_cache& cache,
                                   const std::vector<int64_t>& slots,
                                   logits_for which) {
  return forward_cached({cached_rows{idx, slots, which}}, cache).front();
}

std::vector<at::Tensor> gptImpl::forward_cached(
    const std::vector<cached_rows>& groups, kv_cache& cache) {
  std::vector<int64_t> all_slots;
  for (const auto& g : groups) {
    const auto B = g.idx.dim() == 2 ? g.idx.size(0) : -1;
    const auto T = g.idx.dim() == 2 ? g.idx.size(1) : 0;
    if (static_cast<int64_t>(g.slots.size()) != B || T < 1)
      throw std::runtime_error(
          "gpt::forward_cached: idx is (" + std::to_string(B) + ", " +
          std::to_string(T) + ") but " + std::to_string(g.slots.size()) +
          " slots were given; expected one slot per row and T >= 1");
    all_slots.insert(all_slots.end(), g.slots.begin(), g.slots.end());
  }
  if (groups.empty())
    throw std::runtime_error("gpt::forward_cached: no rows given");
  std::sort(all_slots.begin(), all_slots.end());
  const auto twice =
      std::adjacent_find(all_slots.begin(), all_slots.end());
  if (twice != all_slots.end())
    throw std::runtime_error("gpt::forward_cached: slot " +
                             std::to_string(*twice) + " appears twice");
  const auto C = config_.d_model;
  std::vector<cache_positions> plans;
  std::vector<at::Tensor> rows;
  for (const auto& g : groups) {
    const auto B = g.idx.size(0), T = g.idx.size(1);
    plans.push_back(plan_cached(cache, g.slots, T, g.idx.device()));
    rows.push_back(drop(wte(g.idx) + wpe(plans.back().positions))
                       .view({B * T, C}));  // (B*T, C)
  }
  for (const auto& g : groups)
    for (auto slot : g.slots)
      cache.commit(slot, cache.length(slot) + g.idx.size(1));
  auto x = join_rows(rows);  // (R, C)
  for (int64_t l = 0; l < config_.n_layer; ++l)
    x = h[l]->as<block>()->forward_cached(x, cache.keys(l), cache.values(l),
                                          plans);  // (R, C)
  for (const auto& g : groups)
    for (auto slot : g.slots) cache.advance(slot, g.idx.size(1));
  // Each group's rows, or its last position; the LM head then reads its
  // weights (the largest matrix) once for all groups.
  std::vector<at::Tensor> outputs;
  std::vector<int64_t> counts;
  int64_t first = 0;
  for (const auto& g : groups) {
    const auto B = g.idx.size(0), T = g.idx.size(1);
    auto y = x.narrow(0, first, B * T).view({B, T, C});
    if (g.logits == logits_for::last) y = y.narrow(1, T - 1, 1);  // (B, 1, C)
    outputs.push_back(y.reshape({-1, C}));
    counts.push_back(y.size(0) * y.size(1));
    first += B * T;
  }
  auto logits = head(join_rows(outputs));  // (rows, V)
  std::vector<at::Tensor> out;
  first = 0;
  for (size_t i = 0; i < groups.size(); ++i) {
    const auto B = groups[i].idx.size(0);
    out.push_back(logits.narrow(0, first, counts[i]).view({B, -1, logits.size(1)}));
    first += counts[i];
  }
  return out;  // (B, T|1, V) per group
}

}  // namespace chat::model
