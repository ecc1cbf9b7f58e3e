#pragma once

#include "tools/chatctl/cli.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace chat::cli {

/// Every flag `chatctl jobs submit` takes.
std::vector<std::string> job_submit_flags();

/// The body of `POST /admin/jobs` from `chatctl jobs submit`'s flags: the
/// `--spec` file's object (when given) with each flag set over it
/// (`--dataset` replaces `dataset_ids`). Numbers are checked here; the
/// server checks the values.
/// @throws cli_error for an unknown flag, a malformed number, an unreadable
///         spec, or no `type`.
nlohmann::json job_request(const command_line& cl);

} // namespace chat::cli
