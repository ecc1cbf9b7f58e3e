#include "model/tensor_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include <torch/torch.h>

namespace chat::model {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "the tensor file stores raw little-endian data");

namespace {

constexpr char magic[8] = {'C', 'H', 'A', 'T', 'T', 'N', 'S', 'R'};
constexpr uint32_t format_version = 1;
constexpr uint32_t max_name_len = 4096;
constexpr uint32_t max_ndim = 8;
constexpr uint64_t fnv_offset = 14695981039346656037ull;
constexpr uint64_t fnv_prime = 1099511628211ull;

struct dtype_code {
  uint8_t code;
  at::ScalarType type;
};
constexpr dtype_code dtype_codes[] = {
    {0, at::kFloat}, {1, at::kHalf},  {2, at::kBFloat16}, {3, at::kDouble},
    {4, at::kLong},  {5, at::kInt},   {6, at::kByte},     {7, at::kBool}};

uint8_t code_of(at::ScalarType t, const std::string& name) {
  for (const auto& d : dtype_codes)
    if (d.type == t) return d.code;
  throw std::runtime_error("tensor file: tensor '" + name + "' has dtype " +
                           std::string(c10::toString(t)) +
                           " which the format cannot store");
}

void fnv1a(uint64_t& h, const void* data, size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * fnv_prime;
}

/// Appends bytes to a file while hashing them.
class hashing_writer {
 public:
  explicit hashing_writer(const std::string& path)
      : path_(path), out_(path, std::ios::binary | std::ios::trunc) {
    if (!out_)
      throw std::runtime_error("tensor file '" + path +
                               "': cannot create it; check the directory "
                               "exists and is writable");
  }
  void bytes(const void* p, size_t n) {
    fnv1a(hash_, p, n);
    out_.write(static_cast<const char*>(p), static_cast<std::streamsize>(n));
  }
  template <typename T>
  void value(T v) { bytes(&v, sizeof v); }
  void finish() {
    const uint64_t h = hash_;
    out_.write(reinterpret_cast<const char*>(&h), sizeof h);
    out_.flush();
    if (!out_)
      throw std::runtime_error("tensor file '" + path_ +
                               "': write failed; check free disk space");
    out_.close();
    // fsync so the atomic rename of the checkpoint never exposes a file
    // whose data is still only in the page cache.
    int fd = ::open(path_.c_str(), O_RDONLY);
    if (fd < 0 || ::fsync(fd) != 0) {
      if (fd >= 0) ::close(fd);
      throw std::runtime_error("tensor file '" + path_ + "': fsync failed");
    }
    ::close(fd);
  }

 private:
  std::string path_;
  std::ofstream out_;
  uint64_t hash_ = fnv_offset;
};

/// Reads bytes of a file while hashing them; every read is bounds-checked
/// against the file size first.
class hashing_reader {
 public:
  explicit hashing_reader(const std::string& path)
      : path_(path), in_(path, std::ios::binary) {
    if (!in_)
      throw std::runtime_error("tensor file '" + path +
                               "': cannot open it; check the path");
    in_.seekg(0, std::ios::end);
    size_ = static_cast<uint64_t>(in_.tellg());
    in_.seekg(0);
  }
  uint64_t remaining() const { return size_ - pos_; }
  uint64_t size() const { return size_; }
  void bytes(void* p, uint64_t n, const char* what) {
    if (n > remaining())
      fail(std::string("truncated while reading ") + what + ": needs " +
           std::to_string(n) + " bytes at offset " + std::to_string(pos_) +
           ", file is " + std::to_string(size_) + " bytes");
    in_.read(static_cast<char*>(p), static_cast<std::streamsize>(n));
    if (!in_) fail(std::string("read error at ") + what);
    fnv1a(hash_, p, n);
    pos_ += n;
  }
  template <typename T>
  T value(const char* what) {
    T v;
    bytes(&v, sizeof v, what);
    return v;
  }
  uint64_t hash() const { return hash_; }
  [[noreturn]] void fail(const std::string& msg) const {
    throw std::runtime_error("tensor file '" + path_ + "': " + msg +
                             "; HINT: the file is damaged or not a chat "
                             "tensor file; rewrite it or use another "
                             "checkpoint");
  }

 private:
  std::string path_;
  std::ifstream in_;
  uint64_t size_ = 0;
  uint64_t pos_ = 0;
  uint64_t hash_ = fnv_offset;
};

struct entry {
  std::string name;
  at::ScalarType dtype;
  std::vector<int64_t> shape;
  uint64_t offset;
  uint64_t nbytes;
};

}  // namespace

