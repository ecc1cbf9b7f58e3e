#pragma once

#include <string>

#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

namespace chat::model {

/// Where the model runs and in which floating-point type it computes.
struct device_choice {
  c10::Device device = c10::Device(c10::kCPU);
  c10::ScalarType dtype = c10::kFloat;  ///< fp32 on CPU; bf16/fp16 on CUDA
  /// The matmul weights' type: dtype, or bf16 under fp32 compute on CPU.
  c10::ScalarType weights = c10::kFloat;
  /// The KV cache's type: dtype, or bf16 under fp32 compute on CPU.
  c10::ScalarType cache = c10::kFloat;
};

/// Resolves a requested device ("auto", "cpu", "cuda", "cuda:N") and
/// precision ("auto", "fp32", "bf16", "fp16"). auto picks CUDA when present,
/// then bf16 on CUDA and fp32 on CPU. Throws when the request cannot run here.
device_choice choose_device(const std::string& device,
                            const std::string& precision);

/// choose_device() for serving, where "bf16" on the CPU also runs: the
/// matmul weights and the KV cache in bf16 (half the bytes a decode step
/// reads from each), everything else in fp32.
device_choice choose_inference_device(const std::string& device,
                                      const std::string& precision);

/// "fp32", "bf16", "fp16" (or the dtype's name for others).
std::string precision_name(c10::ScalarType dtype);

}  // namespace chat::model
