#pragma once

#include "http/message.hpp"
#include "web/static_files.hpp"

#include <string_view>

namespace chat::web {

/// The Content-Type of a web client file, by its extension; nullptr for an
/// extension the client has no business shipping.
const char* content_type_for(std::string_view path);

/// The Content-Security-Policy of every web client response: only this
/// origin, no inline script or style, no framing.
extern const char* const content_security_policy;

/// The answer to a GET of `file`: the body with its type, an ETag to
/// revalidate with (Cache-Control: no-cache) and the security headers; 304
/// without a body when `if_none_match` names the current ETag.
http::response static_response(const static_file& file,
                               std::string_view if_none_match);

} // namespace chat::web
