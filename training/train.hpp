#pragma once
// One training job, start to finish: what chat-train runs.

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>

#include <nlohmann/json.hpp>

#include "training/job_spec.hpp"

namespace chat::training {

/// Receives one JSON object per event: start, step, eval, checkpoint, done.
using event_sink = std::function<void(const nlohmann::json&)>;

/// How a job ended.
enum class train_outcome {
  finished,  ///< reached max_steps
  stopped,   ///< stop was requested; a checkpoint holds the progress
};

/// Where a job ended.
struct train_result {
  train_outcome outcome = train_outcome::finished;
  int64_t step = 0;                   ///< optimizer steps done
  std::filesystem::path checkpoint;   ///< the last checkpoint written
};

/// Runs the job. When spec.out_dir already holds checkpoints of this job,
/// resumes exactly from the newest. `stop` is checked after every step:
/// once set, the step is finished, a checkpoint written and the job
/// returns `stopped`. Throws std::runtime_error on any failure, including a
/// NaN or infinite loss.
train_result run_training_job(const job_spec& spec, const event_sink& emit,
                              const std::atomic<bool>& stop);

/// The checkpoint directory name for a step, "step-00000100".
std::string checkpoint_name(int64_t step);

}  // namespace chat::training
