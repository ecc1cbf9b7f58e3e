// Compiled for AVX2 (see CMakeLists.txt); used only where the CPU has it.
#include "model/cpu_attention_kernel.hpp"
#include "model/cpu_gemm_kernel.hpp"
#include "model/cpu_linear_kernel.hpp"
#include "model/cpu_simd_ops.hpp"

namespace chat::model::detail {

const cpu_kernels avx2_kernels{linear_columns<avx2_ops, float>,
                                 linear_columns<avx2_ops, uint16_t>,
                                 gemm_panels<avx2_ops>,
                                 avx2_ops::lanes,
                                 gemm_tile_columns<avx2_ops>,
                                 cached_attention_items<avx2_ops, float>,
                                 cached_attention_spans<avx2_ops, float>,
                                 cached_attention_items<avx2_ops, uint16_t>,
                                 cached_attention_spans<avx2_ops, uint16_t>};

}  // namespace chat::model::detail
