#include "tools/chatctl/job_events.hpp"

#include <cstdio>
#include <ostream>

namespace chat::cli {

namespace {

using json = nlohmann::json;

/// The string without control bytes (they could drive the terminal).
std::string printable(std::string text) {
  for (auto& ch : text)
    if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f)
      ch = '?';
  return text;
}

std::string text(const json& e, const char* key) {
  auto it = e.find(key);
  return it != e.end() && it->is_string() ? printable(it->get<std::string>())
                                          : std::string();
}

bool has_number(const json& e, const char* key) {
  auto it = e.find(key);
  return it != e.end() && it->is_number();
}

std::string format(const char* pattern, double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, pattern, value);
  return buffer;
}

std::string integer(const json& e, const char* key) {
  return format("%.0f", e.at(key).get<double>());
}

/// An error as the server gives it: a string or {"message", ...}.
std::string error_message(const json& e) {
  auto it = e.find("error");
  if (it == e.end())
    return "";
  if (it->is_object())
    return text(*it, "message");
  return it->is_string() ? printable(it->get<std::string>()) : "";
}

std::string step_line(const json& e, std::int64_t max_steps) {
  std::string out = has_number(e, "step") ? integer(e, "step") : "?";
  if (has_number(e, "max_steps"))
    out += "/" + integer(e, "max_steps");
  else if (max_steps > 0)
    out += "/" + std::to_string(max_steps);
  if (has_number(e, "train_loss"))
    out += "  loss " + format("%.4f", e["train_loss"].get<double>());
  if (has_number(e, "lr"))
    out += "  lr " + format("%.2e", e["lr"].get<double>());
  if (has_number(e, "tokens_per_sec"))
    out += "  " + format("%.0f", e["tokens_per_sec"].get<double>())
           + " tok/s";
  return out;
}

std::string eval_line(const json& e) {
  std::string out;
  if (has_number(e, "step"))
    out = "step " + integer(e, "step") + "  ";
  out += "val loss ";
  out += has_number(e, "val_loss")
           ? format("%.4f", e["val_loss"].get<double>())
           : "?";
  return out;
}

std::string checkpoint_line(const json& e) {
  std::string out;
  if (has_number(e, "step"))
    out = "step " + integer(e, "step");
  auto model = text(e, "model_id");
  if (!model.empty())
    out += (out.empty() ? "" : "  ") + ("model " + model);
  return out;
}

std::string status_line(const json& e) {
  auto out = text(e, "status");
  auto error = error_message(e);
  if (!error.empty())
    out += ": " + error;
  auto model = text(e, "result_model_id");
  if (!model.empty())
    out += "  model " + model;
  return out;
}

std::string log_line(const json& e) {
  return (text(e, "level") == "error" ? "error: " : "") + text(e, "message");
}

/// Fields other than the envelope, for event types this client does not
/// know.
std::string other_fields(json e) {
  for (const char* key : {"seq", "type", "created_at"})
    e.erase(key);
  return e.dump(-1, ' ', false, json::error_handler_t::replace);
}

} // namespace

bool is_final_job_status(const std::string& status) {
  return status == "succeeded" || status == "failed" || status == "cancelled";
}

int job_exit_code(const std::string& status) {
  return status == "succeeded" ? 0 : 1;
}

std::string job_event_line(const json& event, std::int64_t max_steps) {
  if (!event.is_object())
    return "";
  auto type = text(event, "type");
  std::string detail;
  if (type == "step")
    detail = step_line(event, max_steps);
  else if (type == "eval")
    detail = eval_line(event);
  else if (type == "checkpoint")
    detail = checkpoint_line(event);
  else if (type == "status")
    detail = status_line(event);
  else if (type == "log")
    detail = log_line(event);
  else
    detail = other_fields(event);
  if (type.empty())
    type = "event";
  type.resize(std::max<std::size_t>(type.size(), 10), ' ');
  return type + "  " + detail;
}

job_event_follower::job_event_follower(std::ostream& out, bool raw_json,
                                       std::int64_t max_steps)
  : out_(out), raw_json_(raw_json), max_steps_(max_steps),
    parser_([this](const sse_event& e) { handle(e); }) {}

void job_event_follower::feed(const std::string& bytes) {
  parser_.feed(bytes);
}

void job_event_follower::reconnect() {
  parser_ = sse_parser([this](const sse_event& e) { handle(e); });
  progressed_ = false;
}

void job_event_follower::handle(const sse_event& event) {
  auto e = json::parse(event.data, nullptr, false);
  if (!e.is_object())
    return;
  if (auto seq = e.find("seq"); seq != e.end() && seq->is_number_integer()) {
    if (seq->get<std::int64_t>() <= last_seq_)
      return;
    last_seq_ = seq->get<std::int64_t>();
  }
  progressed_ = true;
  if (auto max = e.find("max_steps");
      max != e.end() && max->is_number_integer())
    max_steps_ = max->get<std::int64_t>();
  if (raw_json_)
    out_ << e.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
  else
    out_ << job_event_line(e, max_steps_) << "\n";
  out_.flush();
  auto status = text(e, "status");
  if (text(e, "type") == "status" && is_final_job_status(status))
    final_status_ = status;
}

} // namespace chat::cli
