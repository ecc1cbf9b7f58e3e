#pragma once

#include "http/message.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace chat {

/// The body as a JSON object ({} when empty); 400 otherwise.
nlohmann::json object_body(const std::string& text);

/// An optional string field; 400 naming it when it has another type.
std::optional<std::string> optional_string(const nlohmann::json& body,
                                           const char* name);

/// An optional integer field in [min, max]; 400 naming it otherwise.
std::optional<std::int64_t> optional_integer(const nlohmann::json& body,
                                             const char* name,
                                             std::int64_t min,
                                             std::int64_t max);

/// `?limit=` in [1, 100], default 20; 400 otherwise.
int page_limit(const http::request& req);

/// A query parameter, if present.
std::optional<std::string> query_param(const http::request& req,
                                       const char* name);

} // namespace chat
