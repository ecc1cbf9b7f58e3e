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
//   chat-prep eval-prompts --tokenizer MODEL --input EVAL.jsonl
//                          --out PROMPTS.jsonl
//   chat-prep eval-score --tokenizer MODEL --input EVAL.jsonl
//                        --outputs OUT.jsonl
//   chat-prep text-prompts --tokenizer MODEL --prompt TEXT [--prompt TEXT ...]
//                          --out PROMPTS.jsonl
//   chat-prep text-score --tokenizer MODEL --corpus FILE
//                        --chat-input FILE.jsonl --outputs OUT.jsonl
//
// The evaluation is a pipeline across the process split: eval-prompts
// turns each conversation (all messages but the last, an assistant reply)
// into prompt ids, chat-generate completes them, eval-score decodes the
// completions and compares them with the expected replies. text-prompts
// and text-score do the same for raw text prompts, scored by how many of
// the generated words the corpus holds and how many word runs come from the
// chats instead.
//
// On success prints one JSON summary line on stdout. Exit codes: 0 done,
// 1 failed (the reason on stderr), 2 bad usage.

#include "model/tokenizer/atomic_write.hpp"
#include "model/tokenizer/chat_jsonl.hpp"
#include "model/tokenizer/data_prep.hpp"
#include "model/tokenizer/sentencepiece_tokenizer.hpp"
#include "model/tokenizer/synthetic_chat.hpp"
#include "model/tokenizer/word_coverage.hpp"

#include <nlohmann/json.hpp>

#include <charconv>
#include <cstdlib>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
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
      {"eval-prompts",
       "chat-prep eval-prompts --tokenizer MODEL --input EVAL.jsonl "
       "--out PROMPTS.jsonl\n"
       "  For each conversation of EVAL.jsonl, whose last message is the\n"
       "  expected assistant reply, writes {\"id\": line index,\n"
       "  \"prompt_ids\": [...]}: the messages before it in the chat\n"
       "  template, ending with the generation prompt (chat-generate's input).",
       {"--tokenizer", "--input", "--out"},
       {}},
      {"eval-score",
       "chat-prep eval-score --tokenizer MODEL --input EVAL.jsonl "
       "--outputs OUT.jsonl\n"
       "  Decodes chat-generate's {\"id\", \"output_ids\"} lines and counts\n"
       "  the replies equal to the expected ones (surrounding whitespace\n"
       "  ignored); prints {\"correct\", \"total\", \"accuracy\"} and a few\n"
       "  failures on stderr.",
       {"--tokenizer", "--input", "--outputs"},
       {}},
      {"text-prompts",
       "chat-prep text-prompts --tokenizer MODEL --prompt TEXT "
       "[--prompt TEXT ...] --out PROMPTS.jsonl\n"
       "  Writes {\"id\": index, \"prompt_ids\": [...]} for each raw text\n"
       "  prompt (no chat template; chat-generate's input).",
       {"--tokenizer", "--prompt", "--out"},
       {}},
      {"text-score",
       "chat-prep text-score --tokenizer MODEL --corpus FILE "
       "--chat-input FILE.jsonl\n"
       "                     --outputs OUT.jsonl\n"
       "  Decodes chat-generate's outputs for text-prompts and counts their\n"
       "  words that the corpus holds (ASCII letters, case ignored), their\n"
       "  word trigrams that only the chats' assistant replies hold, and the\n"
       "  outputs that ended with the stop id; prints {\"words\", \"known\",\n"
       "  \"known_fraction\", \"trigrams\", \"chat_trigrams\",\n"
       "  \"chat_fraction\", \"stopped\"}. The texts go to stderr.",
       {"--tokenizer", "--corpus", "--chat-input", "--outputs"},
       {}},
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
  const std::string name = command.name;
  return (name == "train-tokenizer" &&
          (flag == "--input" || flag == "--chat-input")) ||
         (name == "text-prompts" && flag == "--prompt");
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

/// One evaluation case: the conversation up to the reply, and the reply.
struct eval_case {
  std::vector<chat_message> prompt;
  std::string expected;
};

std::vector<eval_case> read_eval_cases(const std::string& path) {
  std::vector<eval_case> cases;
  read_chat_jsonl_file(path, [&](std::vector<chat_message>&& messages) {
    if (messages.back().role != chat_role::assistant)
      throw std::runtime_error(
          "'" + path + "': conversation " + std::to_string(cases.size() + 1) +
          " does not end with the expected assistant reply");
    std::string expected = std::move(messages.back().content);
    messages.pop_back();
    cases.push_back({std::move(messages), std::move(expected)});
  });
  return cases;
}

void eval_prompts(const options& parsed) {
  auto tokenizer = sentencepiece_tokenizer::load(value(parsed, "--tokenizer"));
  const auto cases = read_eval_cases(value(parsed, "--input"));
  std::string out;
  for (size_t id = 0; id < cases.size(); ++id) {
    auto encoded = encode_conversation(tokenizer, cases[id].prompt, true);
    out += nlohmann::json{{"id", id}, {"prompt_ids", encoded.tokens}}.dump() +
           "\n";
  }
  write_file_atomically(value(parsed, "--out"), out);
  std::cout << nlohmann::json{{"prompts", cases.size()}}.dump() << std::endl;
}

std::string trimmed(const std::string& text) {
  const auto first = text.find_first_not_of(" \t\n");
  if (first == std::string::npos)
    return "";
  return text.substr(first, text.find_last_not_of(" \t\n") - first + 1);
}

