#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <iosfwd>
#include <string>

namespace chat::cli {

/// What `follow_job` works from; chatctl's come from the API, tests' from
/// scripts.
struct job_source {
  /// `GET /admin/jobs/{id}`.
  std::function<nlohmann::json()> get_job;
  /// One connection to `GET /admin/jobs/{id}/events`: calls `on_data` with
  /// the SSE body as it arrives, returns when the stream ends. Throws
  /// http_error when the server refuses, cli_error when the connection
  /// fails or idles out.
  std::function<void(const std::function<void(const std::string&)>& on_data)>
    stream_events;
  std::function<std::chrono::steady_clock::time_point()> now;
  /// Waits a moment before connecting again.
  std::function<void()> pause;
};

/// `chatctl jobs watch`: prints the job's events (lines, or JSON with
/// `raw_json`) until it is final, reconnecting when a stream ends early
/// (every connection replays from the start; nothing prints twice).
/// Returns the exit code: 0 when the job succeeded, 1 otherwise.
/// @throws http_error at once; cli_error when the stream keeps ending
///         without news while the job is not final.
int follow_job(const job_source& source, std::ostream& out, bool raw_json);

} // namespace chat::cli
