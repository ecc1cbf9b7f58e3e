#include "actors/jobs/job_request.hpp"

#include "actors/api/api_error.hpp"
#include "training/job_spec.hpp"

#include <set>
#include <stdexcept>
#include <string_view>

namespace chat {

namespace {

using json = nlohmann::json;

constexpr std::size_t max_datasets = 64;
constexpr std::size_t max_id_length = 128;

api::api_error invalid(const std::string& param, const std::string& message) {
  return api::api_error(422, "invalid_job", message, param);
}

/// The key a job_spec message names ("... key 'lr' ..."), if any.
std::optional<std::string> named_key(const std::string& message) {
  constexpr std::string_view marker = "key '";
  auto at = message.find(marker);
  if (at == std::string::npos)
    return std::nullopt;
  at += marker.size();
  auto end = message.find('\'', at);
  if (end == std::string::npos)
    return std::nullopt;
  return message.substr(at, end - at);
}

/// Runs chat-train's own spec checks on `model` and `hyper`; paths are
/// placeholders (chatd chooses them).
void check_with_trainer_rules(const job_request& r) {
  json spec = {{"type", r.type},
               {"data_dir", "data"},
               {"out_dir", "checkpoints"},
               {"hyper", r.hyper}};
  if (r.type == "pretrain")
    spec["model"] = r.model;
  else
    spec["base_checkpoint"] = "base";
  try {
    training::parse_job_spec(spec);
  } catch (const std::exception& e) {
    std::string message = e.what();
    if (message.rfind("job spec 'hyper'", 0) == 0) {
      auto key = named_key(message);
      throw invalid(key ? "hyper." + *key : "hyper",
                    "'hyper'" + message.substr(16));
    }
    throw invalid("model", "'model': " + message);
  }
}

std::vector<std::string> read_dataset_ids(const json& value) {
  if (!value.is_array() || value.empty() || value.size() > max_datasets)
    throw invalid("dataset_ids",
                  "'dataset_ids' must be an array of 1-64 dataset ids");
  std::vector<std::string> ids;
  std::set<std::string> seen;
  for (const auto& id : value) {
    if (!id.is_string() || id.get<std::string>().empty()
        || id.get<std::string>().size() > max_id_length)
      throw invalid("dataset_ids",
                    "'dataset_ids' must hold dataset ids (strings)");
    if (!seen.insert(id.get<std::string>()).second)
      throw invalid("dataset_ids", "'dataset_ids' names '"
                                     + id.get<std::string>() + "' twice");
    ids.push_back(id.get<std::string>());
  }
  return ids;
}

json read_model(const json& value) {
  if (!value.is_object())
    throw invalid("model", "'model' must be an object");
  for (const auto& item : value.items()) {
    const auto& key = item.key();
    if (key != "n_layer" && key != "n_head" && key != "d_model"
        && key != "context" && key != "vocab_size")
      throw invalid("model." + key,
                    "'model': unknown field '" + key
                      + "'; known: n_layer, n_head, d_model, context, "
                        "vocab_size");
  }
  auto vocab = value.find("vocab_size");
  if (vocab == value.end() || !vocab->is_number_integer()
      || vocab->get<std::int64_t>() < min_pretrain_vocab)
    throw invalid("model.vocab_size",
                  "'model': 'vocab_size' must be an integer >= "
                    + std::to_string(min_pretrain_vocab)
                    + " (the new tokenizer's size)");
  return value;
}

} // namespace

json job_request::to_json() const {
  json j = {{"type", type},
            {"dataset_ids", dataset_ids},
            {"hyper", hyper},
            {"auto_activate", auto_activate}};
  if (base_model_id)
    j["base_model_id"] = *base_model_id;
  if (!model.is_null())
    j["model"] = model;
  return j;
}

job_request parse_job_request(const json& body) {
  if (!body.is_object())
    throw invalid("body", "the body must be a JSON object");
  for (const auto& item : body.items()) {
    const auto& key = item.key();
    if (key != "type" && key != "dataset_ids" && key != "base_model_id"
        && key != "model" && key != "hyper" && key != "auto_activate")
      throw invalid(key, "unknown field '" + key
                           + "'; known: type, dataset_ids, base_model_id, "
                             "model, hyper, auto_activate");
  }
  job_request r;
  auto type = body.find("type");
  if (type == body.end() || !type->is_string()
      || (*type != "pretrain" && *type != "finetune"))
    throw invalid("type", "'type' must be pretrain or finetune");
  r.type = type->get<std::string>();
  auto datasets = body.find("dataset_ids");
  if (datasets == body.end())
    throw invalid("dataset_ids", "'dataset_ids' is required");
  r.dataset_ids = read_dataset_ids(*datasets);
  if (auto base = body.find("base_model_id"); base != body.end()) {
    if (r.type != "finetune")
      throw invalid("base_model_id",
                    "'base_model_id' is only for finetune jobs");
    if (!base->is_string() || base->get<std::string>().empty()
        || base->get<std::string>().size() > max_id_length)
      throw invalid("base_model_id", "'base_model_id' must be a model id");
    r.base_model_id = base->get<std::string>();
  }
  auto model = body.find("model");
  if (r.type == "pretrain") {
    if (model == body.end())
      throw invalid("model", "'model' is required for a pretrain job");
    r.model = read_model(*model);
  } else if (model != body.end()) {
    throw invalid("model", "'model' is only for pretrain jobs; a finetune "
                           "job keeps its base model's architecture");
  }
  if (auto hyper = body.find("hyper"); hyper != body.end()) {
    if (!hyper->is_object())
      throw invalid("hyper", "'hyper' must be an object");
    r.hyper = *hyper;
  }
  if (auto activate = body.find("auto_activate"); activate != body.end()) {
    if (!activate->is_boolean())
      throw invalid("auto_activate", "'auto_activate' must be true or false");
    r.auto_activate = activate->get<bool>();
  }
  check_with_trainer_rules(r);
  return r;
}

} // namespace chat
