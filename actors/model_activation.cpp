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

activation_outcome failure(int status, std::string code,
                           const std::string& message) {
  return {std::nullopt, api::api_error(status, std::move(code), message)};
}

/// One running activation: holds the model slot's right to swap and gives
/// it back before telling the caller, so the caller may start the next one
/// at once. Dropped unfinished (a step was lost), it ends with a 500.
class activation {
public:
  activation(gateway_deps deps, std::function<void(activation_outcome)> done)
    : deps_(std::move(deps)), done_(std::move(done)) {
  }
  ~activation() {
    if (done_)
      finish(failure(500, "internal_error", "internal error"));
  }
  activation(const activation&) = delete;
  activation& operator=(const activation&) = delete;

  const gateway_deps& deps() const {
    return deps_;
  }

  /// Reports the outcome; later calls do nothing.
  void finish(activation_outcome outcome) {
    if (!done_)
      return;
    auto done = std::move(done_);
    done_ = nullptr;
    deps_.model->end_swap();
    done(std::move(outcome));
  }

private:
  gateway_deps deps_;
  std::function<void(activation_outcome)> done_;
};

using activation_ptr = std::shared_ptr<activation>;

/// Runs `step` on the store's thread; a storage failure ends the
/// activation with a 500.
void in_store(const activation_ptr& run,
              std::function<void(store_context&)> step) {
  run_in_store(run->deps().store, [run, step](store_context& db) {
    try {
      step(db);
    } catch (const std::exception& e) {
      log::error("models", "activation failed in the store")
        .kv("what", e.what());
      run->finish(failure(500, "internal_error", "internal error"));
    }
  });
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

/// Last step: the registry follows the swap.
void record_active(const activation_ptr& run, const std::string& id) {
  in_store(run, [run, id](store_context& db) {
    db.models.activate(id);
    auto record = db.models.find(id);
    log::info("models", "model activated").kv("model", id);
    run->finish({std::move(record), std::nullopt});
  });
}

/// Asks the pool to swap every worker from a short-lived actor (handlers
/// must not block), then swaps chatd's model.
void swap_workers(const activation_ptr& run,
                  std::shared_ptr<const served_model> model) {
  const auto& deps = run->deps();
  deps.system->spawn([run, model](caf::event_based_actor* self) {
    self
      ->request(run->deps().pool, activation_timeout, atom::activate::value,
                model_ref{model->id, model->path})
      .then(
        [run, model](std::string&) {
          run->deps().model->set(model);
          record_active(run, model->id);
        },
        [run, model](caf::error& err) {
          log::warn("models", "workers cannot switch; keeping the model")
            .kv("model", model->id)
            .kv("reason", to_string(err));
          run->finish(failure(503, "activation_failed",
                              "the workers could not switch to the model '"
                                + model->id
                                + "'; the service goes on with the "
                                  "previous model"));
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
  auto run = std::make_shared<activation>(deps, std::move(done));
  in_store(run, [run, id = std::move(model_id)](store_context& db) {
    auto record = db.models.find(id);
    if (!record)
      return run->finish(failure(404, "model_not_found",
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
      return run->finish(failure(422, "model_unloadable",
                                 "the model '" + id
                                   + "' cannot be loaded: its checkpoint "
                                     "is missing or damaged"));
    }
    swap_workers(run, std::move(model));
  });
}

} // namespace chat
