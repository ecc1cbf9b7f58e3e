#include "test_tokenizer.hpp"

#include <atomic>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <unistd.h>

namespace chat::tokenizer::test {

const sentencepiece_tokenizer& shakespeare_tokenizer() {
  static const sentencepiece_tokenizer tokenizer = [] {
    std::ifstream in(CHAT_SHARED_DIR "/data/tinyshakespeare.txt",
                     std::ios::binary);
    if (!in)
      throw std::runtime_error("missing " CHAT_SHARED_DIR
                               "/data/tinyshakespeare.txt");
    std::string text(40'000, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<size_t>(in.gcount()));
    tokenizer_training_options options;
    options.vocab_size = 512;
    return sentencepiece_tokenizer::train_from_text(text, options);
  }();
  return tokenizer;
}

std::string random_utf8(std::mt19937_64& rng, size_t chars) {
  static const uint32_t ranges[][2] = {
      {0x20, 0x7E},       {0x00, 0x7F},     {0xA0, 0x24F},
      {0x1EA0, 0x1EF9},   {0x2500, 0x25FF}, {0x4E00, 0x9FFF},
      {0x1F300, 0x1F64F}, {0x80, 0x10FFFF}};
  std::string out;
  for (size_t i = 0; i < chars; ++i) {
    const auto& range = ranges[rng() % std::size(ranges)];
    uint32_t cp = range[0] + uint32_t(rng() % (range[1] - range[0] + 1));
    if (cp >= 0xD800 && cp <= 0xDFFF)
      cp = 0xFFFD;
    if (cp < 0x80) {
      out += char(cp);
    } else if (cp < 0x800) {
      out += char(0xC0 | (cp >> 6));
      out += char(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += char(0xE0 | (cp >> 12));
      out += char(0x80 | ((cp >> 6) & 0x3F));
      out += char(0x80 | (cp & 0x3F));
    } else {
      out += char(0xF0 | (cp >> 18));
      out += char(0x80 | ((cp >> 12) & 0x3F));
      out += char(0x80 | ((cp >> 6) & 0x3F));
      out += char(0x80 | (cp & 0x3F));
    }
  }
  return out;
}

temp_dir::temp_dir() {
  static std::atomic<int> counter{0};
  path_ = std::filesystem::temp_directory_path() /
          ("chat_tokenizer_test_" + std::to_string(::getpid()) + "_" +
           std::to_string(counter++));
  std::filesystem::create_directories(path_);
}

temp_dir::~temp_dir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string temp_dir::file(const std::string& name) const {
  return (path_ / name).string();
}

} // namespace chat::tokenizer::test
