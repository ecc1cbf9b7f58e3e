#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace chat {

/// Descriptors a child gets as its stdout and stderr (-1: inherit). The
/// caller keeps and closes its own copies.
struct child_output {
  int stdout_fd = -1;
  int stderr_fd = -1;
};

/// A child process started with fork+exec. It gets SIGTERM when its parent
/// dies (PR_SET_PDEATHSIG), inherits no descriptors beyond stdin/out/err and
/// starts with no blocked signals.
class child_process {
public:
  /// Starts `argv[0]` with `argv`.
  /// @throws std::runtime_error when fork fails; an exec failure shows up as
  ///         exit code 127.
  explicit child_process(const std::vector<std::string>& argv,
                         child_output redirect = {});

  child_process(child_process&& other) noexcept;
  child_process& operator=(child_process&& other) noexcept;
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  /// Kills and reaps the process if it still runs.
  ~child_process();

  pid_t pid() const {
    return pid_;
  }

  /// Reaps the process if it has ended; returns its wait status then.
  std::optional<int> try_wait();

  /// Sends `signal` if the process still runs.
  void signal(int signal);

  /// SIGTERM, then SIGKILL after `grace`; reaps it. Returns the wait status.
  int stop(std::chrono::milliseconds grace);

  /// "exit code N" or "signal NAME" for a wait status.
  static std::string describe(int wait_status);

private:
  pid_t pid_ = -1;
  std::optional<int> status_;
};

} // namespace chat
