#pragma once
// The JSON job spec chat-train runs: what to train, on which data, where the
// checkpoints go, and the hyperparameters.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/gpt_config.hpp"

namespace chat::training {

/// Optimisation settings (nanoGPT's train.py globals).
struct hyper_params {
  int64_t max_steps = 1000;        ///< optimizer steps in the whole job
  int64_t batch_size = 8;          ///< sequences per micro-batch
  int64_t grad_accum = 1;          ///< micro-batches per optimizer step
  double lr = 6e-4;                ///< peak learning rate
  double min_lr = 6e-5;            ///< floor reached at max_steps
  int64_t warmup_steps = 100;      ///< linear warmup length
  double weight_decay = 0.1;       ///< AdamW decay on matmul weights only
  double grad_clip = 1.0;          ///< max global grad norm; 0 = off
  double dropout = 0.0;            ///< model dropout while training
  int64_t eval_interval = 100;     ///< steps between validation runs
  int64_t eval_steps = 20;         ///< batches per validation run
  int64_t checkpoint_interval = 500;  ///< steps between checkpoints
  int64_t seed = 1337;             ///< seeds init, data sampling, dropout
  std::string precision = "auto";  ///< auto | fp32 | bf16 | fp16
  std::string device = "auto";     ///< auto | cpu | cuda | cuda:N
  bool activation_checkpointing = false;  ///< recompute blocks in backward
};

/// Pretraining from scratch or fine-tuning a checkpoint on masked chat data.
enum class job_type { pretrain, finetune };

/// Plain text mixed into a fine-tune's batches with every target counting,
/// so that the model keeps continuing raw text as its base did.
struct text_mix_spec {
  std::filesystem::path data_dir;  ///< holds train.bin and val.bin
  double fraction = 0.0;           ///< share of each batch's sequences
};

/// The text sequences in a batch of `batch_size` for a mix `fraction`
/// (rounded to the nearest).
int64_t text_mix_rows(double fraction, int64_t batch_size);

/// One training job.
struct job_spec {
  job_type type = job_type::pretrain;
  std::filesystem::path data_dir;  ///< holds train.bin and val.bin
  std::filesystem::path out_dir;   ///< checkpoints go here, one dir per step
  std::filesystem::path base_checkpoint;  ///< finetune only
  std::vector<std::filesystem::path> extra_files;  ///< copied into checkpoints
  model::gpt_config model;  ///< pretrain only; finetune takes the base's
  std::optional<text_mix_spec> text_mix;  ///< finetune only
  hyper_params hyper;
};

/// Parses and validates a spec; errors name the offending key, e.g.
/// "job spec 'hyper': unknown key 'lr_max'".
job_spec parse_job_spec(const nlohmann::json& j);

/// Reads a spec file (JSON) and parses it.
job_spec read_job_spec(const std::filesystem::path& path);

}  // namespace chat::training
