#pragma once
// A tiny random GPT saved as a checkpoint, and the plain greedy decode the
// engine must reproduce. No LibTorch here, so the tests that use it compile
// fast.

#include <cstdint>
#include <filesystem>
#include <vector>

namespace chat::test {

/// Vocabulary of the tiny model.
constexpr std::int32_t tiny_vocab = 300;

/// Writes a random GPT (2 layers, d 64, 4 heads, vocab 300, seed 1337) with
/// the given context as checkpoint `dir`/tiny (meta id "tiny-test") and
/// returns its path.
std::filesystem::path write_tiny_checkpoint(const std::filesystem::path& dir,
                                            std::int64_t context = 128);

/// Vocabulary of the other tiny model.
constexpr std::int32_t other_vocab = 200;

/// Writes another random GPT, different in weights (seed 4242) and
/// vocabulary (200), as checkpoint `dir`/other (meta id "other-test") and
/// returns its path.
std::filesystem::path write_other_checkpoint(const std::filesystem::path& dir);

/// The greedy continuation of `prompt` by `checkpoint`'s model, `count`
/// tokens, each from a full forward over the whole sequence (no KV cache, no
/// batching).
std::vector<std::int32_t>
greedy_reference(const std::filesystem::path& checkpoint,
                 const std::vector<std::int32_t>& prompt, int count);

} // namespace chat::test
