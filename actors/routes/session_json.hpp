#pragma once

#include "storage/sessions.hpp"

#include <nlohmann/json.hpp>

#include <vector>

namespace chat {

/// API.md's session object.
nlohmann::json session_json(const storage::session& s);

/// A session with its `messages` [{id, role, content, created_at, tokens,
/// finish_reason}].
nlohmann::json session_with_messages_json(
  const storage::session& s, const std::vector<storage::message>& messages);

} // namespace chat
