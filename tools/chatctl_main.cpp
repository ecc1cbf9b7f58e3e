// chatctl: the admin CLI. Talks to chatd's HTTP API; `bootstrap` works
// offline on a data directory.

#include "http/client.hpp"
#include "storage/bootstrap.hpp"
#include "storage/database.hpp"

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <string>
#include <vector>

namespace {

const char* usage = R"(Usage: chatctl [--url URL] [--key KEY] [--json] COMMAND

Commands:
  bootstrap --data-dir DIR   create the admin user and key on an empty
                             database, offline (prints the key once and
                             writes DIR/admin.key, mode 0600)
  status                     liveness and readiness of the service

Options:
  --url URL    chatd's address (default $CHATCTL_URL or http://127.0.0.1:8080)
  --key KEY    API key (default $CHATCTL_KEY)
  --json       machine-readable output
  --help       this text
)";

struct options {
  std::string url = "http://127.0.0.1:8080";
  std::string key;
  bool json = false;
  std::string command;
  std::map<std::string, std::string> flags;
};

struct endpoint {
  std::string host;
  std::uint16_t port = 80;
};

endpoint parse_url(const std::string& url) {
  const std::string scheme = "http://";
  if (url.rfind(scheme, 0) != 0)
    throw std::runtime_error("--url must start with http:// (got '" + url
                             + "')");
  auto rest = url.substr(scheme.size());
  rest = rest.substr(0, rest.find('/'));
  endpoint ep;
  auto colon = rest.rfind(':');
  ep.host = rest.substr(0, colon);
  if (colon != std::string::npos)
    ep.port = static_cast<std::uint16_t>(std::stoi(rest.substr(colon + 1)));
  return ep;
}

int bootstrap(const options& opt) {
  auto it = opt.flags.find("data-dir");
  if (it == opt.flags.end())
    throw std::runtime_error("bootstrap needs --data-dir DIR");
  std::filesystem::create_directories(it->second);
  auto db = chat::storage::open_database(it->second + "/chat.db");
  auto secret = chat::storage::bootstrap_admin(db, it->second);
  if (!secret) {
    std::cerr << "chatctl: the database already has users; nothing changed\n";
    return 1;
  }
  if (opt.json)
    std::cout << nlohmann::json{{"user", "admin"}, {"key", *secret}}.dump()
              << "\n";
  else
    std::cout << "Created user 'admin'. API key (shown once, also in "
              << it->second << "/admin.key):\n" << *secret << "\n";
  return 0;
}

int status(const options& opt) {
  auto ep = parse_url(opt.url);
  auto health = chat::http::fetch(ep.host, ep.port, "GET", "/healthz");
  auto ready = chat::http::fetch(ep.host, ep.port, "GET", "/readyz");
  bool ok = health.status == 200 && ready.status == 200;
  if (opt.json)
    std::cout << nlohmann::json{{"alive", health.status == 200},
                                {"ready", ready.status == 200}}
                   .dump()
              << "\n";
  else
    std::cout << "alive: " << (health.status == 200 ? "yes" : "no")
              << "\nready: " << (ready.status == 200 ? "yes" : "no") << "\n";
  return ok ? 0 : 1;
}

options parse(int argc, char** argv) {
  options opt;
  if (const char* url = std::getenv("CHATCTL_URL"))
    opt.url = url;
  if (const char* key = std::getenv("CHATCTL_KEY"))
    opt.key = key;
  std::vector<std::string> args(argv + 1, argv + argc);
  for (size_t i = 0; i < args.size(); ++i) {
    const auto& a = args[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= args.size())
        throw std::runtime_error(a + " needs a value");
      return args[++i];
    };
    if (a == "--help" || a == "-h")
      opt.command = "help";
    else if (a == "--url")
      opt.url = value();
    else if (a == "--key")
      opt.key = value();
    else if (a == "--json")
      opt.json = true;
    else if (a.rfind("--", 0) == 0)
      opt.flags[a.substr(2)] = value();
    else if (opt.command.empty())
      opt.command = a;
    else
      throw std::runtime_error("unexpected argument '" + a + "'");
  }
  return opt;
}

} // namespace

int main(int argc, char** argv) {
  try {
    auto opt = parse(argc, argv);
    if (opt.command.empty() || opt.command == "help") {
      std::cout << usage;
      return opt.command.empty() ? 2 : 0;
    }
    if (opt.command == "bootstrap")
      return bootstrap(opt);
    if (opt.command == "status")
      return status(opt);
    std::cerr << "chatctl: unknown command '" << opt.command
              << "' (see --help)\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "chatctl: " << e.what() << "\n";
    return 1;
  }
}
