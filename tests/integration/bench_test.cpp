#include "service_harness.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <sys/wait.h>

using chat::testing::chatd_process;
using chat::testing::eventually;
using json = nlohmann::json;

namespace {

std::string read_all(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

/// Runs chatctl against `chatd` with the admin key; exit code and stdout.
std::pair<int, std::string> chatctl(chatd_process& chatd,
                                    const std::string& args) {
  std::ifstream key_file(chatd.data_dir() / "admin.key");
  std::string key;
  key_file >> key;
  const auto out = chatd.data_dir() / "chatctl.out";
  const std::string cmd = "CHATCTL_URL=http://127.0.0.1:"
                          + std::to_string(chatd.port()) + " CHATCTL_KEY="
                          + key + " " CHAT_BINARY_DIR "/tools/chatctl " + args
                          + " > '" + out.string() + "'";
  const int rc = std::system(cmd.c_str());
  return {WEXITSTATUS(rc), read_all(out)};
}

} // namespace

TEST_CASE("chatctl bench gets replies of exactly --output-tokens tokens",
          "[integration]") {
  chatd_process chatd;
  chatd.start();
  REQUIRE(eventually([&] { return chatd.get("/readyz").status == 200; }));
  auto [rc, out] = chatctl(chatd, "--json bench --concurrency 2 --requests 4 "
                                  "--output-tokens 6 --prompt-words 8");
  INFO(out);
  REQUIRE(rc == 0);
  auto r = json::parse(out);
  CHECK(r["requests"] == 4);
  CHECK(r["errors"] == 0);
  // ignore_eos: no reply ends early on the end-of-turn token.
  CHECK(r["completion_tokens"] == 24);
  CHECK(r["prompt_tokens"].get<int>() > 4 * 8);
  CHECK(r["output_tokens_per_s"].get<double>() > 0);
  CHECK(r["ttft_ms"]["p99"].get<double>() > 0);

  auto [rc_table, table] = chatctl(chatd, "bench --requests 1 "
                                          "--output-tokens 3 --api "
                                          "completions");
  INFO(table);
  CHECK(rc_table == 0);
  CHECK(table.find("output tok/s") != std::string::npos);
}

TEST_CASE("chatctl bench counts refused requests as errors", "[integration]") {
  chatd_process chatd;
  chatd.start();
  REQUIRE(eventually([&] { return chatd.get("/readyz").status == 200; }));
  // More new tokens than the context holds: every request gets a 400.
  auto [rc, out] = chatctl(chatd, "--json bench --requests 2 "
                                  "--output-tokens 100000");
  INFO(out);
  CHECK(rc == 1);
  auto r = json::parse(out);
  CHECK(r["errors"] == 2);
  REQUIRE(r["error_examples"].size() == 1);
  CHECK(r["error_examples"][0].get<std::string>().rfind("HTTP 400", 0) == 0);
}
