// Non-x86 builds: no kernels, so best_cpu_kernels() is null and every
// product takes LibTorch's path.
#include "model/cpu_kernel_args.hpp"

namespace chat::model::detail {

const cpu_kernels avx2_kernels{nullptr, nullptr, nullptr, 0,      0,
                               nullptr, nullptr, nullptr, nullptr};
const cpu_kernels avx512_kernels{nullptr, nullptr, nullptr, 0,      0,
                                 nullptr, nullptr, nullptr, nullptr};

}  // namespace chat::model::detail
