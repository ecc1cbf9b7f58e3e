#include "actors/api/generation_request.hpp"

#include "actors/api/api_error.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <limits>

namespace chat::api {

namespace {

using json = nlohmann::json;

/// Most stop strings per request, as in the OpenAI API.
constexpr size_t max_stop_strings = 4;

const json* field(const json& obj, const char* name) {
  auto it = obj.find(name);
  if (it == obj.end() || it->is_null())
    return nullptr;
  return &*it;
}

double number(const json& v, const std::string& param) {
  if (!v.is_number())
    throw bad_param(param, "'" + param + "' must be a number");
  double d = v.get<double>();
  if (!std::isfinite(d))
    throw bad_param(param, "'" + param + "' must be finite");
  return d;
}

std::int64_t integer(const json& v, const std::string& param) {
  if (!v.is_number_integer())
    throw bad_param(param, "'" + param + "' must be an integer");
  if (v.is_number_unsigned()
      && v.get<std::uint64_t>()
           > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
    throw bad_param(param, "'" + param + "' is too large");
  return v.get<std::int64_t>();
}

bool boolean(const json& v, const std::string& param) {
  if (!v.is_boolean())
    throw bad_param(param, "'" + param + "' must be a boolean");
  return v.get<bool>();
}

std::string string(const json& v, const std::string& param) {
  if (!v.is_string())
    throw bad_param(param, "'" + param + "' must be a string");
  return v.get<std::string>();
}

void require_object(const json& body) {
  if (!body.is_object())
    throw api_error(400, "invalid_request", "the body must be a JSON object");
}

/// OpenAI content: a string, or an array of {"type":"text","text":...}.
std::string content_of(const json& v, const std::string& param) {
  if (v.is_string())
    return v.get<std::string>();
  if (!v.is_array())
    throw bad_param(param, "'" + param + "' must be a string");
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    auto part_param = param + "[" + std::to_string(i) + "]";
    const auto& part = v[i];
    // find(), not value(): value() throws when "type" is not a string.
    auto type = part.is_object() ? part.find("type") : part.end();
    if (!part.is_object() || type == part.end() || *type != "text"
        || !part.contains("text") || !part["text"].is_string())
      throw bad_param(part_param, "only text content parts are supported");
    out += part["text"].get<std::string>();
  }
  return out;
}

void parse_stream_fields(const json& body, generation_options& out) {
  if (auto v = field(body, "stream"))
    out.stream = boolean(*v, "stream");
  if (auto v = field(body, "stream_options")) {
    if (!v->is_object())
      throw bad_param("stream_options", "'stream_options' must be an object");
    if (auto u = field(*v, "include_usage"))
      out.include_usage = boolean(*u, "stream_options.include_usage");
  }
  if (auto v = field(body, "n")) {
    if (integer(*v, "n") != 1)
      throw bad_param("n", "only n = 1 is supported");
  }
}

} // namespace

json parse_body(const std::string& body) {
  try {
    return json::parse(body);
  } catch (const json::exception&) {
    // Not only parse_error: a number too large for a double is out_of_range.
    throw api_error(400, "invalid_json", "the body is not valid JSON");
  }
}

void parse_sampling(const json& obj, generation_options& out,
                    const std::string& prefix) {
  auto name = [&](const char* n) { return prefix + n; };
  const json* max_tokens = field(obj, "max_completion_tokens");
  std::string max_name = name("max_completion_tokens");
  if (!max_tokens) {
    max_tokens = field(obj, "max_tokens");
    max_name = name("max_tokens");
  }
  if (max_tokens) {
    auto n = integer(*max_tokens, max_name);
    if (n < 1 || n > (1 << 20))
      throw bad_param(max_name,
                      "'" + max_name + "' must be between 1 and 1048576");
    out.max_tokens = static_cast<std::int32_t>(n);
  }
  if (auto v = field(obj, "temperature")) {
    auto t = number(*v, name("temperature"));
    if (t < 0 || t > 2)
      throw bad_param(name("temperature"),
                      "'" + name("temperature") + "' must be between 0 and 2");
    out.temperature = static_cast<float>(t);
  }
  if (auto v = field(obj, "top_p")) {
    auto p = number(*v, name("top_p"));
    if (p <= 0 || p > 1)
      throw bad_param(name("top_p"),
                      "'" + name("top_p") + "' must be in (0, 1]");
    out.top_p = static_cast<float>(p);
  }
  if (auto v = field(obj, "top_k")) {
    auto k = integer(*v, name("top_k"));
    if (k < 0 || k > (1 << 20))
      throw bad_param(name("top_k"),
                      "'" + name("top_k") + "' must be 0 (off) or positive");
    out.top_k = static_cast<std::int32_t>(k);
  }
  if (auto v = field(obj, "seed"))
    out.seed = static_cast<std::uint64_t>(integer(*v, name("seed")));
  if (auto v = field(obj, "stop")) {
    out.stop.clear();
    if (v->is_string()) {
      out.stop.push_back(v->get<std::string>());
    } else if (v->is_array()) {
      if (v->size() > max_stop_strings)
        throw bad_param(name("stop"), "at most 4 stop strings are allowed");
      for (size_t i = 0; i < v->size(); ++i)
        out.stop.push_back(
          string((*v)[i], name("stop") + "[" + std::to_string(i) + "]"));
    } else {
      throw bad_param(name("stop"),
                      "'stop' must be a string or an array of strings");
    }
    for (const auto& s : out.stop)
      if (s.empty())
        throw bad_param(name("stop"), "stop strings must not be empty");
  }
  if (auto v = field(obj, "ignore_eos"))
    out.ignore_eos = boolean(*v, name("ignore_eos"));
}

chat_completion_request parse_chat_completion(const json& body) {
  require_object(body);
  chat_completion_request out;
  if (auto v = field(body, "model"))
    out.model = string(*v, "model");
  if (auto v = field(body, "session_id"))
    out.session_id = string(*v, "session_id");
  if (auto v = field(body, "user"))
    string(*v, "user");
  const json* messages = field(body, "messages");
  if (!messages)
    throw bad_param("messages", "'messages' is required");
  if (!messages->is_array())
    throw bad_param("messages", "'messages' must be an array");
  if (messages->empty() && !out.session_id)
    throw bad_param("messages", "'messages' must not be empty");
  for (size_t i = 0; i < messages->size(); ++i) {
    auto param = "messages[" + std::to_string(i) + "]";
    const auto& m = (*messages)[i];
    if (!m.is_object())
      throw bad_param(param, "'" + param + "' must be an object");
    const json* role = field(m, "role");
    if (!role)
      throw bad_param(param + ".role", "'" + param + ".role' is required");
    auto role_name = string(*role, param + ".role");
    auto parsed = tokenizer::parse_role(role_name);
    if (!parsed)
      throw bad_param(param + ".role", "unknown role '" + role_name
                                         + "' (use system, user or assistant)");
    const json* content = field(m, "content");
    if (!content)
      throw bad_param(param + ".content",
                      "'" + param + ".content' is required");
    out.messages.push_back({*parsed, content_of(*content, param + ".content")});
  }
  parse_stream_fields(body, out.options);
  parse_sampling(body, out.options);
  return out;
}

completion_request parse_completion(const json& body) {
  require_object(body);
  completion_request out;
  if (auto v = field(body, "model"))
    out.model = string(*v, "model");
  const json* prompt = field(body, "prompt");
  if (!prompt)
    throw bad_param("prompt", "'prompt' is required");
  if (prompt->is_array()) {
    if (prompt->size() != 1 || !(*prompt)[0].is_string())
      throw bad_param("prompt", "only one string prompt is supported");
    out.prompt = (*prompt)[0].get<std::string>();
  } else {
    out.prompt = string(*prompt, "prompt");
  }
  if (auto v = field(body, "user"))
    string(*v, "user");
  parse_stream_fields(body, out.options);
  parse_sampling(body, out.options);
  return out;
}

session_message_request parse_session_message(const json& body) {
  require_object(body);
  session_message_request out;
  const json* content = field(body, "content");
  if (!content)
    throw bad_param("content", "'content' is required");
  out.content = string(*content, "content");
  if (out.content.empty())
    throw bad_param("content", "'content' must not be empty");
  if (auto v = field(body, "stream"))
    out.options.stream = boolean(*v, "stream");
  parse_sampling(body, out.options);
  return out;
}

} // namespace chat::api
