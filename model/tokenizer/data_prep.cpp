#include "model/tokenizer/data_prep.hpp"

#include "model/tokenizer/atomic_write.hpp"
#include "model/tokenizer/chat_jsonl.hpp"

#include <cmath>
#include <filesystem>
#include <stdexcept>

namespace chat::tokenizer {

namespace {

using chat::shard::token_shard;

// Tokens the validation split needs from a stream of `total` tokens.
size_t validation_target(size_t total, const split_options& options) {
  if (!(options.val_fraction >= 0.0 && options.val_fraction < 1.0))
    throw std::invalid_argument("validation fraction " +
                                std::to_string(options.val_fraction) +
                                " must be in [0, 1)");
  auto wanted =
      static_cast<size_t>(std::ceil(options.val_fraction * double(total)));
  return std::max(wanted, options.context_length + 1);
}

void check_split(const std::string& input_path, size_t total, size_t split,
                 const split_options& options) {
  const size_t window = options.context_length + 1;
  if (split < window || total - split < window)
    throw std::runtime_error(
        "'" + input_path + "': " + std::to_string(total) +
        " tokens give train " + std::to_string(split) + " and validation " +
        std::to_string(total - split) + ", but each needs at least " +
        std::to_string(window) + " (context " +
        std::to_string(options.context_length) +
        " + 1); use more data, a smaller context or another fraction");
}

token_shard slice(const token_shard& all, size_t begin, size_t end) {
  token_shard part;
  part.vocab_size = all.vocab_size;
  part.tokens.assign(all.tokens.begin() + begin, all.tokens.begin() + end);
  if (!all.loss_mask.empty())
    part.loss_mask.assign(all.loss_mask.begin() + begin,
                          all.loss_mask.begin() + end);
  return part;
}

prep_summary write_split(const token_shard& all, size_t split,
                         const std::string& out_dir) {
  std::filesystem::create_directories(out_dir);
  const auto dir = std::filesystem::path(out_dir);
  chat::shard::write_shard((dir / "train.bin").string(), slice(all, 0, split));
  chat::shard::write_shard((dir / "val.bin").string(),
                           slice(all, split, all.tokens.size()));
  return {split, all.tokens.size() - split, 0};
}

} // namespace

token_shard tokenize_conversation(const sentencepiece_tokenizer& tokenizer,
                                  const std::vector<chat_message>& messages) {
  auto encoded = encode_conversation(tokenizer, messages, false);
  token_shard result;
  result.vocab_size = tokenizer.vocab_size();
  result.tokens = std::move(encoded.tokens);
  result.loss_mask.reserve(result.tokens.size());
  for (size_t i = 0; i < messages.size(); ++i) {
    const uint8_t learn = messages[i].role == chat_role::assistant ? 1 : 0;
    result.loss_mask.push_back(0); // the role token is given, not predicted
    result.loss_mask.insert(result.loss_mask.end(),
                            encoded.message_lengths[i] - 1, learn);
  }
  return result;
}

prep_summary prepare_text(const sentencepiece_tokenizer& tokenizer,
                          const std::string& input_path,
                          const std::string& out_dir,
                          const split_options& options) {
  const std::string text = read_file(input_path);
  token_shard all;
  all.vocab_size = tokenizer.vocab_size();
  // Line by line keeps each encode small; pieces never span a newline, so
  // the result equals encoding the whole text.
  size_t line_number = 0;
  for (size_t begin = 0; begin < text.size();) {
    ++line_number;
    size_t end = text.find('\n', begin);
    end = end == std::string::npos ? text.size() : end + 1;
    std::vector<int32_t> ids;
    try {
      ids = tokenizer.encode(std::string_view(text).substr(begin, end - begin));
    } catch (const std::invalid_argument& e) {
      throw std::runtime_error("'" + input_path + "':" +
                               std::to_string(line_number) + ": " + e.what());
    }
    all.tokens.insert(all.tokens.end(), ids.begin(), ids.end());
    begin = end;
  }
  const size_t total = all.tokens.size();
  const size_t val = validation_target(total, options);
  const size_t split = total >= val ? total - val : 0;
  check_split(input_path, total, split, options);
  return write_split(all, split, out_dir);
}

prep_summary prepare_chat(const sentencepiece_tokenizer& tokenizer,
                          const std::string& input_path,
                          const std::string& out_dir,
                          const split_options& options) {
  token_shard all;
  all.vocab_size = tokenizer.vocab_size();
  std::vector<size_t> conversation_starts;
  size_t conversations = read_chat_jsonl_file(
      input_path, [&](std::vector<chat_message>&& messages) {
        auto part = tokenize_conversation(tokenizer, messages);
        conversation_starts.push_back(all.tokens.size());
        all.tokens.insert(all.tokens.end(), part.tokens.begin(),
                          part.tokens.end());
        all.loss_mask.insert(all.loss_mask.end(), part.loss_mask.begin(),
                             part.loss_mask.end());
      });
  const size_t total = all.tokens.size();
  const size_t val = validation_target(total, options);
  // The latest conversation start that leaves `val` tokens after it.
  size_t split = 0;
  for (auto it = conversation_starts.rbegin();
       it != conversation_starts.rend(); ++it) {
    if (total - *it >= val) {
      split = *it;
      break;
    }
  }
  check_split(input_path, total, split, options);
  auto summary = write_split(all, split, out_dir);
  summary.conversations = conversations;
  return summary;
}

} // namespace chat::tokenizer
