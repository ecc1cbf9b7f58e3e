#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sentencepiece {
class SentencePieceProcessor;
}

namespace chat::tokenizer {

/// The chat control pieces, in vocabulary order after <unk>.
inline constexpr std::string_view system_piece = "<|system|>";
inline constexpr std::string_view user_piece = "<|user|>";
inline constexpr std::string_view assistant_piece = "<|assistant|>";
inline constexpr std::string_view end_piece = "<|end|>";

/// Ids of the chat control pieces in a loaded tokenizer.
struct special_token_ids {
  int32_t system = -1;
  int32_t user = -1;
  int32_t assistant = -1;
  int32_t end = -1;
};

/// Settings for training a BPE tokenizer.
struct tokenizer_training_options {
  /// Pieces in the vocabulary, including <unk>, the four chat pieces and
  /// the 256 byte-fallback pieces.
  uint32_t vocab_size = 4000;
  /// Share of characters that get their own piece; the rest fall back to
  /// bytes.
  double character_coverage = 0.9995;
};

/// A SentencePiece BPE model with byte fallback, split digits, identity
/// normalization and the chat control pieces. encode() never produces a
/// control piece: only the chat template emits their ids. Const members
/// may be called from several threads at once.
class sentencepiece_tokenizer {
 public:
  /// Trains on the lines of the given files (deterministic for fixed input).
  static sentencepiece_tokenizer
  train_from_files(const std::vector<std::string>& paths,
                   const tokenizer_training_options& options);
  /// Trains on the lines of `text` (deterministic for fixed input).
  static sentencepiece_tokenizer
  train_from_text(std::string_view text,
                  const tokenizer_training_options& options);
  /// Loads a model file written by save().
  static sentencepiece_tokenizer load(const std::string& path);
  /// Loads a serialized model; untrusted bytes fail with
  /// std::runtime_error, never a crash.
  static sentencepiece_tokenizer from_serialized(std::string_view bytes);

  sentencepiece_tokenizer(sentencepiece_tokenizer&&) noexcept;
  sentencepiece_tokenizer& operator=(sentencepiece_tokenizer&&) noexcept;
  ~sentencepiece_tokenizer();

  /// The serialized model, as save() writes it.
  std::string serialized() const;
  /// Writes the model to `path` atomically.
  void save(const std::string& path) const;

  /// Ids for UTF-8 `text` (std::invalid_argument otherwise); decode()
  /// returns `text` exactly. Control-piece strings in `text` come out as
  /// ordinary pieces, so user content cannot forge the chat template.
  std::vector<int32_t> encode(std::string_view text) const;
  /// Text for `ids`; std::out_of_range for an id outside the vocabulary.
  std::string decode(const std::vector<int32_t>& ids) const;

  /// Number of pieces.
  uint32_t vocab_size() const;
  /// The piece string for `id` (std::out_of_range outside the vocabulary).
  const std::string& piece(int32_t id) const;
  /// The id of `piece`, or -1 when the vocabulary lacks it.
  int32_t id_of(std::string_view piece) const;
  /// Ids of the chat control pieces.
  const special_token_ids& special_ids() const { return special_; }

  /// The byte a byte-fallback piece stands for, or -1 for other pieces.
  int byte_value(int32_t id) const;
  /// The text `id` decodes to after other text (▁ becomes a space).
  const std::string& surface(int32_t id) const;
  /// The text `id` decodes to when no text precedes it: decode drops one
  /// leading space there for models trained with a dummy prefix.
  const std::string& leading_surface(int32_t id) const;

 private:
  explicit sentencepiece_tokenizer(
      std::unique_ptr<sentencepiece::SentencePieceProcessor> processor);
  void check_id(int32_t id) const;
  void append_encoded(std::string_view text, std::vector<int32_t>& ids) const;

  std::unique_ptr<sentencepiece::SentencePieceProcessor> processor_;
  special_token_ids special_;
  std::vector<int> byte_values_;
  std::array<int32_t, 256> byte_ids_{};
  std::vector<std::string> surfaces_;
  std::vector<std::string> leading_surfaces_;
  std::vector<std::string> protected_strings_;
};

} // namespace chat::tokenizer
