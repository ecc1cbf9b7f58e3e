#include "actors/routes/session_json.hpp"

namespace chat {

nlohmann::json session_json(const storage::session& s) {
  return {{"id", s.id},
          {"object", "session"},
          {"title", s.title},
          {"system_prompt", s.system_prompt},
          {"created_at", s.created_at},
          {"updated_at", s.updated_at},
          {"message_count", s.message_count}};
}

nlohmann::json session_with_messages_json(
  const storage::session& s, const std::vector<storage::message>& messages) {
  auto out = session_json(s);
  auto list = nlohmann::json::array();
  for (const auto& m : messages) {
    nlohmann::json j = {{"id", m.id},
                        {"role", m.role},
                        {"content", m.content},
                        {"created_at", m.created_at},
                        {"tokens", m.tokens}};
    if (m.finish_reason)
      j["finish_reason"] = *m.finish_reason;
    list.push_back(std::move(j));
  }
  out["messages"] = std::move(list);
  return out;
}

} // namespace chat
