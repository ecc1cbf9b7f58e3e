#include "actors/protocol/errc.hpp"

#include <caf/make_message.hpp>

namespace chat {

caf::error make_error(errc code, std::string what) {
  return caf::error(static_cast<std::uint8_t>(code), errc_category,
                    caf::make_message(std::move(what)));
}

bool is_errc(const caf::error& err, errc code) {
  return err.category() == errc_category
         && err.code() == static_cast<std::uint8_t>(code);
}

const char* to_string(errc code) {
  switch (code) {
    case errc::queue_full:
      return "queue_full";
    case errc::prompt_too_long:
      return "prompt_too_long";
    case errc::no_model:
      return "no_model";
    case errc::engine_failure:
      return "engine_failure";
    case errc::invalid_request:
      return "invalid_request";
    case errc::model_unavailable:
      return "model_unavailable";
    case errc::model_load_failed:
      return "model_load_failed";
  }
  return "unknown";
}

} // namespace chat
