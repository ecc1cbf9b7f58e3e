#include "training/train_state.hpp"

#include <fstream>
#include <map>
#include <mutex>
#include <stdexcept>

#include <torch/torch.h>

#include "model/tensor_file.hpp"

namespace chat::training {

namespace fs = std::filesystem;

namespace {

std::string state_key(const at::Tensor& p) {
  // The key LibTorch's optimizers use for a parameter's state.
  return c10::guts::to_string(p.unsafeGetTensorImpl());
}

at::Generator dropout_generator(const model::gpt& model) {
  return at::globalContext().defaultGenerator(
      model->parameters().front().device());
}

}  // namespace

void write_train_state(const fs::path& dir, int64_t step,
                       const resumable& s) {
  model::named_tensors tensors;
  for (const auto& p : s.model->named_parameters()) {
    auto it = s.optimizer.state().find(state_key(p.value()));
    if (it == s.optimizer.state().end()) continue;  // before the first step
    auto& adam = static_cast<torch::optim::AdamWParamState&>(*it->second);
    tensors.emplace_back("adam." + p.key() + ".exp_avg", adam.exp_avg());
    tensors.emplace_back("adam." + p.key() + ".exp_avg_sq", adam.exp_avg_sq());
    tensors.emplace_back("adam." + p.key() + ".step",
                         torch::tensor(adam.step(), torch::kLong));
  }
  auto cpu_gen = at::globalContext().defaultGenerator(c10::Device(c10::kCPU));
  {
    std::lock_guard<std::mutex> lock(cpu_gen.mutex());
    tensors.emplace_back("rng.cpu", cpu_gen.get_state());
  }
  auto gen = dropout_generator(s.model);
  if (gen.device().type() != c10::kCPU) {
    std::lock_guard<std::mutex> lock(gen.mutex());
    tensors.emplace_back("rng.device", gen.get_state());
  }
  model::write_tensor_file((dir / "train_state.pt").string(), tensors);

  nlohmann::json j = {
      {"step", step},
      {"data_rng", s.train_data.rng_state()},
      {"scaler",
       {{"scale", s.scaler.current_scale()},
        {"growth_tracker", s.scaler.growth_tracker()}}}};
  if (s.text_data) j["text_data_rng"] = s.text_data->rng_state();
  std::ofstream out(dir / "train_state.json", std::ios::trunc);
  out << j.dump() << "\n";
  out.close();
  if (!out)
    throw std::runtime_error("checkpoint: cannot write '" +
                             (dir / "train_state.json").string() + "'");
}

int64_t read_train_state(const fs::path& dir, const resumable& s) {
  const auto json_path = dir / "train_state.json";
  std::ifstream in(json_path);
  if (!in)
    throw std::runtime_error("resume: '" + json_path.string() +
                             "' is missing; this checkpoint cannot resume a "
                             "run (delete it or point out_dir elsewhere)");
  int64_t step = 0;
  try {
    const auto j = nlohmann::json::parse(in);
    step = j.at("step").get<int64_t>();
    s.train_data.restore_rng_state(j.at("data_rng").get<std::string>());
    if (s.text_data) {
      if (!j.contains("text_data_rng"))
        throw std::runtime_error(
            "resume: '" + json_path.string() + "' was written by a run "
            "without text_mix; resume it without text_mix or use a fresh "
            "out_dir");
      s.text_data->restore_rng_state(j["text_data_rng"].get<std::string>());
    }
    s.scaler.restore(j.at("scaler").at("scale").get<double>(),
                     j.at("scaler").at("growth_tracker").get<int64_t>());
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error("resume: '" + json_path.string() +
                             "' is damaged (" + e.what() + ")");
  }

  const auto pt_path = (dir / "train_state.pt").string();
  std::map<std::string, at::Tensor> saved;
  for (auto& [name, t] : model::read_tensor_file(pt_path)) saved[name] = t;
  auto take = [&](const std::string& name) {
    auto it = saved.find(name);
    if (it == saved.end())
      throw std::runtime_error("resume: '" + pt_path + "' lacks '" + name +
                               "'; it belongs to another model or is damaged");
    return it->second;
  };
  {
    auto cpu_gen = at::globalContext().defaultGenerator(c10::Device(c10::kCPU));
    std::lock_guard<std::mutex> lock(cpu_gen.mutex());
    cpu_gen.set_state(take("rng.cpu"));
  }
  auto gen = dropout_generator(s.model);
  if (gen.device().type() != c10::kCPU && saved.count("rng.device")) {
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(take("rng.device"));
  }
  if (step == 0) return step;
  for (const auto& p : s.model->named_parameters()) {
    const auto& param = p.value();
    auto exp_avg = take("adam." + p.key() + ".exp_avg");
    auto exp_avg_sq = take("adam." + p.key() + ".exp_avg_sq");
    if (exp_avg.sizes() != param.sizes() || exp_avg_sq.sizes() != param.sizes())
      throw std::runtime_error("resume: optimizer state of '" + p.key() +
                               "' has the wrong shape in '" + pt_path + "'");
    auto adam = std::make_unique<torch::optim::AdamWParamState>();
    adam->step(take("adam." + p.key() + ".step").item<int64_t>());
    adam->exp_avg(exp_avg.to(param.device(), param.scalar_type()));
    adam->exp_avg_sq(exp_avg_sq.to(param.device(), param.scalar_type()));
    s.optimizer.state()[state_key(param)] = std::move(adam);
  }
  return step;
}

}  // namespace chat::training
