#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

/// HTTP request and response as plain values, so code that handles requests
/// never includes Beast.
namespace chat::http {

/// Header names compare case-insensitively; stored lowercase.
using header_map = std::map<std::string, std::string>;

/// Response headers in the order they are sent.
using header_list = std::vector<std::pair<std::string, std::string>>;

/// A parsed request.
struct request {
  std::string method;
  /// Path without the query string, not percent-decoded.
  std::string path;
  /// Decoded query parameters (the last one wins on repeats).
  std::map<std::string, std::string> query;
  header_map headers;
  std::string body;
  /// Path parameters captured by the route ({id} → value).
  std::map<std::string, std::string> params;
  /// IP address of the connection's peer (empty when unknown).
  std::string remote_address;

  /// The header's value, or empty.
  const std::string& header(const std::string& lowercase_name) const;
};

/// A complete response.
struct response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  header_list headers;
};

/// Builds a JSON response.
response json_response(int status, std::string body);

/// Splits "a=1&b=x%20y" into decoded pairs.
std::map<std::string, std::string> parse_query(const std::string& query);

/// Percent-decodes `text` ('+' stays '+'); invalid escapes stay as they are.
std::string percent_decode(const std::string& text);

} // namespace chat::http
