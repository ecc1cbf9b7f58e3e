#include "training/lr_schedule.hpp"

#include <algorithm>
#include <cmath>

namespace chat::training {

double lr_at(int64_t step, const hyper_params& h) {
  if (step < h.warmup_steps)
    return h.lr * static_cast<double>(step + 1) /
           static_cast<double>(h.warmup_steps + 1);
  if (step >= h.max_steps || h.max_steps <= h.warmup_steps) return h.min_lr;
  const double ratio = static_cast<double>(step - h.warmup_steps) /
                       static_cast<double>(h.max_steps - h.warmup_steps);
  const double coeff =
      0.5 * (1.0 + std::cos(M_PI * std::clamp(ratio, 0.0, 1.0)));
  return h.min_lr + coeff * (h.lr - h.min_lr);
}

}  // namespace chat::training
