#include "tools/chatctl/cli.hpp"

#include "http/client.hpp"

#include <iomanip>
#include <iostream>

namespace chat::cli {

std::string command_line::flag(const std::string& name,
                               const std::string& fallback) const {
  auto it = flags.find(name);
  return it == flags.end() ? fallback : it->second;
}

const std::string& command_line::arg(std::size_t n, const char* what) const {
  if (words.size() <= n + 1)
    throw cli_error(std::string("missing ") + what + " (see --help)");
  return words[n + 1];
}

api_client::api_client(const command_line& cl) : key_(cl.key) {
  const std::string scheme = "http://";
  if (cl.url.rfind(scheme, 0) != 0)
    throw cli_error("--url must start with http:// (got '" + cl.url + "')");
  auto rest = cl.url.substr(scheme.size());
  rest = rest.substr(0, rest.find('/'));
  auto colon = rest.rfind(':');
  host_ = rest.substr(0, colon);
  if (colon != std::string::npos) {
    try {
      port_ = static_cast<std::uint16_t>(std::stoi(rest.substr(colon + 1)));
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
    throw cli_error(body.at("error").at("message").get<std::string>() + " ("
                    + std::to_string(r.status) + ")");
  } catch (const nlohmann::json::exception&) {
    throw cli_error("the server answered " + std::to_string(r.status));
  }
}

} // namespace

nlohmann::json api_client::call(const std::string& method,
                                const std::string& path,
                                const nlohmann::json& body) const {
  auto text = call_raw_with_body(method, path, body);
  return text.empty() ? nlohmann::json() : nlohmann::json::parse(text);
}

std::string api_client::call_raw(const std::string& method,
                                 const std::string& path) const {
  return call_raw_with_body(method, path, nullptr);
}

std::string api_client::call_raw_with_body(const std::string& method,
                                           const std::string& path,
                                           const nlohmann::json& body) const {
  http::client_response r;
  try {
    r = http::fetch({host_, port_}, method, path,
                    body.is_null() ? std::string() : body.dump(),
                    headers(!body.is_null()));
  } catch (const std::exception& e) {
    throw cli_error(std::string("cannot reach chatd: ") + e.what());
  }
  if (r.status >= 400)
    fail_with(r);
  return r.body;
}

void api_client::stream(
  const std::string& method, const std::string& path,
  const nlohmann::json& body,
  const std::function<void(const std::string&)>& on_data) const {
  int status = 0;
  std::string error_body;
  try {
    http::fetch_stream(
      {host_, port_}, method, path, body.dump(), headers(true),
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

std::string cell(const nlohmann::json& value) {
  if (value.is_null())
    return "";
  if (value.is_string())
    return value.get<std::string>();
  if (value.is_array()) {
    std::string out;
    for (const auto& v : value)
      out += (out.empty() ? "" : ",") + cell(v);
    return out;
  }
  return value.dump();
}

void print_table(const std::vector<std::string>& columns,
                 const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width(columns.size());
  for (std::size_t c = 0; c < columns.size(); ++c) {
    width[c] = columns[c].size();
    for (const auto& row : rows)
      width[c] = std::max(width[c], row[c].size());
  }
  auto print_row = [&](const std::vector<std::string>& row) {
    for (std::size_t c = 0; c < row.size(); ++c)
      std::cout << std::left << std::setw(static_cast<int>(width[c]))
                << row[c] << (c + 1 < row.size() ? "  " : "\n");
  };
  print_row(columns);
  for (const auto& row : rows)
    print_row(row);
}

} // namespace chat::cli
