// Fuzzes what loading a checkpoint reads before any weight is used:
// config.json (gpt_config_from_json, as read_checkpoint_config does after
// parsing) and the header and data of model.pt (the chat tensor file).
// Input: config.json's text, a NUL byte, then model.pt's bytes. A bad
// config may fail only as JSON or with std::runtime_error, a bad tensor
// file only with std::runtime_error.

#include "model/gpt_config.hpp"
#include "model/tensor_file.hpp"

#include <nlohmann/json.hpp>

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace {

namespace fs = std::filesystem;

/// A directory of this process, reused for every input and
/// removed at exit.
struct scratch_dir {
  scratch_dir()
    : path(fs::temp_directory_path()
           / ("chat-fuzz-checkpoint-" + std::to_string(::getpid()))) {
    fs::create_directories(path);
  }
  ~scratch_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  fs::path path;
};

void write_file(const fs::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out)
    std::abort();
}

template <class F>
void expect_only_runtime_errors(F&& f) {
  try {
    f();
  } catch (const std::runtime_error&) {
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto nul = input.find('\0');
  auto config_text = input.substr(0, nul);
  auto weights = nul == std::string_view::npos ? std::string_view()
                                               : input.substr(nul + 1);
  static const scratch_dir scratch;
  const auto& dir = scratch.path;
  write_file(dir / "model.pt", weights);
  expect_only_runtime_errors([&] {
    nlohmann::json config;
    try {
      config = nlohmann::json::parse(config_text);
    } catch (const nlohmann::json::exception&) {
      return;
    }
    chat::model::gpt_config_from_json(config, "config.json");
  });
  expect_only_runtime_errors(
    [&] { chat::model::read_tensor_file((dir / "model.pt").string()); });
  return 0;
}