void write_tensor_file(const std::string& path, const named_tensors& tensors) {
  std::vector<at::Tensor> cpu;
  uint64_t header_bytes = 0;
  for (const auto& [name, t] : tensors) {
    code_of(t.scalar_type(), name);
    cpu.push_back(t.detach().to(torch::kCPU).contiguous());
    header_bytes += 4 + name.size() + 1 + 1 + 8 * t.dim() + 8 + 8;
  }
  hashing_writer w(path);
  w.bytes(magic, sizeof magic);
  w.value<uint32_t>(format_version);
  w.value<uint32_t>(static_cast<uint32_t>(tensors.size()));
  w.value<uint64_t>(header_bytes);
  uint64_t offset = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const auto& name = tensors[i].first;
    const auto& t = cpu[i];
    const uint64_t nbytes = t.numel() * t.element_size();
    w.value<uint32_t>(static_cast<uint32_t>(name.size()));
    w.bytes(name.data(), name.size());
    w.value<uint8_t>(code_of(t.scalar_type(), name));
    w.value<uint8_t>(static_cast<uint8_t>(t.dim()));
    for (auto d : t.sizes()) w.value<uint64_t>(static_cast<uint64_t>(d));
    w.value<uint64_t>(offset);
    w.value<uint64_t>(nbytes);
    offset += nbytes;
  }
  for (const auto& t : cpu)
    w.bytes(t.data_ptr(), t.numel() * t.element_size());
  w.finish();
}

named_tensors read_tensor_file(const std::string& path) {
  hashing_reader r(path);
  char found_magic[8];
  r.bytes(found_magic, sizeof found_magic, "magic");
  if (std::memcmp(found_magic, magic, sizeof magic) != 0)
    r.fail("magic is '" + std::string(found_magic, 8) +
           "', expected 'CHATTNSR' (a file written by torch::save or another "
           "tool is not accepted)");
  const auto version = r.value<uint32_t>("version");
  if (version != format_version)
    r.fail("format version " + std::to_string(version) + ", expected " +
           std::to_string(format_version));
  const auto count = r.value<uint32_t>("tensor count");
  const auto header_bytes = r.value<uint64_t>("header size");
  if (header_bytes > r.remaining())
    r.fail("header claims " + std::to_string(header_bytes) + " bytes but " +
           std::to_string(r.remaining()) + " remain");

  std::vector<entry> entries;
  const uint64_t header_end = r.size() - r.remaining() + header_bytes;
  uint64_t expected_offset = 0;
  for (uint32_t i = 0; i < count; ++i) {
    entry e;
    const auto name_len = r.value<uint32_t>("name length");
    if (name_len > max_name_len)
      r.fail("tensor " + std::to_string(i) + " has a " +
             std::to_string(name_len) + "-byte name, at most " +
             std::to_string(max_name_len) + " allowed");
    e.name.resize(name_len);
    r.bytes(e.name.data(), name_len, "tensor name");
    const auto code = r.value<uint8_t>("dtype");
    bool known = false;
    for (const auto& d : dtype_codes)
      if (d.code == code) e.dtype = d.type, known = true;
    if (!known)
      r.fail("tensor '" + e.name + "' has dtype code " + std::to_string(code) +
             ", expected 0..7");
    const auto ndim = r.value<uint8_t>("rank");
    if (ndim > max_ndim)
      r.fail("tensor '" + e.name + "' has rank " + std::to_string(ndim) +
             ", at most " + std::to_string(max_ndim) + " allowed");
    uint64_t numel = 1;
    for (uint8_t d = 0; d < ndim; ++d) {
      const auto dim = r.value<uint64_t>("dimension");
      // Keeping numel <= file size at every factor rules out overflow and
      // any allocation larger than the file.
      if (dim > r.size() || (numel != 0 && dim > r.size() / numel))
        r.fail("tensor '" + e.name + "' has dimension " + std::to_string(dim) +
               ", larger than the file itself");
      numel *= dim;
      e.shape.push_back(static_cast<int64_t>(dim));
    }
    e.offset = r.value<uint64_t>("offset");
    e.nbytes = r.value<uint64_t>("byte length");
    const uint64_t elem = c10::elementSize(e.dtype);
    if (numel > r.size() || e.nbytes != numel * elem)
      r.fail("tensor '" + e.name + "' claims " + std::to_string(e.nbytes) +
             " bytes, expected " + std::to_string(numel) + " elements x " +
             std::to_string(elem) + " bytes");
    if (e.offset != expected_offset)
      r.fail("tensor '" + e.name + "' at data offset " +
             std::to_string(e.offset) + ", expected " +
             std::to_string(expected_offset));
    expected_offset += e.nbytes;
    if (expected_offset > r.size())
      r.fail("tensors claim " + std::to_string(expected_offset) +
             " bytes of data, file is " + std::to_string(r.size()) +
             " bytes (truncated)");
    entries.push_back(std::move(e));
  }
  if (r.size() - r.remaining() != header_end)
    r.fail("header entries end at byte " +
           std::to_string(r.size() - r.remaining()) + ", header size says " +
           std::to_string(header_end));
  if (expected_offset + sizeof(uint64_t) != r.remaining())
    r.fail("data section should be " + std::to_string(expected_offset) +
           " bytes plus an 8-byte checksum, but " +
           std::to_string(r.remaining()) + " bytes remain (truncated or "
           "appended to)");

  named_tensors out;
  for (const auto& e : entries) {
    auto t = torch::empty(e.shape, torch::TensorOptions().dtype(e.dtype));
    r.bytes(t.data_ptr(), e.nbytes, "tensor data");
    out.emplace_back(e.name, t);
  }
  const uint64_t computed = r.hash();
  const auto stored = r.value<uint64_t>("checksum");
  if (stored != computed)
    r.fail("checksum mismatch: stored " + std::to_string(stored) +
           ", computed " + std::to_string(computed) +
           " (the file was edited or corrupted)");
  return out;
}

}  // namespace chat::model
