#include "tools/chatctl/sse_parser.hpp"

#include <catch2/catch.hpp>

#include <vector>

using chat::cli::sse_event;
using chat::cli::sse_parser;

namespace {

std::vector<sse_event> parse_in_pieces(const std::string& stream,
                                       std::size_t piece) {
  std::vector<sse_event> events;
  sse_parser parser([&](const sse_event& e) { events.push_back(e); });
  for (std::size_t i = 0; i < stream.size(); i += piece)
    parser.feed(stream.substr(i, piece));
  return events;
}

} // namespace

TEST_CASE("sse_parser splits events however the bytes arrive", "[unit]") {
  const std::string stream = "event: token\ndata: {\"text\":\"Hi\"}\n\n"
                             ": ping\n\n"
                             "data:{\"seq\":1}\r\n\r\n"
                             "data: a\ndata: b\n\n"
                             "data: unfinished";
  for (std::size_t piece : {1, 3, 1000}) {
    auto events = parse_in_pieces(stream, piece);
    REQUIRE(events.size() == 3);
    CHECK(events[0].name == "token");
    CHECK(events[0].data == "{\"text\":\"Hi\"}");
    CHECK(events[1].name.empty());
    CHECK(events[1].data == "{\"seq\":1}");
    CHECK(events[2].data == "a\nb");
  }
}
