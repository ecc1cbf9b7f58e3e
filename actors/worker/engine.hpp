#pragma once
// The worker's inference engine: the models it serves (the active one, the
// previous one while sequences still use it), each with its preallocated KV
// cache, and a dedicated thread that runs continuous batching (DESIGN.md,
// "Inside chat-worker"). No LibTorch in this header: CAF-only code includes
// it.

#include "actors/protocol/inference_types.hpp"

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace chat::worker {

/// How an engine is built.
struct engine_options {
  /// Checkpoint directory (config.json, model.pt, meta.json) of the model
  /// active from the start.
  std::string model_dir;
  /// "cpu", "cuda", "cuda:N" or "auto" (CUDA when present).
  std::string device = "cpu";
  /// model::choose_inference_device's precision.
  std::string precision = "auto";
  /// Most sequences running at once, over all models; also the KV-cache
  /// slots of each model.
  int max_batch = 16;
  /// Most sequences waiting for a slot; more are refused with queue_full.
  int max_queue = 64;
  /// Most prompt tokens prefilled per step, so a long prompt is spread over
  /// several steps instead of stalling the running streams. 16 streams of
  /// the 100M shape arriving together (reference VM, 3 alternating pairs):
  /// 128 against 64 brought TTFT p99 from 1352-1505 to 1169-1337 ms at the
  /// same tokens/s, and raised ITL p99 from 87-91 to 125-140 ms. 96 gave
  /// 1360-1508 ms.
  int prefill_chunk = 128;
  /// KV-cache slots of each model beyond max_batch, which keep the cache of
  /// finished sequences so that a prompt extending one (the next turn of a
  /// conversation) prefills only its new tokens. Idle batch slots keep
  /// prefixes too; 0 turns prefix reuse off.
  int prefix_cache_slots = 4;
  /// Threads of the CPU decode kernels (model/cpu_ops.hpp); 0: one per
  /// hardware thread.
  int compute_threads = 0;
  /// Speculative decoding: most tokens a decoding sequence drafts per step
  /// by looking up its own last tokens earlier in its prompt and reply
  /// (prompt_lookup.hpp); one forward then checks them all. 0 (the
  /// default): no drafts. A step checking 4 drafted tokens of the 100M
  /// shape at batch 1 took 1.7x a plain one (reference VM), so drafts pay
  /// where replies repeat their context, and cost where they do not.
  int draft_tokens = 0;
  /// Sequences draft only while at most this many decode in a step: a
  /// small step is bound by reading the weights, a large one by compute.
  /// With 4 sequences drafting 4 tokens, 20 rows a step, steps took about
  /// 1.6x plain ones on average, against 1.25x with 2 sequences.
  int draft_max_batch = 2;
};

/// Where the engine reports one sequence's progress. Both run on the engine
/// thread, with no engine lock held: they must not block.
struct sequence_observer {
  /// The tokens one step produced for this sequence (never empty).
  std::function<void(std::vector<std::int32_t> tokens)> on_tokens;
  /// Called exactly once: how the sequence ended, or why it failed.
  std::function<void(caf::expected<generation_result> end)> on_end;
};

/// Serves generate requests of many callers at once. New sequences join
/// between decode steps (prefill into their own cache slot, chunked), then
/// one batched forward per model produces the next token of every running
/// sequence.
///
/// Hot swap: load() loads another model version while the engine serves,
/// activate() makes it the default between two steps. A sequence runs on
/// the model its request names (the active one when it names none) from
/// its first to its last token. The engine keeps the active model, the
/// previous one and the last one loaded; any other is unloaded as soon as
/// no sequence uses it.
///
/// Prefix reuse: a sequence starts from the longest kept prefix of its
/// prompt on its model (compared by token ids), so its output is the same
/// as without reuse, only its prefill is shorter.
///
/// Speculative decoding: a step may emit several tokens of a sequence, each
/// drawn as decoding one token a step would draw it (the same draws of its
/// generator). The logits of a checked draft come from the multi-row
/// kernels, as a batch's do, so they may differ in rounding: a near-tie can
/// flip, as it can when batching changes. Otherwise a draft only saves
/// steps.
///
/// max_tokens is clamped to the context: a sequence whose cache fills up
/// ends with finish_reason "length". A prompt must leave room for at least
/// one new token (shorter than the context).
class engine {
public:
  /// Loads the checkpoint onto the device as the active model and starts
  /// the engine thread; throws std::runtime_error saying what is wrong with
  /// the checkpoint or device.
  explicit engine(const engine_options& options);

  /// Stops the thread; see stop().
  ~engine();

  engine(const engine&) = delete;
  engine& operator=(const engine&) = delete;

  /// Queues a sequence. Returns an error (and never calls the observer)
  /// when its model is not loaded (errc::model_unavailable), the request is
  /// invalid for that model (errc::invalid_request, errc::prompt_too_long)
  /// or the queue is full (errc::queue_full). Thread-safe.
  caf::error submit(generate_request request, sequence_observer observer);

  /// Ends the sequence `id` with finish_reason "cancelled" before the next
  /// step; unknown or finished ids are ignored. Thread-safe.
  void cancel(std::uint64_t id);

  /// Load, throughput, KV-cache use and prefix reuse now. Thread-safe.
  worker_status status() const;

  /// Prefix reuse so far. Thread-safe.
  prefix_reuse_stats prefix_stats() const;

  /// Finishes the current step, fails every waiting and running sequence
  /// with errc::engine_failure and joins the thread. Idempotent.
  void stop();

  /// Loads checkpoint `dir` as model `id` (meta.json's "id", else the
  /// directory's name, when `id` is empty) while the engine goes on
  /// serving; returns the id once requests may name it. Blocks for the
  /// load: call it off the engine's and the actors' threads. A loaded id
  /// is not loaded again. errc::model_load_failed says what is wrong with
  /// the checkpoint. Thread-safe.
  caf::expected<std::string> load(const std::string& id,
                                  const std::string& dir);

  /// Makes the loaded model `id` the active one from the next step on; the
  /// active one becomes the previous one. Returns the ids kept loaded,
  /// active first, or errc::model_unavailable when `id` is not loaded.
  /// Thread-safe.
  caf::expected<std::vector<std::string>> activate(const std::string& id);

  /// Ids of the models in memory now. Thread-safe.
  std::vector<std::string> loaded_models() const;

  /// The active model's id: meta.json's "id", or the checkpoint
  /// directory's name. Thread-safe.
  std::string model_id() const;
  /// The device the models run on ("cpu", "cuda:0").
  const std::string& device_name() const;
  /// Longest sequence (prompt + generated) the active model takes.
  std::int64_t context() const;
  /// Token ids of the active model are in [0, vocab_size).
  std::int64_t vocab_size() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace chat::worker
