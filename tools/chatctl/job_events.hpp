#pragma once

#include "tools/chatctl/sse_parser.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <iosfwd>
#include <string>

namespace chat::cli {

/// Whether a job in this status never changes again.
bool is_final_job_status(const std::string& status);

/// `chatctl jobs watch`'s exit code for a final status: 0 for succeeded.
int job_exit_code(const std::string& status);

/// One human line for one job event (`GET /admin/jobs/{id}/events`), e.g.
/// `step        120/1000  loss 2.3456  lr 3.00e-04  5120 tok/s`.
/// `max_steps` (0: unknown) completes the step count when the event lacks
/// it. Strings from the server are printed with control bytes replaced.
std::string job_event_line(const nlohmann::json& event,
                           std::int64_t max_steps = 0);

/// Follows a job's event stream over one or more connections: prints each
/// event once (by `seq`; every connection replays from the start), as a
/// line or, with `raw_json`, as its JSON, and notes the final status.
class job_event_follower {
public:
  job_event_follower(std::ostream& out, bool raw_json,
                     std::int64_t max_steps);

  /// Bytes of the current connection's SSE body.
  void feed(const std::string& bytes);

  /// A new connection begins (a partial event of the last one is dropped).
  void reconnect();

  /// The final status seen in a `status` event ("" while none).
  const std::string& final_status() const {
    return final_status_;
  }

  /// Whether this connection brought events not printed before.
  bool progressed() const {
    return progressed_;
  }

private:
  void handle(const sse_event& event);

  std::ostream& out_;
  bool raw_json_;
  std::int64_t max_steps_;
  std::int64_t last_seq_ = -1;
  std::string final_status_;
  bool progressed_ = false;
  sse_parser parser_;
};

} // namespace chat::cli
