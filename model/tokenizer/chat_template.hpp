#pragma once

#include "model/tokenizer/sentencepiece_tokenizer.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chat::tokenizer {

/// Who wrote a chat message.
enum class chat_role { system, user, assistant };

/// "system", "user" or "assistant".
std::string_view role_name(chat_role role);

/// The role named `name`, or nullopt for any other string.
std::optional<chat_role> parse_role(std::string_view name);

/// One message of a conversation.
struct chat_message {
  chat_role role = chat_role::user;
  std::string content;
};

/// A conversation rendered into token ids.
struct encoded_conversation {
  /// The concatenated message tokens, then the generation prompt if asked.
  std::vector<int32_t> tokens;
  /// tokens used by each message, in order, so callers can drop whole turns.
  std::vector<size_t> message_lengths;
};

/// Tokens of one message: <|role|> content <|end|>. The content can never
/// yield a control id (see sentencepiece_tokenizer::encode).
std::vector<int32_t> encode_message(const sentencepiece_tokenizer& tokenizer,
                                    const chat_message& message);

/// Tokens that open the assistant's reply: <|assistant|>. The model ends
/// its reply with <|end|> (special_ids().end), the stop token.
std::vector<int32_t>
generation_prompt(const sentencepiece_tokenizer& tokenizer);

/// All messages in order; with `add_generation_prompt` the tokens end with
/// generation_prompt(), which message_lengths does not count.
encoded_conversation
encode_conversation(const sentencepiece_tokenizer& tokenizer,
                    const std::vector<chat_message>& messages,
                    bool add_generation_prompt);

} // namespace chat::tokenizer
