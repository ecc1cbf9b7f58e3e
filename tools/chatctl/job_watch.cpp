#include "tools/chatctl/job_watch.hpp"

#include "tools/chatctl/cli.hpp"
#include "tools/chatctl/job_events.hpp"

#include <ostream>

namespace chat::cli {

namespace {

using json = nlohmann::json;

std::string status_of(const json& job) {
  auto it = job.find("status");
  return it != job.end() && it->is_string() ? it->get<std::string>() : "";
}

json field(const json& job, const char* key) {
  auto it = job.find(key);
  return it != job.end() ? *it : json();
}

std::int64_t max_steps_of(const json& job) {
  auto progress = field(job, "progress");
  auto max = progress.is_object() ? field(progress, "max_steps") : json();
  return max.is_number_integer() ? max.get<std::int64_t>() : 0;
}

/// Streams shorter than this without a new event count as failing (an
/// idle timeout takes far longer).
constexpr std::chrono::seconds quick_end(5);
/// Quick ends in a row before giving up.
constexpr int max_quick_ends = 3;

} // namespace

int follow_job(const job_source& source, std::ostream& out, bool raw_json) {
  auto job = source.get_job();
  job_event_follower follower(out, raw_json, max_steps_of(job));
  int quick_ends = 0;
  while (true) {
    follower.reconnect();
    auto began = source.now();
    std::string broken;
    try {
      source.stream_events(
        [&](const std::string& data) { follower.feed(data); });
    } catch (const http_error&) {
      throw;
    } catch (const cli_error& e) {
      // A lost or idle connection: the job tells whether to go on.
      broken = e.what();
    }
    if (!follower.final_status().empty())
      return job_exit_code(follower.final_status());
    job = source.get_job();
    auto status = status_of(job);
    if (is_final_job_status(status)) {
      json last = {{"type", "status"},
                   {"status", status},
                   {"error", field(job, "error")},
                   {"result_model_id", field(job, "result_model_id")}};
      out << (raw_json ? last.dump() : job_event_line(last)) << "\n";
      return job_exit_code(status);
    }
    if (follower.progressed() || source.now() - began >= quick_end) {
      quick_ends = 0;
      continue;
    }
    if (++quick_ends == max_quick_ends)
      throw cli_error("the event stream keeps ending while the job is "
                      + status + (broken.empty() ? "" : " (" + broken + ")"));
    source.pause();
  }
}

} // namespace chat::cli
