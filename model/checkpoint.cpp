#include "model/checkpoint.hpp"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

#include <torch/torch.h>

#include "model/huge_page_weights.hpp"
#include "model/tensor_file.hpp"

namespace chat::model {

namespace fs = std::filesystem;

namespace {

void fsync_path(const fs::path& p) {
  int fd = ::open(p.c_str(), O_RDONLY);
  if (fd < 0 || ::fsync(fd) != 0) {
    if (fd >= 0) ::close(fd);
    throw std::runtime_error("checkpoint: fsync of '" + p.string() +
                             "' failed; check the disk");
  }
  ::close(fd);
}

void write_json(const fs::path& p, const nlohmann::json& j) {
  std::ofstream out(p, std::ios::trunc);
  out << j.dump(2) << "\n";
  out.close();
  if (!out)
    throw std::runtime_error("checkpoint: cannot write '" + p.string() +
                             "'; check free disk space and permissions");
}

nlohmann::json read_json(const fs::path& p) {
  std::ifstream in(p);
  if (!in)
    throw std::runtime_error("checkpoint: cannot open '" + p.string() +
                             "'; is this a checkpoint directory?");
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error("checkpoint: '" + p.string() +
                             "' is not valid JSON (" + e.what() +
                             "); the checkpoint is damaged");
  }
}

std::string shape_string(at::IntArrayRef shape) {
  std::ostringstream s;
  s << shape;
  return s.str();
}

}  // namespace

void write_checkpoint(const fs::path& dir, gpt& model,
                      const nlohmann::json& meta,
                      const checkpoint_extras& extras) {
  if (!meta.is_object())
    throw std::runtime_error("checkpoint: meta must be a JSON object, got " +
                             std::string(meta.type_name()));
  if (fs::exists(dir))
    throw std::runtime_error("checkpoint: '" + dir.string() +
                             "' already exists; pick a new directory name");
  const fs::path parent = dir.has_parent_path() ? dir.parent_path() : ".";
  fs::create_directories(parent);
  std::string pattern = dir.string() + ".tmp-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr)
    throw std::runtime_error("checkpoint: cannot create a temporary directory "
                             "next to '" + dir.string() + "'");
  const fs::path tmp = pattern;
  try {
    write_json(tmp / "config.json", gpt_config_to_json(model->config()));
    write_json(tmp / "meta.json", meta);
    named_tensors weights;
    for (const auto& p : model->named_parameters())
      weights.emplace_back(p.key(), p.value());
    write_tensor_file((tmp / "model.pt").string(), weights);
    for (const auto& f : extras.copy_files)
      fs::copy_file(f, tmp / f.filename());
    if (extras.write_files) extras.write_files(tmp);
    for (const auto& e : fs::directory_iterator(tmp))
      if (e.is_regular_file()) fsync_path(e.path());
    fsync_path(tmp);
    fs::rename(tmp, dir);
    fsync_path(parent);
  } catch (...) {
    std::error_code ignored;
    fs::remove_all(tmp, ignored);
    throw;
  }
}

gpt_config read_checkpoint_config(const fs::path& dir) {
  const auto p = dir / "config.json";
  return gpt_config_from_json(read_json(p), "checkpoint '" + p.string() + "'");
}

nlohmann::json read_checkpoint_meta(const fs::path& dir) {
  auto j = read_json(dir / "meta.json");
  if (!j.is_object())
    throw std::runtime_error("checkpoint: '" + (dir / "meta.json").string() +
                             "' is not a JSON object");
  return j;
}

void load_checkpoint_weights(const fs::path& dir, gpt& model) {
  const auto path = (dir / "model.pt").string();
  const auto hint = "; HINT: config.json and model.pt do not belong together "
                    "or the model was built from another config";
  auto stored = read_tensor_file(path);
  auto params = model->named_parameters();
  if (stored.size() != params.size())
    throw std::runtime_error("checkpoint '" + path + "': holds " +
                             std::to_string(stored.size()) +
                             " tensors, the model expects " +
                             std::to_string(params.size()) + hint);
  std::map<std::string, at::Tensor> by_name(stored.begin(), stored.end());
  torch::NoGradGuard no_grad;
  for (auto& p : params) {
    auto it = by_name.find(p.key());
    if (it == by_name.end())
      throw std::runtime_error("checkpoint '" + path + "': tensor '" +
                               p.key() + "' is missing" + hint);
    const auto& t = it->second;
    if (t.sizes() != p.value().sizes())
      throw std::runtime_error(
          "checkpoint '" + path + "': tensor '" + p.key() + "' has shape " +
          shape_string(t.sizes()) + ", the model expects " +
          shape_string(p.value().sizes()) + hint);
    if (!at::isFloatingType(t.scalar_type()))
      throw std::runtime_error("checkpoint '" + path + "': tensor '" +
                               p.key() + "' has dtype " +
                               std::string(c10::toString(t.scalar_type())) +
                               ", expected a floating-point type" + hint);
    p.value().copy_(t);
  }
}

gpt load_gpt(const fs::path& dir, const device_choice& where) {
  gpt model(read_checkpoint_config(dir));
  load_checkpoint_weights(dir, model);
  model->to(where.device, where.dtype);
  if (where.weights != where.dtype)
    model->store_matmul_weights_as(where.weights);
  gather_weights_in_huge_pages(*model);
  model->eval();
  return model;
}

}  // namespace chat::model
