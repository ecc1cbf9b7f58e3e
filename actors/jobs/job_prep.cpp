#include "actors/jobs/job_prep.hpp"

#include "model/tokenizer/atomic_write.hpp"
#include "model/tokenizer/chat_jsonl.hpp"
#include "model/tokenizer/data_prep.hpp"
#include "model/tokenizer/sentencepiece_tokenizer.hpp"

#include <fstream>
#include <stdexcept>

namespace chat {

namespace {

namespace fs = std::filesystem;
using tokenizer::sentencepiece_tokenizer;

constexpr const char* ready_marker = "prepared";

/// Appends `file` to `out`, ending with a newline.
void append_file(std::string& out, const fs::path& file) {
  out += tokenizer::read_file(file.string());
  if (!out.empty() && out.back() != '\n')
    out += '\n';
}

/// Text for a new tokenizer and pretraining: text datasets as they are,
/// chat datasets as their messages' contents, one per line.
std::string pretrain_corpus(const std::vector<prep_dataset>& datasets) {
  std::string corpus;
  for (const auto& d : datasets) {
    if (d.kind == "text") {
      append_file(corpus, d.file);
      continue;
    }
    tokenizer::read_chat_jsonl_file(
      d.file.string(), [&](std::vector<tokenizer::chat_message>&& messages) {
        for (const auto& m : messages)
          corpus += m.content + "\n";
      });
  }
  return corpus;
}

} // namespace

fs::path job_data_dir(const fs::path& job_dir) {
  return job_dir / "data";
}

fs::path job_tokenizer(const fs::path& job_dir) {
  return job_dir / "tokenizer.model";
}

bool job_data_ready(const fs::path& job_dir) {
  return fs::exists(job_data_dir(job_dir) / ready_marker);
}

void prepare_job_data(const prep_plan& plan) {
  const auto data = job_data_dir(plan.job_dir);
  fs::create_directories(data);
  tokenizer::split_options split;
  split.context_length = static_cast<std::size_t>(plan.context);
  if (plan.type == "finetune") {
    auto tok = sentencepiece_tokenizer::load(plan.base_tokenizer.string());
    std::string conversations;
    for (const auto& d : plan.datasets) {
      if (d.kind != "chat")
        throw std::runtime_error("a finetune job takes chat datasets only");
      append_file(conversations, d.file);
    }
    const auto combined = data / "conversations.jsonl";
    tokenizer::write_file_atomically(combined.string(), conversations);
    tokenizer::prepare_chat(tok, combined.string(), data.string(), split);
    fs::remove(combined);
    tok.save(job_tokenizer(plan.job_dir).string());
  } else {
    const auto corpus = pretrain_corpus(plan.datasets);
    tokenizer::tokenizer_training_options options;
    options.vocab_size = static_cast<std::uint32_t>(plan.vocab_size);
    auto tok = sentencepiece_tokenizer::train_from_text(corpus, options);
    const auto text = data / "corpus.txt";
    tokenizer::write_file_atomically(text.string(), corpus);
    tokenizer::prepare_text(tok, text.string(), data.string(), split);
    fs::remove(text);
    tok.save(job_tokenizer(plan.job_dir).string());
  }
  tokenizer::write_file_atomically((data / ready_marker).string(), "");
}

} // namespace chat
