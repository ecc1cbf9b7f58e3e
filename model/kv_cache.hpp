#pragma once

#include <cstdint>
#include <vector>

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include "model/gpt_config.hpp"

namespace chat::model {

/// Preallocated keys and values for up to `max_slots` sequences.
///
/// Per layer one (S, nh, L, hs) tensor each for keys and values (S slots,
/// nh heads, L = context, hs head size), allocated once and written in place
/// by gpt::forward_cached; nothing is ever concatenated. A slot holds one
/// sequence; its length is how many positions are filled. Slots are reused
/// after release.
class kv_cache {
 public:
  /// Allocates the cache; throws when max_slots < 1.
  kv_cache(const gpt_config& config, int64_t max_slots, c10::Device device,
           c10::ScalarType dtype);

  /// Takes a free slot, with length 0; throws when all are in use.
  int64_t acquire();
  /// Frees a slot for reuse (its contents are overwritten later).
  void release(int64_t slot);
  /// Filled positions of an acquired slot.
  int64_t length(int64_t slot) const;
  /// Records that `count` more positions of `slot` hold keys and values.
  void advance(int64_t slot, int64_t count);
  /// Forgets positions from `length` on, e.g. to rewind a slot.
  void truncate(int64_t slot, int64_t length);
  /// Has the OS commit the memory of positions [0, positions) of `slot` in
  /// every layer now, in bulk, ahead of their first write (whole blocks of
  /// positions; a no-op for what is committed already and off the CPU).
  /// On the reference VM a page's first-write fault costs about 12 µs and
  /// a page committed in bulk about 1 µs; a 256-token prefill into fresh
  /// slots ran 1.35x faster without the faults.
  void commit(int64_t slot, int64_t positions);

  int64_t max_slots() const { return static_cast<int64_t>(lengths_.size()); }
  int64_t context() const { return context_; }
  int64_t free_slots() const;

  /// Keys of one layer, (S, nh, L, hs).
  at::Tensor& keys(int64_t layer) { return keys_.at(layer); }
  /// Values of one layer, (S, nh, L, hs).
  at::Tensor& values(int64_t layer) { return values_.at(layer); }

 private:
  void check_acquired(int64_t slot) const;

  int64_t context_;
  std::vector<at::Tensor> keys_;
  std::vector<at::Tensor> values_;
  std::vector<int64_t> lengths_;
  std::vector<bool> in_use_;
  /// Per slot, positions whose memory commit() has had committed.
  std::vector<int64_t> committed_;
  bool commits_in_bulk_;  ///< on the CPU, where memory is committed on write
};

}  // namespace chat::model
