#include "model/tokenizer/atomic_write.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace chat::tokenizer {

namespace {

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw std::runtime_error("'" + path + "': " + what + ": " +
                           std::strerror(errno));
}

} // namespace

void write_file_atomically(const std::string& path, std::string_view bytes) {
  std::string temp_path = path + ".tmp.XXXXXX";
  int fd = ::mkstemp(temp_path.data());
  if (fd < 0)
    fail(path, "cannot create a temp file next to it");
  // mkstemp creates 0600; models and data are files other users may read.
  ::fchmod(fd, 0644);
  size_t done = 0;
  while (done < bytes.size()) {
    auto n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      int saved = errno;
      ::close(fd);
      ::unlink(temp_path.c_str());
      errno = saved;
      fail(path, "write failed");
    }
    done += static_cast<size_t>(n);
  }
  bool synced = ::fsync(fd) == 0;
  int saved = errno;
  if (::close(fd) != 0 || !synced) {
    saved = synced ? errno : saved;
    ::unlink(temp_path.c_str());
    errno = saved;
    fail(path, "fsync/close failed");
  }
  if (std::rename(temp_path.c_str(), path.c_str()) != 0) {
    int saved = errno;
    ::unlink(temp_path.c_str());
    errno = saved;
    fail(path, "rename failed");
  }
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    fail(path, "cannot open for reading");
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (in.bad())
    fail(path, "read failed");
  return bytes.str();
}

} // namespace chat::tokenizer
