# Writes OUT, a C++ file holding every file under DIR (the web client) with
# its SHA-256, so chatd serves the client from its own binary.
file(GLOB_RECURSE files RELATIVE "${DIR}" "${DIR}/*")
list(SORT files)
set(entries "")
foreach(rel IN LISTS files)
  file(READ "${DIR}/${rel}" body)
  file(SHA256 "${DIR}/${rel}" digest)
  string(FIND "${body}" ")chat_web\"" clash)
  if(NOT clash EQUAL -1)
    message(FATAL_ERROR "web/ui/${rel} contains the raw-string delimiter")
  endif()
  string(APPEND entries
    "  {\"${rel}\", \"${digest}\", R\"chat_web(${body})chat_web\"},\n")
endforeach()
file(WRITE "${OUT}.tmp"
  "// Generated from web/ui by embed_files.cmake.\n"
  "#include \"web/static_files.hpp\"\n\n"
  "namespace chat::web {\n\n"
  "const std::vector<static_file>& static_files() {\n"
  "  static const std::vector<static_file> all = {\n${entries}  };\n"
  "  return all;\n}\n\n} // namespace chat::web\n")
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different
                "${OUT}.tmp" "${OUT}")
