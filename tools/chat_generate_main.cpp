// chat-generate: greedy completions of token-id prompts by a checkpoint
// (LibTorch side of the evaluation pipeline: ids in, ids out; chat-prep
// turns text into prompts and scores the outputs).
//
//   chat-generate --checkpoint DIR --input PROMPTS.jsonl --output OUT.jsonl
//                 [--max-tokens N (64)] [--stop-id ID (4)]
//                 [--batch-size N (32)] [--precision P (auto)]
//
// Each input line {"id": any, "prompt_ids": [int, ...]} gives one output
// line {"id": same, "output_ids": [...], "finish": "stop" | "length"}, in
// input order; output_ids never hold the stop id. Prompts are prefilled one
// at a time and decoded together, up to batch-size at once, against one
// preallocated KV cache. On success prints one JSON summary line on stdout.
// --precision is the worker's (auto, fp32, bf16, fp16): bf16 on the CPU
// checks bf16 weights against the fp32 figures.
// Exit codes: 0 done, 1 failed (the reason on stderr), 2 bad usage.

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "model/checkpoint.hpp"
#include "model/device.hpp"
#include "model/gpt.hpp"
#include "model/kv_cache.hpp"

namespace {

namespace model = chat::model;

constexpr const char* usage =
    "usage: chat-generate --checkpoint DIR --input PROMPTS.jsonl "
    "--output OUT.jsonl\n"
    "                     [--max-tokens N (64)] [--stop-id ID (4)] "
    "[--batch-size N (32)]\n"
    "                     [--precision auto|fp32|bf16|fp16 (auto)]\n"
    "  Greedy completion of each {\"id\", \"prompt_ids\"} line into\n"
    "  {\"id\", \"output_ids\", \"finish\"} lines, until the stop id or N "
    "tokens.\n";

/// A command-line mistake: reported with the usage, exit code 2.
struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct settings {
  std::string checkpoint;
  std::string input;
  std::string output;
  int64_t max_tokens = 64;
  int64_t stop_id = 4;  // <|end|> in chat-prep's tokenizers
  int64_t batch_size = 32;
  std::string precision = "auto";
};

int64_t positive_integer(const std::string& flag, const std::string& text) {
  char* end = nullptr;
  const long long value = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || value < 1)
    throw usage_error(flag + " '" + text + "' is not a positive integer");
  return value;
}

settings parse_settings(int argc, char** argv) {
  std::map<std::string, std::string> given;
  for (int i = 1; i < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag != "--checkpoint" && flag != "--input" && flag != "--output" &&
        flag != "--max-tokens" && flag != "--stop-id" &&
        flag != "--batch-size" && flag != "--precision")
      throw usage_error("unknown option '" + flag + "'");
    if (i + 1 >= argc)
      throw usage_error("option '" + flag + "' needs a value");
    if (!given.emplace(flag, argv[i + 1]).second)
      throw usage_error("option '" + flag + "' given twice");
  }
  settings s;
  for (auto [flag, field] : {std::pair{"--checkpoint", &s.checkpoint},
                             std::pair{"--input", &s.input},
                             std::pair{"--output", &s.output}}) {
    auto it = given.find(flag);
    if (it == given.end())
      throw usage_error(std::string("missing option '") + flag + "'");
    *field = it->second;
  }
  if (auto it = given.find("--precision"); it != given.end())
    s.precision = it->second;
  for (auto [flag, field] : {std::pair{"--max-tokens", &s.max_tokens},
                             std::pair{"--stop-id", &s.stop_id},
                             std::pair{"--batch-size", &s.batch_size}})
    if (auto it = given.find(flag); it != given.end())
      *field = positive_integer(flag, it->second);
  return s;
}

struct prompt {
  nlohmann::json id;
  std::vector<int64_t> ids;
};

struct completion {
  std::vector<int64_t> ids;
  bool stopped = false;  ///< ended at the stop id, not at a length limit
};

std::vector<prompt> read_prompts(const std::string& path,
                                 const model::gpt_config& config) {
  std::ifstream in(path);
  if (!in)
    throw std::runtime_error("'" + path + "': cannot open for reading");
  std::vector<prompt> prompts;
  std::string line;
  for (size_t number = 1; std::getline(in, line); ++number) {
    if (line.empty())
      continue;
    const auto where = path + ":" + std::to_string(number) + ": ";
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
      prompts.push_back({j.at("id"), j.at("prompt_ids")});
    } catch (const nlohmann::json::exception& e) {
      throw std::runtime_error(where + "expected {\"id\": ..., "
                                       "\"prompt_ids\": [int, ...]}: " +
                               e.what());
    }
    const auto& ids = prompts.back().ids;
    if (ids.empty() || static_cast<int64_t>(ids.size()) > config.context)
      throw std::runtime_error(where + "prompt has " +
                               std::to_string(ids.size()) +
                               " tokens; the model takes 1 to " +
                               std::to_string(config.context));
    for (auto id : ids)
      if (id < 0 || id >= config.vocab_size)
        throw std::runtime_error(where + "token id " + std::to_string(id) +
                                 " is outside the model's vocabulary of " +
                                 std::to_string(config.vocab_size));
  }
  return prompts;
}

