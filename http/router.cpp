#include "http/router.hpp"

#include "http/api_error.hpp"

#include <algorithm>

namespace chat::http {

namespace {

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> out;
  size_t start = 1;
  while (start <= path.size()) {
    auto end = path.find('/', start);
    if (end == std::string::npos)
      end = path.size();
    out.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

bool match_pattern(const std::string& pattern, const std::string& path,
                   std::map<std::string, std::string>& params) {
  auto want = split_path(pattern);
  auto got = split_path(path);
  if (want.size() != got.size())
    return false;
  std::map<std::string, std::string> captured;
  for (size_t i = 0; i < want.size(); ++i) {
    const auto& w = want[i];
    if (w.size() > 2 && w.front() == '{' && w.back() == '}') {
      if (got[i].empty())
        return false;
      captured[w.substr(1, w.size() - 2)] = percent_decode(got[i]);
    } else if (w != got[i]) {
      return false;
    }
  }
  params = std::move(captured);
  return true;
}

} // namespace

void router::add(route r) {
  routes_.push_back(std::move(r));
}

const route* router::match(request& req, response& error) const {
  std::vector<std::string> allowed;
  for (const auto& r : routes_) {
    std::map<std::string, std::string> params;
    if (!match_pattern(r.pattern, req.path, params))
      continue;
    if (r.method == req.method) {
      req.params = std::move(params);
      return &r;
    }
    if (std::find(allowed.begin(), allowed.end(), r.method) == allowed.end())
      allowed.push_back(r.method);
  }
  if (allowed.empty()) {
    error = error_response(404, "not_found",
                           "no route for " + req.method + " " + req.path);
    return nullptr;
  }
  std::string allow;
  for (const auto& m : allowed)
    allow += (allow.empty() ? "" : ", ") + m;
  error = error_response(405, "method_not_allowed",
                         "method " + req.method + " is not allowed here; use "
                           + allow);
  error.headers.emplace_back("Allow", allow);
  return nullptr;
}

} // namespace chat::http
