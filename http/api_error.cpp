#include "http/api_error.hpp"

#include <nlohmann/json.hpp>

namespace chat::http {

const char* error_type_for(int status) {
  switch (status) {
    case 401:
      return "authentication_error";
    case 403:
      return "permission_error";
    case 404:
      return "not_found_error";
    case 409:
      return "conflict_error";
    case 429:
      return "rate_limit_error";
    case 503:
      return "service_unavailable_error";
    default:
      return status >= 500 ? "server_error" : "invalid_request_error";
  }
}

response error_response(int status, const std::string& code,
                        const std::string& message,
                        const std::optional<std::string>& param) {
  nlohmann::json err = {{"message", message},
                        {"type", error_type_for(status)},
                        {"param", nullptr},
                        {"code", code}};
  if (param)
    err["param"] = *param;
  // Messages may repeat client input, which need not be UTF-8: replace bad
  // bytes instead of throwing.
  return json_response(status,
                       nlohmann::json{{"error", err}}.dump(
                         -1, ' ', false,
                         nlohmann::json::error_handler_t::replace));
}

} // namespace chat::http
