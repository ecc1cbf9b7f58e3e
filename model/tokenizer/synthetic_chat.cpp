#include "model/tokenizer/synthetic_chat.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <random>
#include <stdexcept>

namespace chat::tokenizer {

namespace {

// std::mt19937_64's output is fixed by the standard; the distributions are
// not, so indices come from plain modulo.
class chooser {
 public:
  explicit chooser(uint64_t seed) : engine_(seed) {}
  size_t below(size_t n) { return static_cast<size_t>(engine_() % n); }
  bool chance(double p) {
    return double(engine_() >> 11) * 0x1.0p-53 < p;
  }
  template <class T, size_t N>
  const T& pick(const std::array<T, N>& items) {
    return items[below(N)];
  }

 private:
  std::mt19937_64 engine_;
};

using exchange = std::pair<const char*, const char*>;

constexpr std::array<exchange, 10> greetings{{
    {"Hello!", "Hello! How can I help you today?"},
    {"Hi", "Hi! How can I help you today?"},
    {"Hey there", "Hey! What can I do for you?"},
    {"Good morning!", "Good morning! How can I help?"},
    {"How are you?", "I'm doing well, thank you! How can I help you?"},
    {"How are you doing today?", "I'm doing well, thanks for asking!"},
    {"Thank you!", "You're welcome!"},
    {"Thanks for your help.", "You're welcome! Happy to help."},
    {"Goodbye!", "Goodbye! Have a nice day."},
    {"Bye", "Bye! Take care."},
}};

constexpr std::array<exchange, 12> questions{{
    {"What is your name?", "I am a small chat model."},
    {"Who are you?", "I am a small chat model. I can chat and add numbers."},
    {"What can you do?", "I can chat with you and add two-digit numbers."},
    {"What is the capital of France?", "The capital of France is Paris."},
    {"What is the capital of Japan?", "The capital of Japan is Tokyo."},
    {"What color is the sky?", "The sky is blue on a clear day."},
    {"How many days are in a week?", "There are seven days in a week."},
    {"How many legs does a cat have?", "A cat has four legs."},
    {"What is the opposite of hot?", "The opposite of hot is cold."},
    {"Is water wet?", "Yes, water is wet."},
    {"What do bees make?", "Bees make honey."},
    {"Tell me a joke.",
     "Why did the math book look sad? It had too many problems."},
}};

constexpr std::array<const char*, 3> system_prompts{{
    "You are a helpful assistant.",
    "You are a friendly chat assistant. Answer briefly.",
    "You are a small model that chats and does arithmetic.",
}};

constexpr int first_two_digit = 10;
constexpr int last_two_digit = 99;

std::pair<int, int> training_pair(chooser& rng) {
  for (;;) {
    int a = first_two_digit + static_cast<int>(rng.below(90));
    int b = first_two_digit + static_cast<int>(rng.below(90));
    if (!is_held_out_addition(a, b))
      return {a, b};
  }
}

void add_exchange(std::vector<chat_message>& messages, std::string question,
                  std::string answer) {
  messages.push_back({chat_role::user, std::move(question)});
  messages.push_back({chat_role::assistant, std::move(answer)});
}

} // namespace

bool is_held_out_addition(int a, int b) {
  uint64_t key = uint64_t(std::min(a, b)) * 100 + uint64_t(std::max(a, b));
  // splitmix64 finalizer: a fixed, well-mixed hash of the unordered pair.
  key += 0x9e3779b97f4a7c15ull;
  key = (key ^ (key >> 30)) * 0xbf58476d1ce4e5b9ull;
  key = (key ^ (key >> 27)) * 0x94d049bb133111ebull;
  key ^= key >> 31;
  return key % 10 == 0;
}

std::vector<std::pair<int, int>> held_out_additions() {
  std::vector<std::pair<int, int>> pairs;
  for (int a = first_two_digit; a <= last_two_digit; ++a)
    for (int b = first_two_digit; b <= last_two_digit; ++b)
      if (is_held_out_addition(a, b))
        pairs.emplace_back(a, b);
  return pairs;
}

std::string addition_question(int a, int b, size_t phrasing) {
  const auto x = std::to_string(a);
  const auto y = std::to_string(b);
  switch (phrasing % 6) {
    case 0:
      return "What is " + x + "+" + y + "?";
    case 1:
      return "What is " + x + " + " + y + "?";
    case 2:
      return "What's " + x + " plus " + y + "?";
    case 3:
      return "Compute " + x + "+" + y + ".";
    case 4:
      return "Can you add " + x + " and " + y + "?";
    default:
      return x + "+" + y + "=?";
  }
}

std::string addition_answer(int a, int b) {
  return std::to_string(a) + "+" + std::to_string(b) + " = " +
         std::to_string(a + b) + ".";
}

std::vector<std::vector<chat_message>>
generate_synthetic_chats(const synthetic_chat_options& options) {
  if (!(options.addition_fraction >= 0.0 && options.addition_fraction <= 1.0))
    throw std::invalid_argument("addition fraction " +
                                std::to_string(options.addition_fraction) +
                                " must be in [0, 1]");
  chooser rng(options.seed);
  std::vector<std::vector<chat_message>> chats;
  chats.reserve(options.count);
  for (size_t i = 0; i < options.count; ++i) {
    std::vector<chat_message> messages;
    if (rng.chance(0.3))
      messages.push_back({chat_role::system, rng.pick(system_prompts)});
    const size_t turns = 1 + rng.below(3);
    for (size_t turn = 0; turn < turns; ++turn) {
      if (rng.chance(options.addition_fraction)) {
        auto [a, b] = training_pair(rng);
        add_exchange(messages, addition_question(a, b, rng.below(6)),
                     addition_answer(a, b));
      } else if (turn == 0 && rng.chance(0.5)) {
        const auto& [question, answer] = rng.pick(greetings);
        add_exchange(messages, question, answer);
      } else {
        const auto& [question, answer] = rng.pick(questions);
        add_exchange(messages, question, answer);
      }
    }
    chats.push_back(std::move(messages));
  }
  return chats;
}

std::vector<std::vector<chat_message>> held_out_addition_chats(uint64_t seed) {
  chooser rng(seed);
  std::vector<std::vector<chat_message>> chats;
  for (auto [a, b] : held_out_additions()) {
    std::vector<chat_message> messages;
    add_exchange(messages, addition_question(a, b, rng.below(6)),
                 addition_answer(a, b));
    chats.push_back(std::move(messages));
  }
  return chats;
}

std::string to_jsonl_line(const std::vector<chat_message>& messages) {
  auto list = nlohmann::json::array();
  for (const auto& message : messages)
    list.push_back({{"role", std::string(role_name(message.role))},
                    {"content", message.content}});
  return nlohmann::json{{"messages", std::move(list)}}.dump();
}

} // namespace chat::tokenizer
