#include "storage/ids.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <stdexcept>
#include <vector>

namespace chat::storage {

namespace {

std::string random_hex(size_t bytes) {
  std::vector<unsigned char> buf(bytes);
  if (RAND_bytes(buf.data(), static_cast<int>(buf.size())) != 1)
    throw std::runtime_error("OpenSSL RNG failed");
  return to_hex(buf.data(), buf.size());
}

} // namespace

std::string to_hex(const unsigned char* data, size_t size) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (size_t i = 0; i < size; ++i) {
    out += digits[data[i] >> 4];
    out += digits[data[i] & 0xf];
  }
  return out;
}

std::string new_id(const std::string& prefix) {
  return prefix + "_" + random_hex(12);
}

std::string new_api_key_secret() {
  return "sk-chat-" + random_hex(24);
}

std::string api_key_prefix(const std::string& secret) {
  return secret.substr(0, 16);
}

std::array<unsigned char, 32> sha256(const std::string& data) {
  std::array<unsigned char, 32> out{};
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(),
                 nullptr)
        != 1
      || len != out.size())
    throw std::runtime_error("OpenSSL SHA-256 failed");
  return out;
}

} // namespace chat::storage
