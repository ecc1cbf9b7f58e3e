#include "tools/chatctl/cli.hpp"

#include <algorithm>
#include <cmath>

namespace chat::cli {

const std::vector<std::string> switches = {"auto-activate", "watch"};

command_line parse_command_line(const std::vector<std::string>& args,
                                const char* env_url, const char* env_key) {
  command_line cl;
  if (env_url)
    cl.url = env_url;
  if (env_key)
    cl.key = env_key;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const auto& a = args[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= args.size())
        throw cli_error(a + " needs a value");
      return args[++i];
    };
    if (a == "--help" || a == "-h")
      cl.help = true;
    else if (a == "--url")
      cl.url = value();
    else if (a == "--key")
      cl.key = value();
    else if (a == "--ca-file")
      cl.ca_file = value();
    else if (a == "--json")
      cl.json = true;
    else if (a.rfind("--", 0) == 0
             && std::find(switches.begin(), switches.end(), a.substr(2))
                  != switches.end())
      cl.flags.emplace(a.substr(2), "");
    else if (a.rfind("--", 0) == 0)
      cl.flags.emplace(a.substr(2), value());
    else
      cl.words.push_back(a);
  }
  return cl;
}

std::string command_line::flag(const std::string& name,
                               const std::string& fallback) const {
  auto it = flags.upper_bound(name);
  if (it == flags.begin() || std::prev(it)->first != name)
    return fallback;
  return std::prev(it)->second;
}

std::vector<std::string> command_line::values(const std::string& name) const {
  std::vector<std::string> out;
  auto [first, last] = flags.equal_range(name);
  for (auto it = first; it != last; ++it)
    out.push_back(it->second);
  return out;
}

bool command_line::has(const std::string& name) const {
  return flags.count(name) > 0;
}

const std::string& command_line::arg(std::size_t n, const char* what) const {
  if (words.size() <= n + 1)
    throw cli_error(std::string("missing ") + what + " (see --help)");
  return words[n + 1];
}

std::optional<std::int64_t> int_flag(const command_line& cl,
                                     const std::string& name) {
  auto v = cl.flag(name);
  if (v.empty())
    return std::nullopt;
  try {
    std::size_t used = 0;
    auto n = std::stoll(v, &used);
    if (used == v.size())
      return n;
  } catch (const std::exception&) {
  }
  throw cli_error("--" + name + " must be an integer (got '" + v + "')");
}

std::optional<double> number_flag(const command_line& cl,
                                  const std::string& name) {
  auto v = cl.flag(name);
  if (v.empty())
    return std::nullopt;
  try {
    std::size_t used = 0;
    auto x = std::stod(v, &used);
    if (used == v.size() && std::isfinite(x))
      return x;
  } catch (const std::exception&) {
  }
  throw cli_error("--" + name + " must be a number (got '" + v + "')");
}

void reject_unknown_flags(const command_line& cl,
                          const std::vector<std::string>& known) {
  for (const auto& [name, value] : cl.flags)
    if (std::find(known.begin(), known.end(), name) == known.end())
      throw cli_error("unknown flag --" + name + " for '" + cl.words[0] + " "
                      + subcommand(cl) + "' (see chatctl " + cl.words[0]
                      + " --help)");
}

const std::string& subcommand(const command_line& cl) {
  static const std::string none;
  return cl.words.size() > 1 ? cl.words[1] : none;
}

void unknown_subcommand(const command_line& cl) {
  throw cli_error("unknown subcommand '" + subcommand(cl) + "' for '"
                  + cl.words[0] + "' (see chatctl " + cl.words[0]
                  + " --help)");
}

} // namespace chat::cli
