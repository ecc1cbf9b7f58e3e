#include "model/device.hpp"

#include <stdexcept>

#include <torch/cuda.h>

namespace chat::model {

device_choice choose_device(const std::string& device,
                            const std::string& precision) {
  device_choice choice;
  const bool cuda = torch::cuda::is_available();
  if (device == "auto") {
    choice.device = c10::Device(cuda ? c10::kCUDA : c10::kCPU);
  } else if (device == "cpu" || device.rfind("cuda", 0) == 0) {
    try {
      choice.device = c10::Device(device);
    } catch (const std::exception&) {
      throw std::runtime_error("device '" + device +
                               "' is not a device name; use auto, cpu, cuda "
                               "or cuda:N");
    }
    if (choice.device.is_cuda() && !cuda)
      throw std::runtime_error("device '" + device +
                               "' requested but this LibTorch sees no CUDA "
                               "device; use device auto or cpu");
  } else {
    throw std::runtime_error("device '" + device +
                             "' is unknown; use auto, cpu, cuda or cuda:N");
  }

  const bool on_cuda = choice.device.is_cuda();
  if (precision == "auto") {
    // bf16 needs no loss scaling; every GPU this service targets has it.
    choice.dtype = on_cuda ? c10::kBFloat16 : c10::kFloat;
  } else if (precision == "fp32") {
    choice.dtype = c10::kFloat;
  } else if (precision == "bf16" || precision == "fp16") {
    if (!on_cuda)
      throw std::runtime_error("precision '" + precision +
                               "' needs CUDA; the CPU path runs fp32, so use "
                               "precision auto or fp32");
    choice.dtype = precision == "bf16" ? c10::kBFloat16 : c10::kHalf;
  } else {
    throw std::runtime_error("precision '" + precision +
                             "' is unknown; use auto, fp32, bf16 or fp16");
  }
  choice.weights = choice.dtype;
  choice.cache = choice.dtype;
  return choice;
}

device_choice choose_inference_device(const std::string& device,
                                      const std::string& precision) {
  if (precision != "bf16" || !choose_device(device, "auto").device.is_cpu())
    return choose_device(device, precision);
  auto choice = choose_device(device, "fp32");
  choice.weights = c10::kBFloat16;
  choice.cache = c10::kBFloat16;
  return choice;
}

std::string precision_name(c10::ScalarType dtype) {
  switch (dtype) {
    case c10::kFloat: return "fp32";
    case c10::kBFloat16: return "bf16";
    case c10::kHalf: return "fp16";
    default: return c10::toString(dtype);
  }
}

}  // namespace chat::model
