#include "tools/chatctl/bench_command.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <thread>

namespace chat::cli {

namespace {

using json = nlohmann::json;
using clock_type = std::chrono::steady_clock;

/// Words the prompts are made of: common English, about a token each.
const char* const prompt_words[]
  = {"the", "old", "ship", "sailed", "across", "a", "calm", "sea", "while",
     "birds", "sang", "over", "green", "hills", "and", "quiet", "towns"};

double seconds(clock_type::time_point from, clock_type::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

/// The text a chunk carries: delta.content (chat) or text (completions).
std::string chunk_text(const json& chunk) {
  auto choices = chunk.find("choices");
  if (choices == chunk.end() || !choices->is_array() || choices->empty())
    return {};
  const auto& choice = (*choices)[0];
  if (!choice.is_object())
    return {};
  if (auto delta = choice.find("delta");
      delta != choice.end() && delta->is_object()) {
    auto content = delta->find("content");
    if (content != delta->end() && content->is_string())
      return content->get<std::string>();
    return {};
  }
  auto text = choice.find("text");
  if (text != choice.end() && text->is_string())
    return text->get<std::string>();
  return {};
}

std::string error_message(const std::string& body) {
  auto j = json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("error") && j["error"].is_object())
    return j["error"].value("message", "error");
  return body.substr(0, 200);
}

request_sample send_one(const bench_options& o, int index) {
  const auto path
    = o.server.api_path + (o.chat ? "/chat/completions" : "/completions");
  http::header_map headers{{"Content-Type", "application/json"},
                           {"Accept", "text/event-stream"}};
  if (!o.key.empty())
    headers["Authorization"] = "Bearer " + o.key;
  const auto body = bench_request_body(o, index).dump();
  const auto t0 = clock_type::now();
  completion_stream_reader reader;
  int status = 0;
  std::string error_body;
  try {
    http::fetch_stream(
      o.server.to, "POST", path, body, headers,
      {[&](int s, const http::header_map&) { status = s; },
       [&](const std::string& data) {
         if (status >= 400)
           error_body += data;
         else
           reader.feed(data, seconds(t0, clock_type::now()));
         return true;
       }},
      std::chrono::seconds(o.timeout_s));
  } catch (const std::exception& e) {
    request_sample failed;
    failed.error = e.what();
    return failed;
  }
  if (status >= 400) {
    request_sample failed;
    failed.error
      = "HTTP " + std::to_string(status) + ": " + error_message(error_body);
    return failed;
  }
  return reader.finish(seconds(t0, clock_type::now()));
}

std::string ms(double s) {
  char out[32];
  std::snprintf(out, sizeof out, "%.1f", s * 1000);
  return out;
}

void print_summary(const bench_options& o, const bench_summary& s) {
  char tps[32];
  std::snprintf(tps, sizeof tps, "%.1f", s.output_tokens_per_s);
  print_table({"concurrency", "requests", "errors", "output tok/s",
               "TTFT p50 ms", "TTFT p99 ms", "ITL p50 ms", "ITL p99 ms"},
              {{std::to_string(o.concurrency), std::to_string(s.requests),
                std::to_string(s.errors), tps, ms(s.ttft_s.p50),
                ms(s.ttft_s.p99), ms(s.inter_token_s.p50),
                ms(s.inter_token_s.p99)}});
  std::cout << "completion tokens " << s.completion_tokens << " ("
            << (s.requests > s.errors
                  ? s.completion_tokens / (s.requests - s.errors)
                  : 0)
            << " per reply), prompt tokens " << s.prompt_tokens << ", wall "
            << s.wall_s << " s\n";
  for (const auto& e : s.error_examples)
    std::cout << "error: " << e << "\n";
}

} // namespace

void completion_stream_reader::feed(const std::string& data, double now_s) {
  for (char c : data)
    if (c != '\r')
      buffer_ += c;
  for (auto end = buffer_.find("\n\n"); end != std::string::npos;
       end = buffer_.find("\n\n")) {
    handle_event(buffer_.substr(0, end), now_s);
    buffer_.erase(0, end + 2);
  }
}

void completion_stream_reader::handle_event(const std::string& event,
                                            double now_s) {
  std::string payload;
  std::size_t start = 0;
  while (start < event.size()) {
    auto end = std::min(event.find('\n', start), event.size());
    auto line = event.substr(start, end - start);
    if (line.rfind("data:", 0) == 0)
      payload += line.substr(line.rfind("data: ", 0) == 0 ? 6 : 5);
    start = end + 1;
  }
  if (payload.empty())
    return;
  if (payload == "[DONE]") {
    done_ = true;
    return;
  }
  auto chunk = json::parse(payload, nullptr, false);
  if (!chunk.is_object()) {
    sample_.error = "a chunk that is not a JSON object";
    return;
  }
  if (auto e = chunk.find("error"); e != chunk.end()) {
    sample_.error = error_message(payload);
    return;
  }
  if (auto usage = chunk.find("usage");
      usage != chunk.end() && usage->is_object()) {
    sample_.prompt_tokens = usage->value("prompt_tokens", std::int64_t{0});
    sample_.completion_tokens
      = usage->value("completion_tokens", std::int64_t{0});
  }
  if (chunk_text(chunk).empty())
    return;
  ++text_chunks_;
  if (last_text_s_ < 0)
    sample_.ttft_s = now_s;
  else
    sample_.token_gaps_s.push_back(now_s - last_text_s_);
  last_text_s_ = now_s;
}

request_sample completion_stream_reader::finish(double now_s) {
  sample_.latency_s = now_s;
  if (sample_.completion_tokens == 0)
    sample_.completion_tokens = text_chunks_;
  if (sample_.error.empty() && !done_)
    sample_.error = "the stream ended without [DONE]";
  else if (sample_.error.empty() && text_chunks_ == 0)
    sample_.error = "the reply had no text";
  sample_.ok = sample_.error.empty();
  return sample_;
}

json bench_request_body(const bench_options& o, int index) {
  // The number first: prompts differ from their first token on.
  std::string prompt = std::to_string(index) + ":";
  const auto words = std::size(prompt_words);
  for (int w = 0; w < o.prompt_words; ++w)
    prompt += std::string(" ")
              + prompt_words[(static_cast<std::size_t>(index) + w) % words];
  json body = {{"stream", true},
               {"stream_options", {{"include_usage", true}}},
               {"max_tokens", o.output_tokens},
               {"temperature", o.temperature}};
  if (o.chat)
    body["messages"] = {{{"role", "user"}, {"content", prompt}}};
  else
    body["prompt"] = prompt;
  if (o.top_p < 1)
    body["top_p"] = o.top_p;
  if (o.ignore_eos)
    body["ignore_eos"] = true;
  if (!o.model.empty())
    body["model"] = o.model;
  return body;
}

int bench_command(const command_line& cl) {
  if (cl.help) {
    std::cout << bench_usage;
    return 0;
  }
  const auto o = parse_bench_options(cl);
  std::vector<request_sample> samples(static_cast<std::size_t>(o.requests));
  std::atomic<int> next{0};
  auto client = [&] {
    for (int i = next++; i < o.requests; i = next++)
      samples[static_cast<std::size_t>(i)] = send_one(o, i);
  };
  const auto start = clock_type::now();
  std::vector<std::thread> clients;
  for (int c = 0; c < std::min(o.concurrency, o.requests); ++c)
    clients.emplace_back(client);
  for (auto& t : clients)
    t.join();
  const auto summary = summarize(samples, seconds(start, clock_type::now()));
  if (cl.json) {
    auto j = to_json(summary);
    j["concurrency"] = o.concurrency;
    j["output_tokens"] = o.output_tokens;
    j["ignore_eos"] = o.ignore_eos;
    std::cout << j.dump() << "\n";
  } else {
    print_summary(o, summary);
  }
  return summary.errors == 0 ? 0 : 1;
}

} // namespace chat::cli
