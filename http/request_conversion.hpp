#pragma once

#include "http/message.hpp"

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

namespace chat::http {

/// The plain request for a parsed Beast request: header names lowercased,
/// the target split into path and decoded query.
request to_request(
  const boost::beast::http::request<boost::beast::http::string_body>& in);

} // namespace chat::http
