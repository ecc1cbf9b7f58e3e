#pragma once

#include "model/tokenizer/chat_template.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace chat::tokenizer {

/// What the synthetic chat generator writes.
struct synthetic_chat_options {
  uint64_t seed = 1337;
  /// Conversations to generate.
  size_t count = 10000;
  /// Share of conversations that are two-digit additions; the rest are
  /// greetings, small talk and fixed-answer questions.
  double addition_fraction = 0.5;
};

/// Whether the pair (a, b) of two-digit numbers is kept out of training for
/// evaluation. About a tenth of pairs; symmetric, so a+b and b+a go
/// together.
bool is_held_out_addition(int a, int b);

/// Every held-out pair (a, b) with 10 <= a, b <= 99, in order.
std::vector<std::pair<int, int>> held_out_additions();

/// The question for a + b in phrasing `phrasing` (taken modulo the number
/// of phrasings), e.g. "What is 37+45?".
std::string addition_question(int a, int b, size_t phrasing);

/// The answer the model is taught: "37+45 = 82."
std::string addition_answer(int a, int b);

/// Conversations for the default model, the same for the same options;
/// additions never use held-out pairs.
std::vector<std::vector<chat_message>>
generate_synthetic_chats(const synthetic_chat_options& options);

/// One conversation per held-out pair: a user question (phrasing chosen
/// by `seed`) and the expected assistant answer, for evaluation.
std::vector<std::vector<chat_message>> held_out_addition_chats(uint64_t seed);

/// The conversation as one JSONL line (no newline) that parse_chat_line
/// accepts.
std::string to_jsonl_line(const std::vector<chat_message>& messages);

} // namespace chat::tokenizer
