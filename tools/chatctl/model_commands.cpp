#include "tools/chatctl/cli.hpp"

#include <iostream>

namespace chat::cli {

int models_command(const command_line& cl) {
  if (cl.help) {
    std::cout << "chatctl models list\n"
                 "chatctl models activate MODEL_ID\n"
                 "  serves the model on every worker (a hot swap); answers "
                 "once all serve it\n";
    return 0;
  }
  api_client api(cl);
  const auto& sub = subcommand(cl);
  if (sub == "list" || sub.empty())
    show_list(cl, api.call("GET", "/admin/models"),
              {"id", "name", "status", "n_params", "parent_id", "job_id",
               "created_at"});
  else if (sub == "activate")
    // Loading a model on every worker can outlast an ordinary call.
    show_object(cl, api.call("POST", "/admin/models/"
                                       + percent_encode(cl.arg(1, "MODEL_ID"))
                                       + "/activate",
                             nullptr, std::chrono::minutes(10)));
  else
    unknown_subcommand(cl);
  return 0;
}

} // namespace chat::cli
