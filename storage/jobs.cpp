#include "storage/jobs.hpp"

#include "storage/database.hpp"
#include "storage/statement_scope.hpp"

#include <SQLiteCpp/Transaction.h>
#include <nlohmann/json.hpp>

namespace chat::storage {

namespace {

constexpr const char* columns
  = "id, type, status, request, created_at, started_at, finished_at, "
    "progress, result_model_id, error, cancel_requested";

std::optional<std::string> optional_text(const SQLite::Column& c) {
  if (c.isNull())
    return std::nullopt;
  return c.getString();
}

std::optional<std::int64_t> optional_int(const SQLite::Column& c) {
  if (c.isNull())
    return std::nullopt;
  return c.getInt64();
}

job_record read_job(SQLite::Statement& st) {
  job_record j;
  j.id = st.getColumn(0).getString();
  j.type = st.getColumn(1).getString();
  j.status = st.getColumn(2).getString();
  j.request = st.getColumn(3).getString();
  j.created_at = st.getColumn(4).getInt64();
  j.started_at = optional_int(st.getColumn(5));
  j.finished_at = optional_int(st.getColumn(6));
  j.progress = st.getColumn(7).getString();
  j.result_model_id = optional_text(st.getColumn(8));
  j.error = optional_text(st.getColumn(9));
  j.cancel_requested = st.getColumn(10).getInt() != 0;
  return j;
}

std::vector<job_record> read_jobs(SQLite::Statement& st) {
  statement_scope s(st);
  std::vector<job_record> out;
  while (st.executeStep())
    out.push_back(read_job(st));
  return out;
}

std::string select(const char* rest) {
  return std::string("SELECT ") + columns + " FROM jobs " + rest;
}

/// The payload of a status event.
std::string status_payload(const std::string& status,
                           const std::optional<std::string>& error,
                           const std::optional<std::string>& model_id) {
  nlohmann::json j = {{"status", status}};
  if (error)
    j["error"] = *error;
  if (model_id)
    j["result_model_id"] = *model_id;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

} // namespace

bool is_final_status(const std::string& status) {
  return status == "succeeded" || status == "failed" || status == "cancelled";
}

jobs_repo::jobs_repo(SQLite::Database& db)
  : db_(db),
    insert_(db, "INSERT INTO jobs (id, type, status, request, created_at) "
                "VALUES (:id, :type, 'queued', :request, :created_at)"),
    insert_dataset_(db, "INSERT INTO job_datasets (job_id, dataset_id) "
                        "VALUES (:job_id, :dataset_id)"),
    by_id_(db, select("WHERE id = :id")),
    all_(db, select("ORDER BY created_at DESC, rowid DESC")),
    datasets_of_(db, "SELECT dataset_id FROM job_datasets "
                     "WHERE job_id = :job_id ORDER BY rowid"),
    next_queued_(db, select("WHERE status = 'queued' "
                            "ORDER BY created_at, rowid LIMIT 1")),
    unfinished_(db, select("WHERE status IN ('preparing', 'running') "
                           "ORDER BY created_at, rowid")),
    set_status_(db,
                "UPDATE jobs SET status = :status, "
                "started_at = CASE WHEN :status = 'preparing' "
                "  THEN coalesce(started_at, :now) ELSE started_at END, "
                "finished_at = CASE WHEN :status IN ('succeeded', 'failed', "
                "  'cancelled') THEN :now ELSE finished_at END, "
                "error = coalesce(:error, error), "
                "result_model_id = coalesce(:model, result_model_id) "
                "WHERE id = :id"),
    cancel_queued_(db, "UPDATE jobs SET status = 'cancelled', "
                       "finished_at = :now WHERE id = :id "
                       "AND status = 'queued'"),
    request_cancel_(db, "UPDATE jobs SET cancel_requested = 1 "
                        "WHERE id = :id"),
    set_progress_(db, "UPDATE jobs SET progress = :progress WHERE id = :id"),
    insert_event_(db, "INSERT INTO job_events (job_id, seq, type, payload, "
                      "created_at) VALUES (:id, (SELECT coalesce(max(seq), "
                      "0) + 1 FROM job_events WHERE job_id = :id), :type, "
                      ":payload, :now)"),
    events_after_(db, "SELECT seq, type, payload, created_at FROM job_events "
                      "WHERE job_id = :id AND seq > :after ORDER BY seq"),
    counts_(db, "SELECT status, count(*) FROM jobs GROUP BY status") {
}

void jobs_repo::append_event(const std::string& id, const std::string& type,
                             const std::string& payload) {
  statement_scope s(insert_event_);
  insert_event_.bind(":id", id);
  insert_event_.bind(":type", type);
  insert_event_.bind(":payload", payload);
  insert_event_.bind(":now", now_seconds());
  insert_event_.exec();
}

void jobs_repo::insert(const job_record& job,
                       const std::vector<std::string>& dataset_ids) {
  SQLite::Transaction tx(db_, SQLite::TransactionBehavior::IMMEDIATE);
  {
    statement_scope s(insert_);
    insert_.bind(":id", job.id);
    insert_.bind(":type", job.type);
    insert_.bind(":request", job.request);
    insert_.bind(":created_at", job.created_at);
    insert_.exec();
  }
  for (const auto& d : dataset_ids) {
    statement_scope s(insert_dataset_);
    insert_dataset_.bind(":job_id", job.id);
    insert_dataset_.bind(":dataset_id", d);
    insert_dataset_.exec();
  }
  append_event(job.id, "status",
               status_payload("queued", std::nullopt, std::nullopt));
  tx.commit();
}

std::optional<job_record> jobs_repo::find(const std::string& id) {
  statement_scope s(by_id_);
  by_id_.bind(":id", id);
  if (!by_id_.executeStep())
    return std::nullopt;
  return read_job(by_id_);
}

std::vector<job_record> jobs_repo::list() {
  return read_jobs(all_);
}

std::vector<std::string> jobs_repo::dataset_ids(const std::string& job_id) {
  statement_scope s(datasets_of_);
  datasets_of_.bind(":job_id", job_id);
  std::vector<std::string> out;
  while (datasets_of_.executeStep())
    out.push_back(datasets_of_.getColumn(0).getString());
  return out;
}

std::optional<job_record> jobs_repo::next_queued() {
  auto jobs = read_jobs(next_queued_);
  if (jobs.empty())
    return std::nullopt;
  return jobs.front();
}

std::vector<job_record> jobs_repo::unfinished() {
  return read_jobs(unfinished_);
}

void jobs_repo::set_status(const std::string& id, const std::string& status,
                           const std::optional<std::string>& error,
                           const std::optional<std::string>& result_model_id) {
  SQLite::Transaction tx(db_, SQLite::TransactionBehavior::IMMEDIATE);
  {
    statement_scope s(set_status_);
    set_status_.bind(":status", status);
    set_status_.bind(":now", now_seconds());
    bind_optional(set_status_, ":error", error);
    bind_optional(set_status_, ":model", result_model_id);
    set_status_.bind(":id", id);
    set_status_.exec();
  }
  append_event(id, "status",
               status_payload(status, error, result_model_id));
  tx.commit();
}

bool jobs_repo::cancel_if_queued(const std::string& id) {
  SQLite::Transaction tx(db_, SQLite::TransactionBehavior::IMMEDIATE);
  {
    statement_scope s(cancel_queued_);
    cancel_queued_.bind(":now", now_seconds());
    cancel_queued_.bind(":id", id);
    if (cancel_queued_.exec() == 0)
      return false;
  }
  append_event(id, "status",
               status_payload("cancelled", std::nullopt, std::nullopt));
  tx.commit();
  return true;
}

void jobs_repo::request_cancel(const std::string& id) {
  statement_scope s(request_cancel_);
  request_cancel_.bind(":id", id);
  request_cancel_.exec();
}

void jobs_repo::record(
  const std::string& id,
  const std::vector<std::pair<std::string, std::string>>& events,
  const std::optional<std::string>& progress) {
  SQLite::Transaction tx(db_, SQLite::TransactionBehavior::IMMEDIATE);
  for (const auto& [type, payload] : events)
    append_event(id, type, payload);
  if (progress) {
    statement_scope s(set_progress_);
    set_progress_.bind(":progress", *progress);
    set_progress_.bind(":id", id);
    set_progress_.exec();
  }
  tx.commit();
}

std::vector<job_event> jobs_repo::events_after(const std::string& id,
                                               std::int64_t after) {
  statement_scope s(events_after_);
  events_after_.bind(":id", id);
  events_after_.bind(":after", after);
  std::vector<job_event> out;
  while (events_after_.executeStep())
    out.push_back({events_after_.getColumn(0).getInt64(),
                   events_after_.getColumn(1).getString(),
                   events_after_.getColumn(2).getString(),
                   events_after_.getColumn(3).getInt64()});
  return out;
}

std::map<std::string, std::int64_t> jobs_repo::count_by_status() {
  statement_scope s(counts_);
  std::map<std::string, std::int64_t> out;
  while (counts_.executeStep())
    out[counts_.getColumn(0).getString()] = counts_.getColumn(1).getInt64();
  return out;
}

} // namespace chat::storage
