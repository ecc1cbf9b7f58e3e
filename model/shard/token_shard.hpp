#pragma once

// Token shard file, little-endian:
//   magic[8] = "CHATTOKS", u32 version = 1, u32 flags (bit0: has loss mask),
//   u32 vocab_size, u32 reserved = 0, u64 n_tokens,
//   i32 tokens[n_tokens], u8 mask[n_tokens] (only with flag bit0),
//   u64 FNV-1a-64 checksum of every preceding byte.

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace chat::shard {

/// The eight bytes every shard file starts with.
inline constexpr char magic[8] = {'C', 'H', 'A', 'T', 'T', 'O', 'K', 'S'};
/// The format version this header reads and writes.
inline constexpr uint32_t format_version = 1;
/// Flag bit: a loss mask byte per token follows the tokens.
inline constexpr uint32_t flag_has_loss_mask = 1u;
/// Bytes before the first token.
inline constexpr uint64_t header_bytes = 32;
/// Bytes of the trailing checksum.
inline constexpr uint64_t checksum_bytes = 8;

/// A sequence of token ids, optionally with a per-token loss mask (0 or 1).
struct token_shard {
  std::vector<int32_t> tokens;
  /// One byte per token, 1 where the loss counts; empty when absent.
  std::vector<uint8_t> loss_mask;
  uint32_t vocab_size = 0;
};

namespace detail {

/// Running FNV-1a-64 hash.
struct fnv1a_64 {
  uint64_t value = 0xcbf29ce484222325ull;
  void update(const unsigned char* data, size_t size) {
    for (size_t i = 0; i < size; ++i) {
      value ^= data[i];
      value *= 0x100000001b3ull;
    }
  }
};

inline void put_u32(unsigned char* out, uint32_t v) {
  for (int i = 0; i < 4; ++i)
    out[i] = static_cast<unsigned char>(v >> (8 * i));
}

inline void put_u64(unsigned char* out, uint64_t v) {
  for (int i = 0; i < 8; ++i)
    out[i] = static_cast<unsigned char>(v >> (8 * i));
}

inline uint32_t get_u32(const unsigned char* in) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i)
    v |= static_cast<uint32_t>(in[i]) << (8 * i);
  return v;
}

inline uint64_t get_u64(const unsigned char* in) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i)
    v |= static_cast<uint64_t>(in[i]) << (8 * i);
  return v;
}

[[noreturn]] inline void fail(const std::string& path,
                              const std::string& reason) {
  throw std::runtime_error("token shard '" + path + "': " + reason);
}

/// Buffered writer into a temp file that becomes `path` only on commit().
class atomic_file_writer {
 public:
  explicit atomic_file_writer(std::string path) : path_(std::move(path)) {
    temp_path_ = path_ + ".tmp.XXXXXX";
    fd_ = ::mkstemp(temp_path_.data());
    if (fd_ < 0)
      fail(path_, "cannot create temp file '" + temp_path_ +
                      "': " + std::strerror(errno) +
                      "; check that the directory exists and is writable");
    // mkstemp creates 0600; shards are data other users may read.
    ::fchmod(fd_, 0644);
  }
  atomic_file_writer(const atomic_file_writer&) = delete;
  atomic_file_writer& operator=(const atomic_file_writer&) = delete;
  ~atomic_file_writer() {
    if (fd_ >= 0) {
      ::close(fd_);
      ::unlink(temp_path_.c_str());
    }
  }

  void write(const unsigned char* data, size_t size) {
    checksum_.update(data, size);
    buffer_.insert(buffer_.end(), data, data + size);
    if (buffer_.size() >= (1u << 16))
      drain();
  }

  uint64_t checksum() const { return checksum_.value; }

  /// Flushes, fsyncs, and renames the temp file over `path`.
  void commit() {
    drain();
    if (::fsync(fd_) != 0)
      fail(path_, std::string("fsync failed: ") + std::strerror(errno));
    if (::close(fd_) != 0) {
      fd_ = -1;
      ::unlink(temp_path_.c_str());
      fail(path_, std::string("close failed: ") + std::strerror(errno));
    }
    fd_ = -1;
    if (std::rename(temp_path_.c_str(), path_.c_str()) != 0) {
      auto reason = std::string("rename failed: ") + std::strerror(errno);
      ::unlink(temp_path_.c_str());
      fail(path_, reason);
    }
  }

 private:
  void drain() {
    size_t done = 0;
    while (done < buffer_.size()) {
      auto n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        fail(path_, std::string("write failed: ") + std::strerror(errno));
      done += static_cast<size_t>(n);
    }
    buffer_.clear();
  }

  std::string path_;
  std::string temp_path_;
  int fd_ = -1;
  std::vector<unsigned char> buffer_;
  fnv1a_64 checksum_;
};

} // namespace detail

