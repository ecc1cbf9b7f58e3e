#pragma once

#include "storage/api_keys.hpp"
#include "storage/audit_log.hpp"
#include "storage/datasets.hpp"
#include "storage/jobs.hpp"
#include "storage/models.hpp"
#include "storage/safety.hpp"
#include "storage/sessions.hpp"
#include "storage/users.hpp"

#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/event_based_actor.hpp>

#include <functional>
#include <string>

namespace chat {

/// The database and its repositories, owned by the store actor's thread.
struct store_context {
  /// Opens `<data_dir>/chat.db` (":memory:" as data_dir: an in-memory
  /// database, for tests).
  explicit store_context(const std::string& data_dir);

  /// Where files the database refers to live (datasets, models).
  std::string data_dir;
  SQLite::Database db;
  storage::users_repo users{db};
  storage::api_keys_repo keys{db};
  storage::sessions_repo sessions{db};
  storage::audit_log_repo audit{db};
  storage::datasets_repo datasets{db};
  storage::models_repo models{db};
  storage::jobs_repo jobs{db};
  storage::safety_repo safety{db};
};

/// Work to run on the store's thread with the database.
struct store_task {
  std::function<void(store_context&)> run;
};

} // namespace chat

// Only ever sent between actors of one process.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(chat::store_task)

namespace chat {

/// The one writer of the SQLite database (DESIGN.md): a detached actor that
/// runs store_tasks in arrival order. A task that throws is logged and the
/// actor goes on; tasks answer their callers themselves.
caf::behavior store(caf::event_based_actor* self, std::string data_dir);

/// Queues `task` on `store`.
void run_in_store(const caf::actor& store,
                  std::function<void(store_context&)> task);

} // namespace chat
