#include "training/grad_scaler.hpp"

#include <torch/torch.h>

namespace chat::training {

grad_scaler::grad_scaler(bool enabled, double init_scale, double growth_factor,
                         double backoff_factor, int64_t growth_interval)
    : enabled_(enabled),
      scale_(enabled ? init_scale : 1.0),
      growth_factor_(growth_factor),
      backoff_factor_(backoff_factor),
      growth_interval_(growth_interval) {}

at::Tensor grad_scaler::scale(const at::Tensor& loss) const {
  return enabled_ ? loss * scale_ : loss;
}

bool grad_scaler::unscale(const std::vector<at::Tensor>& params) const {
  if (!enabled_) return true;
  torch::NoGradGuard no_grad;
  std::vector<at::Tensor> finite;
  for (const auto& p : params) {
    auto g = p.grad();
    if (!g.defined()) continue;
    g.mul_(1.0 / scale_);
    finite.push_back(torch::isfinite(g).all());
  }
  // One device-to-host sync for all parameters.
  return finite.empty() || torch::stack(finite).all().item<bool>();
}

void grad_scaler::update(bool grads_finite) {
  if (!enabled_) return;
  if (!grads_finite) {
    scale_ *= backoff_factor_;
    growth_tracker_ = 0;
  } else if (++growth_tracker_ == growth_interval_) {
    scale_ *= growth_factor_;
    growth_tracker_ = 0;
  }
}

void grad_scaler::restore(double scale, int64_t growth_tracker) {
  scale_ = scale;
  growth_tracker_ = growth_tracker;
}

}  // namespace chat::training
