#pragma once

#include "model/tokenizer/sentencepiece_tokenizer.hpp"

#include <cstdint>
#include <filesystem>
#include <random>
#include <string>

namespace chat::tokenizer::test {

/// A 512-piece tokenizer trained once per test process on the first 40 KB of
/// tinyshakespeare.
const sentencepiece_tokenizer& shakespeare_tokenizer();

/// Random well-formed UTF-8 of `chars` code points, mixing ASCII, Latin,
/// CJK and emoji ranges.
std::string random_utf8(std::mt19937_64& rng, size_t chars);

/// A fresh directory under the system temp dir, removed on destruction.
class temp_dir {
 public:
  temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  ~temp_dir();
  /// `name` inside the directory.
  std::string file(const std::string& name) const;

 private:
  std::filesystem::path path_;
};

} // namespace chat::tokenizer::test
