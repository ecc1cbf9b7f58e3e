#pragma once

#include <cstdint>
#include <vector>

#include <ATen/core/Tensor.h>

namespace chat::training {

/// Dynamic loss scaling for fp16 (PyTorch's GradScaler, which LibTorch does
/// not ship): scale the loss up so small gradients survive fp16, unscale
/// before clipping, skip steps whose gradients overflowed and back off.
/// Disabled it passes everything through (fp32, bf16).
class grad_scaler {
 public:
  explicit grad_scaler(bool enabled, double init_scale = 65536.0,
                       double growth_factor = 2.0, double backoff_factor = 0.5,
                       int64_t growth_interval = 2000);

  /// loss * scale.
  at::Tensor scale(const at::Tensor& loss) const;
  /// Divides the gradients by the scale; false when any is inf or NaN, in
  /// which case the optimizer step must be skipped.
  bool unscale(const std::vector<at::Tensor>& params) const;
  /// Backs off after an overflow, grows after growth_interval clean steps.
  void update(bool grads_finite);

  bool enabled() const { return enabled_; }
  double current_scale() const { return scale_; }
  int64_t growth_tracker() const { return growth_tracker_; }
  /// Restores the state saved in a checkpoint.
  void restore(double scale, int64_t growth_tracker);

 private:
  bool enabled_;
  double scale_;
  double growth_factor_;
  double backoff_factor_;
  int64_t growth_interval_;
  int64_t growth_tracker_ = 0;
};

}  // namespace chat::training
