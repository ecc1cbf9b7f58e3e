#pragma once

#include <string>
#include <string_view>

namespace chat::tokenizer {

/// Replaces `path` with `bytes` atomically: a temp file in the same
/// directory, fsync, rename. Throws std::runtime_error naming the file.
void write_file_atomically(const std::string& path, std::string_view bytes);

/// Reads all of `path`; throws std::runtime_error naming the file.
std::string read_file(const std::string& path);

} // namespace chat::tokenizer
