// Compiled for AVX512 (see CMakeLists.txt); used only where the CPU has it.
#include "model/cpu_attention_kernel.hpp"
#include "model/cpu_gemm_kernel.hpp"
#include "model/cpu_linear_kernel.hpp"
#include "model/cpu_simd_ops.hpp"

namespace chat::model::detail {

const cpu_kernels avx512_kernels{linear_columns<avx512_ops, float>,
                                 linear_columns<avx512_ops, uint16_t>,
                                 gemm_panels<avx512_ops>,
                                 avx512_ops::lanes,
                                 gemm_tile_columns<avx512_ops>,
                                 cached_attention_items<avx512_ops, float>,
                                 cached_attention_spans<avx512_ops, float>,
                                 cached_attention_items<avx512_ops, uint16_t>,
                                 cached_attention_spans<avx512_ops, uint16_t>};

}  // namespace chat::model::detail
