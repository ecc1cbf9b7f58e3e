#pragma once

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace chat::storage {

/// A training job: what was asked (`request`, the validated body as JSON
/// text) and how far it got.
struct job_record {
  std::string id;
  /// "pretrain" or "finetune".
  std::string type;
  /// queued, preparing, running, succeeded, failed or cancelled.
  std::string status = "queued";
  std::string request = "{}";
  std::int64_t created_at = 0;
  std::optional<std::int64_t> started_at;
  std::optional<std::int64_t> finished_at;
  /// The latest progress, as JSON text.
  std::string progress = "{}";
  std::optional<std::string> result_model_id;
  std::optional<std::string> error;
  bool cancel_requested = false;
};

/// One entry of a job's event log; `payload` is a JSON object's text.
struct job_event {
  std::int64_t seq = 0;
  std::string type;
  std::string payload = "{}";
  std::int64_t created_at = 0;
};

/// True for succeeded, failed and cancelled.
bool is_final_status(const std::string& status);

/// The `jobs`, `job_datasets` and `job_events` tables. Every status change
/// also appends a "status" event, in the same transaction.
class jobs_repo {
public:
  explicit jobs_repo(SQLite::Database& db);

  /// Inserts a queued job using `dataset_ids`.
  void insert(const job_record& job,
              const std::vector<std::string>& dataset_ids);

  std::optional<job_record> find(const std::string& id);

  /// Every job, newest first.
  std::vector<job_record> list();

  /// The datasets of a job, in the order given at submission.
  std::vector<std::string> dataset_ids(const std::string& job_id);

  /// The oldest queued job, if any.
  std::optional<job_record> next_queued();

  /// Jobs that were preparing or running, oldest first.
  std::vector<job_record> unfinished();

  /// Moves a job to `status`: preparing sets started_at (once), a final
  /// status sets finished_at, `error` and `result_model_id`.
  void set_status(const std::string& id, const std::string& status,
                  const std::optional<std::string>& error = {},
                  const std::optional<std::string>& result_model_id = {});

  /// Cancels a queued job at once; false when it was not queued.
  bool cancel_if_queued(const std::string& id);

  /// Asks the runner to stop a preparing or running job.
  void request_cancel(const std::string& id);

  /// Appends events (type, payload) and, when given, replaces the progress;
  /// in one transaction.
  void record(const std::string& id,
              const std::vector<std::pair<std::string, std::string>>& events,
              const std::optional<std::string>& progress);

  /// Events with seq > `after`, in order.
  std::vector<job_event> events_after(const std::string& id,
                                      std::int64_t after);

  /// Number of jobs per status (statuses without jobs are absent).
  std::map<std::string, std::int64_t> count_by_status();

private:
  void append_event(const std::string& id, const std::string& type,
                    const std::string& payload);

  SQLite::Database& db_;
  SQLite::Statement insert_;
  SQLite::Statement insert_dataset_;
  SQLite::Statement by_id_;
  SQLite::Statement all_;
  SQLite::Statement datasets_of_;
  SQLite::Statement next_queued_;
  SQLite::Statement unfinished_;
  SQLite::Statement set_status_;
  SQLite::Statement cancel_queued_;
  SQLite::Statement request_cancel_;
  SQLite::Statement set_progress_;
  SQLite::Statement insert_event_;
  SQLite::Statement events_after_;
  SQLite::Statement counts_;
};

} // namespace chat::storage
