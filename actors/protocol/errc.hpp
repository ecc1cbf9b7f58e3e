#pragma once

#include <caf/atom.hpp>
#include <caf/error.hpp>

#include <cstdint>
#include <string>

namespace chat {

/// Failures that cross actor (and process) boundaries. Starts at 1: CAF
/// treats code 0 as "no error".
enum class errc : std::uint8_t {
  /// The worker's queue is full; try again later (429 + Retry-After).
  queue_full = 1,
  /// The prompt plus max_tokens does not fit the model's context.
  prompt_too_long,
  /// The worker has no model loaded.
  no_model,
  /// The engine failed (e.g. a CUDA fault) while running the sequence.
  engine_failure,
  /// A request was malformed (e.g. token ids outside the vocabulary).
  invalid_request,
  /// The model a request or an activation names is not loaded (503).
  model_unavailable,
  /// A checkpoint could not be loaded (missing or damaged files).
  model_load_failed,
};

/// The category atom of `errc` errors.
constexpr caf::atom_value errc_category = caf::atom("chat");

/// Wraps `code` in a CAF error with an explanation for logs.
caf::error make_error(errc code, std::string what);

/// The errc inside `err`, if it is one of ours.
bool is_errc(const caf::error& err, errc code);

/// Stable name of a code ("queue_full", ...).
const char* to_string(errc code);

} // namespace chat
