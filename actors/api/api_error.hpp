#pragma once

#include "http/api_error.hpp"

#include <optional>
#include <stdexcept>
#include <string>

namespace chat::api {

/// A client-facing failure: status, stable code, message and the offending
/// parameter. Thrown by validation, turned into the OpenAI error shape.
struct api_error : std::runtime_error {
  api_error(int status, std::string code, const std::string& message,
            std::optional<std::string> param = {})
    : std::runtime_error(message), status(status), code(std::move(code)),
      param(std::move(param)) {
  }

  int status;
  std::string code;
  std::optional<std::string> param;
  /// Seconds for Retry-After (429, 503), if any.
  std::optional<int> retry_after;

  http::response to_response() const;
};

/// 400 invalid_request_error naming `param`.
api_error bad_param(const std::string& param, const std::string& message);

} // namespace chat::api
