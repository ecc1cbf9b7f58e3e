#include "actors/worker/loaded_model.hpp"

#include "model/checkpoint.hpp"

#include <filesystem>
#include <stdexcept>

namespace chat::worker {

namespace {

namespace fs = std::filesystem;

const std::string& checked_dir(const std::string& dir) {
  if (dir.empty())
    throw std::runtime_error("engine: no model directory; pass a checkpoint "
                             "directory (config.json, model.pt, meta.json)");
  if (!fs::is_directory(dir))
    throw std::runtime_error("engine: model '" + dir
                             + "' is not a directory; pass a checkpoint "
                               "directory");
  return dir;
}

std::string model_id_of(std::string id, const fs::path& dir) {
  if (!id.empty())
    return id;
  const auto meta = model::read_checkpoint_meta(dir);
  if (auto it = meta.find("id");
      it != meta.end() && it->is_string() && !it->get<std::string>().empty())
    return it->get<std::string>();
  return fs::canonical(dir).filename().string();
}

} // namespace

loaded_model::loaded_model(std::string model_id, const std::string& dir,
                           const model::device_choice& where,
                           std::int64_t max_batch, std::int64_t prefix_slots)
  : gpt(model::load_gpt(checked_dir(dir), where)),
    context(gpt->config().context),
    vocab(gpt->config().vocab_size),
    cache(gpt->config(), max_batch + prefix_slots, where.device, where.cache),
    prefixes(cache, gpt->config().n_layer, prefix_slots > 0) {
  id = model_id_of(std::move(model_id), dir);
}

} // namespace chat::worker
