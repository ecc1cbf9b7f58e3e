#pragma once

#include "actors/child_process.hpp"
#include "actors/jobs/job_prep.hpp"
#include "actors/jobs/job_request.hpp"
#include "actors/jobs/trainer_events.hpp"

#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace chat {

/// How chatd runs training jobs.
struct job_runner_spec {
  /// Jobs' files go to <data_dir>/jobs/<job_id>/, models to
  /// <data_dir>/models/<model_id>/.
  std::string data_dir;
  /// Path of the chat-train binary.
  std::string trainer;
  /// Device for jobs that ask for "auto" ("auto": chat-train picks).
  std::string device = "auto";
  /// The store actor.
  caf::actor store;
  /// Hot-swaps the service to a registered model (auto_activate) and calls
  /// back once with the failure, if any; runs nothing that blocks.
  std::function<void(std::string model_id,
                     std::function<void(std::optional<std::string> failure)>)>
    activate;
  std::chrono::milliseconds poll_interval{200};
};

/// A job the store handed to the runner, with what running it needs. An
/// empty id: no job waits.
struct claimed_job {
  std::string id;
  /// The status it had: queued jobs start afresh, preparing and running
  /// ones resume (chatd restarted while they ran).
  std::string status;
  job_request request;
  prep_plan plan;
  /// Finetune: the base model's checkpoint directory.
  std::string base_checkpoint;
};

} // namespace chat

// Only ever sent between actors of one process.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(chat::claimed_job)

namespace chat {

/// State of the actor that runs training jobs, one at a time.
///
///   idle --claimed--> preparing --prepared--> [waiting] --> training
///    ^                    |                                    |
///    +---- failed / cancelled / succeeded (model registered) --+
///
/// "waiting": a chat-train from before a chatd restart still finishes its
/// last checkpoint in the job's directory; the new one starts after it.
struct job_runner_state {
  static inline constexpr const char* name = "job_runner";

  enum class phase { idle, claiming, preparing, waiting, training };

  job_runner_spec spec;
  phase now = phase::idle;
  std::optional<claimed_job> job;
  bool cancel_requested = false;
  /// When waiting for an earlier trainer began.
  std::optional<std::chrono::steady_clock::time_point> waiting_since;

  std::optional<child_process> trainer;
  /// The trainer printed `start`: SIGTERM is safe from now on.
  bool trainer_started = false;
  bool sigterm_sent = false;
  /// Where reading the trainer's stdout file goes on.
  std::uint64_t output_offset = 0;
  std::string partial_line;
  trainer_progress progress;
  std::optional<std::string> trainer_error;
  std::optional<std::string> final_checkpoint;

  /// Events not yet recorded, with whether progress changed.
  std::vector<std::pair<std::string, std::string>> pending_events;
  bool progress_changed = false;

  std::string job_dir() const;
};

/// Takes queued jobs one at a time (and first the ones a chatd restart
/// interrupted): prepares their data in a detached actor, runs chat-train
/// with stdout and stderr in files of the job's directory, turns its lines
/// into job events and progress, stops it on cancel, and registers the
/// final checkpoint as a model. Polls the store every poll_interval.
caf::behavior job_runner(caf::stateful_actor<job_runner_state>* self,
                         job_runner_spec spec);

} // namespace chat
