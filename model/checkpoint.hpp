#pragma once
// A checkpoint is a directory, written atomically (temporary directory,
// fsync, rename):
//   config.json  the gpt_config
//   model.pt     the weights, in the chat tensor file format (tensor_file.hpp)
//   meta.json    free-form object from the caller (parent, job, step, metrics)
//   ...          whatever the caller copies or writes in (tokenizer.model,
//                training state)

#include <filesystem>
#include <functional>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/device.hpp"
#include "model/gpt.hpp"
#include "model/gpt_config.hpp"

namespace chat::model {

/// Files a checkpoint holds besides config.json, model.pt and meta.json.
struct checkpoint_extras {
  /// Copied in under their own file names, e.g. tokenizer.model.
  std::vector<std::filesystem::path> copy_files;
  /// Writes more files into the directory before it is published; they are
  /// fsynced with the rest.
  std::function<void(const std::filesystem::path& dir)> write_files;
};

/// Writes the model into a new checkpoint directory `dir`; it appears
/// complete or not at all. Throws when `dir` already exists or meta is not
/// a JSON object.
void write_checkpoint(const std::filesystem::path& dir, gpt& model,
                      const nlohmann::json& meta,
                      const checkpoint_extras& extras = {});

/// The checkpoint's config.json, validated.
gpt_config read_checkpoint_config(const std::filesystem::path& dir);

/// The checkpoint's meta.json object.
nlohmann::json read_checkpoint_meta(const std::filesystem::path& dir);

/// Copies model.pt's weights into `model`, which must have the checkpoint's
/// architecture: every name and shape must match, or a std::runtime_error
/// says which tensor differs and how.
void load_checkpoint_weights(const std::filesystem::path& dir, gpt& model);

/// Builds the model config.json describes and loads its weights, on
/// `where.device` in `where.dtype`, in eval mode; on the CPU its weights
/// lie in huge pages (huge_page_weights.hpp).
gpt load_gpt(const std::filesystem::path& dir, const device_choice& where);

}  // namespace chat::model
