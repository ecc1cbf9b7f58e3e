#pragma once

#include "actors/api/api_error.hpp"

#include <cstdint>
#include <memory>
#include <string>

namespace chat {

/// Token counts of one generation.
struct usage_counts {
  std::int32_t prompt_tokens = 0;
  std::int32_t completion_tokens = 0;
};

/// Everything a format needs to name the reply.
struct reply_meta {
  /// Id of the response object ("chatcmpl-...", "cmpl-...").
  std::string response_id;
  std::string model_id;
  std::int64_t created = 0;
  /// Set when the exchange is stored in a session.
  std::string session_id;
  /// Id the stored reply gets (sessions only).
  std::string message_id;
};

/// Turns a generation into one wire format (OpenAI SSE or JSON, session
/// events, plain text, WebSocket frames). Called from one actor, in order:
/// any number of `text`, then exactly one of `end` or `fail`.
class reply_writer {
public:
  virtual ~reply_writer() = default;

  /// A piece of the reply (whole UTF-8).
  virtual void text(const std::string& piece) = 0;

  /// The reply ended and, for sessions, is stored.
  virtual void end(const std::string& finish_reason, usage_counts usage) = 0;

  /// The generation failed; `error` is safe to show the client.
  virtual void fail(const api::api_error& error) = 0;
};

using reply_writer_ptr = std::shared_ptr<reply_writer>;

} // namespace chat
