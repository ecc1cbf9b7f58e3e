#pragma once

#include "actors/protocol/worker_info.hpp"

#include <caf/type_id.hpp>

/// The project's one CAF type-ID block: every type sent in messages.
CAF_BEGIN_TYPE_ID_BLOCK(chat, caf::first_custom_type_id)

  CAF_ADD_TYPE_ID(chat, (chat::worker_info))
  CAF_ADD_TYPE_ID(chat, (std::vector<chat::worker_info>))

CAF_END_TYPE_ID_BLOCK(chat)

namespace chat::atom {

/// A worker joins the pool.
using join = caf::atom_constant<caf::atom("join")>;
/// Ask for a snapshot.
using get = caf::atom_constant<caf::atom("get")>;
/// Periodic self-message of polling actors.
using poll = caf::atom_constant<caf::atom("poll")>;

} // namespace chat::atom
