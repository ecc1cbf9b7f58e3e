#include "model/cpu_thread_team.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
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

std::atomic<int> requested_threads{0};

}  // namespace

struct cpu_thread_team::state {
  int threads;
  std::vector<std::thread> helpers;
  std::mutex mutex;
  std::condition_variable wake;
  std::mutex busy;  // held by the one caller the helpers serve
  std::atomic<uint64_t> generation{0};
  std::atomic<int> pending{0};
  bool stopping = false;  // guarded by mutex
  const std::function<void(int64_t, int64_t)>* body = nullptr;
  int64_t count = 0;

  void run_part(int part) {
    const int64_t begin = count * part / threads;
    const int64_t end = count * (part + 1) / threads;
    if (begin < end) (*body)(begin, end);
  }

  void helper_loop(int part) {
    uint64_t seen = 0;
    for (;;) {
      const auto spin_until = std::chrono::steady_clock::now() +
                              spin_before_sleep;
      for (unsigned spins = 1;
           generation.load(std::memory_order_acquire) == seen; ++spins) {
        CHAT_CPU_RELAX();
        if (spins % 256 == 0 && std::chrono::steady_clock::now() > spin_until)
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
      run_part(part);
      pending.fetch_sub(1, std::memory_order_acq_rel);
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

cpu_thread_team::cpu_thread_team(int threads)
    : state_(std::make_unique<state>()) {
  state_->threads = std::max(1, threads);
  for (int part = 1; part < state_->threads; ++part)
    state_->helpers.emplace_back([s = state_.get(), part] {
      s->helper_loop(part);
    });
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
  s.pending.store(s.threads - 1, std::memory_order_relaxed);
  {
    // Publishing under the mutex pairs with a helper's sleep check, so no
    // helper misses a wake-up between its last spin and its wait.
    std::lock_guard lock(s.mutex);
    s.generation.fetch_add(1, std::memory_order_acq_rel);
  }
  s.wake.notify_all();
  s.run_part(0);
  while (s.pending.load(std::memory_order_acquire) != 0) CHAT_CPU_RELAX();
}

}  // namespace chat::model
