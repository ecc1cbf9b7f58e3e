#pragma once
// Strict reading of JSON objects: unknown keys and wrong types are errors that
// name the key, so a typo in a config never silently becomes a default.

#include <initializer_list>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

namespace chat::model {

/// Throws when `j` is not an object or holds a key outside `known`; `where`
/// names the object in the message (e.g. "job spec 'hyper'").
inline void require_known_keys(const nlohmann::json& j,
                               std::initializer_list<const char*> known,
                               const std::string& where) {
  if (!j.is_object())
    throw std::runtime_error(where + ": expected a JSON object, found " +
                             std::string(j.type_name()));
  for (const auto& item : j.items()) {
    bool ok = false;
    std::string list;
    for (const char* k : known) {
      ok = ok || item.key() == k;
      list += list.empty() ? k : std::string(", ") + k;
    }
    if (!ok)
      throw std::runtime_error(where + ": unknown key '" + item.key() +
                               "'; known keys: " + list);
  }
}

/// Reads `j[key]` as T into `out` when present (leaves `out` as is when
/// absent); a value of the wrong type is an error naming the key.
template <typename T>
void read_optional(const nlohmann::json& j, const char* key, T& out,
                   const std::string& where) {
  auto it = j.find(key);
  if (it == j.end()) return;
  try {
    out = it->get<T>();
  } catch (const nlohmann::json::exception&) {
    throw std::runtime_error(where + ": key '" + key +
                             "' has the wrong type (" + it->type_name() +
                             "): " + it->dump());
  }
  // nlohmann converts 2.5 to an integer silently; reject fractional integers.
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    if (!it->is_number_integer())
      throw std::runtime_error(where + ": key '" + key +
                               "' must be an integer, found " + it->dump());
  }
  if constexpr (std::is_same_v<T, bool>) {
    if (!it->is_boolean())
      throw std::runtime_error(where + ": key '" + key +
                               "' must be true or false, found " + it->dump());
  }
}

/// Like read_optional, but a missing key is an error.
template <typename T>
void read_required(const nlohmann::json& j, const char* key, T& out,
                   const std::string& where) {
  if (!j.contains(key))
    throw std::runtime_error(where + ": missing required key '" +
                             std::string(key) + "'");
  read_optional(j, key, out, where);
}

}  // namespace chat::model
