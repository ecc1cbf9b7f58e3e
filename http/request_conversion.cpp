#include "http/request_conversion.hpp"

#include <cctype>

namespace chat::http {

namespace {

std::string lowercase(boost::beast::string_view s) {
  std::string out(s.data(), s.size());
  for (auto& ch : out)
    ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}

} // namespace

request to_request(
  const boost::beast::http::request<boost::beast::http::string_body>& in) {
  request out;
  out.method = std::string(in.method_string());
  std::string target(in.target());
  auto q = target.find('?');
  out.path = target.substr(0, q);
  if (q != std::string::npos)
    out.query = parse_query(target.substr(q + 1));
  for (const auto& field : in)
    out.headers[lowercase(field.name_string())] = std::string(field.value());
  out.body = in.body();
  return out;
}

} // namespace chat::http
