#include "model/tokenizer/chat_template.hpp"

namespace chat::tokenizer {

std::string_view role_name(chat_role role) {
  switch (role) {
    case chat_role::system:
      return "system";
    case chat_role::user:
      return "user";
    case chat_role::assistant:
      return "assistant";
  }
  return "unknown";
}

std::optional<chat_role> parse_role(std::string_view name) {
  for (auto role : {chat_role::system, chat_role::user, chat_role::assistant})
    if (role_name(role) == name)
      return role;
  return std::nullopt;
}

namespace {

int32_t role_id(const special_token_ids& ids, chat_role role) {
  switch (role) {
    case chat_role::system:
      return ids.system;
    case chat_role::user:
      return ids.user;
    case chat_role::assistant:
      return ids.assistant;
  }
  return ids.user;
}

} // namespace

std::vector<int32_t> encode_message(const sentencepiece_tokenizer& tokenizer,
                                    const chat_message& message) {
  const auto& ids = tokenizer.special_ids();
  std::vector<int32_t> tokens{role_id(ids, message.role)};
  auto content = tokenizer.encode(message.content);
  tokens.insert(tokens.end(), content.begin(), content.end());
  tokens.push_back(ids.end);
  return tokens;
}

std::vector<int32_t>
generation_prompt(const sentencepiece_tokenizer& tokenizer) {
  return {tokenizer.special_ids().assistant};
}

encoded_conversation
encode_conversation(const sentencepiece_tokenizer& tokenizer,
                    const std::vector<chat_message>& messages,
                    bool add_generation_prompt) {
  encoded_conversation result;
  for (const auto& message : messages) {
    auto tokens = encode_message(tokenizer, message);
    result.message_lengths.push_back(tokens.size());
    result.tokens.insert(result.tokens.end(), tokens.begin(), tokens.end());
  }
  if (add_generation_prompt) {
    auto prompt = generation_prompt(tokenizer);
    result.tokens.insert(result.tokens.end(), prompt.begin(), prompt.end());
  }
  return result;
}

} // namespace chat::tokenizer
