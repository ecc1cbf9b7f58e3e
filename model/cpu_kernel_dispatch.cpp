#include "model/cpu_kernel_args.hpp"

namespace chat::model::detail {

const cpu_kernels* best_cpu_kernels() {
#if defined(__x86_64__)
  static const cpu_kernels* const chosen = []() -> const cpu_kernels* {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return &avx512_kernels;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
      return &avx2_kernels;
    return nullptr;
  }();
  return chosen;
#else
  return nullptr;
#endif
}

}  // namespace chat::model::detail
