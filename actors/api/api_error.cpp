#include "actors/api/api_error.hpp"

namespace chat::api {

http::response api_error::to_response() const {
  auto r = http::error_response(status, code, what(), param);
  if (retry_after)
    r.headers.emplace_back("Retry-After", std::to_string(*retry_after));
  return r;
}

api_error bad_param(const std::string& param, const std::string& message) {
  return api_error(400, "invalid_value", message, param);
}

} // namespace chat::api
