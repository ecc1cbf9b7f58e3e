#pragma once

#include "actors/protocol/inference_types.hpp"

#include <caf/error.hpp>

#include <cstdint>

namespace chat::worker {

/// Why `request` cannot run on a model with `vocab_size` tokens and
/// `context` positions: errc::invalid_request (empty prompt, ids outside the
/// vocabulary, out-of-range sampling values) or errc::prompt_too_long (no
/// room left for a new token). An empty error when it can run.
caf::error check_request(const generate_request& request,
                         std::int64_t vocab_size, std::int64_t context);

} // namespace chat::worker
