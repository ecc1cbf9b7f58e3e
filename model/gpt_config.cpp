#include "model/gpt_config.hpp"

#include <stdexcept>
#include <string>

#include "model/json_fields.hpp"

namespace chat::model {

namespace {

void require(bool ok, const char* field, const std::string& value,
             const char* rule) {
  if (!ok)
    throw std::runtime_error(std::string("gpt config: ") + field + " = " +
                             value + " is invalid; " + rule);
}

}  // namespace

void gpt_config::validate() const {
  // Upper bounds keep a hostile config.json from asking for terabytes.
  require(vocab_size >= 2 && vocab_size <= (1 << 24), "vocab_size",
          std::to_string(vocab_size), "expected 2..16777216");
  require(context >= 1 && context <= (1 << 20), "context",
          std::to_string(context), "expected 1..1048576");
  require(n_layer >= 1 && n_layer <= 1024, "n_layer", std::to_string(n_layer),
          "expected 1..1024");
  require(n_head >= 1 && n_head <= 1024, "n_head", std::to_string(n_head),
          "expected 1..1024");
  require(d_model >= 1 && d_model <= (1 << 16), "d_model",
          std::to_string(d_model), "expected 1..65536");
  require(d_model % n_head == 0, "d_model", std::to_string(d_model),
          "must be a multiple of n_head");
  require(dropout >= 0.0 && dropout < 1.0, "dropout", std::to_string(dropout),
          "expected 0 <= dropout < 1");
}

bool gpt_config::same_architecture(const gpt_config& o) const {
  return vocab_size == o.vocab_size && context == o.context &&
         n_layer == o.n_layer && n_head == o.n_head && d_model == o.d_model;
}

nlohmann::json gpt_config_to_json(const gpt_config& c) {
  return {{"vocab_size", c.vocab_size}, {"context", c.context},
          {"n_layer", c.n_layer},       {"n_head", c.n_head},
          {"d_model", c.d_model},       {"dropout", c.dropout}};
}

gpt_config gpt_config_from_json(const nlohmann::json& j,
                                const std::string& where) {
  require_known_keys(
      j, {"vocab_size", "context", "n_layer", "n_head", "d_model", "dropout"},
      where);
  gpt_config c;
  read_optional(j, "vocab_size", c.vocab_size, where);
  read_optional(j, "context", c.context, where);
  read_optional(j, "n_layer", c.n_layer, where);
  read_optional(j, "n_head", c.n_head, where);
  read_optional(j, "d_model", c.d_model, where);
  read_optional(j, "dropout", c.dropout, where);
  c.validate();
  return c;
}

}  // namespace chat::model
