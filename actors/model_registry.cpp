#include "actors/model_registry.hpp"

namespace chat {

std::string startup_model_dir(storage::models_repo& models,
                              const std::string& configured,
                              const std::string& fallback) {
  if (!configured.empty())
    return configured;
  if (auto active = models.active())
    return active->path;
  return fallback;
}

void register_active_model(storage::models_repo& models,
                           const served_model& model) {
  storage::model_record record;
  record.id = model.id;
  record.name = model.id;
  record.created_at = model.created_at;
  record.n_params = model.n_params;
  record.config = model.config_json;
  record.metrics = model.metrics_json;
  record.status = "active";
  record.path = model.path;
  models.insert(record);
  models.activate(model.id);
}

} // namespace chat
