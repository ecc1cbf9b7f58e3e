#include "tools/chatctl/cli.hpp"

#include <iomanip>
#include <iostream>

namespace chat::cli {

namespace {

using json = nlohmann::json;

/// Prints the scalar fields (and arrays of scalars) under `prefix`.
void print_fields(const json& object, const std::string& prefix) {
  for (auto it = object.begin(); it != object.end(); ++it) {
    const auto& v = it.value();
    if (v.is_object()) {
      print_fields(v, prefix + it.key() + ".");
    } else if (v.is_array()) {
      bool scalars = true;
      for (const auto& item : v)
        scalars = scalars && !item.is_structured();
      if (scalars)
        std::cout << prefix << it.key() << ": " << cell(v) << "\n";
    } else {
      std::cout << prefix << it.key() << ": " << cell(v) << "\n";
    }
  }
}

} // namespace

std::string cell(const json& value) {
  if (value.is_null())
    return "";
  if (value.is_string())
    return value.get<std::string>();
  if (value.is_array()) {
    std::string out;
    for (const auto& v : value)
      out += (out.empty() ? "" : ",") + cell(v);
    return out;
  }
  return value.dump();
}

void print_table(const std::vector<std::string>& columns,
                 const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width(columns.size());
  for (std::size_t c = 0; c < columns.size(); ++c) {
    width[c] = columns[c].size();
    for (const auto& row : rows)
      width[c] = std::max(width[c], row[c].size());
  }
  auto print_row = [&](const std::vector<std::string>& row) {
    for (std::size_t c = 0; c < row.size(); ++c)
      std::cout << std::left << std::setw(static_cast<int>(width[c]))
                << row[c] << (c + 1 < row.size() ? "  " : "\n");
  };
  print_row(columns);
  for (const auto& row : rows)
    print_row(row);
}

void show_list(const command_line& cl, const json& answer,
               const std::vector<std::string>& fields) {
  if (cl.json) {
    std::cout << answer.dump() << "\n";
    return;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& item : answer.at("data")) {
    std::vector<std::string> row;
    for (const auto& f : fields)
      row.push_back(cell(item.value(f, json())));
    rows.push_back(std::move(row));
  }
  print_table(fields, rows);
}

void show_object(const command_line& cl, const json& answer) {
  if (cl.json)
    std::cout << answer.dump() << "\n";
  else if (answer.is_object())
    print_fields(answer, "");
}

} // namespace chat::cli
