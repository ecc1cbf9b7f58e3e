#include "tools/chatctl/cli.hpp"

#include <filesystem>
#include <fstream>
#include <iostream>

namespace chat::cli {

namespace {

/// The media type chatd expects for a dataset kind.
std::string content_type(const std::string& kind) {
  if (kind == "text")
    return "text/plain; charset=utf-8";
  if (kind == "chat")
    return "application/x-ndjson";
  throw cli_error("--kind must be text or chat (got '" + kind + "')");
}

void upload_dataset(const command_line& cl, const api_client& api) {
  reject_unknown_flags(cl, {"name", "kind"});
  const auto& file = cl.arg(1, "FILE");
  if (!cl.has("kind"))
    throw cli_error("datasets upload needs --kind text|chat");
  auto type = content_type(cl.flag("kind"));
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)
      || !std::ifstream(file, std::ios::binary))
    throw cli_error("cannot read '" + file + "'; give a readable file");
  auto name = cl.flag("name",
                      std::filesystem::path(file).filename().string());
  // The server reads the body within its own timeout; a large file on a
  // slow link needs more than the default.
  show_object(cl, api.upload("/admin/datasets?name=" + percent_encode(name)
                               + "&kind=" + percent_encode(cl.flag("kind")),
                             file, type, std::chrono::minutes(10)));
}

} // namespace

int datasets_command(const command_line& cl) {
  if (cl.help) {
    std::cout
      << "chatctl datasets upload FILE --kind text|chat [--name NAME]\n"
         "  text: plain UTF-8 text; chat: JSONL, one {\"messages\":[...]} "
         "per line.\n"
         "  The file is streamed as the body; NAME defaults to its file "
         "name.\n"
         "chatctl datasets list\n"
         "chatctl datasets delete DATASET_ID\n";
    return 0;
  }
  api_client api(cl);
  const auto& sub = subcommand(cl);
  if (sub == "list" || sub.empty())
    show_list(cl, api.call("GET", "/admin/datasets"),
              {"id", "name", "kind", "bytes", "sha256", "created_at"});
  else if (sub == "upload")
    upload_dataset(cl, api);
  else if (sub == "delete")
    show_object(cl, api.call("DELETE", "/admin/datasets/"
                               + percent_encode(cl.arg(1, "DATASET_ID"))));
  else
    unknown_subcommand(cl);
  return 0;
}

} // namespace chat::cli