/// Writes `shard` to `path` atomically (temp file in the same directory,
/// fsync, rename). Throws std::invalid_argument for an inconsistent shard
/// and std::runtime_error for I/O failures.
inline void write_shard(const std::string& path, const token_shard& shard) {
  if (shard.vocab_size == 0)
    throw std::invalid_argument("token shard '" + path +
                                "': vocab_size is 0");
  const bool has_mask = !shard.loss_mask.empty();
  if (has_mask && shard.loss_mask.size() != shard.tokens.size())
    throw std::invalid_argument(
        "token shard '" + path + "': loss mask has " +
        std::to_string(shard.loss_mask.size()) + " entries for " +
        std::to_string(shard.tokens.size()) + " tokens");
  for (size_t i = 0; i < shard.tokens.size(); ++i) {
    auto id = shard.tokens[i];
    if (id < 0 || static_cast<uint32_t>(id) >= shard.vocab_size)
      throw std::invalid_argument(
          "token shard '" + path + "': token " + std::to_string(i) + " is " +
          std::to_string(id) + ", outside vocab of " +
          std::to_string(shard.vocab_size));
  }
  for (size_t i = 0; i < shard.loss_mask.size(); ++i)
    if (shard.loss_mask[i] > 1)
      throw std::invalid_argument("token shard '" + path + "': mask byte " +
                                  std::to_string(i) + " is " +
                                  std::to_string(shard.loss_mask[i]) +
                                  ", expected 0 or 1");

  detail::atomic_file_writer out(path);
  unsigned char header[header_bytes];
  std::memcpy(header, magic, sizeof(magic));
  detail::put_u32(header + 8, format_version);
  detail::put_u32(header + 12, has_mask ? flag_has_loss_mask : 0u);
  detail::put_u32(header + 16, shard.vocab_size);
  detail::put_u32(header + 20, 0);
  detail::put_u64(header + 24, shard.tokens.size());
  out.write(header, sizeof(header));
  for (int32_t id : shard.tokens) {
    unsigned char bytes[4];
    detail::put_u32(bytes, static_cast<uint32_t>(id));
    out.write(bytes, sizeof(bytes));
  }
  if (has_mask)
    out.write(shard.loss_mask.data(), shard.loss_mask.size());
  unsigned char sum[checksum_bytes];
  detail::put_u64(sum, out.checksum());
  out.write(sum, sizeof(sum));
  out.commit();
}

/// Reads and fully validates the shard at `path`. Every defect (magic,
/// version, flags, size, token range, mask values, checksum) throws
/// std::runtime_error naming the file and the reason.
inline token_shard read_shard(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in)
    detail::fail(path, "cannot open for reading");
  const auto end = in.tellg();
  if (end < 0)
    detail::fail(path, "cannot determine the file size");
  const auto file_size = static_cast<uint64_t>(end);
  if (file_size < header_bytes + checksum_bytes)
    detail::fail(path, "file is " + std::to_string(file_size) +
                           " bytes, smaller than the " +
                           std::to_string(header_bytes + checksum_bytes) +
                           "-byte header and checksum");
  in.seekg(0);

  unsigned char header[header_bytes];
  in.read(reinterpret_cast<char*>(header), sizeof(header));
  if (!in)
    detail::fail(path, "read of the header failed");
  if (std::memcmp(header, magic, sizeof(magic)) != 0)
    detail::fail(path, "bad magic; not a token shard");
  const auto version = detail::get_u32(header + 8);
  if (version != format_version)
    detail::fail(path, "version " + std::to_string(version) + ", expected " +
                           std::to_string(format_version) +
                           "; regenerate it with chat-prep");
  const auto flags = detail::get_u32(header + 12);
  if ((flags & ~flag_has_loss_mask) != 0)
    detail::fail(path, "unknown flags " + std::to_string(flags));
  const bool has_mask = (flags & flag_has_loss_mask) != 0;
  token_shard shard;
  shard.vocab_size = detail::get_u32(header + 16);
  if (shard.vocab_size == 0)
    detail::fail(path, "vocab_size is 0");
  if (detail::get_u32(header + 20) != 0)
    detail::fail(path, "reserved header field is not 0");
  const auto n_tokens = detail::get_u64(header + 24);
  const uint64_t bytes_per_token = has_mask ? 5 : 4;
  const uint64_t body_room = file_size - header_bytes - checksum_bytes;
  // Compare by division first so that a huge n_tokens cannot overflow.
  if (n_tokens > body_room / bytes_per_token)
    detail::fail(path, "header claims " + std::to_string(n_tokens) +
                           " tokens but the file is only " +
                           std::to_string(file_size) +
                           " bytes (truncated or corrupt)");
  if (n_tokens * bytes_per_token != body_room)
    detail::fail(path, std::to_string(file_size - header_bytes -
                                      checksum_bytes -
                                      n_tokens * bytes_per_token) +
                           " trailing bytes after " +
                           std::to_string(n_tokens) + " tokens");

  detail::fnv1a_64 checksum;
  checksum.update(header, sizeof(header));
  std::vector<unsigned char> raw(static_cast<size_t>(body_room));
  in.read(reinterpret_cast<char*>(raw.data()),
          static_cast<std::streamsize>(raw.size()));
  unsigned char stored_sum[checksum_bytes];
  in.read(reinterpret_cast<char*>(stored_sum), sizeof(stored_sum));
  if (!in)
    detail::fail(path, "read of the body failed");
  checksum.update(raw.data(), raw.size());
  if (checksum.value != detail::get_u64(stored_sum))
    detail::fail(path, "checksum mismatch (file is corrupt)");

  shard.tokens.resize(static_cast<size_t>(n_tokens));
  for (size_t i = 0; i < shard.tokens.size(); ++i) {
    auto id = static_cast<int32_t>(detail::get_u32(raw.data() + 4 * i));
    if (id < 0 || static_cast<uint32_t>(id) >= shard.vocab_size)
      detail::fail(path, "token " + std::to_string(i) + " is " +
                             std::to_string(id) + ", outside vocab of " +
                             std::to_string(shard.vocab_size));
    shard.tokens[i] = id;
  }
  if (has_mask) {
    const unsigned char* mask = raw.data() + 4 * n_tokens;
    shard.loss_mask.assign(mask, mask + n_tokens);
    for (size_t i = 0; i < shard.loss_mask.size(); ++i)
      if (shard.loss_mask[i] > 1)
        detail::fail(path, "mask byte " + std::to_string(i) + " is " +
                               std::to_string(shard.loss_mask[i]) +
                               ", expected 0 or 1");
  }
  return shard;
}

} // namespace chat::shard
