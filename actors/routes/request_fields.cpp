#include "actors/routes/request_fields.hpp"

#include "actors/api/api_error.hpp"
#include "actors/api/generation_request.hpp"

namespace chat {

namespace {

constexpr int default_page = 20;
constexpr int max_page = 100;

} // namespace

nlohmann::json object_body(const std::string& text) {
  auto body = text.empty() ? nlohmann::json::object() : api::parse_body(text);
  if (!body.is_object())
    throw api::api_error(400, "invalid_request",
                         "the body must be a JSON object");
  return body;
}

std::optional<std::string> optional_string(const nlohmann::json& body,
                                           const char* name) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null())
    return std::nullopt;
  if (!it->is_string())
    throw api::bad_param(name, std::string("'") + name + "' must be a string");
  return it->get<std::string>();
}

std::optional<std::int64_t> optional_integer(const nlohmann::json& body,
                                             const char* name,
                                             std::int64_t min,
                                             std::int64_t max) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null())
    return std::nullopt;
  if (!it->is_number_integer())
    throw api::bad_param(name,
                         std::string("'") + name + "' must be an integer");
  if (it->is_number_unsigned()
      && it->get<std::uint64_t>() > static_cast<std::uint64_t>(max))
    throw api::bad_param(name, std::string("'") + name + "' is too large");
  auto v = it->get<std::int64_t>();
  if (v < min || v > max)
    throw api::bad_param(name, std::string("'") + name + "' must be between "
                                 + std::to_string(min) + " and "
                                 + std::to_string(max));
  return v;
}

int page_limit(const http::request& req) {
  auto it = req.query.find("limit");
  if (it == req.query.end())
    return default_page;
  try {
    size_t used = 0;
    int n = std::stoi(it->second, &used);
    if (used == it->second.size() && n >= 1 && n <= max_page)
      return n;
  } catch (const std::exception&) {
  }
  throw api::bad_param("limit", "'limit' must be an integer from 1 to 100");
}

std::optional<std::string> query_param(const http::request& req,
                                       const char* name) {
  auto it = req.query.find(name);
  if (it == req.query.end())
    return std::nullopt;
  return it->second;
}

} // namespace chat
