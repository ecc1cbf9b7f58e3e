#include "actors/served_model.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace chat {

namespace {

namespace fs = std::filesystem;

nlohmann::json read_json(const fs::path& file) {
  std::ifstream in(file);
  if (!in)
    throw std::runtime_error("model file '" + file.string()
                             + "' cannot be read");
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error("model file '" + file.string()
                             + "' is not valid JSON: " + e.what());
  }
}

std::int64_t positive_field(const nlohmann::json& config, const char* name,
                            const fs::path& file) {
  auto it = config.find(name);
  if (it == config.end() || !it->is_number_integer() || it->get<std::int64_t>() < 1)
    throw std::runtime_error("model file '" + file.string() + "': '" + name
                             + "' must be a positive integer");
  return it->get<std::int64_t>();
}

} // namespace

std::shared_ptr<const served_model> load_served_model(const std::string& dir) {
  fs::path root(dir);
  auto model = std::make_shared<served_model>();
  model->path = fs::absolute(root).lexically_normal().string();
  auto config_file = root / "config.json";
  auto config = read_json(config_file);
  model->context = positive_field(config, "context", config_file);
  model->vocab_size = positive_field(config, "vocab_size", config_file);
  const auto d = positive_field(config, "d_model", config_file);
  const auto layers = positive_field(config, "n_layer", config_file);
  // Embeddings, then per block qkv + proj + MLP (weights and biases) and two
  // LayerNorms, then the final LayerNorm; the LM head is the embedding.
  model->n_params = model->vocab_size * d + model->context * d
                    + layers * (12 * d * d + 13 * d) + 2 * d;
  model->config_json = config.dump();
  // The worker names a model without meta.json "id" the same way.
  model->id = fs::canonical(root).filename().string();
  auto meta_file = root / "meta.json";
  if (fs::exists(meta_file)) {
    auto meta = read_json(meta_file);
    if (meta.is_object() && meta.contains("id") && meta["id"].is_string())
      model->id = meta["id"].get<std::string>();
    if (meta.is_object() && meta.contains("metrics")
        && meta["metrics"].is_object())
      model->metrics_json = meta["metrics"].dump();
  }
  std::error_code ec;
  auto written = fs::last_write_time(config_file, ec);
  if (!ec)
    model->created_at = std::chrono::duration_cast<std::chrono::seconds>(
                          written.time_since_epoch()
                          - fs::file_time_type::clock::now().time_since_epoch()
                          + std::chrono::system_clock::now().time_since_epoch())
                          .count();
  model->tokenizer = std::make_shared<tokenizer::sentencepiece_tokenizer>(
    tokenizer::sentencepiece_tokenizer::load((root / "tokenizer.model").string()));
  if (model->tokenizer->vocab_size() > model->vocab_size)
    throw std::runtime_error(
      "model '" + dir + "': tokenizer has "
      + std::to_string(model->tokenizer->vocab_size())
      + " pieces but config.json allows only vocab_size "
      + std::to_string(model->vocab_size));
  return model;
}

} // namespace chat