/// Greedy completions of prompts[first, first + count), decoded together.
std::vector<completion> complete_batch(model::gpt& gpt, model::kv_cache& cache,
                                       const std::vector<prompt>& prompts,
                                       size_t first, size_t count,
                                       const settings& s) {
  const auto long_ids = torch::TensorOptions().dtype(torch::kLong);
  std::vector<completion> done(count);
  std::vector<int64_t> slots(count), next(count);
  for (size_t i = 0; i < count; ++i) {
    const auto& ids = prompts[first + i].ids;
    slots[i] = cache.acquire();
    auto idx = torch::tensor(ids, long_ids)
                   .view({1, static_cast<int64_t>(ids.size())});  // (1, T)
    auto logits = gpt->forward_cached(idx, cache, {slots[i]},
                                      model::logits_for::last);  // (1, 1, V)
    next[i] = logits.argmax(-1).item<int64_t>();
  }
  std::vector<size_t> running(count);
  for (size_t i = 0; i < count; ++i)
    running[i] = i;
  while (true) {
    std::vector<size_t> still_running;
    for (auto i : running) {
      if (next[i] == s.stop_id) {
        done[i].stopped = true;
        continue;
      }
      done[i].ids.push_back(next[i]);
      const bool full =
          static_cast<int64_t>(done[i].ids.size()) >= s.max_tokens ||
          cache.length(slots[i]) >= cache.context();
      if (!full)
        still_running.push_back(i);
    }
    running = std::move(still_running);
    if (running.empty())
      break;
    std::vector<int64_t> step_ids, step_slots;
    for (auto i : running) {
      step_ids.push_back(next[i]);
      step_slots.push_back(slots[i]);
    }
    const auto B = static_cast<int64_t>(running.size());
    auto idx = torch::tensor(step_ids, long_ids).view({B, 1});  // (B, 1)
    auto logits = gpt->forward_cached(idx, cache, step_slots,
                                      model::logits_for::last);  // (B, 1, V)
    auto chosen = logits.argmax(-1).view({B}).to(torch::kCPU);   // (B)
    for (int64_t b = 0; b < B; ++b)
      next[running[b]] = chosen[b].item<int64_t>();
  }
  for (auto slot : slots)
    cache.release(slot);
  return done;
}

void run(const settings& s) {
  const auto started = std::chrono::steady_clock::now();
  c10::InferenceMode inference;
  const auto where = model::choose_inference_device("auto", s.precision);
  auto gpt = model::load_gpt(s.checkpoint, where);
  const auto prompts = read_prompts(s.input, gpt->config());
  const auto slots = std::min<int64_t>(
      s.batch_size, std::max<int64_t>(1, static_cast<int64_t>(prompts.size())));
  model::kv_cache cache(gpt->config(), slots, where.device, where.cache);

  std::ofstream out(s.output, std::ios::trunc);
  if (!out)
    throw std::runtime_error("'" + s.output + "': cannot open for writing");
  int64_t generated = 0;
  for (size_t first = 0; first < prompts.size();
       first += static_cast<size_t>(slots)) {
    const auto count =
        std::min(prompts.size() - first, static_cast<size_t>(slots));
    auto completions = complete_batch(gpt, cache, prompts, first, count, s);
    for (size_t i = 0; i < count; ++i) {
      generated += static_cast<int64_t>(completions[i].ids.size());
      out << nlohmann::json{{"id", prompts[first + i].id},
                            {"output_ids", completions[i].ids},
                            {"finish",
                             completions[i].stopped ? "stop" : "length"}}
                 .dump()
          << "\n";
    }
  }
  out.flush();
  if (!out)
    throw std::runtime_error("'" + s.output + "': write failed");
  const double seconds = std::chrono::duration<double>(
                             std::chrono::steady_clock::now() - started)
                             .count();
  std::cout << nlohmann::json{{"prompts", prompts.size()},
                              {"generated_tokens", generated},
                              {"seconds", seconds},
                              {"device", where.device.str()}}
                   .dump()
            << std::endl;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && (std::string(argv[1]) == "--help" ||
                    std::string(argv[1]) == "-h")) {
    std::cout << usage;
    return 0;
  }
  try {
    run(parse_settings(argc, argv));
    return 0;
  } catch (const usage_error& e) {
    std::cerr << "chat-generate: " << e.what() << "\n" << usage;
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "chat-generate: " << e.what() << "\n";
    return 1;
  }
}
