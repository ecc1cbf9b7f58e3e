#include "tools/chatctl/cli.hpp"

#include <iostream>

namespace chat::cli {

using json = nlohmann::json;

int users_command(const command_line& cl) {
  if (cl.help) {
    std::cout << "chatctl users list\n"
                 "chatctl users create NAME\n"
                 "chatctl users delete USER_ID\n";
    return 0;
  }
  api_client api(cl);
  const auto& sub = subcommand(cl);
  if (sub == "list" || sub.empty())
    show_list(cl, api.call("GET", "/admin/users"), {"id", "name", "created_at"});
  else if (sub == "create")
    show_object(cl, api.call("POST", "/admin/users",
                             {{"name", cl.arg(1, "NAME")}}));
  else if (sub == "delete")
    show_object(cl, api.call("DELETE", "/admin/users/"
                               + percent_encode(cl.arg(1, "USER_ID"))));
  else
    unknown_subcommand(cl);
  return 0;
}

int keys_command(const command_line& cl) {
  if (cl.help) {
    std::cout
      << "chatctl keys list [--user USER_ID]\n"
         "chatctl keys create --user USER_ID [--scopes chat|chat,admin]\n"
         "                    [--name NAME] [--rpm N] [--max-streams N]\n"
         "                    [--expires-at UNIX_SECONDS] [--token-quota N]\n"
         "  prints the new key once; it cannot be shown again\n"
         "chatctl keys revoke KEY_ID\n";
    return 0;
  }
  api_client api(cl);
  const auto& sub = subcommand(cl);
  if (sub == "list" || sub.empty()) {
    auto user = cl.flag("user");
    show_list(cl,
              api.call("GET", "/admin/keys"
                                + (user.empty()
                                     ? ""
                                     : "?user_id=" + percent_encode(user))),
              {"id", "user_id", "name", "prefix", "scopes", "rate_limit_rpm",
               "max_streams", "expires_at", "revoked_at"});
  } else if (sub == "create") {
    json body = {{"user_id", cl.flag("user")}};
    if (cl.flag("user").empty())
      throw cli_error("keys create needs --user USER_ID");
    json scopes = json::array();
    std::string list = cl.flag("scopes", "chat");
    for (std::size_t start = 0; start <= list.size();) {
      auto end = list.find(',', start);
      if (end == std::string::npos)
        end = list.size();
      if (end > start)
        scopes.push_back(list.substr(start, end - start));
      start = end + 1;
    }
    body["scopes"] = scopes;
    if (!cl.flag("name").empty())
      body["name"] = cl.flag("name");
    if (auto v = int_flag(cl, "rpm"))
      body["rate_limit_rpm"] = *v;
    if (auto v = int_flag(cl, "max-streams"))
      body["max_streams"] = *v;
    if (auto v = int_flag(cl, "expires-at"))
      body["expires_at"] = *v;
    if (auto v = int_flag(cl, "token-quota"))
      body["token_quota_daily"] = *v;
    auto key = api.call("POST", "/admin/keys", body);
    if (cl.json)
      std::cout << key.dump() << "\n";
    else
      std::cout << "id: " << cell(key["id"]) << "\nkey: " << cell(key["key"])
                << "\n(store the key now: it is not shown again)\n";
  } else if (sub == "revoke") {
    show_object(cl, api.call("DELETE", "/admin/keys/"
                               + percent_encode(cl.arg(1, "KEY_ID"))));
  } else {
    unknown_subcommand(cl);
  }
  return 0;
}

int sessions_command(const command_line& cl) {
  if (cl.help) {
    std::cout << "chatctl sessions list [--user USER_ID] [--limit N]\n"
                 "chatctl sessions show SESSION_ID\n"
                 "chatctl sessions export SESSION_ID   (JSONL on stdout)\n"
                 "chatctl sessions delete SESSION_ID\n";
    return 0;
  }
  api_client api(cl);
  const auto& sub = subcommand(cl);
  if (sub == "list" || sub.empty()) {
    std::string query = "?limit=" + cl.flag("limit", "100");
    if (!cl.flag("user").empty())
      query += "&user_id=" + percent_encode(cl.flag("user"));
    show_list(cl, api.call("GET", "/admin/sessions" + query),
              {"id", "user_id", "title", "message_count", "updated_at"});
  } else if (sub == "show") {
    auto s = api.call("GET", "/admin/sessions/"
                               + percent_encode(cl.arg(1, "SESSION_ID")));
    if (cl.json) {
      std::cout << s.dump() << "\n";
    } else {
      show_object(cl, s);
      for (const auto& m : s["messages"])
        std::cout << "\n[" << cell(m["role"]) << "] " << cell(m["content"])
                  << "\n";
    }
  } else if (sub == "export") {
    std::cout << api.call_raw("GET", "/admin/sessions/"
                                       + percent_encode(cl.arg(1, "SESSION_ID"))
                                       + "/export");
  } else if (sub == "delete") {
    show_object(cl,
                api.call("DELETE", "/admin/sessions/"
                                     + percent_encode(
                                       cl.arg(1, "SESSION_ID"))));
  } else {
    unknown_subcommand(cl);
  }
  return 0;
}

int workers_command(const command_line& cl) {
  if (cl.help) {
    std::cout << "chatctl workers   (status of every worker)\n";
    return 0;
  }
  api_client api(cl);
  show_list(cl, api.call("GET", "/admin/workers"),
            {"id", "host", "device", "model_id", "running", "queued",
             "tokens_per_sec", "kv_slots_used", "kv_slots_total",
             "prefix_hits", "status"});
  return 0;
}

} // namespace chat::cli
