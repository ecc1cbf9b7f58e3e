#pragma once

#include "actors/service_state.hpp"
#include "http/router.hpp"

#include <memory>

namespace chat {

/// The gateway's route table: every endpoint with the access it needs.
std::shared_ptr<http::router>
make_gateway_routes(std::shared_ptr<const service_state> status);

} // namespace chat
