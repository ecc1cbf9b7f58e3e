#pragma once

#include "actors/api/generation_request.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace chat::api {

/// A client frame of the WebSocket chat protocol (API.md "WebSocket"): a
/// JSON object with a string "type".
/// @throws api_error 400 invalid_json or invalid_frame.
nlohmann::json parse_ws_frame(const std::string& text);

/// What a "chat" frame asks for, besides its client id.
struct ws_chat_fields {
  std::optional<std::string> session_id;
  std::string message;
  generation_options options;
};

/// Reads session_id, message and params of a "chat" frame.
/// @throws api_error naming the field that is wrong.
ws_chat_fields parse_ws_chat_fields(const nlohmann::json& frame);

} // namespace chat::api
