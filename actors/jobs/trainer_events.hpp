#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace chat {

/// What one line of chat-train's stdout means for its job.
struct trainer_line {
  /// The job event to record (API.md: step, eval, checkpoint, log).
  std::string event_type;
  nlohmann::json event = nlohmann::json::object();
  /// The `start` line: the trainer handles SIGTERM from now on.
  bool started = false;
  /// An `error` line's message.
  std::optional<std::string> error;
  /// A `done` line of a finished run: the final checkpoint directory.
  std::optional<std::string> final_checkpoint;
};

/// Turns chat-train's JSON lines into job events and keeps the job's
/// progress (API.md: step, max_steps, train_loss, val_loss, lr,
/// tokens_per_sec, eta_s). Lines are untrusted: anything unexpected becomes
/// a "log" event with the (shortened) text.
class trainer_progress {
public:
  using clock = std::chrono::steady_clock;

  trainer_line read(std::string_view line, clock::time_point now);

  const nlohmann::json& progress() const {
    return progress_;
  }

private:
  nlohmann::json progress_ = nlohmann::json::object();
  /// Where this run's timing started, for eta_s.
  std::optional<clock::time_point> first_step_at_;
  std::int64_t first_step_ = 0;
};

} // namespace chat
