#include "actors/worker/engine.hpp"

#include "actors/protocol/errc.hpp"
#include "actors/worker/loaded_model.hpp"
#include "actors/worker/prompt_lookup.hpp"
#include "actors/worker/request_checks.hpp"
#include "actors/worker/throughput_meter.hpp"
#include "log/log.hpp"
#include "model/cpu_thread_team.hpp"
#include "model/device.hpp"
#include "model/sampler.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <exception>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>

// Shapes: B rows of a decode step, P prompt tokens, n tokens of a prefill
// chunk, V vocabulary.

namespace chat::worker {

namespace {

using clock_type = throughput_meter::clock;
using model_ptr = std::shared_ptr<loaded_model>;

void check_options(const engine_options& o) {
  if (o.max_batch < 1 || o.max_queue < 1 || o.prefill_chunk < 1)
    throw std::runtime_error(
      "engine: max_batch " + std::to_string(o.max_batch) + ", max_queue "
      + std::to_string(o.max_queue) + ", prefill_chunk "
      + std::to_string(o.prefill_chunk) + ": each must be >= 1");
  if (o.prefix_cache_slots < 0)
    throw std::runtime_error("engine: prefix_cache_slots "
                             + std::to_string(o.prefix_cache_slots)
                             + " must be >= 0");
  if (o.compute_threads < 0)
    throw std::runtime_error("engine: compute_threads "
                             + std::to_string(o.compute_threads)
                             + " must be >= 0 (0: one per hardware thread)");
  if (o.draft_tokens < 0 || o.draft_max_batch < 0)
    throw std::runtime_error("engine: draft_tokens "
                             + std::to_string(o.draft_tokens)
                             + ", draft_max_batch "
                             + std::to_string(o.draft_max_batch)
                             + ": each must be >= 0 (0: no drafts)");
}

double milliseconds_since(clock_type::time_point t) {
  return std::chrono::duration<double, std::milli>(clock_type::now() - t)
    .count();
}

void log_loaded(const loaded_model& m, const model::device_choice& where) {
  log::info("engine", "model loaded")
    .kv("model", m.id)
    .kv("device", where.device.str())
    .kv("precision", model::precision_name(where.dtype))
    .kv("weights", model::precision_name(where.weights))
    .kv("kv_cache", model::precision_name(where.cache))
    .kv("context", m.context)
    .kv("cache_slots", m.cache.max_slots());
}

/// A request that waits for a cache slot of its model.
struct waiting_sequence {
  generate_request request;
  sequence_observer observer;
  model_ptr model;
};

/// A sequence that holds a cache slot of its model; touched by the engine
/// thread only.
struct running_sequence {
  running_sequence(waiting_sequence&& w, prefix_cache::claim claim,
                   at::Tensor prompt_ids)
    : request(std::move(w.request)),
      observer(std::move(w.observer)),
      model(std::move(w.model)),
      sampler(model::sampling_params{request.sampling.temperature,
                                     request.sampling.top_k,
                                     request.sampling.top_p,
                                     request.sampling.seed}),
      greedy(request.sampling.temperature == 0.0f
             || request.sampling.top_k == 1),
      prompt(std::move(prompt_ids)),
      fed(request.prompt),
      slot(claim.slot),
      prefilled(claim.reused) {
  }

  /// The prompt is in the cache and a sampled token waits to be fed.
  bool decoding() const {
    return finish == nullptr && prefilled == prompt.size(0);
  }

