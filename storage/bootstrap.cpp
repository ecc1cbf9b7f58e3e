#include "storage/bootstrap.hpp"

#include "storage/api_keys.hpp"
#include "storage/database.hpp"
#include "storage/users.hpp"

#include <SQLiteCpp/Transaction.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace chat::storage {

namespace {

void write_private_file(const std::string& path, const std::string& text) {
  auto tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    throw storage_error("cannot create '" + tmp + "': " + std::strerror(errno));
  bool ok = ::fchmod(fd, 0600) == 0
            && ::write(fd, text.data(), text.size())
                 == static_cast<ssize_t>(text.size())
            && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    throw storage_error("cannot write '" + path + "': " + std::strerror(errno));
  }
}

} // namespace

std::optional<std::string> bootstrap_admin(SQLite::Database& db,
                                           const std::string& data_dir) {
  SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
  users_repo users(db);
  if (users.count() > 0)
    return std::nullopt;
  auto admin = users.create("admin");
  api_keys_repo keys(db);
  auto created = keys.create({admin->id, {"chat", "admin"}, "bootstrap", {}, {},
                              {}});
  // The file is written before the commit: if it fails, no user exists and
  // the next start tries again instead of leaving a key nobody has.
  write_private_file(data_dir + "/admin.key", created.secret + "\n");
  tx.commit();
  return created.secret;
}

} // namespace chat::storage
