#include "model/tokenizer/sentencepiece_tokenizer.hpp"

#include "model/tokenizer/atomic_write.hpp"
#include "model/tokenizer/utf8.hpp"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <unordered_map>

namespace chat::tokenizer {

namespace {

// SentencePiece's whitespace meta symbol U+2581: encode() turns it into a
// space, so text that contains it goes out as byte pieces instead.
constexpr std::string_view space_symbol = "\xE2\x96\x81";

std::string byte_piece(int byte) {
  char name[8];
  std::snprintf(name, sizeof(name), "<0x%02X>", byte);
  return name;
}

// Feeds the trainer the lines of several streams in order.
class line_iterator : public sentencepiece::SentenceIterator {
 public:
  explicit line_iterator(std::vector<std::unique_ptr<std::istream>> streams)
      : streams_(std::move(streams)) {
    Next();
  }
  bool done() const override { return done_; }
  void Next() override {
    while (current_ < streams_.size()) {
      if (std::getline(*streams_[current_], line_))
        return;
      ++current_;
    }
    done_ = true;
  }
  const std::string& value() const override { return line_; }
  sentencepiece::util::Status status() const override { return {}; }

 private:
  std::vector<std::unique_ptr<std::istream>> streams_;
  size_t current_ = 0;
  std::string line_;
  bool done_ = false;
};

std::string train(std::vector<std::unique_ptr<std::istream>> streams,
                  const tokenizer_training_options& options) {
  std::string symbols = std::string(system_piece) + "," +
                        std::string(user_piece) + "," +
                        std::string(assistant_piece) + "," +
                        std::string(end_piece);
  const std::unordered_map<std::string, std::string> args{
      {"model_type", "bpe"},
      {"vocab_size", std::to_string(options.vocab_size)},
      {"character_coverage", std::to_string(options.character_coverage)},
      {"byte_fallback", "true"},
      {"split_digits", "true"},
      {"normalization_rule_name", "identity"},
      {"add_dummy_prefix", "false"},
      {"remove_extra_whitespaces", "false"},
      {"user_defined_symbols", symbols},
      {"unk_id", "0"},
      {"bos_id", "-1"},
      {"eos_id", "-1"},
      {"pad_id", "-1"},
      {"num_threads", "1"},
      {"minloglevel", "2"},
      {"model_prefix", ""},
  };
  line_iterator lines(std::move(streams));
  std::string model;
  auto status =
      sentencepiece::SentencePieceTrainer::Train(args, &lines, &model);
  if (!status.ok())
    throw std::runtime_error("tokenizer training failed: " +
                             status.ToString() +
                             "; check --vocab-size against the input size");
  return model;
}

} // namespace

sentencepiece_tokenizer sentencepiece_tokenizer::train_from_files(
    const std::vector<std::string>& paths,
    const tokenizer_training_options& options) {
  std::vector<std::unique_ptr<std::istream>> streams;
  for (const auto& path : paths) {
    auto file = std::make_unique<std::ifstream>(path, std::ios::binary);
    if (!*file)
      throw std::runtime_error("tokenizer training input '" + path +
                               "': cannot open for reading");
    streams.push_back(std::move(file));
  }
  return from_serialized(train(std::move(streams), options));
}

sentencepiece_tokenizer sentencepiece_tokenizer::train_from_text(
    std::string_view text, const tokenizer_training_options& options) {
  std::vector<std::unique_ptr<std::istream>> streams;
  streams.push_back(std::make_unique<std::istringstream>(std::string(text)));
  return from_serialized(train(std::move(streams), options));
}

sentencepiece_tokenizer sentencepiece_tokenizer::load(const std::string& path) {
  const std::string bytes = read_file(path);
  try {
    return from_serialized(bytes);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error("tokenizer model '" + path + "': " + e.what());
  }
}

sentencepiece_tokenizer
sentencepiece_tokenizer::from_serialized(std::string_view bytes) {
  auto processor = std::make_unique<sentencepiece::SentencePieceProcessor>();
  auto status = processor->LoadFromSerializedProto(
      absl::string_view(bytes.data(), bytes.size()));
  if (!status.ok())
    throw std::runtime_error(
        "not a SentencePiece model (" + status.ToString() +
        "); train one with chat-prep train-tokenizer");
  return sentencepiece_tokenizer(std::move(processor));
}

sentencepiece_tokenizer::sentencepiece_tokenizer(
    std::unique_ptr<sentencepiece::SentencePieceProcessor> processor)
    : processor_(std::move(processor)) {
  auto& sp = *processor_;
  auto require = [&](std::string_view piece, bool byte) {
    int id = sp.PieceToId(absl::string_view(piece.data(), piece.size()));
    if (sp.IdToPiece(id) != piece || sp.IsByte(id) != byte)
      throw std::runtime_error(
          "SentencePiece model lacks the piece '" + std::string(piece) +
          "'; train one with chat-prep train-tokenizer (byte fallback and "
          "chat pieces)");
    return static_cast<int32_t>(id);
  };
  special_.system = require(system_piece, false);
  special_.user = require(user_piece, false);
  special_.assistant = require(assistant_piece, false);
  special_.end = require(end_piece, false);

  const int size = sp.GetPieceSize();
  byte_values_.assign(size, -1);
  for (int byte = 0; byte < 256; ++byte) {
    byte_ids_[byte] = require(byte_piece(byte), true);
    byte_values_[byte_ids_[byte]] = byte;
  }

  surfaces_.resize(size);
  leading_surfaces_.resize(size);
  for (int id = 0; id < size; ++id) {
    // Decoding one id alone is decoding it at the start of the text.
    if (!sp.Decode(std::vector<int>{id}, &leading_surfaces_[id]).ok())
      throw std::runtime_error("SentencePiece model cannot decode id " +
                               std::to_string(id));
    if (sp.IsControl(id)) {
      surfaces_[id].clear();
    } else if (sp.IsUnknown(id)) {
      surfaces_[id] = leading_surfaces_[id];
    } else {
      const std::string& piece = sp.IdToPiece(id);
      std::string& text = surfaces_[id];
      for (size_t i = 0; i < piece.size();) {
        if (piece.compare(i, space_symbol.size(), space_symbol) == 0) {
          text += ' ';
          i += space_symbol.size();
        } else {
          text += piece[i++];
        }
      }
    }
  }
  protected_strings_ = {std::string(system_piece), std::string(user_piece),
                        std::string(assistant_piece), std::string(end_piece)};
}

sentencepiece_tokenizer::sentencepiece_tokenizer(
    sentencepiece_tokenizer&&) noexcept = default;
sentencepiece_tokenizer&
sentencepiece_tokenizer::operator=(sentencepiece_tokenizer&&) noexcept =
    default;
sentencepiece_tokenizer::~sentencepiece_tokenizer() = default;

std::string sentencepiece_tokenizer::serialized() const {
  return processor_->serialized_model_proto();
}

void sentencepiece_tokenizer::save(const std::string& path) const {
  write_file_atomically(path, serialized());
}

void sentencepiece_tokenizer::append_encoded(std::string_view text,
                                             std::vector<int32_t>& ids) const {
  if (text.empty())
    return;
  std::vector<int> pieces;
  auto status =
      processor_->Encode(absl::string_view(text.data(), text.size()), &pieces);
  if (!status.ok())
    throw std::runtime_error("SentencePiece encode failed: " +
                             status.ToString());
  ids.insert(ids.end(), pieces.begin(), pieces.end());
}

std::vector<int32_t>
sentencepiece_tokenizer::encode(std::string_view text) const {
  auto bad = find_invalid_utf8(text);
  if (bad != std::string_view::npos)
    throw std::invalid_argument("text is not valid UTF-8 at byte " +
                                std::to_string(bad));
  // SentencePiece matches a control-piece string anywhere in its input, so
  // every occurrence is cut after its first byte: no encoded run contains
  // a whole control string, and the runs concatenate back to `text`.
  std::vector<int32_t> ids;
  size_t run_start = 0;
  for (size_t pos = 0; pos < text.size();) {
    auto rest = text.substr(pos);
    if (rest.substr(0, space_symbol.size()) == space_symbol) {
      append_encoded(text.substr(run_start, pos - run_start), ids);
      for (char c : space_symbol)
        ids.push_back(byte_ids_[static_cast<unsigned char>(c)]);
      pos += space_symbol.size();
      run_start = pos;
      continue;
    }
    ++pos;
    for (const auto& special : protected_strings_) {
      if (rest.substr(0, special.size()) == special) {
        append_encoded(text.substr(run_start, pos - run_start), ids);
        run_start = pos;
        break;
      }
    }
  }
  append_encoded(text.substr(run_start), ids);
  return ids;
}

std::string
sentencepiece_tokenizer::decode(const std::vector<int32_t>& ids) const {
  for (int32_t id : ids)
    check_id(id);
  std::string text;
  auto status =
      processor_->Decode(std::vector<int>(ids.begin(), ids.end()), &text);
  if (!status.ok())
    throw std::runtime_error("SentencePiece decode failed: " +
                             status.ToString());
  return text;
}

uint32_t sentencepiece_tokenizer::vocab_size() const {
  return static_cast<uint32_t>(processor_->GetPieceSize());
}

void sentencepiece_tokenizer::check_id(int32_t id) const {
  if (id < 0 || static_cast<uint32_t>(id) >= vocab_size())
    throw std::out_of_range("token id " + std::to_string(id) +
                            " outside vocabulary of " +
                            std::to_string(vocab_size()));
}

const std::string& sentencepiece_tokenizer::piece(int32_t id) const {
  check_id(id);
  return processor_->IdToPiece(id);
}

int32_t sentencepiece_tokenizer::id_of(std::string_view piece) const {
  int id = processor_->PieceToId(absl::string_view(piece.data(), piece.size()));
  return processor_->IdToPiece(id) == piece ? id : -1;
}

int sentencepiece_tokenizer::byte_value(int32_t id) const {
  check_id(id);
  return byte_values_[id];
}

const std::string& sentencepiece_tokenizer::surface(int32_t id) const {
  check_id(id);
  return surfaces_[id];
}

const std::string& sentencepiece_tokenizer::leading_surface(int32_t id) const {
  check_id(id);
  return leading_surfaces_[id];
}

} // namespace chat::tokenizer
