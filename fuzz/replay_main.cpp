// Replays inputs through a fuzz target's LLVMFuzzerTestOneInput, as libFuzzer
// does when given files: the regular (gcc) build runs each target over its
// seed corpus and regressions as a unit test, without clang's libFuzzer.
// Usage: fuzz_replay_<target> PATH...  (files, or folders read recursively;
// a missing path is skipped, so an empty regressions folder may be absent).

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size);

namespace fs = std::filesystem;

namespace {

std::vector<fs::path> inputs_under(const fs::path& path) {
  std::vector<fs::path> out;
  if (fs::is_regular_file(path))
    out.push_back(path);
  else if (fs::is_directory(path))
    for (const auto& entry : fs::recursive_directory_iterator(path))
      if (entry.is_regular_file() && entry.path().filename() != ".gitkeep")
        out.push_back(entry.path());
  std::sort(out.begin(), out.end());
  return out;
}

} // namespace

int main(int argc, char** argv) {
  std::size_t replayed = 0;
  for (int i = 1; i < argc; ++i) {
    for (const auto& file : inputs_under(argv[i])) {
      std::ifstream in(file, std::ios::binary);
      std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                      std::istreambuf_iterator<char>());
      std::printf("replay %s (%zu bytes)\n", file.c_str(), bytes.size());
      std::fflush(stdout);
      LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
      ++replayed;
    }
  }
  if (replayed == 0) {
    std::fprintf(stderr, "no inputs found under the given paths\n");
    return 1;
  }
  std::printf("%zu inputs replayed without a failure\n", replayed);
  return 0;
}