  generate_request request;
  sequence_observer observer;
  /// Held until the sequence ends, so its weights outlive a swap.
  model_ptr model;
  model::sampler sampler;
  bool greedy;
  at::Tensor prompt;  // (P) int64 on the model's device
  /// The prompt, then each accepted token: the cache holds the first
  /// cache.length(slot) of them, which prefix reuse keeps.
  std::vector<std::int32_t> fed;
  std::int64_t slot;
  std::int64_t prefilled;       // prompt tokens already in the cache
  std::int64_t next_token = 0;  // sampled and sent, fed by the next step
  /// Tokens guessed to follow next_token, verified by this step.
  std::vector<std::int32_t> draft;
  std::int32_t generated = 0;   // tokens sent
  const char* finish = nullptr; // finish_reason once it is done
};

} // namespace

// -- state --

struct engine::impl {
  explicit impl(const engine_options& o);

  void run();
  /// Waits for work, then takes the cancellations, drops cancelled waiting
  /// sequences and admits waiting ones into free slots; false once stopping.
  bool take_work(std::vector<std::uint64_t>& cancelled,
                 std::vector<waiting_sequence>& admitted,
                 std::vector<waiting_sequence>& dropped);
  /// Under `mutex`: moves the models nothing keeps (neither active,
  /// previous nor last loaded, and used by no sequence) into `unloaded`.
  void take_unused_models(std::vector<model_ptr>& unloaded);
  void start(waiting_sequence&& w);
  void step();
  /// Picks this step's prefill chunks, at most prefill_chunk tokens in all
  /// (into `chunks`); returns their token count.
  std::int64_t plan_prefill();
  /// Looks up a draft for each decoding row when the step is small enough
  /// for drafts to pay; rows with one go to `drafted`, the others to `rows`.
  void plan_drafts();
  /// Runs `group` (decoding rows), `model_drafted` and the chunks of model
  /// m in one forward; samples and accepts what it produced.
  void forward_model(loaded_model& m, std::int64_t& emitted);
  void sample(const at::Tensor& logits,
              const std::vector<running_sequence*>& rows);
  /// Samples `logits` (1 + draft, V) of a drafted row position by position,
  /// as plain decoding would, while the draft holds; accepts the tokens and
  /// rewinds the cache past the first draft token that did not.
  void verify(running_sequence& s, const at::Tensor& logits,
              std::int64_t& emitted);
  /// Takes `count` new tokens of `s` (one, or a verified draft's) up to a
  /// stop token or its length, and reports them in one on_tokens.
  void accept(running_sequence& s, const std::int64_t* tokens,
              std::size_t count, std::int64_t& emitted);
  void retire_finished();
  void fail_running(const caf::error& why);
  void publish_running();
  /// Under `mutex`, on the engine thread: counts the kept prefixes.
  void count_kept_slots();
  void publish(clock_type::time_point begin, std::int64_t batch,
               std::int64_t emitted);
  void shut_down();

  engine_options options;
  model::device_choice where;
  std::string device_name;
  /// Whether OpenBLAS runs on the engine thread alone (on the CPU, so that
  /// its pool does not take cores from the kernels' team).
  bool blas_single_threaded = false;

  // Engine thread only; buffers are members so a step allocates nothing of
  // its own beyond tensors.
  std::vector<running_sequence> running;  // in admission order
  std::vector<running_sequence> retired;  // ended, being reported
  std::vector<running_sequence*> rows;   // decoding this step, no draft
  std::vector<running_sequence*> group;  // the rows of one model
  std::vector<running_sequence*> drafted;  // decoding with a draft
  std::vector<running_sequence*> model_drafted;  // those of one model
  std::vector<std::int64_t> verified;  // tokens a drafted row samples
  std::vector<running_sequence*> one_row;
  /// Prompt tokens [s->prefilled, + tokens) go in this step.
  struct prefill_chunk {
    running_sequence* s;
    std::int64_t tokens;
  };
  std::vector<prefill_chunk> chunks;
  std::vector<prefill_chunk> model_chunks;  // the chunks of one model
  std::vector<model::cached_rows> inputs;
  std::vector<loaded_model*> stepped;  // the models run this step
  std::vector<std::int64_t> row_slots;
  std::vector<std::int64_t> sampled;
  std::vector<size_t> drawn;  // rows of a step that sample, not argmax
  at::Tensor step_ids;  // (max_batch, 1) int64 on the CPU

