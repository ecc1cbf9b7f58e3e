#include "tools/chatctl/cli.hpp"
#include "tools/chatctl/sse_parser.hpp"

#include <iostream>
#include <unistd.h>

namespace chat::cli {

namespace {

using json = nlohmann::json;

/// Prints token text as it comes and remembers an error event.
class reply_printer {
public:
  void feed(const std::string& data) {
    parser_.feed(data);
  }

  const std::string& error() const {
    return error_;
  }

private:
  void handle(const sse_event& event) {
    auto j = json::parse(event.data, nullptr, false);
    if (!j.is_object())
      return;
    if (event.name == "token")
      std::cout << j.value("text", "") << std::flush;
    else if (event.name == "error")
      error_ = j["error"].value("message", "error");
  }

  sse_parser parser_{[this](const sse_event& e) { handle(e); }};
  std::string error_;
};

} // namespace

int chat_command(const command_line& cl) {
  if (cl.help) {
    std::cout << "chatctl chat [--session SESSION_ID] [--system TEXT]\n"
                 "             [--temperature T] [--max-tokens N]\n"
                 "  Reads one message per line from stdin and streams each "
                 "reply.\n  The conversation is kept in a session (printed at "
                 "the start).\n";
    return 0;
  }
  api_client api(cl);
  auto session = cl.flag("session");
  if (session.empty()) {
    json body = json::object();
    if (!cl.flag("system").empty())
      body["system_prompt"] = cl.flag("system");
    session = api.call("POST", "/api/sessions", body)["id"].get<std::string>();
  }
  bool tty = ::isatty(STDIN_FILENO);
  std::cerr << "session " << session << (tty ? " (Ctrl-D ends)" : "") << "\n";
  json params = {{"stream", true}};
  try {
    if (!cl.flag("temperature").empty())
      params["temperature"] = std::stod(cl.flag("temperature"));
    if (!cl.flag("max-tokens").empty())
      params["max_tokens"] = std::stoll(cl.flag("max-tokens"));
  } catch (const std::exception&) {
    throw cli_error("--temperature and --max-tokens must be numbers");
  }
  std::string line;
  while (true) {
    if (tty)
      std::cout << "> " << std::flush;
    if (!std::getline(std::cin, line))
      break;
    if (line.empty())
      continue;
    auto body = params;
    body["content"] = line;
    reply_printer printer;
    api.stream("POST", "/api/sessions/" + session + "/messages", body,
               [&](const std::string& data) { printer.feed(data); });
    std::cout << "\n";
    if (!printer.error().empty())
      throw cli_error(printer.error());
  }
  return 0;
}

} // namespace chat::cli
