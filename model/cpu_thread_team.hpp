#pragma once
// A fixed team of threads that splits one loop per call, for kernels that
// run dozens of times per decode step: a call costs a few microseconds
// (the helpers spin briefly between calls before they sleep), where
// starting threads or LibTorch's intra-op pool costs far more at this size.

#include <cstdint>
#include <functional>
#include <memory>

namespace chat::model {

class cpu_thread_team {
 public:
  /// The process-wide team; its size is set_cpu_kernel_threads' or, by
  /// default, the number of hardware threads.
  static cpu_thread_team& shared();

  explicit cpu_thread_team(int threads);
  ~cpu_thread_team();
  cpu_thread_team(const cpu_thread_team&) = delete;
  cpu_thread_team& operator=(const cpu_thread_team&) = delete;

  int size() const;

  /// Runs body(begin, end) over [0, count) split into size() contiguous
  /// parts, one per thread, the caller's thread included; returns when all
  /// parts are done. While the team serves one caller, others (other
  /// threads, nested calls) run their whole loop on their own thread. When
  /// body throws, no further parts start, and the first exception is
  /// rethrown here once every thread has left the loop.
  void run(int64_t count,
           const std::function<void(int64_t begin, int64_t end)>& body);

 private:
  struct state;
  std::unique_ptr<state> state_;
};

/// Sizes the shared team before its first use; 0 means the hardware's
/// thread count. Later calls have no effect.
void set_cpu_kernel_threads(int threads);

/// Makes OpenBLAS, where LibTorch's CPU ops call it, run on the calling
/// thread only. Its own pool busy-waits after each call and so takes the
/// cores from this team: in a 64-token prefill on the reference VM its
/// waiting thread held 11% of the CPU time, and prefill ran 13-16% faster
/// without it. Returns false where OpenBLAS is not loaded.
bool run_blas_on_calling_thread();

}  // namespace chat::model
