#include "actors/api/ws_frame.hpp"

#include "actors/api/api_error.hpp"

namespace chat::api {

using json = nlohmann::json;

json parse_ws_frame(const std::string& text) {
  json frame;
  try {
    frame = json::parse(text);
  } catch (const json::exception&) {
    throw api_error(400, "invalid_json", "the frame is not JSON");
  }
  auto type = frame.is_object() ? frame.find("type") : frame.end();
  if (!frame.is_object() || type == frame.end() || !type->is_string())
    throw api_error(400, "invalid_frame",
                    "a frame must be an object with a string 'type'");
  return frame;
}

ws_chat_fields parse_ws_chat_fields(const json& frame) {
  ws_chat_fields out;
  if (auto it = frame.find("session_id"); it != frame.end() && !it->is_null()) {
    if (!it->is_string())
      throw bad_param("session_id", "'session_id' must be a string");
    out.session_id = it->get<std::string>();
  }
  auto m = frame.find("message");
  if (m == frame.end() || !m->is_string()
      || m->get_ref<const std::string&>().empty())
    throw bad_param("message", "'message' must be a non-empty string");
  out.message = m->get<std::string>();
  if (auto p = frame.find("params"); p != frame.end() && !p->is_null()) {
    if (!p->is_object())
      throw bad_param("params", "'params' must be an object");
    parse_sampling(*p, out.options, "params.");
  }
  return out;
}

} // namespace chat::api
