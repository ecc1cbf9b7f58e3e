#pragma once

#include "actors/api/api_error.hpp"
#include "actors/gateway.hpp"
#include "storage/models.hpp"

#include <functional>
#include <optional>
#include <string>

namespace chat {

/// How an activation ended: the model's registry record (status "active"),
/// or the client-facing error.
struct activation_outcome {
  std::optional<storage::model_record> model;
  std::optional<api::api_error> error;
};

/// Hot-swaps the service to the registered model `model_id`: reads its
/// checkpoint's tokenizer and config (422 model_unloadable when they are
/// missing or damaged), has every worker load and activate it (503
/// activation_failed when one cannot; chatd then goes on with the model it
/// had), then serves new requests with it and marks it active in the
/// registry. Requests prepared for the previous model finish on it.
///
/// One activation runs at a time: another one meanwhile ends at once with
/// 409 activation_in_progress. 404 model_not_found for an unknown id.
/// `done` runs exactly once, on an actor's thread; it must not block.
void activate_model(const gateway_deps& deps, std::string model_id,
                    std::function<void(activation_outcome)> done);

} // namespace chat
