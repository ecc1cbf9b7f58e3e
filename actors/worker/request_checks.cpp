#include "actors/worker/request_checks.hpp"

#include "actors/protocol/errc.hpp"

#include <cmath>
#include <string>

namespace chat::worker {

namespace {

caf::error invalid(std::uint64_t id, const std::string& what) {
  return make_error(errc::invalid_request,
                    "request " + std::to_string(id) + ": " + what);
}

} // namespace

caf::error check_request(const generate_request& request,
                         std::int64_t vocab_size, std::int64_t context) {
  const auto id = request.id;
  if (request.prompt.empty())
    return invalid(id, "empty prompt; send at least one token id");
  for (size_t i = 0; i < request.prompt.size(); ++i) {
    const auto token = request.prompt[i];
    if (token < 0 || token >= vocab_size)
      return invalid(id, "prompt token " + std::to_string(i) + " is "
                           + std::to_string(token) + ", outside the vocabulary [0, "
                           + std::to_string(vocab_size) + ")");
  }
  const auto& s = request.sampling;
  if (!(std::isfinite(s.temperature) && s.temperature >= 0.0f))
    return invalid(id, "temperature " + std::to_string(s.temperature)
                         + " must be >= 0 (0 is greedy)");
  if (!(s.top_p > 0.0f && s.top_p <= 1.0f))
    return invalid(id, "top_p " + std::to_string(s.top_p)
                         + " must be in (0, 1]");
  if (s.top_k < 0)
    return invalid(id, "top_k " + std::to_string(s.top_k)
                         + " must be >= 0 (0 keeps all tokens)");
  if (s.max_tokens < 1)
    return invalid(id, "max_tokens " + std::to_string(s.max_tokens)
                         + " must be >= 1");
  const auto prompt_tokens = static_cast<std::int64_t>(request.prompt.size());
  if (prompt_tokens >= context)
    return make_error(errc::prompt_too_long,
                      "request " + std::to_string(id) + ": prompt of "
                        + std::to_string(prompt_tokens)
                        + " tokens leaves no room in the context of "
                        + std::to_string(context) + "; shorten it");
  return {};
}

} // namespace chat::worker
