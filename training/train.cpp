#include "training/train.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <optional>
#include <stdexcept>

#include <torch/torch.h>

#include "model/autocast_guard.hpp"
#include "model/checkpoint.hpp"
#include "model/device.hpp"
#include "model/gpt.hpp"
#include "model/shard/token_shard.hpp"
#include "training/grad_scaler.hpp"
#include "training/lm_head_loss.hpp"
#include "training/lr_schedule.hpp"
#include "training/train_state.hpp"
#include "training/window_sampler.hpp"

namespace chat::training {

namespace fs = std::filesystem;

std::string checkpoint_name(int64_t step) {
  char name[32];
  std::snprintf(name, sizeof name, "step-%08lld", static_cast<long long>(step));
  return name;
}

namespace {

/// The newest complete checkpoint in out_dir, if any. Leftover temporary
/// directories from a write that was killed are removed.
std::optional<fs::path> newest_checkpoint(const fs::path& out_dir) {
  if (!fs::is_directory(out_dir)) return std::nullopt;
  std::optional<fs::path> newest;
  std::vector<fs::path> stale;
  for (const auto& e : fs::directory_iterator(out_dir)) {
    const auto name = e.path().filename().string();
    if (name.rfind("step-", 0) != 0 || !e.is_directory()) continue;
    if (name.find(".tmp-") != std::string::npos) {
      stale.push_back(e.path());
    } else if (name.size() == 13 &&
               (!newest || name > newest->filename().string())) {
      newest = e.path();
    }
  }
  for (const auto& p : stale) fs::remove_all(p);
  return newest;
}

/// AdamW with two groups: decay on matmul weights, none on norms, biases
/// and embeddings (nanoGPT's configure_optimizers).
std::unique_ptr<torch::optim::AdamW> make_optimizer(model::gpt& model,
                                                    const hyper_params& h) {
  std::vector<at::Tensor> decay, no_decay;
  for (const auto& p : model->named_parameters()) {
    const bool embedding = p.key() == "wte.weight" || p.key() == "wpe.weight";
    (p.value().dim() >= 2 && !embedding ? decay : no_decay)
        .push_back(p.value());
  }
  auto options = [&](double wd) {
    return std::make_unique<torch::optim::AdamWOptions>(
        torch::optim::AdamWOptions(h.lr)
            .betas({0.9, 0.95})
            .eps(1e-8)
            .weight_decay(wd));
  };
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(decay, options(h.weight_decay));
  groups.emplace_back(no_decay, options(0.0));
  return std::make_unique<torch::optim::AdamW>(
      groups, torch::optim::AdamWOptions(h.lr));
}

shard::token_shard read_data(const fs::path& path, int64_t vocab_size) {
  auto data = shard::read_shard(path.string());
  if (data.vocab_size > vocab_size)
    throw std::runtime_error(
        "data '" + path.string() + "': tokenized with vocab " +
        std::to_string(data.vocab_size) + " but the model has vocab_size " +
        std::to_string(vocab_size) + "; use a model at least that large");
  return data;
}

}  // namespace

train_result run_training_job(const job_spec& spec, const event_sink& emit,
                              const std::atomic<bool>& stop) {
  const auto& h = spec.hyper;
  const bool finetune = spec.type == job_type::finetune;

  // -- device and precision --
  const auto where = model::choose_device(h.device, h.precision);
  // Weights stay fp32; lower precision comes from autocast (CUDA only).
  const bool autocast = where.device.is_cuda() && where.dtype != at::kFloat;
  grad_scaler scaler(autocast && where.dtype == at::kHalf);
  torch::manual_seed(static_cast<uint64_t>(h.seed));

  // -- model: resumed, fine-tuned from a base, or new --
  const auto resume_from = newest_checkpoint(spec.out_dir);
  model::gpt_config config = spec.model;
  if (resume_from) {
    config = model::read_checkpoint_config(*resume_from);
    if (!finetune && !config.same_architecture(spec.model))
      throw std::runtime_error(
          "resume: '" + resume_from->string() + "' holds a model with " +
          model::gpt_config_to_json(config).dump() + " but the job spec asks "
          "for " + model::gpt_config_to_json(spec.model).dump() +
          "; use a fresh out_dir for a different model");
  } else if (finetune) {
    config = model::read_checkpoint_config(spec.base_checkpoint);
  }
  config.dropout = h.dropout;
  model::gpt model(config);
  if (resume_from)
    model::load_checkpoint_weights(*resume_from, model);
  else if (finetune)
    model::load_checkpoint_weights(spec.base_checkpoint, model);
  model->to(where.device);
  model->train();

  // -- data --
  const auto seed = static_cast<uint64_t>(h.seed);
  const auto val_seed = seed + 1, text_val_seed = seed + 3;
  auto sampler = [&](const fs::path& dir, const char* split, int64_t rows,
                     bool use_mask, uint64_t sampler_seed) {
    return window_sampler(read_data(dir / split, config.vocab_size),
                          config.context, rows, use_mask, sampler_seed,
                          (dir / split).string());
  };
  const int64_t text_rows =
      spec.text_mix ? text_mix_rows(spec.text_mix->fraction, h.batch_size) : 0;
  auto train_data = sampler(spec.data_dir, "train.bin",
                            h.batch_size - text_rows, finetune, seed);
  auto val_data =
      sampler(spec.data_dir, "val.bin", h.batch_size, finetune, val_seed);
  std::optional<window_sampler> train_text, val_text;
  if (spec.text_mix) {
    const auto& dir = spec.text_mix->data_dir;
    train_text = sampler(dir, "train.bin", text_rows, false, seed + 2);
    val_text = sampler(dir, "val.bin", h.batch_size, false, text_val_seed);
    // Text and chat rows share one batch tensor.
    if (train_text->window() != train_data.window())
      throw std::runtime_error(
          "text_mix: windows of " + std::to_string(train_text->window()) +
          " and " + std::to_string(train_data.window()) + " tokens cannot "
          "share a batch; both train.bin files must hold more than one "
          "context (" + std::to_string(config.context) + ") of tokens");
  }
  auto next_train_batch = [&] {
    auto batch = train_data.next(where.device);
    return train_text ? mix_batches(batch, train_text->next(where.device))
                      : batch;
  };

  // -- optimizer and resume state --
  auto optimizer = make_optimizer(model, h);
  const resumable state{model, *optimizer, train_data,
                        train_text ? &*train_text : nullptr, scaler};
  int64_t step = resume_from ? read_train_state(*resume_from, state) : 0;
  std::vector<at::Tensor> params = model->parameters();
  int64_t n_params = 0;
  for (const auto& p : params) n_params += p.numel();

  emit({{"type", "start"},
        {"job_type", finetune ? "finetune" : "pretrain"},
        {"step", step},
        {"max_steps", h.max_steps},
        {"params", n_params},
        {"device", where.device.str()},
        {"precision", autocast ? model::precision_name(where.dtype) : "fp32"},
        {"model", model::gpt_config_to_json(config)},
        {"resumed_from",
         resume_from ? nlohmann::json(resume_from->string()) : nullptr}});

  // -- validation --
  double last_val_loss = std::numeric_limits<double>::quiet_NaN();
  auto mean_val_loss = [&](window_sampler& data, uint64_t data_seed) {
    data.reseed(data_seed);  // the same batches every time
    double total = 0.0;
    for (int64_t i = 0; i < h.eval_steps; ++i) {
      auto batch = data.next(where.device);
      total += lm_head_loss(model->features(batch.inputs),
                            model->wte->weight, batch.targets, batch.mask)
                   .item<double>();
    }
    return total / static_cast<double>(h.eval_steps);
  };
  auto evaluate = [&] {
    torch::NoGradGuard no_grad;
    model::autocast_guard amp(autocast, where.dtype);
    model->eval();
    last_val_loss = mean_val_loss(val_data, val_seed);
    nlohmann::json event = {{"type", "eval"},
                            {"step", step},
                            {"val_loss", last_val_loss},
                            {"perplexity", std::exp(last_val_loss)}};
    if (val_text)
      event["text_val_loss"] = mean_val_loss(*val_text, text_val_seed);
    model->train();
    emit(event);
  };

  // -- checkpoints --
  double last_train_loss = std::numeric_limits<double>::quiet_NaN();
  fs::path last_checkpoint = resume_from.value_or(fs::path());
  auto save = [&] {
    const auto dir = spec.out_dir / checkpoint_name(step);
    if (fs::exists(dir)) return;  // this step is already saved
    nlohmann::json metrics = {{"train_loss", last_train_loss}};
    if (!std::isnan(last_val_loss)) {
      metrics["val_loss"] = last_val_loss;
      metrics["perplexity"] = std::exp(last_val_loss);
    }
    const nlohmann::json meta = {
        {"parent", finetune ? nlohmann::json(spec.base_checkpoint.string())
                            : nlohmann::json(nullptr)},
        {"job", spec.out_dir.filename().string()},
        {"type", finetune ? "finetune" : "pretrain"},
        {"step", step},
        {"metrics", metrics}};
    model::checkpoint_extras extras;
    extras.copy_files = spec.extra_files;
    extras.write_files = [&](const fs::path& tmp) {
      write_train_state(tmp, step, state);
    };
    model::write_checkpoint(dir, model, meta, extras);
    last_checkpoint = dir;
    emit({{"type", "checkpoint"}, {"step", step}, {"path", dir.string()}});
  };

  // -- training loop --
  if (step == 0) evaluate();
  while (step < h.max_steps) {
    const auto started = std::chrono::steady_clock::now();
    const double lr = lr_at(step, h);
    for (auto& group : optimizer->param_groups())
      static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
    optimizer->zero_grad();
    double train_loss = 0.0;
    int64_t tokens = 0;
    for (int64_t micro = 0; micro < h.grad_accum; ++micro) {
      auto batch = next_train_batch();
      at::Tensor loss;
      {
        model::autocast_guard amp(autocast, where.dtype);
        auto features = model->features(
            batch.inputs, h.activation_checkpointing);  // (B, T, C)
        loss = lm_head_loss(features, model->wte->weight, batch.targets,
                            batch.mask) /
               static_cast<double>(h.grad_accum);
      }
      const double value = loss.item<double>();
      if (!std::isfinite(value))
        throw std::runtime_error(
            "step " + std::to_string(step + 1) + ": training loss is " +
            std::to_string(value) + "; HINT: lower hyper.lr, raise "
            "warmup_steps or use precision fp32/bf16");
      train_loss += value;
      tokens += batch.inputs.numel();
      scaler.scale(loss).backward();
    }
    const bool finite = scaler.unscale(params);
    const double max_norm = h.grad_clip > 0.0
                                ? h.grad_clip
                                : std::numeric_limits<double>::infinity();
    const double grad_norm =
        torch::nn::utils::clip_grad_norm_(params, max_norm);
    if (finite) optimizer->step();
    scaler.update(finite);
    ++step;
    last_train_loss = train_loss;

    const double seconds = std::chrono::duration<double>(
                               std::chrono::steady_clock::now() - started)
                               .count();
    nlohmann::json event = {{"type", "step"},
                            {"step", step},
                            {"train_loss", train_loss},
                            {"lr", lr},
                            {"grad_norm", grad_norm},
                            {"tokens_per_sec",
                             tokens / std::max(seconds, 1e-9)}};
    if (!finite) event["skipped"] = "fp16 gradient overflow";
    emit(event);

    const bool last = step == h.max_steps;
    if (step % h.eval_interval == 0 || last) evaluate();
    const bool stopping = stop.load() && !last;
    if (step % h.checkpoint_interval == 0 || last || stopping) save();
    if (stopping) return {train_outcome::stopped, step, last_checkpoint};
  }
  save();  // a no-op when the last step is already saved
  return {train_outcome::finished, step, last_checkpoint};
}

}  // namespace chat::training
