#pragma once

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace chat::storage {

/// A model version in the registry; its checkpoint lives at `path`.
struct model_record {
  std::string id;
  std::string name;
  std::int64_t created_at = 0;
  std::optional<std::string> parent_id;
  std::optional<std::string> job_id;
  std::int64_t n_params = 0;
  /// config.json and the metrics, as JSON text.
  std::string config = "{}";
  std::string metrics = "{}";
  /// "ready", "active" or "archived".
  std::string status = "ready";
  std::string path;
};

/// The `models` table. At most one model is active.
class models_repo {
public:
  explicit models_repo(SQLite::Database& db);

  /// Inserts the model unless its id exists; true when inserted.
  bool insert(const model_record& m);

  std::optional<model_record> find(const std::string& id);

  /// Every model, newest first.
  std::vector<model_record> list();

  /// The active model, if any.
  std::optional<model_record> active();

  /// Makes `id` the active model (the previous one becomes ready).
  /// False when there is no such model.
  bool activate(const std::string& id);

private:
  SQLite::Database& db_;
  SQLite::Statement insert_;
  SQLite::Statement by_id_;
  SQLite::Statement all_;
  SQLite::Statement active_;
  SQLite::Statement deactivate_;
  SQLite::Statement activate_;
};

} // namespace chat::storage
