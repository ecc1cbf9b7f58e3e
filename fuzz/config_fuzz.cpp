// Fuzzes the config file reader (JSON with comments, every key typed and
// range-checked). A bad file may fail only with config_error; a good one
// must survive the round trip through config_to_json unchanged.

#include "config/config_loader.hpp"

#include <cstdint>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  chat::config_sources sources;
  sources.json_text.assign(reinterpret_cast<const char*>(data), size);
  chat::config cfg;
  try {
    cfg = chat::load_config(sources);
  } catch (const chat::config_error& e) {
    if (std::string(e.what()).empty())
      std::abort();
    return 0;
  }
  auto printed = chat::config_to_json(cfg);
  chat::config_sources again;
  again.json_text = printed;
  if (chat::config_to_json(chat::load_config(again)) != printed)
    std::abort();
  return 0;
}
