#pragma once

#include <string_view>
#include <vector>

namespace chat::web {

/// One file of the web client (web/ui), embedded at build time.
struct static_file {
  /// Path relative to web/ui, e.g. "js/chat.js".
  std::string_view path;
  /// SHA-256 of the contents, lowercase hex.
  std::string_view sha256;
  std::string_view body;
};

/// Every file of web/ui, sorted by path.
const std::vector<static_file>& static_files();

} // namespace chat::web
