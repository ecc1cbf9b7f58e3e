#include "storage/models.hpp"

#include "storage/statement_scope.hpp"

#include <SQLiteCpp/Transaction.h>

namespace chat::storage {

namespace {

constexpr const char* columns = "id, name, created_at, parent_id, job_id, "
                                "n_params, config, metrics, status, path";

std::optional<std::string> optional_text(const SQLite::Column& c) {
  if (c.isNull())
    return std::nullopt;
  return c.getString();
}

model_record read_model(SQLite::Statement& st) {
  model_record m;
  m.id = st.getColumn(0).getString();
  m.name = st.getColumn(1).getString();
  m.created_at = st.getColumn(2).getInt64();
  m.parent_id = optional_text(st.getColumn(3));
  m.job_id = optional_text(st.getColumn(4));
  m.n_params = st.getColumn(5).getInt64();
  m.config = st.getColumn(6).getString();
  m.metrics = st.getColumn(7).getString();
  m.status = st.getColumn(8).getString();
  m.path = st.getColumn(9).getString();
  return m;
}

} // namespace

models_repo::models_repo(SQLite::Database& db)
  : db_(db),
    insert_(db, "INSERT INTO models (id, name, created_at, parent_id, job_id, "
                "n_params, config, metrics, status, path) VALUES (:id, :name, "
                ":created_at, :parent_id, :job_id, :n_params, :config, "
                ":metrics, :status, :path) ON CONFLICT (id) DO NOTHING"),
    by_id_(db,
           std::string("SELECT ") + columns + " FROM models WHERE id = :id"),
    all_(db, std::string("SELECT ") + columns
               + " FROM models ORDER BY created_at DESC, rowid DESC"),
    active_(db, std::string("SELECT ") + columns
                  + " FROM models WHERE status = 'active'"),
    deactivate_(db, "UPDATE models SET status = 'ready' "
                    "WHERE status = 'active'"),
    activate_(db, "UPDATE models SET status = 'active' WHERE id = :id") {
}

bool models_repo::insert(const model_record& m) {
  statement_scope s(insert_);
  insert_.bind(":id", m.id);
  insert_.bind(":name", m.name);
  insert_.bind(":created_at", m.created_at);
  bind_optional(insert_, ":parent_id", m.parent_id);
  bind_optional(insert_, ":job_id", m.job_id);
  insert_.bind(":n_params", m.n_params);
  insert_.bind(":config", m.config);
  insert_.bind(":metrics", m.metrics);
  insert_.bind(":status", m.status);
  insert_.bind(":path", m.path);
  return insert_.exec() > 0;
}

std::optional<model_record> models_repo::find(const std::string& id) {
  statement_scope s(by_id_);
  by_id_.bind(":id", id);
  if (!by_id_.executeStep())
    return std::nullopt;
  return read_model(by_id_);
}

std::vector<model_record> models_repo::list() {
  statement_scope s(all_);
  std::vector<model_record> out;
  while (all_.executeStep())
    out.push_back(read_model(all_));
  return out;
}

std::optional<model_record> models_repo::active() {
  statement_scope s(active_);
  if (!active_.executeStep())
    return std::nullopt;
  return read_model(active_);
}

bool models_repo::activate(const std::string& id) {
  SQLite::Transaction tx(db_, SQLite::TransactionBehavior::IMMEDIATE);
  if (!find(id))
    return false;
  {
    statement_scope s(deactivate_);
    deactivate_.exec();
  }
  {
    statement_scope s(activate_);
    activate_.bind(":id", id);
    activate_.exec();
  }
  tx.commit();
  return true;
}

} // namespace chat::storage
