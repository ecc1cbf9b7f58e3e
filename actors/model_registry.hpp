#pragma once

#include "actors/served_model.hpp"
#include "storage/models.hpp"

#include <string>

namespace chat {

/// The checkpoint chatd serves at start: the configured one when set, else
/// the registry's active model, else `fallback` (the bundled model).
std::string startup_model_dir(storage::models_repo& models,
                              const std::string& configured,
                              const std::string& fallback);

/// Records `model` in the registry (if new) and marks it active.
void register_active_model(storage::models_repo& models,
                           const served_model& model);

} // namespace chat
