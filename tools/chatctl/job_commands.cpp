#include "tools/chatctl/cli.hpp"
#include "tools/chatctl/job_request.hpp"
#include "tools/chatctl/job_watch.hpp"

#include <chrono>
#include <iostream>
#include <thread>

namespace chat::cli {

namespace {

using json = nlohmann::json;

const char* help =
  R"(chatctl jobs submit --type pretrain|finetune --dataset DATASET_ID ...
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

std::string submitted_id(const json& job) {
  auto it = job.find("id");
  if (it == job.end() || !it->is_string())
    throw cli_error("the server answered a job without an id");
  return it->get<std::string>();
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

int watch_job(const command_line& cl, const api_client& api,
              const std::string& id) {
  job_source source;
  source.get_job = [&] { return api.call("GET", job_path(id)); };
  source.stream_events = [&](const auto& on_data) {
    api.stream("GET", job_path(id) + "/events", nullptr, on_data);
  };
  source.now = [] { return std::chrono::steady_clock::now(); };
  source.pause = [] { std::this_thread::sleep_for(std::chrono::seconds(1)); };
  return follow_job(source, std::cout, cl.json);
}

int submit_job(const command_line& cl, const api_client& api) {
  auto job = api.call("POST", "/admin/jobs", job_request(cl));
  if (!cl.has("watch")) {
    show_object(cl, job);
    return 0;
  }
  auto id = submitted_id(job);
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
