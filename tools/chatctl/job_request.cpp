#include "tools/chatctl/job_request.hpp"

#include <fstream>

namespace chat::cli {

namespace {

using json = nlohmann::json;

enum class value_kind { integer, number, text };

/// A flag that sets one field of the request: `section` is "" for the top
/// level, else "model" or "hyper".
struct field_flag {
  const char* flag;
  const char* section;
  const char* field;
  value_kind kind;
};

const field_flag field_flags[] = {
  {"type", "", "type", value_kind::text},
  {"base-model", "", "base_model_id", value_kind::text},
  {"n-layer", "model", "n_layer", value_kind::integer},
  {"n-head", "model", "n_head", value_kind::integer},
  {"d-model", "model", "d_model", value_kind::integer},
  {"context", "model", "context", value_kind::integer},
  {"vocab-size", "model", "vocab_size", value_kind::integer},
  {"max-steps", "hyper", "max_steps", value_kind::integer},
  {"batch-size", "hyper", "batch_size", value_kind::integer},
  {"grad-accum", "hyper", "grad_accum", value_kind::integer},
  {"lr", "hyper", "lr", value_kind::number},
  {"min-lr", "hyper", "min_lr", value_kind::number},
  {"warmup-steps", "hyper", "warmup_steps", value_kind::integer},
  {"weight-decay", "hyper", "weight_decay", value_kind::number},
  {"grad-clip", "hyper", "grad_clip", value_kind::number},
  {"dropout", "hyper", "dropout", value_kind::number},
  {"eval-interval", "hyper", "eval_interval", value_kind::integer},
  {"eval-steps", "hyper", "eval_steps", value_kind::integer},
  {"checkpoint-interval", "hyper", "checkpoint_interval",
   value_kind::integer},
  {"seed", "hyper", "seed", value_kind::integer},
  {"precision", "hyper", "precision", value_kind::text},
  {"device", "hyper", "device", value_kind::text},
};

json read_spec(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in)
    throw cli_error("--spec '" + file + "': cannot open it");
  auto spec = json::parse(in, nullptr, false);
  if (spec.is_discarded())
    throw cli_error("--spec '" + file + "': not valid JSON");
  if (!spec.is_object())
    throw cli_error("--spec '" + file
                    + "': expected a JSON object (the POST /admin/jobs body)");
  return spec;
}

json flag_value(const command_line& cl, const field_flag& f) {
  if (f.kind != value_kind::text && cl.flag(f.flag).empty())
    throw cli_error(std::string("--") + f.flag + " needs a number");
  switch (f.kind) {
  case value_kind::integer:
    return *int_flag(cl, f.flag);
  case value_kind::number:
    return *number_flag(cl, f.flag);
  case value_kind::text:
    break;
  }
  return cl.flag(f.flag);
}

} // namespace

std::vector<std::string> job_submit_flags() {
  std::vector<std::string> out = {"spec", "dataset", "auto-activate",
                                  "watch"};
  for (const auto& f : field_flags)
    out.push_back(f.flag);
  return out;
}

json job_request(const command_line& cl) {
  reject_unknown_flags(cl, job_submit_flags());
  json body = cl.has("spec") ? read_spec(cl.flag("spec")) : json::object();
  for (const auto& f : field_flags) {
    if (!cl.has(f.flag))
      continue;
    auto value = flag_value(cl, f);
    std::string section = f.section;
    if (section.empty()) {
      body[f.field] = value;
      continue;
    }
    if (!body.contains(section))
      body[section] = json::object();
    if (!body[section].is_object())
      throw cli_error("--spec: '" + section + "' must be an object");
    body[section][f.field] = value;
  }
  if (cl.has("dataset"))
    body["dataset_ids"] = cl.values("dataset");
  if (cl.has("auto-activate"))
    body["auto_activate"] = true;
  if (!body.contains("type"))
    throw cli_error("jobs submit needs --type pretrain|finetune or --spec "
                    "FILE.json (see chatctl jobs --help)");
  return body;
}

} // namespace chat::cli
