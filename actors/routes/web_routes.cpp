#include "actors/routes/routes.hpp"

#include "web/static_files.hpp"
#include "web/static_response.hpp"

namespace chat {

void add_web_routes(route_table& table) {
  for (const auto& file : web::static_files()) {
    auto serve = [&file](http::request& req, http::responder_ptr done) {
      done->send(web::static_response(file, req.header("if-none-match")));
    };
    table.add_public("GET", "/" + std::string(file.path), serve);
    if (file.path == "index.html")
      table.add_public("GET", "/", serve);
  }
}

} // namespace chat
