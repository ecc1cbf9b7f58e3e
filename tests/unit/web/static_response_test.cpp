#include "web/static_response.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <regex>
#include <string>

using chat::web::static_file;
using chat::web::static_files;
using chat::web::static_response;

namespace {

std::string header(const chat::http::response& r, const std::string& name) {
  for (const auto& [n, v] : r.headers)
    if (n == name)
      return v;
  return "";
}

const static_file& file_named(const std::string& path) {
  const auto& files = static_files();
  auto it = std::find_if(files.begin(), files.end(),
                         [&](const static_file& f) { return f.path == path; });
  REQUIRE(it != files.end());
  return *it;
}

} // namespace

TEST_CASE("web: every embedded file has a known content type", "[unit]") {
  REQUIRE(static_files().size() >= 4);
  for (const auto& f : static_files()) {
    INFO(f.path);
    CHECK(chat::web::content_type_for(f.path) != nullptr);
    CHECK(f.sha256.size() == 64);
    CHECK_FALSE(f.body.empty());
  }
  CHECK(std::string(chat::web::content_type_for("js/x.js"))
        == "text/javascript; charset=utf-8");
  CHECK(chat::web::content_type_for("x.exe") == nullptr);
}

TEST_CASE("web: a file is served with type, ETag and security headers",
          "[unit]") {
  const auto& page = file_named("index.html");
  auto r = static_response(page, "");
  CHECK(r.status == 200);
  CHECK(r.body == page.body);
  CHECK(r.content_type == "text/html; charset=utf-8");
  CHECK(header(r, "Cache-Control") == "no-cache");
  CHECK(header(r, "X-Content-Type-Options") == "nosniff");
  auto csp = header(r, "Content-Security-Policy");
  CHECK(csp.find("default-src 'self'") != std::string::npos);
  CHECK(csp.find("unsafe-inline") == std::string::npos);
  auto etag = header(r, "ETag");
  REQUIRE(etag.size() > 2);
  CHECK(etag.front() == '"');
}

TEST_CASE("web: a matching If-None-Match answers 304 without a body",
          "[unit]") {
  const auto& page = file_named("index.html");
  auto etag = header(static_response(page, ""), "ETag");
  for (const std::string& tag :
       {etag, "W/" + etag, "\"other\", " + etag, std::string("*")}) {
    INFO(tag);
    auto r = static_response(page, tag);
    CHECK(r.status == 304);
    CHECK(r.body.empty());
    CHECK(header(r, "ETag") == etag);
  }
  CHECK(static_response(page, "\"other\"").status == 200);
}

TEST_CASE("web: pages have no inline script or style (the CSP forbids it)",
          "[unit]") {
  const std::regex inline_script("<script(?![^>]*\\bsrc=)[^>]*>",
                                 std::regex::icase);
  const std::regex inline_handler("\\son[a-z]+\\s*=|\\sstyle\\s*=|<style",
                                  std::regex::icase);
  for (const auto& f : static_files()) {
    if (f.path.substr(f.path.size() - 5) != ".html")
      continue;
    INFO(f.path);
    std::string body(f.body);
    CHECK_FALSE(std::regex_search(body, inline_script));
    CHECK_FALSE(std::regex_search(body, inline_handler));
  }
}
