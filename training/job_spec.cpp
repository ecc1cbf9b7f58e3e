#include "training/job_spec.hpp"

#include <cmath>
#include <fstream>
#include <stdexcept>

#include "model/json_fields.hpp"

namespace chat::training {

namespace {

using model::read_optional;
using model::read_required;
using model::require_known_keys;

void check(bool ok, const std::string& key, const std::string& rule) {
  if (!ok)
    throw std::runtime_error("job spec 'hyper': key '" + key + "' " + rule);
}

hyper_params parse_hyper(const nlohmann::json& j) {
  const std::string where = "job spec 'hyper'";
  require_known_keys(
      j, {"max_steps", "batch_size", "grad_accum", "lr", "min_lr",
          "warmup_steps", "weight_decay", "grad_clip", "dropout",
          "eval_interval", "eval_steps", "checkpoint_interval", "seed",
          "precision", "device", "activation_checkpointing"},
      where);
  hyper_params h;
  read_optional(j, "max_steps", h.max_steps, where);
  read_optional(j, "batch_size", h.batch_size, where);
  read_optional(j, "grad_accum", h.grad_accum, where);
  read_optional(j, "lr", h.lr, where);
  read_optional(j, "min_lr", h.min_lr, where);
  read_optional(j, "warmup_steps", h.warmup_steps, where);
  read_optional(j, "weight_decay", h.weight_decay, where);
  read_optional(j, "grad_clip", h.grad_clip, where);
  read_optional(j, "dropout", h.dropout, where);
  read_optional(j, "eval_interval", h.eval_interval, where);
  read_optional(j, "eval_steps", h.eval_steps, where);
  read_optional(j, "checkpoint_interval", h.checkpoint_interval, where);
  read_optional(j, "seed", h.seed, where);
  read_optional(j, "precision", h.precision, where);
  read_optional(j, "device", h.device, where);
  read_optional(j, "activation_checkpointing", h.activation_checkpointing,
                where);

  check(h.max_steps >= 1, "max_steps", "must be >= 1");
  check(h.batch_size >= 1, "batch_size", "must be >= 1");
  check(h.grad_accum >= 1, "grad_accum", "must be >= 1");
  check(h.lr > 0.0, "lr", "must be > 0");
  check(h.min_lr >= 0.0 && h.min_lr <= h.lr, "min_lr",
        "must be in [0, lr]");
  check(h.warmup_steps >= 0, "warmup_steps", "must be >= 0");
  check(h.weight_decay >= 0.0, "weight_decay", "must be >= 0");
  check(h.grad_clip >= 0.0, "grad_clip", "must be >= 0 (0 turns it off)");
  check(h.dropout >= 0.0 && h.dropout < 1.0, "dropout", "must be in [0, 1)");
  check(h.eval_interval >= 1, "eval_interval", "must be >= 1");
  check(h.eval_steps >= 1, "eval_steps", "must be >= 1");
  check(h.checkpoint_interval >= 1, "checkpoint_interval", "must be >= 1");
  check(h.seed >= 0, "seed", "must be >= 0");
  check(h.precision == "auto" || h.precision == "fp32" ||
            h.precision == "bf16" || h.precision == "fp16",
        "precision", "must be auto, fp32, bf16 or fp16, not '" +
                         h.precision + "'");
  check(h.device == "auto" || h.device == "cpu" ||
            h.device.rfind("cuda", 0) == 0,
        "device", "must be auto, cpu, cuda or cuda:N, not '" + h.device + "'");
  return h;
}

text_mix_spec parse_text_mix(const nlohmann::json& j, int64_t batch_size) {
  const std::string where = "job spec 'text_mix'";
  require_known_keys(j, {"data_dir", "fraction"}, where);
  text_mix_spec mix;
  std::string data_dir;
  read_required(j, "data_dir", data_dir, where);
  read_required(j, "fraction", mix.fraction, where);
  if (data_dir.empty())
    throw std::runtime_error(where + ": key 'data_dir' must not be empty");
  mix.data_dir = data_dir;
  if (!(mix.fraction > 0.0 && mix.fraction < 1.0))
    throw std::runtime_error(where + ": key 'fraction' must be in (0, 1)");
  const auto rows = text_mix_rows(mix.fraction, batch_size);
  if (rows < 1 || rows >= batch_size)
    throw std::runtime_error(
        where + ": key 'fraction' " + std::to_string(mix.fraction) +
        " gives " + std::to_string(rows) + " text sequences in a batch of " +
        std::to_string(batch_size) + "; it must leave at least one text and "
        "one chat sequence (raise hyper.batch_size or change the fraction)");
  return mix;
}

}  // namespace

int64_t text_mix_rows(double fraction, int64_t batch_size) {
  return std::llround(fraction * static_cast<double>(batch_size));
}

job_spec parse_job_spec(const nlohmann::json& j) {
  const std::string where = "job spec";
  require_known_keys(j, {"type", "data_dir", "out_dir", "base_checkpoint",
                         "extra_files", "model", "text_mix", "hyper"},
                     where);
  job_spec spec;
  std::string type, data_dir, out_dir, base;
  std::vector<std::string> extra;
  read_required(j, "type", type, where);
  read_required(j, "data_dir", data_dir, where);
  read_required(j, "out_dir", out_dir, where);
  read_optional(j, "base_checkpoint", base, where);
  read_optional(j, "extra_files", extra, where);
  if (type == "pretrain") {
    spec.type = job_type::pretrain;
    if (!j.contains("model"))
      throw std::runtime_error(
          "job spec: key 'model' is required for a pretrain job");
    if (!base.empty())
      throw std::runtime_error("job spec: key 'base_checkpoint' is only for "
                               "finetune jobs; remove it or set type "
                               "finetune");
    spec.model = model::gpt_config_from_json(j["model"], "job spec 'model'");
  } else if (type == "finetune") {
    spec.type = job_type::finetune;
    if (base.empty())
      throw std::runtime_error(
          "job spec: key 'base_checkpoint' is required for a finetune job");
    if (j.contains("model"))
      throw std::runtime_error("job spec: key 'model' is not allowed for a "
                               "finetune job; the architecture comes from "
                               "base_checkpoint");
  } else {
    throw std::runtime_error("job spec: key 'type' is '" + type +
                             "', expected pretrain or finetune");
  }
  if (data_dir.empty() || out_dir.empty())
    throw std::runtime_error(std::string("job spec: key '") +
                             (data_dir.empty() ? "data_dir" : "out_dir") +
                             "' must not be empty");
  spec.data_dir = data_dir;
  spec.out_dir = out_dir;
  spec.base_checkpoint = base;
  spec.extra_files.assign(extra.begin(), extra.end());
  spec.hyper = parse_hyper(j.value("hyper", nlohmann::json::object()));
  spec.model.dropout = spec.hyper.dropout;
  if (j.contains("text_mix")) {
    if (spec.type != job_type::finetune)
      throw std::runtime_error("job spec: key 'text_mix' is only for finetune "
                               "jobs; pretraining already learns every "
                               "token");
    spec.text_mix = parse_text_mix(j["text_mix"], spec.hyper.batch_size);
  }
  return spec;
}

job_spec read_job_spec(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in)
    throw std::runtime_error("job spec '" + path.string() +
                             "': cannot open it; check the --spec path");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error("job spec '" + path.string() +
                             "': not valid JSON: " + e.what());
  }
  return parse_job_spec(j);
}

}  // namespace chat::training