/// One line of chat-generate's output.
struct generated {
  std::vector<int32_t> ids;
  bool stopped = false;  ///< ended with the stop id, not the length limit
};

/// chat-generate's outputs by id.
std::map<size_t, generated> read_outputs(const std::string& path) {
  std::map<size_t, generated> outputs;
  std::istringstream lines(read_file(path));
  std::string line;
  for (size_t number = 1; std::getline(lines, line); ++number) {
    if (line.empty())
      continue;
    try {
      const auto j = nlohmann::json::parse(line);
      outputs[j.at("id").get<size_t>()] = {
          j.at("output_ids").get<std::vector<int32_t>>(),
          j.value("finish", "") == "stop"};
    } catch (const nlohmann::json::exception& e) {
      throw std::runtime_error("'" + path + "':" + std::to_string(number) +
                               ": expected {\"id\": index, \"output_ids\": "
                               "[int, ...], \"finish\"}: " +
                               e.what());
    }
  }
  return outputs;
}

void eval_score(const options& parsed) {
  constexpr size_t failures_shown = 8;
  auto tokenizer = sentencepiece_tokenizer::load(value(parsed, "--tokenizer"));
  const auto cases = read_eval_cases(value(parsed, "--input"));
  const auto outputs = read_outputs(value(parsed, "--outputs"));
  size_t correct = 0;
  std::vector<std::vector<std::string>> failures;
  for (size_t id = 0; id < cases.size(); ++id) {
    auto output = outputs.find(id);
    if (output == outputs.end())
      throw std::runtime_error("'" + value(parsed, "--outputs") +
                               "' has no output for id " + std::to_string(id));
    const auto reply = trimmed(tokenizer.decode(output->second.ids));
    if (reply == trimmed(cases[id].expected))
      ++correct;
    else if (failures.size() < failures_shown)
      failures.push_back({cases[id].prompt.empty()
                              ? std::string()
                              : cases[id].prompt.back().content,
                          cases[id].expected, reply});
  }
  if (!failures.empty()) {
    std::cerr << "first failures (prompt | expected | got):\n";
    for (const auto& failure : failures)
      std::cerr << "  " << failure[0] << " | " << failure[1] << " | "
                << failure[2] << "\n";
  }
  const double accuracy =
      cases.empty() ? 0.0 : double(correct) / double(cases.size());
  std::cout << nlohmann::json{{"correct", correct},
                              {"total", cases.size()},
                              {"accuracy", accuracy}}
                   .dump()
            << std::endl;
}

void text_prompts(const options& parsed) {
  auto tokenizer = sentencepiece_tokenizer::load(value(parsed, "--tokenizer"));
  std::string out;
  size_t id = 0;
  for (auto [it, end] = parsed.equal_range("--prompt"); it != end; ++it, ++id)
    out += nlohmann::json{{"id", id},
                          {"prompt_ids", tokenizer.encode(it->second)}}
               .dump() +
           "\n";
  write_file_atomically(value(parsed, "--out"), out);
  std::cout << nlohmann::json{{"prompts", id}}.dump() << std::endl;
}

void text_score(const options& parsed) {
  auto tokenizer = sentencepiece_tokenizer::load(value(parsed, "--tokenizer"));
  const auto corpus = read_file(value(parsed, "--corpus"));
  ngram_set corpus_words(1), corpus_trigrams(3), reply_trigrams(3);
  corpus_words.add(corpus);
  corpus_trigrams.add(corpus);
  read_chat_jsonl_file(value(parsed, "--chat-input"),
                       [&](std::vector<chat_message>&& messages) {
                         for (const auto& message : messages)
                           if (message.role == chat_role::assistant)
                             reply_trigrams.add(message.content);
                       });
  size_t words = 0, known = 0, trigrams = 0, chat_trigrams = 0, stopped = 0;
  for (const auto& [id, output] : read_outputs(value(parsed, "--outputs"))) {
    const auto text = tokenizer.decode(output.ids);
    std::cerr << "output " << id << (output.stopped ? " (stopped)" : "")
              << ":\n" << text << "\n";
    for (const auto& word : words_of(text)) {
      ++words;
      known += corpus_words.contains(word);
    }
    for (const auto& trigram : corpus_trigrams.ngrams_of(text)) {
      ++trigrams;
      chat_trigrams += reply_trigrams.contains(trigram) &&
                       !corpus_trigrams.contains(trigram);
    }
    stopped += output.stopped;
  }
  auto share = [](size_t part, size_t whole) {
    return whole == 0 ? 0.0 : double(part) / double(whole);
  };
  std::cout << nlohmann::json{{"words", words},
                              {"known", known},
                              {"known_fraction", share(known, words)},
                              {"trigrams", trigrams},
                              {"chat_trigrams", chat_trigrams},
                              {"chat_fraction", share(chat_trigrams, trigrams)},
                              {"stopped", stopped}}
                   .dump()
            << std::endl;
}

void run(const command_spec& command, const options& parsed) {
  const std::string name = command.name;
  if (name == "train-tokenizer")
    train_tokenizer(parsed);
  else if (name == "text")
    text(parsed);
  else if (name == "chat")
    chat_data(parsed);
  else if (name == "gen-chat")
    gen_chat(parsed);
  else if (name == "eval-prompts")
    eval_prompts(parsed);
  else if (name == "eval-score")
    eval_score(parsed);
  else if (name == "text-prompts")
    text_prompts(parsed);
  else
    text_score(parsed);
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
