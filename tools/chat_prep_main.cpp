// chat-prep: tokenizer training and data preparation (SentencePiece side of
// the process split; never links LibTorch).
//
//   chat-prep train-tokenizer --input FILE [--input FILE ...]
//                             [--chat-input FILE.jsonl ...]
//                             --vocab-size N --out MODEL
//   chat-prep text --tokenizer MODEL --input FILE --out DIR
//                  [--val-fraction F] [--context N]
//   chat-prep chat --tokenizer MODEL --input FILE.jsonl --out DIR
//                  [--val-fraction F] [--context N]
//   chat-prep gen-chat --seed S --count N --out FILE.jsonl
//                      [--addition-fraction F] [--eval-out FILE.jsonl]
//
// On success prints one JSON summary line on stdout. Exit codes: 0 done,
// 1 failed (the reason on stderr), 2 bad usage.

#include "model/tokenizer/atomic_write.hpp"
#include "model/tokenizer/chat_jsonl.hpp"
#include "model/tokenizer/data_prep.hpp"
#include "model/tokenizer/sentencepiece_tokenizer.hpp"
#include "model/tokenizer/synthetic_chat.hpp"

#include <nlohmann/json.hpp>

#include <charconv>
#include <cstdlib>
#include <iostream>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using namespace chat::tokenizer;

/// A command-line mistake: reported with the command's usage, exit code 2.
struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// -- commands and their usage --

struct command_spec {
  const char* name;
  const char* usage;
  std::set<std::string> required;
  std::set<std::string> optional;
};

const std::vector<command_spec>& commands() {
  static const std::vector<command_spec> all{
      {"train-tokenizer",
       "chat-prep train-tokenizer --input FILE [--input FILE ...]\n"
       "                          [--chat-input FILE.jsonl ...] "
       "--vocab-size N --out MODEL\n"
       "  Trains a BPE tokenizer (byte fallback, split digits, chat pieces)\n"
       "  on the lines of the text inputs and the message contents of the\n"
       "  chat inputs, and writes it atomically.",
       {"--input", "--vocab-size", "--out"},
       {"--chat-input"}},
      {"text",
       "chat-prep text --tokenizer MODEL --input FILE --out DIR\n"
       "               [--val-fraction F (0.1)] [--context N (256)]\n"
       "  Tokenizes UTF-8 text into DIR/train.bin and DIR/val.bin; the\n"
       "  validation split is the tail, at least context + 1 tokens.",
       {"--tokenizer", "--input", "--out"},
       {"--val-fraction", "--context"}},
      {"chat",
       "chat-prep chat --tokenizer MODEL --input FILE.jsonl --out DIR\n"
       "               [--val-fraction F (0.1)] [--context N (256)]\n"
       "  Tokenizes chat JSONL ({\"messages\":[{\"role\",\"content\"}]} per\n"
       "  line) into DIR/train.bin and DIR/val.bin with a loss mask on\n"
       "  assistant tokens; validation is whole conversations from the end.",
       {"--tokenizer", "--input", "--out"},
       {"--val-fraction", "--context"}},
      {"gen-chat",
       "chat-prep gen-chat --seed S --count N --out FILE.jsonl\n"
       "                   [--addition-fraction F (0.5)] "
       "[--eval-out FILE.jsonl]\n"
       "  Writes synthetic chats (greetings, fixed-answer questions,\n"
       "  two-digit additions without the held-out pairs); --eval-out also\n"
       "  writes one question per held-out pair with its expected answer.",
       {"--seed", "--count", "--out"},
       {"--addition-fraction", "--eval-out"}},
  };
  return all;
}

void print_overview(std::ostream& out) {
  out << "usage: chat-prep <command> [options]; chat-prep <command> --help\n"
         "commands:\n";
  for (const auto& command : commands())
    out << "  " << command.usage << "\n";
}

// -- argument parsing --

using options = std::multimap<std::string, std::string>;

bool repeatable(const command_spec& command, const std::string& flag) {
  return command.name == std::string("train-tokenizer") &&
         (flag == "--input" || flag == "--chat-input");
}

options parse_options(const command_spec& command, int argc, char** argv) {
  options parsed;
  for (int i = 2; i < argc; i += 2) {
    const std::string flag = argv[i];
    if (!command.required.count(flag) && !command.optional.count(flag))
      throw usage_error("unknown option '" + flag + "'");
    if (i + 1 >= argc)
      throw usage_error("option '" + flag + "' needs a value");
    if (parsed.count(flag) && !repeatable(command, flag))
      throw usage_error("option '" + flag + "' given twice");
    parsed.emplace(flag, argv[i + 1]);
  }
  for (const auto& flag : command.required)
    if (!parsed.count(flag))
      throw usage_error("missing option '" + flag + "'");
  return parsed;
}

const std::string& value(const options& parsed, const std::string& flag) {
  return parsed.find(flag)->second;
}

uint64_t unsigned_value(const options& parsed, const std::string& flag,
                        uint64_t fallback) {
  auto it = parsed.find(flag);
  if (it == parsed.end())
    return fallback;
  const auto& text = it->second;
  uint64_t result = 0;
  auto [end, error] =
      std::from_chars(text.data(), text.data() + text.size(), result);
  if (error != std::errc() || end != text.data() + text.size())
    throw usage_error(flag + " '" + text + "' is not a non-negative integer");
  return result;
}

