#include "actors/model_activation.hpp"

#include "actors/store.hpp"
#include "log/log.hpp"

#include <caf/all.hpp>

#include <chrono>
#include <memory>

namespace chat {

namespace {

/// How long the pool may take to swap every worker (loads included).
constexpr auto activation_timeout = std::chrono::minutes(11);

/// Holds the model slot's right to swap until the last step lets go of it.
struct swap_claim {
  explicit swap_claim(std::shared_ptr<model_slot> s) : slot(std::move(s)) {
  }
  ~swap_claim() {
    slot->end_swap();
  }
  swap_claim(const swap_claim&) = delete;
  swap_claim& operator=(const swap_claim&) = delete;

  std::shared_ptr<model_slot> slot;
};

activation_outcome failure(int status, std::string code,
                           const std::string& message) {
  return {std::nullopt, api::api_error(status, std::move(code), message)};
}

/// The checkpoint's tokenizer and config, named by the registry's id (the
/// id requests carry to the workers).
std::shared_ptr<const served_model>
load_registered(const storage::model_record& record) {
  auto loaded = load_served_model(record.path);
  if (loaded->id == record.id)
    return loaded;
  auto renamed = std::make_shared<served_model>(*loaded);
  renamed->id = record.id;
  return renamed;
}

/// Runs `step` on the store's thread; a storage failure ends the
/// activation with a 500 instead of leaving `done` uncalled.
void in_store(const gateway_deps& deps,
              std::function<void(activation_outcome)> done,
              std::function<void(store_context&)> step) {
  run_in_store(deps.store, [done, step](store_context& db) {
    try {
      step(db);
    } catch (const std::exception& e) {
      log::error("models", "activation failed in the store")
        .kv("what", e.what());
      done(failure(500, "internal_error", "internal error"));
    }
  });
}

/// Last step: the registry follows the swap.
void record_active(const gateway_deps& deps, const std::string& id,
                   std::shared_ptr<swap_claim> claim,
                   std::function<void(activation_outcome)> done) {
  in_store(deps, done, [id, claim, done](store_context& db) {
    db.models.activate(id);
    auto record = db.models.find(id);
    log::info("models", "model activated").kv("model", id);
    done({std::move(record), std::nullopt});
  });
}

/// Asks the pool to swap every worker from a short-lived actor (handlers
/// must not block), then swaps chatd's model.
void swap_workers(const gateway_deps& deps,
                  std::shared_ptr<const served_model> model,
                  std::shared_ptr<swap_claim> claim,
                  std::function<void(activation_outcome)> done) {
  deps.system->spawn([deps, model, claim,
                      done](caf::event_based_actor* self) {
    self
      ->request(deps.pool, activation_timeout, atom::activate::value,
                model_ref{model->id, model->path})
      .then(
        [deps, model, claim, done](std::string&) {
          deps.model->set(model);
          record_active(deps, model->id, claim, done);
        },
        [model, done](caf::error& err) {
          log::warn("models", "workers cannot switch; keeping the model")
            .kv("model", model->id)
            .kv("reason", to_string(err));
          done(failure(503, "activation_failed",
                       "the workers could not switch to the model '"
                         + model->id
                         + "'; the service goes on with the previous "
                           "model"));
        });
  });
}

} // namespace

void activate_model(const gateway_deps& deps, std::string model_id,
                    std::function<void(activation_outcome)> done) {
  if (!deps.model->begin_swap())
    return done(failure(409, "activation_in_progress",
                        "another model activation is running; retry when "
                        "it has finished"));
  auto claim = std::make_shared<swap_claim>(deps.model);
  in_store(deps, done, [deps, id = std::move(model_id), claim,
                        done](store_context& db) {
    auto record = db.models.find(id);
    if (!record)
      return done(failure(404, "model_not_found",
                          "the model '" + id + "' does not exist"));
    // Reading the tokenizer here blocks the store for milliseconds; it is
    // a file read like the store's own.
    std::shared_ptr<const served_model> model;
    try {
      model = load_registered(*record);
    } catch (const std::exception& e) {
      log::warn("models", "cannot load the model's checkpoint")
        .kv("model", id)
        .kv("what", e.what());
      return done(failure(422, "model_unloadable",
                          "the model '" + id
                            + "' cannot be loaded: its checkpoint is "
                              "missing or damaged"));
    }
    swap_workers(deps, std::move(model), claim, done);
  });
}

} // namespace chat
