#pragma once

#include "actors/reply_writer.hpp"
#include "http/router.hpp"

namespace chat {

/// The OpenAI shapes: `chat.completion(.chunk)` or `text_completion`, as one
/// JSON answer or as SSE (`data: ...` lines ending with `data: [DONE]`).
enum class openai_kind { chat, text };
reply_writer_ptr make_openai_writer(http::responder_ptr done, reply_meta meta,
                                    openai_kind kind, bool stream,
                                    bool include_usage);

/// POST /api/sessions/{id}/messages: SSE with `event: token|done|error`, or
/// one JSON answer with the stored reply.
reply_writer_ptr make_session_writer(http::responder_ptr done, reply_meta meta,
                                     bool stream);

/// POST /chat: the reply as streamed text/plain with X-Session-ID.
reply_writer_ptr make_plain_text_writer(http::responder_ptr done,
                                        reply_meta meta);

} // namespace chat
