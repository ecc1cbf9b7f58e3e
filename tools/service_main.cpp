#include "tools/service_main.hpp"

#include "config/config_loader.hpp"
#include "log/log.hpp"
#include "tools/process_signals.hpp"

#include <iostream>
#include <string>

namespace chat {

int service_main(int argc, char** argv, const char* name, const char* usage,
                 const std::function<int(const config&)>& run) {
  block_shutdown_signals();
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << usage << "\n\n" << config_help();
      return 0;
    }
  }
  try {
    return run(load_config_from_process(argc, argv));
  } catch (const config_error& e) {
    std::cerr << name << ": " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    log::error(name, "fatal").kv("what", e.what());
    return 1;
  }
}

} // namespace chat
