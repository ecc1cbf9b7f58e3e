#pragma once
// Prefix reuse: KV-cache slots of finished sequences, kept with their token
// ids, so that a new sequence whose prompt starts with the same tokens (the
// next turn of a conversation) prefills only the rest. Private to the engine
// (LibTorch headers).

#include "model/kv_cache.hpp"

#include <cstdint>
#include <vector>

namespace chat::worker {

/// The slots of one model's kv_cache that no sequence holds, each kept with
/// the token ids whose keys and values it holds. Reuse compares token ids
/// only, so it never crosses models (each model has its own) and a changed
/// history (truncated, re-encoded) reuses just the common part. Kept slots
/// are given up, least recently used first, whenever a sequence needs a
/// slot and none is free. Engine thread only.
class prefix_cache {
public:
  /// Over `cache` of `layers` layers, whose slots are all free; `enabled`
  /// false keeps nothing.
  prefix_cache(model::kv_cache& cache, std::int64_t layers, bool enabled);

  /// A slot for a new sequence and how much of it is already filled.
  struct claim {
    std::int64_t slot;
    /// The first `reused` prompt tokens are in the slot: prefill the rest.
    std::int64_t reused;
  };

  /// A slot for a sequence with `prompt` (not empty), holding the longest
  /// kept prefix of it, at most all but its last token (whose logits give
  /// the first new token). A kept slot that the prompt extends is taken
  /// over; one it shares only a part with is copied and stays kept. Throws
  /// std::runtime_error when every slot is held by a sequence.
  claim acquire(const std::vector<std::int32_t>& prompt);

  /// Keeps `slot` of a sequence that ended (stop, length or cancelled):
  /// `tokens` are the ids fed to it, at least as many as its length. A kept
  /// slot that this one extends is freed; this one is freed instead when a
  /// kept slot extends it, or when reuse is off.
  void keep(std::int64_t slot, std::vector<std::int32_t> tokens);

  /// Frees `slot` without keeping it (its sequence failed).
  void release(std::int64_t slot);

  /// Frees every kept slot, e.g. after a failed step.
  void clear();

  /// Slots kept now.
  std::size_t kept() const { return entries_.size(); }

private:
  struct entry {
    std::int64_t slot;
    std::vector<std::int32_t> tokens;  // exactly the slot's length
    std::uint64_t last_used;
  };

  /// A free slot, freeing the least recently used kept one other than
  /// `spared` (an index into entries_, or npos) when none is free.
  std::int64_t free_slot(std::size_t spared);

  /// Copies the first `length` positions of every layer from slot `from`
  /// into the empty slot `to`.
  void copy_prefix(std::int64_t from, std::int64_t to, std::int64_t length);

  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

  model::kv_cache& cache_;
  std::int64_t layers_;
  bool enabled_;
  std::vector<entry> entries_;
  std::uint64_t clock_ = 0;
};

} // namespace chat::worker