  // Shared with submit/cancel/status/load/activate, under `mutex`.
  mutable std::mutex mutex;
  std::condition_variable wake;
  std::map<std::string, model_ptr> models;
  std::string active_id;
  std::string previous_id;
  std::string last_loaded_id;
  /// A model may have become unused: the engine thread looks.
  bool unload_due = false;
  std::deque<waiting_sequence> waiting;
  std::vector<std::uint64_t> cancels;
  bool stopping = false;
  std::int32_t running_count = 0;
  std::int32_t peak_batch = 0;
  std::int64_t tokens_generated = 0;
  prefix_reuse_stats prefix;
  draft_stats drafts;
  /// Slots of the loaded models that keep a prefix; the engine thread
  /// counts them (prefix_cache is its alone) for status().
  std::int64_t kept_slots = 0;
  throughput_meter meter;

  std::thread thread;
};

engine::impl::impl(const engine_options& o)
  : options((check_options(o), o)),
    where(model::choose_inference_device(o.device, o.precision)),
    device_name(where.device.str()),
    step_ids(torch::zeros({o.max_batch, 1}, torch::kLong)) {
  model::set_cpu_kernel_threads(o.compute_threads);
  if (where.device.is_cpu())
    blas_single_threaded = model::run_blas_on_calling_thread();
  auto first = std::make_shared<loaded_model>("", o.model_dir, where,
                                              o.max_batch,
                                              o.prefix_cache_slots);
  log_loaded(*first, where);
  active_id = last_loaded_id = first->id;
  models.emplace(first->id, std::move(first));
  retired.reserve(o.max_batch);
  rows.reserve(o.max_batch);
  group.reserve(o.max_batch);
  drafted.reserve(o.max_batch);
  model_drafted.reserve(o.max_batch);
  verified.reserve(static_cast<std::size_t>(o.draft_tokens) + 1);
  chunks.reserve(o.max_batch);
  model_chunks.reserve(o.max_batch);
  inputs.reserve(o.max_batch + 1);
  row_slots.reserve(o.max_batch);
  sampled.reserve(o.max_batch);
  running.reserve(o.max_batch);
}

// -- the loop --

void engine::impl::run() {
  c10::InferenceMode inference;
  log::info("engine", "thread started")
    .kv("intra_op_threads", at::get_num_threads())
    .kv("compute_threads", model::cpu_thread_team::shared().size())
    .kv("blas_threads", blas_single_threaded ? "1" : "default");
  std::vector<std::uint64_t> cancelled;
  std::vector<waiting_sequence> admitted;
  std::vector<waiting_sequence> dropped;
  while (take_work(cancelled, admitted, dropped)) {
    for (auto& w : dropped)
      w.observer.on_end(generation_result{
        w.request.id, static_cast<std::int32_t>(w.request.prompt.size()), 0,
        "cancelled", w.model->id});
    for (auto& w : admitted)
      start(std::move(w));
    for (auto& s : running)
      if (std::find(cancelled.begin(), cancelled.end(), s.request.id)
          != cancelled.end())
        s.finish = "cancelled";
    retire_finished();
    if (!running.empty())
      step();
    cancelled.clear();
    admitted.clear();
    dropped.clear();
  }
  shut_down();
}

bool engine::impl::take_work(std::vector<std::uint64_t>& cancelled,
                             std::vector<waiting_sequence>& admitted,
                             std::vector<waiting_sequence>& dropped) {
  // Destroyed after the lock is released: freeing a model takes a while.
  std::vector<model_ptr> unloaded;
  std::unique_lock<std::mutex> lock(mutex);
  take_unused_models(unloaded);
  wake.wait(lock, [this] {
    return stopping || !running.empty() || !waiting.empty()
           || !cancels.empty() || unload_due;
  });
  if (stopping)
    return false;
  take_unused_models(unloaded);
  cancelled.swap(cancels);
  for (auto i = waiting.begin(); i != waiting.end();) {
    if (std::find(cancelled.begin(), cancelled.end(), i->request.id)
        != cancelled.end()) {
      dropped.push_back(std::move(*i));
      i = waiting.erase(i);
    } else {
      ++i;
    }
  }
  const auto slots = static_cast<size_t>(options.max_batch);
  while (running.size() + admitted.size() < slots && !waiting.empty()) {
    admitted.push_back(std::move(waiting.front()));
    waiting.pop_front();
  }
  running_count = static_cast<std::int32_t>(running.size() + admitted.size());
  return true;
}

void engine::impl::take_unused_models(std::vector<model_ptr>& unloaded) {
  unload_due = false;
  for (auto i = models.begin(); i != models.end();) {
    const auto& id = i->first;
    // Every sequence holds its model, and none is being admitted or retired
    // while the engine thread is here, so use_count 1 is exact: unused.
    if (id == active_id || id == previous_id || id == last_loaded_id
        || i->second.use_count() > 1) {
      ++i;
      continue;
    }
    log::info("engine", "model unloaded").kv("model", id);
    unloaded.push_back(std::move(i->second));
    i = models.erase(i);
  }
  count_kept_slots();
}

void engine::impl::start(waiting_sequence&& w) {
  auto& prompt = w.request.prompt;
  auto ids = torch::from_blob(prompt.data(),
                              {static_cast<std::int64_t>(prompt.size())},
                              torch::kInt)
               .to(where.device, torch::kLong);  // (P), a copy
  const auto claim = w.model->prefixes.acquire(prompt);
  if (claim.reused > 0 && log::enabled(log::level::debug))
    log::debug("engine", "prefix reused")
      .kv("request", w.request.id)
      .kv("tokens", claim.reused)
      .kv("prompt", prompt.size());
  {
    std::lock_guard<std::mutex> lock(mutex);
    ++(claim.reused > 0 ? prefix.hits : prefix.misses);
    prefix.reused_tokens += claim.reused;
    count_kept_slots();
  }
  running.emplace_back(std::move(w), claim, std::move(ids));
}

void engine::impl::step() {
  const auto begin = clock_type::now();
  std::int64_t emitted = 0;
  try {
    plan_drafts();
    const auto prefilled = plan_prefill();
    // Rows grouped by model, each group in slot order: consecutive slots let
    // attention read the cache as a view instead of gathering it. Each
    // model's decode rows and prefill chunks share one forward, so its
    // weights are read once per step.
    std::sort(rows.begin(), rows.end(),
              [](const running_sequence* a, const running_sequence* b) {
                return a->model != b->model ? a->model < b->model
                                            : a->slot < b->slot;
              });
    stepped.clear();
    auto step_model = [&](loaded_model* m) {
      if (std::find(stepped.begin(), stepped.end(), m) != stepped.end())
        return;
      stepped.push_back(m);
      group.clear();
      for (auto* r : rows)
        if (r->model.get() == m)
          group.push_back(r);
      model_drafted.clear();
      for (auto* r : drafted)
        if (r->model.get() == m)
          model_drafted.push_back(r);
      model_chunks.clear();
      for (const auto& c : chunks)
        if (c.s->model.get() == m)
          model_chunks.push_back(c);
      forward_model(*m, emitted);
    };
    for (auto* r : rows)
      step_model(r->model.get());
    for (auto* r : drafted)
      step_model(r->model.get());
    for (const auto& c : chunks)
      step_model(c.s->model.get());
    const auto batch = static_cast<std::int64_t>(rows.size() + drafted.size());
    if (log::enabled(log::level::debug))
      log::debug("engine", "step")
        .kv("batch", batch)
        .kv("prefill", prefilled)
        .kv("ms", milliseconds_since(begin));
    publish(begin, batch, emitted);
  } catch (const std::exception& e) {
    log::error("engine", "step failed; failing its sequences")
      .kv("running", running.size())
      .kv("what", e.what());
    fail_running(make_error(errc::engine_failure,
                            std::string("the engine failed: ") + e.what()));
  }
  retire_finished();
}

void engine::impl::plan_drafts() {
  rows.clear();
  drafted.clear();
  for (auto& s : running)
    if (s.decoding())
      rows.push_back(&s);
  if (options.draft_tokens == 0
      || rows.size() > static_cast<std::size_t>(options.draft_max_batch))
    return;
  lookup_limits limits;
  auto plain = rows.begin();
  for (auto* s : rows) {
    // fed ends with next_token, which this step feeds: a draft after it
    // must fit the context, and emits at most the tokens left.
    const auto fed = static_cast<std::int64_t>(s->fed.size());
    limits.max_draft = static_cast<int>(
      std::min<std::int64_t>({options.draft_tokens, s->model->context - fed,
                              s->request.sampling.max_tokens - s->generated
                                - 1}));
    propose_from_context(s->fed, limits, s->draft);
    if (s->draft.empty())
      *plain++ = s;
    else
      drafted.push_back(s);
  }
  rows.erase(plain, rows.end());
}

std::int64_t engine::impl::plan_prefill() {
  chunks.clear();
  std::int64_t budget = options.prefill_chunk;
  for (auto& s : running) {
    if (budget == 0)
      break;
    const auto P = s.prompt.size(0);
    if (s.finish != nullptr || s.prefilled == P)
      continue;
    const auto n = std::min(P - s.prefilled, budget);
    chunks.push_back({&s, n});
    budget -= n;
  }
  return options.prefill_chunk - budget;
}

void engine::impl::forward_model(loaded_model& m, std::int64_t& emitted) {
  inputs.clear();
  const auto B = static_cast<std::int64_t>(group.size());
  if (B > 0) {
    auto* ids = step_ids.data_ptr<std::int64_t>();
    row_slots.clear();
    for (std::int64_t b = 0; b < B; ++b) {
      ids[b] = group[b]->next_token;
      row_slots.push_back(group[b]->slot);
    }
    inputs.push_back({step_ids.narrow(0, 0, B).to(where.device),  // (B, 1)
                      row_slots, model::logits_for::last});
  }
  for (auto* s : model_drafted) {
    std::vector<std::int64_t> ids{s->next_token};
    ids.insert(ids.end(), s->draft.begin(), s->draft.end());
    const auto n = static_cast<std::int64_t>(ids.size());
    inputs.push_back({torch::tensor(ids, torch::kLong)
                        .view({1, n})
                        .to(where.device),  // (1, 1 + draft)
                      {s->slot}, model::logits_for::all});
  }
  for (const auto& c : model_chunks) {
    auto& s = *c.s;
    inputs.push_back({s.prompt.narrow(0, s.prefilled, c.tokens)
                        .view({1, c.tokens}),  // (1, n)
                      {s.slot}, model::logits_for::last});
  }
  auto logits = m.gpt->forward_cached(inputs, m.cache);
  std::size_t next = 0;
  if (B > 0) {
    sample(logits[next++].view({B, m.vocab}), group);  // (B, 1, V)
    for (std::int64_t b = 0; b < B; ++b)
      accept(*group[b], &sampled[b], 1, emitted);
  }
  for (auto* s : model_drafted)
    verify(*s, logits[next++][0], emitted);  // (1 + draft, V)
  for (const auto& c : model_chunks) {
    auto& s = *c.s;
    const auto& last = logits[next++];  // (1, 1, V)
    s.prefilled += c.tokens;
    if (s.prefilled == s.prompt.size(0)) {
      one_row.assign(1, &s);
      sample(last.view({1, m.vocab}), one_row);
      accept(s, sampled.data(), 1, emitted);
    }
  }
}

void engine::impl::sample(const at::Tensor& logits,
                          const std::vector<running_sequence*>& rows_of) {
  // One argmax and one device-to-host copy serve every greedy row; the
  // others draw from their own seeded generator, split over the kernels'
  // threads (a draw over the 100M shape's vocabulary takes 0.1-0.2 ms).
  auto best = logits.argmax(-1).to(torch::kCPU);  // (B)
  const auto* best_ids = best.data_ptr<std::int64_t>();
  sampled.resize(rows_of.size());
  drawn.clear();
  for (size_t b = 0; b < rows_of.size(); ++b) {
    if (rows_of[b]->greedy)
      sampled[b] = best_ids[b];
    else
      drawn.push_back(b);
  }
  if (drawn.empty())
    return;
  const auto host = logits.to(torch::kCPU, torch::kFloat);  // (B, V)
  model::cpu_thread_team::shared().run(
    static_cast<std::int64_t>(drawn.size()),
    [&](std::int64_t begin, std::int64_t end) {
      for (auto i = begin; i < end; ++i) {
        const auto b = drawn[static_cast<size_t>(i)];
        sampled[b] =
          rows_of[b]->sampler.sample(host[static_cast<std::int64_t>(b)]);
      }
    });
}

void engine::impl::verify(running_sequence& s, const at::Tensor& logits,
                          std::int64_t& emitted) {
  const auto& draft = s.draft;
  const auto k = draft.size();
  const auto& stops = s.request.stop_tokens;
  // Whether the draft goes on past position i: its token was sampled again
  // and does not end the sequence (a stop token is never fed).
  auto draft_holds = [&](std::size_t i) {
    const auto token = verified.back();
    return i < k && token == draft[i]
           && std::find(stops.begin(), stops.end(), token) == stops.end();
  };
  // The sequence's generator draws once per token, as without a draft, so
  // a seeded reply draws the same whether or not this step drafted.
  // Greedy rows take one argmax over all positions; the others copy the
  // logits to the host once and draw from them position by position.
  const auto host = s.greedy ? logits.argmax(-1).to(torch::kCPU)  // (1 + k)
                             : logits.to(torch::kCPU, torch::kFloat);
  auto draw = [&](std::size_t i) -> std::int64_t {
    const auto at = static_cast<std::int64_t>(i);
    return s.greedy ? host.data_ptr<std::int64_t>()[at]
                    : s.sampler.sample(host[at]);  // host (1 + k, V)
  };
  verified.clear();
  for (std::size_t i = 0; i <= k; ++i) {
    verified.push_back(draw(i));
    if (!draft_holds(i))
      break;
  }
  // The cache took next_token and the whole draft; next_token and the
  // draft tokens that held stay.
  const auto confirmed = static_cast<std::int64_t>(verified.size()) - 1;
  const auto start = s.model->cache.length(s.slot)
                     - static_cast<std::int64_t>(k) - 1;
  accept(s, verified.data(), verified.size(), emitted);
  s.model->cache.truncate(s.slot, start + 1 + confirmed);
  std::lock_guard<std::mutex> lock(mutex);
  drafts.proposed += static_cast<std::int64_t>(k);
  drafts.accepted += confirmed;
}

void engine::impl::accept(running_sequence& s, const std::int64_t* tokens,
                          std::size_t count, std::int64_t& emitted) {
  const auto& stops = s.request.stop_tokens;
  std::vector<std::int32_t> sent;
  for (std::size_t i = 0; i < count && s.finish == nullptr; ++i) {
    const auto token = tokens[i];
    if (std::find(stops.begin(), stops.end(), token) != stops.end()) {
      s.finish = "stop";
      break;
    }
    ++s.generated;
    ++emitted;
    s.fed.push_back(static_cast<std::int32_t>(token));
    sent.push_back(static_cast<std::int32_t>(token));
    // The last sampled token is never fed, so a full cache still yields
    // one: fed holds the cache's tokens and this one.
    if (s.generated >= s.request.sampling.max_tokens
        || static_cast<std::int64_t>(s.fed.size()) > s.model->context)
      s.finish = "length";
    else
      s.next_token = token;
  }
  if (!sent.empty())
    s.observer.on_tokens(std::move(sent));
}

void engine::impl::retire_finished() {
  auto done = std::stable_partition(
    running.begin(), running.end(),
    [](const running_sequence& s) { return s.finish == nullptr; });
  if (done == running.end())
    return;
  retired.assign(std::make_move_iterator(done),
                 std::make_move_iterator(running.end()));
  running.erase(done, running.end());
  for (auto& s : retired)
    s.model->prefixes.keep(s.slot, std::move(s.fed));
  publish_running();
  // Ended after the count dropped, so an observer sees it current.
  for (auto& s : retired)
    s.observer.on_end(generation_result{
      s.request.id, static_cast<std::int32_t>(s.prompt.size(0)), s.generated,
      s.finish, s.model->id});
  retired.clear();
}

void engine::impl::fail_running(const caf::error& why) {
  retired.swap(running);
  // A failed step may have written part of any of its models' caches.
  for (auto& s : retired) {
    s.model->prefixes.release(s.slot);
    s.model->prefixes.clear();
  }
  publish_running();
  for (auto& s : retired)
    s.observer.on_end(why);
  retired.clear();
}

void engine::impl::publish_running() {
  std::lock_guard<std::mutex> lock(mutex);
  running_count = static_cast<std::int32_t>(running.size());
  count_kept_slots();
}

void engine::impl::count_kept_slots() {
  kept_slots = 0;
  for (const auto& [id, m] : models)
    kept_slots += static_cast<std::int64_t>(m->prefixes.kept());
}

void engine::impl::publish(clock_type::time_point begin, std::int64_t batch,
                           std::int64_t emitted) {
  bool new_peak = false;
  {
    std::lock_guard<std::mutex> lock(mutex);
    tokens_generated += emitted;
    meter.record(begin, emitted);
    if (batch > peak_batch) {
      peak_batch = static_cast<std::int32_t>(batch);
      new_peak = true;
    }
  }
  if (new_peak)
    log::info("engine", "batch").kv("size", batch);
}

void engine::impl::shut_down() {
  const auto why = make_error(errc::engine_failure,
                              "the worker is shutting down; retry on another "
                              "worker");
  fail_running(why);
  std::deque<waiting_sequence> left;
  {
    std::lock_guard<std::mutex> lock(mutex);
    left.swap(waiting);
  }
  for (auto& w : left)
    w.observer.on_end(why);
}

// -- engine --

engine::engine(const engine_options& options)
  : impl_(std::make_unique<impl>(options)) {
  impl_->thread = std::thread([state = impl_.get()] { state->run(); });
}

engine::~engine() {
  stop();
}

caf::error engine::submit(generate_request request,
                          sequence_observer observer) {
  {
    // All under the lock, so no model is held outside a sequence (see
    // take_unused_models).
    std::lock_guard<std::mutex> lock(impl_->mutex);
    if (impl_->stopping)
      return make_error(errc::engine_failure,
                        "the worker is shutting down; retry on another "
                        "worker");
    const auto& id = request.model_id.empty() ? impl_->active_id
                                              : request.model_id;
    auto model = impl_->models.find(id);
    if (model == impl_->models.end())
      return make_error(errc::model_unavailable,
                        "request " + std::to_string(request.id)
                          + ": model '" + id
                          + "' is not loaded on this worker; retry");
    const auto& m = *model->second;
    if (auto err = check_request(request, m.vocab, m.context))
      return err;
    if (impl_->waiting.size() >= static_cast<size_t>(impl_->options.max_queue))
      return make_error(errc::queue_full,
                        "request " + std::to_string(request.id) + ": all "
                          + std::to_string(impl_->options.max_queue)
                          + " queue places are taken; retry later");
    impl_->waiting.push_back(
      {std::move(request), std::move(observer), model->second});
  }
  impl_->wake.notify_one();
  return {};
}

void engine::cancel(std::uint64_t id) {
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->cancels.push_back(id);
  }
  impl_->wake.notify_one();
}

