#pragma once

#include <cstdint>

#include "training/job_spec.hpp"

namespace chat::training {

/// Learning rate for optimizer step `step` (0-based): linear warmup to
/// hyper.lr over warmup_steps, then cosine decay to min_lr at max_steps.
double lr_at(int64_t step, const hyper_params& hyper);

}  // namespace chat::training
