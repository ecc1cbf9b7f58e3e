// chat-train: runs one training job from a JSON job spec and reports
// progress as one JSON object per line on stdout.
//
//   chat-train --spec job.json
//
// Exit codes: 0 done, 1 failed (an "error" line says why), 2 bad usage,
// 3 stopped by SIGTERM/SIGINT after writing a checkpoint.

#include <atomic>
#include <csignal>
#include <cstring>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "training/heap_reuse.hpp"
#include "training/job_spec.hpp"
#include "training/train.hpp"

namespace {

std::atomic<bool> stop_requested{false};
static_assert(std::atomic<bool>::is_always_lock_free,
              "the signal handler needs a lock-free flag");

extern "C" void request_stop(int) { stop_requested.store(true); }

void print(const nlohmann::json& event) {
  std::cout << event.dump() << std::endl;  // flushed: chatd reads live
}

}  // namespace

int main(int argc, char** argv) {
  chat::training::reuse_freed_heap_memory();
  if (argc != 3 || std::strcmp(argv[1], "--spec") != 0) {
    print({{"type", "error"},
           {"message", "usage: chat-train --spec <job.json>"}});
    return 2;
  }
  std::signal(SIGTERM, request_stop);
  std::signal(SIGINT, request_stop);
  try {
    const auto spec = chat::training::read_job_spec(argv[2]);
    const auto result =
        chat::training::run_training_job(spec, print, stop_requested);
    const bool stopped =
        result.outcome == chat::training::train_outcome::stopped;
    print({{"type", "done"},
           {"outcome", stopped ? "stopped" : "finished"},
           {"step", result.step},
           {"checkpoint", result.checkpoint.string()}});
    return stopped ? 3 : 0;
  } catch (const std::exception& e) {
    print({{"type", "error"}, {"message", e.what()}});
    return 1;
  }
}
