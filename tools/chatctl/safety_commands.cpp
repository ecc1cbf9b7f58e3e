#include "tools/chatctl/cli.hpp"

#include <iostream>

namespace chat::cli {

using json = nlohmann::json;

int filters_command(const command_line& cl) {
  if (cl.help) {
    std::cout
      << "chatctl filters list\n"
         "chatctl filters add PATTERN [--kind phrase|regex]\n"
         "                    [--applies-to input|output|both]\n"
         "  phrases match case-insensitively after Unicode NFKC folding,\n"
         "  regexes use RE2 syntax; a rule applies from the next request\n"
         "chatctl filters remove RULE_ID\n";
    return 0;
  }
  api_client api(cl);
  const auto& sub = subcommand(cl);
  if (sub == "list" || sub.empty()) {
    show_list(cl, api.call("GET", "/admin/filters"),
              {"id", "kind", "pattern", "applies_to", "created_at"});
  } else if (sub == "add") {
    json body = {{"pattern", cl.arg(1, "PATTERN")},
                 {"kind", cl.flag("kind", "phrase")},
                 {"applies_to", cl.flag("applies-to", "both")}};
    show_object(cl, api.call("POST", "/admin/filters", body));
  } else if (sub == "remove") {
    show_object(cl, api.call("DELETE", "/admin/filters/"
                                         + percent_encode(
                                           cl.arg(1, "RULE_ID"))));
  } else {
    unknown_subcommand(cl);
  }
  return 0;
}

int alerts_command(const command_line& cl) {
  if (cl.help) {
    std::cout << "chatctl alerts list\n"
                 "  keys suspended for abuse, not yet lifted\n"
                 "chatctl alerts history\n"
                 "  every alert, lifted ones too\n"
                 "chatctl alerts lift KEY_ID\n"
                 "  lifts the key's suspension and closes its alerts\n";
    return 0;
  }
  api_client api(cl);
  const auto& sub = subcommand(cl);
  if (sub == "list" || sub.empty() || sub == "history") {
    show_list(cl,
              api.call("GET", sub == "history" ? "/admin/alerts?all=true"
                                               : "/admin/alerts"),
              {"id", "key_id", "user_id", "signal", "detail", "created_at",
               "lifted_at"});
  } else if (sub == "lift") {
    show_object(cl, api.call("POST", "/admin/keys/"
                                       + percent_encode(cl.arg(1, "KEY_ID"))
                                       + "/unsuspend"));
  } else {
    unknown_subcommand(cl);
  }
  return 0;
}

} // namespace chat::cli
