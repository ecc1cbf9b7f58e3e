#pragma once
// One model version an engine serves: its weights, its own preallocated
// KV cache and the prefixes kept in it. Private to the engine (LibTorch
// headers).

#include "actors/worker/prefix_cache.hpp"
#include "model/device.hpp"
#include "model/gpt.hpp"
#include "model/kv_cache.hpp"

#include <cstdint>
#include <string>

namespace chat::worker {

/// A checkpoint loaded onto the device with a cache of `max_batch` +
/// `prefix_slots` slots: sequences hold at most `max_batch`, the others
/// always keep prefixes (prefix_slots 0: none is kept). Immutable after
/// construction except for the cache and prefixes, which only the engine
/// thread touches.
struct loaded_model {
  /// Loads checkpoint `dir` as `id` (meta.json's "id" or the directory's
  /// name when `id` is empty); throws std::runtime_error saying what is
  /// wrong with the checkpoint.
  loaded_model(std::string id, const std::string& dir,
               const model::device_choice& where, std::int64_t max_batch,
               std::int64_t prefix_slots);

  std::string id;
  model::gpt gpt;
  /// Longest sequence (prompt + generated) the model takes.
  std::int64_t context;
  /// Token ids are in [0, vocab).
  std::int64_t vocab;
  model::kv_cache cache;
  prefix_cache prefixes;
};

} // namespace chat::worker
