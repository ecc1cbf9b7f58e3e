#pragma once

#include "http/message.hpp"

#include <optional>
#include <string>

namespace chat::http {

/// An error response in the OpenAI shape:
/// {"error":{"message","type","param","code"}}. `type` follows from the
/// status; `code` is a stable machine-readable reason.
response error_response(int status, const std::string& code,
                        const std::string& message,
                        const std::optional<std::string>& param = {});

/// The OpenAI error `type` for an HTTP status.
const char* error_type_for(int status);

} // namespace chat::http
