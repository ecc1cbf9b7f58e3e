#pragma once
// What exact resume needs beyond the weights: optimizer moments, step, the
// data sampler's RNG, the dropout RNG and the loss scaler. Stored in a
// checkpoint as train_state.json (small values) and train_state.pt (tensors,
// chat tensor file format).

#include <cstdint>
#include <filesystem>

#include <torch/optim/adamw.h>

#include "model/gpt.hpp"
#include "training/grad_scaler.hpp"
#include "training/window_sampler.hpp"

namespace chat::training {

/// The training objects whose state a checkpoint carries.
struct resumable {
  model::gpt& model;
  torch::optim::AdamW& optimizer;
  window_sampler& train_data;
  window_sampler* text_data;  ///< the text_mix sampler, or null
  grad_scaler& scaler;
};

/// Writes train_state.json and train_state.pt into `dir` for step `step`.
void write_train_state(const std::filesystem::path& dir, int64_t step,
                       const resumable& state);

/// Restores what write_train_state wrote (the weights are loaded
/// separately) and returns the step. Throws when the files are missing or
/// do not match the model.
int64_t read_train_state(const std::filesystem::path& dir,
                         const resumable& state);

}  // namespace chat::training
