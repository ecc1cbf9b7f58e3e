#pragma once

#include "model/tokenizer/sentencepiece_tokenizer.hpp"

#include <cstdint>
#include <string>

namespace chat::tokenizer {

/// Turns a stream of token ids into text as it arrives. Each returned
/// piece is whole UTF-8: bytes from byte-fallback pieces are held back
/// until they complete a character. The pieces plus flush() concatenate
/// to exactly tokenizer.decode(all ids).
class incremental_detokenizer {
 public:
  /// `tokenizer` must outlive this object.
  explicit incremental_detokenizer(const sentencepiece_tokenizer& tokenizer);

  /// Feeds one id; returns the text that it completed (possibly empty).
  /// std::out_of_range for an id outside the vocabulary.
  std::string push(int32_t id);

  /// Ends the stream: held-back bytes that never completed a character
  /// come out as U+FFFD, as decode() renders them. The object is then
  /// ready for a new stream.
  std::string flush();

 private:
  void drain_bytes(bool run_ended, std::string& out);

  const sentencepiece_tokenizer* tokenizer_;
  std::string pending_bytes_;
  bool text_started_ = false;
};

} // namespace chat::tokenizer
