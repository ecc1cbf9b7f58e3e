#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace chat {

/// One dataset file of a job.
struct prep_dataset {
  std::filesystem::path file;
  /// "text" or "chat".
  std::string kind;
};

/// What preparing a job's data needs.
struct prep_plan {
  /// "pretrain" or "finetune".
  std::string type;
  std::vector<prep_dataset> datasets;
  /// data_dir/jobs/<job_id>.
  std::filesystem::path job_dir;
  /// The model's context: each split must hold one window.
  std::int64_t context = 0;
  /// Finetune: the base model's tokenizer.model.
  std::filesystem::path base_tokenizer;
  /// Pretrain: the size of the new tokenizer.
  std::int64_t vocab_size = 0;
};

/// Where a job's prepared files go (under job_dir).
std::filesystem::path job_data_dir(const std::filesystem::path& job_dir);
std::filesystem::path job_tokenizer(const std::filesystem::path& job_dir);

/// True once prepare_job_data finished for this job dir (so a resumed job
/// does not prepare again: a new tokenizer must match its checkpoints).
bool job_data_ready(const std::filesystem::path& job_dir);

/// Tokenizes the datasets into job_data_dir (train.bin, val.bin) and puts
/// the job's tokenizer at job_tokenizer: the base model's for finetune
/// (chat datasets, assistant tokens learned), a new SentencePiece model of
/// `vocab_size` for pretrain (text datasets as they are, chat datasets as
/// their messages' text). Blocks for as long as that takes.
/// @throws std::runtime_error saying what is wrong with the data.
void prepare_job_data(const prep_plan& plan);

} // namespace chat
