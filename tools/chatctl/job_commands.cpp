#include "tools/chatctl/cli.hpp"
#include "tools/chatctl/job_events.hpp"
#include "tools/chatctl/job_request.hpp"

#include <chrono>
#include <iostream>
#include <thread>

namespace chat::cli {

namespace {

using json = nlohmann::json;

const char* help = R"(chatctl jobs submit --type pretrain|finetune --dataset DATASET_ID ...
                    [--base-model MODEL_ID] [--auto-activate] [--watch]
                    [--n-layer N] [--n-head N] [--d-model N] [--context N]
                    [--vocab-size N]
                    [--max-steps N] [--batch-size N] [--grad-accum N]
                    [--lr X] [--min-lr X] [--warmup-steps N]
                    [--weight-decay X] [--grad-clip X] [--dropout X]
                    [--eval-interval N] [--eval-steps N]
                    [--checkpoint-interval N] [--seed N]
                    [--precision auto|fp32|bf16|fp16]
                    [--device auto|cpu|cuda|cuda:N]
chatctl jobs submit --spec FILE.json [any flag above]
  starts a training job. --dataset repeats; the model shape flags are for
  pretrain, --base-model for finetune (default: the active model).
  --spec sends the file's JSON object (POST /admin/jobs's body) with the
  flags given set over it. --auto-activate serves the result when the job
  succeeds; --watch follows the job as `jobs watch` does.
chatctl jobs list
chatctl jobs show JOB_ID
chatctl jobs cancel JOB_ID
chatctl jobs watch JOB_ID
  prints a line per event (step, eval, checkpoint, status) from the start,
  then live, until the job ends; with --json one event JSON per line.
  Exit code 0 when the job succeeded, 1 when it failed or was cancelled.
)";

std::string job_path(const std::string& id) {
  return "/admin/jobs/" + percent_encode(id);
}

std::string text_field(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

const json& progress(const json& job) {
  static const json none = json::object();
  auto it = job.find("progress");
  return it != job.end() && it->is_object() ? *it : none;
}

void list_jobs(const command_line& cl, const api_client& api) {
  auto answer = api.call("GET", "/admin/jobs");
  if (cl.json) {
    std::cout << answer.dump() << "\n";
    return;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& job : answer.at("data")) {
    const auto& p = progress(job);
    auto step = cell(p.value("step", json()));
    if (!step.empty() && p.contains("max_steps"))
      step += "/" + cell(p["max_steps"]);
    rows.push_back({cell(job.value("id", json())),
                    cell(job.value("type", json())),
                    cell(job.value("status", json())), step,
                    cell(p.value("train_loss", json())),
                    cell(p.value("val_loss", json())),
                    cell(job.value("result_model_id", json())),
                    cell(job.value("created_at", json()))});
  }
  print_table({"id", "type", "status", "step", "train_loss", "val_loss",
               "result_model_id", "created_at"},
              rows);
}

/// Follows the job's events until it is final; returns the exit code.
int watch_job(const command_line& cl, const api_client& api,
              const std::string& id) {
  auto job = api.call("GET", job_path(id));
  auto max_steps = progress(job).value("max_steps", json());
  job_event_follower follower(
    std::cout, cl.json,
    max_steps.is_number_integer() ? max_steps.get<std::int64_t>() : 0);
  int quick_ends = 0;
  while (true) {
    follower.reconnect();
    auto began = std::chrono::steady_clock::now();
    std::string broken;
    try {
      api.stream("GET", job_path(id) + "/events", nullptr,
                 [&](const std::string& data) { follower.feed(data); });
    } catch (const http_error&) {
      throw;
    } catch (const cli_error& e) {
      // Lost or idle connection: the job tells whether to go on.
      broken = e.what();
    }
    if (!follower.final_status().empty())
      return job_exit_code(follower.final_status());
    job = api.call("GET", job_path(id));
    auto status = text_field(job, "status");
    if (is_final_job_status(status)) {
      json last = {{"type", "status"},
                   {"status", status},
                   {"error", job.value("error", json())},
                   {"result_model_id", job.value("result_model_id", json())}};
      std::cout << (cl.json ? last.dump() : job_event_line(last)) << "\n";
      return job_exit_code(status);
    }
    // A stream that keeps ending at once without news would spin.
    bool quick = std::chrono::steady_clock::now() - began
                 < std::chrono::seconds(5);
    if (follower.progressed() || !quick) {
      quick_ends = 0;
      continue;
    }
    if (++quick_ends == 3)
      throw cli_error("the event stream of job " + id
                      + " keeps ending while the job is " + status
                      + (broken.empty() ? "" : " (" + broken + ")"));
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
}

int submit_job(const command_line& cl, const api_client& api) {
  auto job = api.call("POST", "/admin/jobs", job_request(cl));
  if (!cl.has("watch")) {
    show_object(cl, job);
    return 0;
  }
  auto id = text_field(job, "id");
  if (cl.json)
    std::cout << job.dump() << "\n";
  else
    std::cout << "job " << id << " submitted\n";
  return watch_job(cl, api, id);
}

} // namespace

int jobs_command(const command_line& cl) {
  if (cl.help) {
    std::cout << help;
    return 0;
  }
  api_client api(cl);
  const auto& sub = subcommand(cl);
  if (sub == "list" || sub.empty())
    list_jobs(cl, api);
  else if (sub == "submit")
    return submit_job(cl, api);
  else if (sub == "show")
    show_object(cl, api.call("GET", job_path(cl.arg(1, "JOB_ID"))));
  else if (sub == "cancel")
    show_object(cl,
                api.call("POST", job_path(cl.arg(1, "JOB_ID")) + "/cancel"));
  else if (sub == "watch")
    return watch_job(cl, api, cl.arg(1, "JOB_ID"));
  else
    unknown_subcommand(cl);
  return 0;
}

} // namespace chat::cli
