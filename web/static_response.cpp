#include "web/static_response.hpp"

#include <string>

namespace chat::web {

namespace {

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size()
         && text.substr(text.size() - suffix.size()) == suffix;
}

std::string etag_of(const static_file& file) {
  return "\"" + std::string(file.sha256.substr(0, 32)) + "\"";
}

/// RFC 9110: If-None-Match is "*" or a list of (possibly weak) tags.
bool matches(std::string_view if_none_match, const std::string& etag) {
  if (if_none_match == "*")
    return true;
  size_t start = 0;
  while (start < if_none_match.size()) {
    auto end = if_none_match.find(',', start);
    if (end == std::string_view::npos)
      end = if_none_match.size();
    auto tag = if_none_match.substr(start, end - start);
    while (!tag.empty() && tag.front() == ' ')
      tag.remove_prefix(1);
    while (!tag.empty() && tag.back() == ' ')
      tag.remove_suffix(1);
    if (tag.substr(0, 2) == "W/")
      tag.remove_prefix(2);
    if (tag == etag)
      return true;
    start = end + 1;
  }
  return false;
}

} // namespace

const char* const content_security_policy
  = "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const char* content_type_for(std::string_view path) {
  if (ends_with(path, ".html"))
    return "text/html; charset=utf-8";
  if (ends_with(path, ".js"))
    return "text/javascript; charset=utf-8";
  if (ends_with(path, ".css"))
    return "text/css; charset=utf-8";
  if (ends_with(path, ".svg"))
    return "image/svg+xml";
  if (ends_with(path, ".json"))
    return "application/json";
  return nullptr;
}

http::response static_response(const static_file& file,
                               std::string_view if_none_match) {
  http::response r;
  auto etag = etag_of(file);
  auto type = content_type_for(file.path);
  r.content_type = type ? type : "application/octet-stream";
  if (matches(if_none_match, etag)) {
    r.status = 304;
  } else {
    r.status = 200;
    r.body = std::string(file.body);
  }
  r.headers = {{"ETag", etag},
               {"Cache-Control", "no-cache"},
               {"Content-Security-Policy", content_security_policy},
               {"X-Content-Type-Options", "nosniff"},
               {"Referrer-Policy", "no-referrer"},
               {"X-Frame-Options", "DENY"}};
  return r;
}

} // namespace chat::web
