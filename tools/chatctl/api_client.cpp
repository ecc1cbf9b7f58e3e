#include "tools/chatctl/cli.hpp"

#include "http/client.hpp"

#include <cctype>

namespace chat::cli {

std::string percent_encode(const std::string& text) {
  static const char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char ch : text) {
    if (std::isalnum(ch) || ch == '_' || ch == '-' || ch == '.')
      out += static_cast<char>(ch);
    else
      out += '%', out += hex[ch >> 4], out += hex[ch & 15];
  }
  return out;
}

api_client::api_client(const command_line& cl) : key_(cl.key) {
  std::string rest;
  if (cl.url.rfind("https://", 0) == 0) {
    endpoint_.tls = true;
    endpoint_.ca_file = cl.ca_file;
    endpoint_.port = 443;
    rest = cl.url.substr(8);
  } else if (cl.url.rfind("http://", 0) == 0) {
    endpoint_.port = 80;
    rest = cl.url.substr(7);
  } else {
    throw cli_error("--url must start with http:// or https:// (got '"
                    + cl.url + "')");
  }
  rest = rest.substr(0, rest.find('/'));
  auto colon = rest.rfind(':');
  endpoint_.host = rest.substr(0, colon);
  if (colon != std::string::npos) {
    try {
      endpoint_.port
        = static_cast<std::uint16_t>(std::stoi(rest.substr(colon + 1)));
    } catch (const std::exception&) {
      throw cli_error("--url has a bad port: '" + cl.url + "'");
    }
  }
}

std::map<std::string, std::string> api_client::headers(bool has_body) const {
  std::map<std::string, std::string> h;
  if (!key_.empty())
    h["Authorization"] = "Bearer " + key_;
  if (has_body)
    h["Content-Type"] = "application/json";
  return h;
}

namespace {

[[noreturn]] void fail_with(const http::client_response& r) {
  try {
    auto body = nlohmann::json::parse(r.body);
    throw http_error(r.status,
                     body.at("error").at("message").get<std::string>() + " ("
                       + std::to_string(r.status) + ")");
  } catch (const nlohmann::json::exception&) {
    throw http_error(r.status,
                     "the server answered " + std::to_string(r.status));
  }
}

/// Runs one exchange; transport failures and error answers become
/// cli_errors.
http::client_response checked(
  const std::function<http::client_response()>& exchange) {
  http::client_response r;
  try {
    r = exchange();
  } catch (const std::exception& e) {
    throw cli_error(std::string("cannot reach chatd: ") + e.what());
  }
  if (r.status >= 400)
    fail_with(r);
  return r;
}

nlohmann::json parse_answer(const std::string& text) {
  return text.empty() ? nlohmann::json() : nlohmann::json::parse(text);
}

} // namespace

nlohmann::json api_client::call(const std::string& method,
                                const std::string& path,
                                const nlohmann::json& body,
                                std::chrono::milliseconds timeout) const {
  return parse_answer(
    checked([&] {
      return http::fetch(endpoint_, method, path,
                         body.is_null() ? std::string() : body.dump(),
                         headers(!body.is_null()), timeout);
    }).body);
}

std::string api_client::call_raw(const std::string& method,
                                 const std::string& path) const {
  return checked([&] {
           return http::fetch(endpoint_, method, path, {}, headers(false));
         })
    .body;
}

nlohmann::json api_client::upload(const std::string& path,
                                  const std::string& file,
                                  const std::string& content_type,
                                  std::chrono::milliseconds timeout) const {
  auto h = headers(false);
  h["Content-Type"] = content_type;
  return parse_answer(checked([&] {
                        return http::fetch_file(endpoint_, "POST", path,
                                                file, h, timeout);
                      }).body);
}

void api_client::stream(
  const std::string& method, const std::string& path,
  const nlohmann::json& body,
  const std::function<void(const std::string&)>& on_data) const {
  int status = 0;
  std::string error_body;
  try {
    http::fetch_stream(
      endpoint_, method, path,
      body.is_null() ? std::string() : body.dump(), headers(!body.is_null()),
      {[&](int s, const http::header_map&) { status = s; },
       [&](const std::string& data) {
         if (status >= 400)
           error_body += data;
         else
           on_data(data);
         return true;
       }});
  } catch (const std::exception& e) {
    throw cli_error(std::string("cannot reach chatd: ") + e.what());
  }
  if (status >= 400)
    fail_with({status, {}, error_body});
}

} // namespace chat::cli
