#include "actors/routes/routes.hpp"

#include "actors/api/api_error.hpp"
#include "actors/jobs/job_event_feed.hpp"
#include "actors/jobs/job_request.hpp"
#include "actors/routes/request_fields.hpp"
#include "storage/database.hpp"
#include "storage/ids.hpp"

#include <nlohmann/json.hpp>

namespace chat {

namespace {

using json = nlohmann::json;

json job_json(const storage::job_record& j) {
  auto opt_int = [](const std::optional<std::int64_t>& v) {
    return v ? json(*v) : json(nullptr);
  };
  auto opt_text = [](const std::optional<std::string>& v) {
    return v ? json(*v) : json(nullptr);
  };
  auto recorded = json::parse(j.progress, nullptr, false);
  json progress = json::object();
  for (const char* key : {"step", "max_steps", "train_loss", "val_loss", "lr",
                          "tokens_per_sec", "eta_s"})
    progress[key] = recorded.is_object() ? recorded.value(key, json(nullptr))
                                         : json(nullptr);
  auto request = json::parse(j.request, nullptr, false);
  auto asked = [&](const char* key) {
    return request.is_object() ? request.value(key, json(nullptr))
                               : json(nullptr);
  };
  return {{"id", j.id},
          {"object", "job"},
          {"type", j.type},
          {"status", j.status},
          {"created_at", j.created_at},
          {"started_at", opt_int(j.started_at)},
          {"finished_at", opt_int(j.finished_at)},
          {"progress", progress},
          {"result_model_id", opt_text(j.result_model_id)},
          {"error", opt_text(j.error)},
          {"dataset_ids", asked("dataset_ids")},
          {"base_model_id", asked("base_model_id")},
          {"auto_activate", asked("auto_activate")}};
}

storage::job_record find_job(store_context& db, const std::string& id) {
  auto job = db.jobs.find(id);
  if (!job)
    throw api::api_error(404, "job_not_found", "no job with id '" + id + "'");
  return *job;
}

api::api_error invalid(const std::string& param, const std::string& message) {
  return api::api_error(422, "invalid_job", message, param);
}

/// Checks what the request names against the database; a finetune job
/// without base_model_id gets the active model.
void resolve_references(store_context& db, job_request& r) {
  for (const auto& id : r.dataset_ids) {
    auto d = db.datasets.find(id);
    if (!d)
      throw invalid("dataset_ids", "'dataset_ids': no dataset '" + id + "'");
    // A text dataset has no assistant turns to learn from.
    if (r.type == "finetune" && d->kind != "chat")
      throw invalid("dataset_ids", "'dataset_ids': '" + id
                                     + "' is a text dataset; a finetune job "
                                       "takes chat datasets");
  }
  if (r.type != "finetune")
    return;
  if (r.base_model_id) {
    if (!db.models.find(*r.base_model_id))
      throw invalid("base_model_id",
                    "'base_model_id': no model '" + *r.base_model_id + "'");
    return;
  }
  auto active = db.models.active();
  if (!active)
    throw invalid("base_model_id", "no model is active; give 'base_model_id'");
  r.base_model_id = active->id;
}

void submit_job(api_call& call, store_context& db) {
  auto request = parse_job_request(object_body(call.req.body));
  resolve_references(db, request);
  storage::job_record job;
  job.id = storage::new_id("job");
  job.type = request.type;
  // auto_activate is kept with the job: the activation module activates
  // the model a succeeded job registered.
  job.request = request.to_json().dump();
  job.created_at = storage::now_seconds();
  db.jobs.insert(job, request.dataset_ids);
  call.done->send(http::json_response(201, job_json(*db.jobs.find(job.id))
                                             .dump()));
}

void list_jobs(api_call& call, store_context& db) {
  json data = json::array();
  for (const auto& j : db.jobs.list())
    data.push_back(job_json(j));
  call.done->send(http::json_response(
    200, json{{"object", "list"}, {"data", data}}.dump()));
}

void get_job(api_call& call, store_context& db) {
  call.done->send(http::json_response(
    200, job_json(find_job(db, call.req.params.at("id"))).dump()));
}

void cancel_job(api_call& call, store_context& db) {
  const auto& id = call.req.params.at("id");
  auto body = object_body(call.req.body);
  if (!body.empty())
    throw invalid(body.begin().key(),
                  "unknown field '" + body.begin().key()
                    + "'; cancel takes an empty body or {}");
  auto job = find_job(db, id);
  if (storage::is_final_status(job.status))
    throw api::api_error(409, "job_finished",
                         "the job already ended (" + job.status + ")");
  // A queued job ends here; a preparing or running one when the runner has
  // stopped its work (running: SIGTERM, chat-train checkpoints and exits).
  if (!db.jobs.cancel_if_queued(id))
    db.jobs.request_cancel(id);
  call.done->send(http::json_response(200, job_json(find_job(db, id)).dump()));
}

} // namespace

void add_job_routes(route_table& table) {
  using http::access;
  table.add("POST", "/admin/jobs", access::admin, submit_job);
  table.add("GET", "/admin/jobs", access::admin, list_jobs);
  table.add("GET", "/admin/jobs/{id}", access::admin, get_job);
  table.add("POST", "/admin/jobs/{id}/cancel", access::admin, cancel_job);
  const auto deps = table.deps();
  table.add("GET", "/admin/jobs/{id}/events", access::admin,
            [deps](api_call& call, store_context& db) {
              auto job = find_job(db, call.req.params.at("id"));
              call.done->start_stream("text/event-stream", {});
              start_job_event_feed(*deps.system, deps.store, job.id,
                                   call.done);
            });
}

} // namespace chat
