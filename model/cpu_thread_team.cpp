#include "model/cpu_thread_team.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CHAT_CPU_RELAX() _mm_pause()
#else
#define CHAT_CPU_RELAX() std::this_thread::yield()
#endif

namespace chat::model {

namespace {

// Longer than the gaps between the matmuls of decode steps, so a helper
// never sleeps mid-generation: waking a sleeping thread costs tens of
// microseconds here (a VM), more than some of the matmuls themselves.
constexpr auto spin_before_sleep = std::chrono::milliseconds(2);

// Spinners yield the core this often, so that a preempted teammate (or
// another process) gets it back instead of waiting out a time slice.
constexpr unsigned spins_per_yield = 256;

// Parts per thread: a caller whose helper is preempted takes over the
// remaining parts instead of waiting for it.
constexpr int64_t parts_per_thread = 8;

std::atomic<int> requested_threads{0};

void relax(unsigned spins) {
  if (spins % spins_per_yield == 0)
    std::this_thread::yield();
  else
    CHAT_CPU_RELAX();
}

}  // namespace

struct cpu_thread_team::state {
  /// One helper thread's claim on a run: whoever (the helper, or the
  /// caller after it ran out of parts) first moves `claimed` to a run's
  /// generation decides whether the helper takes part in that run.
  struct helper_slot {
    std::atomic<uint64_t> claimed{0};
    std::atomic<uint64_t> done{0};
  };

  int threads;
  std::vector<std::thread> helpers;
  std::unique_ptr<helper_slot[]> slots;
  std::mutex mutex;
  std::condition_variable wake;
  std::mutex busy;  // held by the one caller the helpers serve
  std::atomic<uint64_t> generation{0};
  bool stopping = false;  // guarded by mutex
  // The current run; written before generation is bumped.
  const std::function<void(int64_t, int64_t)>* body = nullptr;
  int64_t count = 0;
  int64_t part = 1;
  std::atomic<int64_t> next{0};
  std::mutex failure_mutex;
  std::exception_ptr failure;  // the run's first exception; failure_mutex

  static bool claim(helper_slot& slot, uint64_t run) {
    auto seen = slot.claimed.load(std::memory_order_acquire);
    return seen < run && slot.claimed.compare_exchange_strong(
                             seen, run, std::memory_order_acq_rel);
  }

  void take_parts() {
    for (;;) {
      const auto begin = next.fetch_add(part, std::memory_order_relaxed);
      if (begin >= count) return;
      try {
        (*body)(begin, std::min(count, begin + part));
      } catch (...) {
        {
          std::lock_guard lock(failure_mutex);
          if (!failure) failure = std::current_exception();
        }
        next.store(count, std::memory_order_relaxed);  // no more parts
        return;
      }
    }
  }

  void helper_loop(helper_slot& slot) {
    uint64_t seen = 0;
    for (;;) {
      const auto spin_until =
          std::chrono::steady_clock::now() + spin_before_sleep;
      for (unsigned spins = 1;
           generation.load(std::memory_order_acquire) == seen; ++spins) {
        relax(spins);
        if (spins % spins_per_yield == 0 &&
            std::chrono::steady_clock::now() > spin_until)
          break;
      }
      if (generation.load(std::memory_order_acquire) == seen) {
        std::unique_lock lock(mutex);
        wake.wait(lock, [&] {
          return stopping || generation.load(std::memory_order_acquire) != seen;
        });
        if (stopping) return;
      }
      seen = generation.load(std::memory_order_acquire);
      if (!claim(slot, seen)) continue;
      take_parts();
      slot.done.store(seen, std::memory_order_release);
    }
  }
};

cpu_thread_team& cpu_thread_team::shared() {
  static cpu_thread_team team([] {
    const int asked = requested_threads.load();
    if (asked > 0) return asked;
    return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  }());
  return team;
}

void set_cpu_kernel_threads(int threads) { requested_threads = threads; }

bool run_blas_on_calling_thread() {
  // Looked up rather than linked: LibTorch may use another BLAS.
  using set_threads = void (*)(int);
  auto set = reinterpret_cast<set_threads>(
      ::dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  if (set == nullptr) return false;
  set(1);
  return true;
}

cpu_thread_team::cpu_thread_team(int threads)
    : state_(std::make_unique<state>()) {
  auto& s = *state_;
  s.threads = std::max(1, threads);
  s.slots = std::make_unique<state::helper_slot[]>(s.threads);
  for (int h = 1; h < s.threads; ++h)
    s.helpers.emplace_back([&s, h] { s.helper_loop(s.slots[h]); });
}

cpu_thread_team::~cpu_thread_team() {
  {
    std::lock_guard lock(state_->mutex);
    state_->stopping = true;
  }
  state_->wake.notify_all();
  for (auto& t : state_->helpers) t.join();
}

int cpu_thread_team::size() const { return state_->threads; }

void cpu_thread_team::run(
    int64_t count, const std::function<void(int64_t, int64_t)>& body) {
  auto& s = *state_;
  // A second caller (another thread decoding, or a nested call) runs alone
  // rather than wait: the result is the same, only slower.
  std::unique_lock serving(s.busy, std::try_to_lock);
  if (s.threads == 1 || !serving.owns_lock()) {
    if (count > 0) body(0, count);
    return;
  }
  s.body = &body;
  s.count = count;
  s.part = std::max<int64_t>(1, count / (s.threads * parts_per_thread));
  s.next.store(0, std::memory_order_relaxed);
  uint64_t run_id = 0;
  {
    // Publishing under the mutex pairs with a helper's sleep check, so no
    // helper misses a wake-up between its last spin and its wait.
    std::lock_guard lock(s.mutex);
    run_id = s.generation.fetch_add(1, std::memory_order_acq_rel) + 1;
  }
  s.wake.notify_all();
  s.take_parts();
  // Helpers that have not started are told not to; those that did hold at
  // most one part each.
  for (int h = 1; h < s.threads; ++h) {
    auto& slot = s.slots[h];
    if (state::claim(slot, run_id)) continue;
    for (unsigned spins = 1;
         slot.done.load(std::memory_order_acquire) != run_id; ++spins)
      relax(spins);
  }
  std::exception_ptr failed;
  {
    std::lock_guard lock(s.failure_mutex);
    failed = std::exchange(s.failure, nullptr);
  }
  if (failed) std::rethrow_exception(failed);
}

}  // namespace chat::model
