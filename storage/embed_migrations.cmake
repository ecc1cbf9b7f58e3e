# Writes OUT, a C++ file holding every storage/migrations/NNNN_name.sql in
# order, so the binary carries its schema and never reads SQL from disk.
file(GLOB files "${DIR}/[0-9][0-9][0-9][0-9]_*.sql")
list(SORT files)
set(entries "")
foreach(f IN LISTS files)
  get_filename_component(name "${f}" NAME_WE)
  string(SUBSTRING "${name}" 0 4 version)
  string(REGEX REPLACE "^0+" "" version "${version}")
  file(READ "${f}" sql)
  string(APPEND entries
    "  {${version}, \"${name}\", R\"chat_sql(${sql})chat_sql\"},\n")
endforeach()
file(WRITE "${OUT}.tmp"
  "// Generated from storage/migrations by embed_migrations.cmake.\n"
  "#include \"storage/migrations.hpp\"\n\n"
  "namespace chat::storage {\n\n"
  "const std::vector<migration>& migrations() {\n"
  "  static const std::vector<migration> all = {\n${entries}  };\n"
  "  return all;\n}\n\n} // namespace chat::storage\n")
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different
                "${OUT}.tmp" "${OUT}")
