#pragma once

#include "actors/protocol/inference_types.hpp"
#include "actors/protocol/worker_info.hpp"

#include <caf/type_id.hpp>

/// The project's one CAF type-ID block: every type sent in messages.
CAF_BEGIN_TYPE_ID_BLOCK(chat, caf::first_custom_type_id)

  CAF_ADD_TYPE_ID(chat, (chat::worker_info))
  CAF_ADD_TYPE_ID(chat, (std::vector<chat::worker_info>))
  CAF_ADD_TYPE_ID(chat, (chat::sampling_params))
  CAF_ADD_TYPE_ID(chat, (chat::generate_request))
  CAF_ADD_TYPE_ID(chat, (chat::token_chunk))
  CAF_ADD_TYPE_ID(chat, (chat::generation_result))
  CAF_ADD_TYPE_ID(chat, (chat::worker_status))

CAF_END_TYPE_ID_BLOCK(chat)

namespace chat::atom {

/// A worker joins the pool.
using join = caf::atom_constant<caf::atom("join")>;
/// Ask for a snapshot.
using get = caf::atom_constant<caf::atom("get")>;
/// Periodic self-message of polling actors.
using poll = caf::atom_constant<caf::atom("poll")>;
/// Generate tokens for a sequence.
using generate = caf::atom_constant<caf::atom("generate")>;
/// Cancel a sequence.
using cancel = caf::atom_constant<caf::atom("cancel")>;
/// Internal wake-up of a worker's engine results.
using step = caf::atom_constant<caf::atom("step")>;

} // namespace chat::atom
