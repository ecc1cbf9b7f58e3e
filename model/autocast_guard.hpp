#pragma once

#include <ATen/autocast_mode.h>

namespace chat::model {

/// Turns CUDA autocast on (or off) with a given lower-precision dtype for a
/// scope and restores the previous setting after it. Autocast state is per
/// thread, so code that runs on autograd's threads sets it itself.
class autocast_guard {
 public:
  autocast_guard(bool enabled, at::ScalarType dtype)
      : was_enabled_(at::autocast::is_enabled()),
        was_dtype_(at::autocast::get_autocast_gpu_dtype()) {
    at::autocast::set_enabled(enabled);
    at::autocast::set_autocast_gpu_dtype(dtype);
  }
  ~autocast_guard() {
    at::autocast::set_enabled(was_enabled_);
    at::autocast::set_autocast_gpu_dtype(was_dtype_);
    // Cached low-precision weight copies must not outlive the scope.
    at::autocast::clear_cache();
  }
  autocast_guard(const autocast_guard&) = delete;
  autocast_guard& operator=(const autocast_guard&) = delete;

 private:
  bool was_enabled_;
  at::ScalarType was_dtype_;
};

}  // namespace chat::model
