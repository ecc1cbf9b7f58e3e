#pragma once

#include "actors/protocol/inference.hpp"
#include "actors/protocol/inference_types.hpp"
#include "actors/protocol/registrar.hpp"
#include "actors/protocol/worker_info.hpp"

#include <caf/type_id.hpp>

/// The project's one CAF type-ID block: every type sent in messages.
CAF_BEGIN_TYPE_ID_BLOCK(chat, caf::first_custom_type_id)

  CAF_ADD_TYPE_ID(chat, (chat::worker_info))
  CAF_ADD_TYPE_ID(chat, (std::vector<chat::worker_info>))
  CAF_ADD_TYPE_ID(chat, (chat::sampling_params))
  CAF_ADD_TYPE_ID(chat, (chat::generate_request))
  CAF_ADD_TYPE_ID(chat, (chat::model_ref))
  CAF_ADD_TYPE_ID(chat, (chat::token_chunk))
  CAF_ADD_TYPE_ID(chat, (chat::generation_result))
  CAF_ADD_TYPE_ID(chat, (chat::prefix_reuse_stats))
  CAF_ADD_TYPE_ID(chat, (chat::draft_stats))
  CAF_ADD_TYPE_ID(chat, (chat::worker_status))
  CAF_ADD_TYPE_ID(chat, (chat::worker_row))
  CAF_ADD_TYPE_ID(chat, (std::vector<chat::worker_row>))
  CAF_ADD_TYPE_ID(chat, (chat::token_sink_actor))
  CAF_ADD_TYPE_ID(chat, (chat::inference_actor))
  CAF_ADD_TYPE_ID(chat, (chat::registrar_actor))

CAF_END_TYPE_ID_BLOCK(chat)
