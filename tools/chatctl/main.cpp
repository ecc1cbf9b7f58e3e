// chatctl: the admin CLI over chatd's HTTP API; `bootstrap` works offline on
// a data directory.

#include "storage/bootstrap.hpp"
#include "storage/database.hpp"
#include "tools/chatctl/bench_command.hpp"
#include "tools/chatctl/cli.hpp"

#include <cstdlib>
#include <filesystem>
#include <iostream>

namespace {

using chat::cli::cli_error;
using chat::cli::command_line;

const char* usage = R"(Usage: chatctl [--url URL] [--key KEY] [--ca-file F] [--json] COMMAND ...

Commands:
  bootstrap --data-dir DIR   create the admin user and key on an empty
                             database, offline (prints the key once and
                             writes DIR/admin.key, mode 0600)
  status                     liveness and readiness of the service
  users list|create|delete   manage users
  keys list|create|revoke    manage API keys
  filters list|add|remove    manage prompt filter rules
  alerts list|history|lift   abuse alerts and key suspensions
  sessions list|show|export|delete
                             chat sessions of every user
  workers                    status of the inference workers
  datasets upload|list|delete
                             training data (text or chat JSONL)
  jobs submit|list|show|cancel|watch
                             training jobs; watch follows one live
  models list|activate       trained models; activate serves one
  chat                       an interactive streaming chat
  bench                      load test an OpenAI-compatible server

Options:
  --url URL    chatd's address (default $CHATCTL_URL or http://127.0.0.1:8080)
  --key KEY    API key (default $CHATCTL_KEY)
  --ca-file F  PEM CA certificates for an https:// URL (default: the
               system's store)
  --json       machine-readable output
  --help       this text, or a command's (chatctl keys --help)
)";

int bootstrap(const command_line& cl) {
  if (cl.help) {
    std::cout << "chatctl bootstrap --data-dir DIR\n";
    return 0;
  }
  auto dir = cl.flag("data-dir");
  if (dir.empty())
    throw cli_error("bootstrap needs --data-dir DIR");
  std::filesystem::create_directories(dir);
  auto db = chat::storage::open_database(dir + "/chat.db");
  auto secret = chat::storage::bootstrap_admin(db, dir);
  if (!secret)
    throw cli_error("the database already has users; nothing changed");
  if (cl.json)
    std::cout << nlohmann::json{{"user", "admin"}, {"key", *secret}}.dump()
              << "\n";
  else
    std::cout << "Created user 'admin'. API key (shown once, also in " << dir
              << "/admin.key):\n"
              << *secret << "\n";
  return 0;
}

int status(const command_line& cl) {
  if (cl.help) {
    std::cout << "chatctl status   (exit 0 when alive and ready)\n";
    return 0;
  }
  chat::cli::api_client api(cl);
  bool alive = true, ready = true;
  try {
    api.call("GET", "/healthz");
  } catch (const cli_error&) {
    alive = false;
  }
  try {
    api.call("GET", "/readyz");
  } catch (const cli_error&) {
    ready = false;
  }
  if (cl.json)
    std::cout << nlohmann::json{{"alive", alive}, {"ready", ready}}.dump()
              << "\n";
  else
    std::cout << "alive: " << (alive ? "yes" : "no")
              << "\nready: " << (ready ? "yes" : "no") << "\n";
  return alive && ready ? 0 : 1;
}

} // namespace

int main(int argc, char** argv) {
  try {
    auto cl = chat::cli::parse_command_line({argv + 1, argv + argc},
                                            std::getenv("CHATCTL_URL"),
                                            std::getenv("CHATCTL_KEY"));
    if (cl.words.empty()) {
      std::cout << usage;
      return cl.help ? 0 : 2;
    }
    const auto& command = cl.words[0];
    if (command == "bootstrap")
      return bootstrap(cl);
    if (command == "status")
      return status(cl);
    if (command == "users")
      return chat::cli::users_command(cl);
    if (command == "keys")
      return chat::cli::keys_command(cl);
    if (command == "sessions")
      return chat::cli::sessions_command(cl);
    if (command == "workers")
      return chat::cli::workers_command(cl);
    if (command == "datasets")
      return chat::cli::datasets_command(cl);
    if (command == "jobs")
      return chat::cli::jobs_command(cl);
    if (command == "models")
      return chat::cli::models_command(cl);
    if (command == "filters")
      return chat::cli::filters_command(cl);
    if (command == "alerts")
      return chat::cli::alerts_command(cl);
    if (command == "chat")
      return chat::cli::chat_command(cl);
    if (command == "bench")
      return chat::cli::bench_command(cl);
    std::cerr << "chatctl: unknown command '" << command << "' (see --help)\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "chatctl: " << e.what() << "\n";
    return 1;
  }
}
