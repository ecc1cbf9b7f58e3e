#include "actors/routes/routes.hpp"

#include "actors/api/api_error.hpp"
#include "actors/routes/request_fields.hpp"
#include "model/tokenizer/atomic_write.hpp"
#include "model/tokenizer/chat_jsonl.hpp"
#include "model/tokenizer/utf8.hpp"
#include "storage/database.hpp"
#include "storage/ids.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>

namespace chat {

namespace {

using json = nlohmann::json;

constexpr std::size_t max_dataset_name = 128;

json dataset_json(const storage::dataset& d) {
  return {{"id", d.id},
          {"object", "dataset"},
          {"name", d.name},
          {"kind", d.kind},
          {"bytes", d.bytes},
          {"sha256", d.sha256},
          {"created_at", d.created_at}};
}

/// The media type without parameters, lowercase.
std::string media_type(const http::request& req) {
  auto type = req.header("content-type");
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ')
    type.pop_back();
  for (auto& ch : type)
    ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return type;
}

/// Checks the upload against its kind; 415 for a wrong media type, 422
/// naming the line for bad content.
void validate_upload(const http::request& req, const std::string& kind) {
  auto type = media_type(req);
  if (kind == "text") {
    if (type != "text/plain")
      throw api::api_error(415, "unsupported_media_type",
                           "a text dataset is sent as text/plain");
    if (tokenizer::find_invalid_utf8(req.body) != std::string_view::npos)
      throw api::api_error(422, "invalid_dataset",
                           "the text is not valid UTF-8");
    return;
  }
  if (type != "application/x-ndjson" && type != "application/jsonl")
    throw api::api_error(415, "unsupported_media_type",
                         "a chat dataset is sent as application/x-ndjson or "
                         "application/jsonl");
  try {
    tokenizer::chat_jsonl_reader reader("upload");
    reader.feed(req.body);
    reader.finish();
  } catch (const tokenizer::chat_data_error& e) {
    throw api::api_error(422, "invalid_dataset",
                         "line " + std::to_string(e.line()) + ": " + e.reason(),
                         std::string("body"));
  }
}

void upload_dataset(api_call& call, store_context& db) {
  auto name = query_param(call.req, "name");
  if (!name || name->empty() || name->size() > max_dataset_name)
    throw api::bad_param("name", "'name' (query) must be 1-128 characters");
  auto kind = query_param(call.req, "kind").value_or("");
  if (kind != "text" && kind != "chat")
    throw api::bad_param("kind", "'kind' (query) must be text or chat");
  if (call.req.body.empty())
    throw api::api_error(422, "invalid_dataset", "the dataset is empty",
                         std::string("body"));
  validate_upload(call.req, kind);
  storage::dataset d;
  d.id = storage::new_id("ds");
  d.name = *name;
  d.kind = kind;
  d.bytes = static_cast<std::int64_t>(call.req.body.size());
  auto digest = storage::sha256(call.req.body);
  d.sha256 = storage::to_hex(digest.data(), digest.size());
  d.created_at = storage::now_seconds();
  std::filesystem::create_directories(db.data_dir + "/datasets");
  // The file first: a row never points at a missing file.
  tokenizer::write_file_atomically(storage::dataset_file(db.data_dir, d),
                                   call.req.body);
  db.datasets.insert(d);
  call.done->send(http::json_response(201, dataset_json(d).dump()));
}

void list_datasets(api_call& call, store_context& db) {
  json data = json::array();
  for (const auto& d : db.datasets.list())
    data.push_back(dataset_json(d));
  call.done->send(http::json_response(
    200, json{{"object", "list"}, {"data", data}}.dump()));
}

void delete_dataset(api_call& call, store_context& db) {
  const auto& id = call.req.params.at("id");
  auto d = db.datasets.find(id);
  if (!d)
    throw api::api_error(404, "dataset_not_found",
                         "no dataset with id '" + id + "'");
  if (db.datasets.in_use(id))
    throw api::api_error(409, "dataset_in_use",
                         "a queued or running job uses this dataset");
  db.datasets.remove(id);
  std::error_code ec;
  std::filesystem::remove(storage::dataset_file(db.data_dir, *d), ec);
  call.done->send(http::json_response(
    200,
    json{{"id", id}, {"object", "dataset.deleted"}, {"deleted", true}}.dump()));
}

} // namespace

void add_dataset_routes(route_table& table) {
  using http::access;
  table.add("POST", "/admin/datasets", access::admin, upload_dataset);
  table.add("GET", "/admin/datasets", access::admin, list_datasets);
  table.add("DELETE", "/admin/datasets/{id}", access::admin, delete_dataset);
}

} // namespace chat