worker_status engine::status() const {
  worker_status s;
  s.device = impl_->device_name;
  s.max_batch = impl_->options.max_batch;
  std::lock_guard<std::mutex> lock(impl_->mutex);
  s.model_id = impl_->active_id;
  s.running = impl_->running_count;
  s.queued = static_cast<std::int32_t>(impl_->waiting.size());
  s.peak_batch = impl_->peak_batch;
  s.tokens_per_sec = impl_->meter.tokens_per_sec(clock_type::now());
  s.tokens_generated = impl_->tokens_generated;
  for (const auto& [id, m] : impl_->models)
    s.kv_slots_total += m->cache.max_slots();
  // Sequences admitted but not yet started still count kept slots that
  // they are about to take over: never more than there are.
  s.kv_slots_used = std::min(s.kv_slots_total,
                             s.running + impl_->kept_slots);
  s.prefix = impl_->prefix;
  s.drafts = impl_->drafts;
  return s;
}

prefix_reuse_stats engine::prefix_stats() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->prefix;
}

void engine::stop() {
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->wake.notify_all();
  if (impl_->thread.joinable())
    impl_->thread.join();
}

caf::expected<std::string> engine::load(const std::string& id,
                                        const std::string& dir) {
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    if (!id.empty() && impl_->models.count(id) != 0) {
      impl_->last_loaded_id = id;
      return id;
    }
  }
  model_ptr loaded;
  try {
    loaded = std::make_shared<loaded_model>(
      id, dir, impl_->where, impl_->options.max_batch,
      impl_->options.prefix_cache_slots);
  } catch (const std::exception& e) {
    log::warn("engine", "cannot load model")
      .kv("model", id)
      .kv("what", e.what());
    return make_error(errc::model_load_failed,
                      "model '" + id + "': " + e.what());
  }
  log_loaded(*loaded, impl_->where);
  auto loaded_id = loaded->id;
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    // A load of the same id that finished first wins; this copy is dropped.
    impl_->models.emplace(loaded_id, std::move(loaded));
    impl_->last_loaded_id = loaded_id;
    impl_->unload_due = true;
  }
  impl_->wake.notify_one();
  return loaded_id;
}

caf::expected<std::vector<std::string>>
engine::activate(const std::string& id) {
  std::vector<std::string> kept;
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    if (impl_->models.count(id) == 0)
      return make_error(errc::model_unavailable,
                        "model '" + id
                          + "' is not loaded on this worker; load it first");
    if (id != impl_->active_id) {
      impl_->previous_id = impl_->active_id;
      impl_->active_id = id;
      impl_->unload_due = true;
      log::info("engine", "model activated")
        .kv("model", id)
        .kv("previous", impl_->previous_id);
    }
    kept.push_back(id);
    if (!impl_->previous_id.empty() && impl_->previous_id != id)
      kept.push_back(impl_->previous_id);
  }
  impl_->wake.notify_one();
  return kept;
}

std::vector<std::string> engine::loaded_models() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  std::vector<std::string> ids;
  for (const auto& [id, m] : impl_->models)
    ids.push_back(id);
  return ids;
}

std::string engine::model_id() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->active_id;
}

const std::string& engine::device_name() const {
  return impl_->device_name;
}

std::int64_t engine::context() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->models.at(impl_->active_id)->context;
}

std::int64_t engine::vocab_size() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->models.at(impl_->active_id)->vocab;
}

} // namespace chat::worker
