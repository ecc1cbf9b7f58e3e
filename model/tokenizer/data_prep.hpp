#pragma once

#include "model/shard/token_shard.hpp"
#include "model/tokenizer/chat_template.hpp"
#include "model/tokenizer/sentencepiece_tokenizer.hpp"

#include <cstddef>
#include <string>
#include <vector>

namespace chat::tokenizer {

/// How prepared tokens are split into train.bin and val.bin.
struct split_options {
  /// Share of the tokens, taken from the end, that go to validation.
  double val_fraction = 0.1;
  /// The training context; each split keeps at least context_length + 1
  /// tokens so that one full input/target window fits.
  size_t context_length = 256;
};

/// Token counts of the shards written.
struct prep_summary {
  size_t train_tokens = 0;
  size_t val_tokens = 0;
  /// Conversations read (chat data only).
  size_t conversations = 0;
};

/// Tokens and loss mask of one conversation: the mask is 1 only on the
/// content and closing <|end|> of assistant messages.
chat::shard::token_shard
tokenize_conversation(const sentencepiece_tokenizer& tokenizer,
                      const std::vector<chat_message>& messages);

/// Plain UTF-8 text file -> `out_dir`/train.bin and `out_dir`/val.bin
/// (no loss mask); validation is the tail of the token stream.
prep_summary prepare_text(const sentencepiece_tokenizer& tokenizer,
                          const std::string& input_path,
                          const std::string& out_dir,
                          const split_options& options);

/// Chat JSONL file -> `out_dir`/train.bin and `out_dir`/val.bin with loss
/// masks, conversations concatenated; validation is made of whole
/// conversations from the end. Malformed input throws chat_data_error.
prep_summary prepare_chat(const sentencepiece_tokenizer& tokenizer,
                          const std::string& input_path,
                          const std::string& out_dir,
                          const split_options& options);

} // namespace chat::tokenizer