double fraction_value(const options& parsed, const std::string& flag,
                      double fallback) {
  auto it = parsed.find(flag);
  if (it == parsed.end())
    return fallback;
  const auto& text = it->second;
  char* end = nullptr;
  double result = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !(result >= 0.0 && result <= 1.0))
    throw usage_error(flag + " '" + text + "' is not a number in [0, 1]");
  return result;
}

split_options split_from(const options& parsed) {
  split_options split;
  split.val_fraction = fraction_value(parsed, "--val-fraction", 0.1);
  split.context_length = unsigned_value(parsed, "--context", 256);
  if (split.context_length == 0)
    throw usage_error("--context must be positive");
  return split;
}

void print_summary(const prep_summary& summary) {
  nlohmann::json line{{"train_tokens", summary.train_tokens},
                      {"val_tokens", summary.val_tokens}};
  if (summary.conversations > 0)
    line["conversations"] = summary.conversations;
  std::cout << line.dump() << std::endl;
}

// -- command bodies --

// Training text: the text inputs as they are, and for chat inputs only the
// message contents, so that JSON syntax takes no room in the vocabulary.
std::string training_text(const options& parsed) {
  std::string text;
  for (auto [it, end] = parsed.equal_range("--input"); it != end; ++it)
    text += read_file(it->second) + "\n";
  for (auto [it, end] = parsed.equal_range("--chat-input"); it != end; ++it)
    read_chat_jsonl_file(it->second,
                         [&](std::vector<chat_message>&& messages) {
                           for (const auto& message : messages)
                             text += message.content + "\n";
                         });
  return text;
}

void train_tokenizer(const options& parsed) {
  tokenizer_training_options training;
  const auto vocab_size = unsigned_value(parsed, "--vocab-size", 0);
  if (vocab_size == 0 || vocab_size > (1u << 20))
    throw usage_error("--vocab-size must be in [1, 1048576]");
  training.vocab_size = static_cast<uint32_t>(vocab_size);
  auto tokenizer =
      sentencepiece_tokenizer::train_from_text(training_text(parsed), training);
  tokenizer.save(value(parsed, "--out"));
  std::cout << nlohmann::json{{"vocab_size", tokenizer.vocab_size()}}.dump()
            << std::endl;
}

void text(const options& parsed) {
  auto split = split_from(parsed);
  auto tokenizer = sentencepiece_tokenizer::load(value(parsed, "--tokenizer"));
  print_summary(prepare_text(tokenizer, value(parsed, "--input"),
                             value(parsed, "--out"), split));
}

void chat_data(const options& parsed) {
  auto split = split_from(parsed);
  auto tokenizer = sentencepiece_tokenizer::load(value(parsed, "--tokenizer"));
  print_summary(prepare_chat(tokenizer, value(parsed, "--input"),
                             value(parsed, "--out"), split));
}

std::string jsonl(const std::vector<std::vector<chat_message>>& chats) {
  std::string out;
  for (const auto& chat : chats)
    out += to_jsonl_line(chat) + "\n";
  return out;
}

void gen_chat(const options& parsed) {
  synthetic_chat_options generator;
  generator.seed = unsigned_value(parsed, "--seed", 0);
  generator.count = unsigned_value(parsed, "--count", 0);
  generator.addition_fraction =
      fraction_value(parsed, "--addition-fraction", 0.5);
  write_file_atomically(value(parsed, "--out"),
                        jsonl(generate_synthetic_chats(generator)));
  nlohmann::json summary{{"conversations", generator.count}};
  if (auto eval = parsed.find("--eval-out"); eval != parsed.end()) {
    auto held_out = held_out_addition_chats(generator.seed);
    write_file_atomically(eval->second, jsonl(held_out));
    summary["eval_conversations"] = held_out.size();
  }
  std::cout << summary.dump() << std::endl;
}

void run(const command_spec& command, const options& parsed) {
  const std::string name = command.name;
  if (name == "train-tokenizer")
    train_tokenizer(parsed);
  else if (name == "text")
    text(parsed);
  else if (name == "chat")
    chat_data(parsed);
  else
    gen_chat(parsed);
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) == "--help" ||
      std::string(argv[1]) == "-h") {
    print_overview(argc < 2 ? std::cerr : std::cout);
    return argc < 2 ? 2 : 0;
  }
  const command_spec* command = nullptr;
  for (const auto& candidate : commands())
    if (argv[1] == std::string(candidate.name))
      command = &candidate;
  if (!command) {
    std::cerr << "chat-prep: unknown command '" << argv[1] << "'\n";
    print_overview(std::cerr);
    return 2;
  }
  if (argc == 3 && (std::string(argv[2]) == "--help" ||
                    std::string(argv[2]) == "-h")) {
    std::cout << "usage: " << command->usage << "\n";
    return 0;
  }
  try {
    run(*command, parse_options(*command, argc, argv));
    return 0;
  } catch (const usage_error& e) {
    std::cerr << "chat-prep " << command->name << ": " << e.what()
              << "\nusage: " << command->usage << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "chat-prep " << command->name << ": " << e.what() << "\n";
    return 1;
  }
}
